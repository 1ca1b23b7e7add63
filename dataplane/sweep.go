package dataplane

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// Orphan sweep.
//
// Shard files no index record refers to (a crash between a commit's
// rename and its record, a delete whose file removal failed, a reset
// index) are never read again and nothing else frees them. After each
// scanner pass, scanLoop has every local drive not swept for
// OrphanSweepInterval remove those committed more than OrphanMinAge ago
// (drive.Drive.SweepOrphans has the rules that make it safe under
// concurrent writes). A drive waiting for or in a refill is left alone,
// and the drive itself refuses while its index cannot be trusted: offline,
// not checked since Open, or reset and not yet refilled (refillLoop tells
// it, drive.Drive.ResetsRefilled). Such a drive is tried again after the
// next pass.

// sweepOrphans sweeps the local drives whose last sweep is
// OrphanSweepInterval old or more, one at a time, until ctx ends.
func (s *Store) sweepOrphans(ctx context.Context) {
	if s.cfg.OrphanSweepInterval < 0 {
		return
	}
	h := &s.heal
	for _, id := range s.localIDs {
		if ctx.Err() != nil {
			return
		}
		if last, ok := h.swept[id]; ok && time.Since(last) < s.cfg.OrphanSweepInterval {
			continue
		}
		h.mu.Lock()
		refilling := slices.Contains(h.refills, id) || slices.Contains(h.status.Refilling, id)
		h.mu.Unlock()
		if refilling {
			continue
		}
		st, err := s.local[id].SweepOrphans(ctx, s.cfg.OrphanMinAge)
		h.orphansRemoved.Add(int64(st.Removed))
		h.orphanBytes.Add(st.Bytes)
		switch {
		case err == nil:
			h.swept[id] = time.Now()
			h.orphanSweeps.Add(1)
			s.log.Debug("orphan sweep", "drive", id, "examined", st.Examined, "removed", st.Removed, "young", st.Young, "took", st.Took)
		case ctx.Err() != nil:
			return
		case errors.Is(err, drive.ErrSweepSkipped), errors.Is(err, drive.ErrClosed), errors.Is(err, drive.ErrCorrupt):
			s.log.Debug("orphan sweep skipped", "drive", id, "err", err)
		default:
			s.log.Warn("orphan sweep failed", "drive", id, "err", err)
		}
	}
}
