package drive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// refillFile marks a drive whose refill has not completed yet. The data
// plane writes it when it queues a refill and removes it when the refill
// completed, so that a refill cut short by a restart of the node is
// queued again when the node comes back (without it, only the scanner's
// next pass, hours later, would repair what the refill had not reached).
const refillFile = "refill-pending"

// MarkRefill records durably that the drive is to be refilled (pending)
// or that its refill completed (!pending).
func (d *Drive) MarkRefill(pending bool) error {
	path := filepath.Join(d.dir, refillFile)
	if pending {
		if err := writeFileSync(d.fs, path, []byte("refill pending\n")); err != nil {
			return fmt.Errorf("drive %s: mark refill: %w", d.dir, err)
		}
	} else if err := d.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drive %s: clear refill mark: %w", d.dir, err)
	}
	if err := syncDir(d.fs, d.dir); err != nil {
		return fmt.Errorf("drive %s: mark refill: %w", d.dir, err)
	}
	return nil
}

// RefillPending reports whether a refill of the drive was queued and has
// not completed (MarkRefill).
func (d *Drive) RefillPending() bool {
	_, err := d.fs.Stat(filepath.Join(d.dir, refillFile))
	return err == nil
}
