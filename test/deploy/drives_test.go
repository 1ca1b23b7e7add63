package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// loopDevice attaches a sparse file of size bytes as a loop device, or
// skips the test where that is not possible.
func loopDevice(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	img := filepath.Join(dir, name+".img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device here (losetup: %v: %s): skipping the drive formatting test", err, strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

// TestDriveDevices runs the role's drive preparation on loop devices: a
// blank device is formatted as XFS, recorded in the fstab by UUID and
// mounted with noatime; a second run changes nothing; a device that holds
// another file system stops the play untouched.
func TestDriveDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	needAnsible(t)
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot attach loop devices or mount")
	}
	for _, tool := range []string{"losetup", "mkfs.xfs", "mkfs.ext4", "blkid", "findmnt", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: xfsprogs, e2fsprogs, util-linux, mount): skipping the drive formatting test", tool)
		}
	}
	tmp := t.TempDir()
	a := newAnsible(t, tmp)
	blank := loopDevice(t, tmp, "blank", 320<<20) // XFS needs 300 MB
	foreign := loopDevice(t, tmp, "foreign", 16<<20)
	if out, err := exec.Command("mkfs.ext4", "-q", foreign).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	mnt := filepath.Join(tmp, "mnt", "nvme0")
	fstab := filepath.Join(tmp, "fstab")
	t.Cleanup(func() {
		if exec.Command("findmnt", "--mountpoint", mnt).Run() == nil {
			if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", mnt, err, out)
			}
		}
	})
	inventory := func(dev string) string {
		inv := filepath.Join(tmp, "inventory-"+filepath.Base(dev)+".yml")
		writeFile(t, inv, fmt.Sprintf(`all:
  children:
    strata:
      hosts:
        disk1:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
          strata_service_manager: process
          strata_advertise: 127.0.0.1
          strata_ec: "1+0"
          strata_fstab: %s
          strata_drives:
            - {path: %s, device: %s}
`, fstab, mnt, dev))
		return inv
	}
	play := filepath.Join(repoRoot(t), "test", "deploy", "testdata", "drives.yml")

	out, err := a.run("ansible-playbook", "-i", inventory(blank), play)
	if err != nil {
		t.Fatalf("drives.yml on a blank device: %v\n%s", err, tail(out, 40))
	}
	got, err := exec.Command("findmnt", "-no", "FSTYPE,OPTIONS", "--mountpoint", mnt).Output()
	if err != nil || !strings.HasPrefix(string(got), "xfs ") || !strings.Contains(string(got), "noatime") {
		t.Fatalf("%s is not mounted as XFS with noatime: %q %v", mnt, got, err)
	}
	uuid, err := exec.Command("blkid", "-p", "-o", "value", "-s", "UUID", blank).Output()
	if err != nil {
		t.Fatal(err)
	}
	tab, _ := os.ReadFile(fstab)
	want := fmt.Sprintf("UUID=%s %s xfs defaults,noatime,nofail 0 0\n", strings.TrimSpace(string(uuid)), mnt)
	if string(tab) != want {
		t.Errorf("fstab is %q, want %q", tab, want)
	}
	marker := filepath.Join(mnt, "marker")
	writeFile(t, marker, "kept")

	out, err = a.run("ansible-playbook", "-i", inventory(blank), play)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, tail(out, 40))
	}
	if !strings.Contains(out, "changed=0") {
		t.Errorf("the second run changed something:\n%s", tail(out, 40))
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the second run lost the drive's files: %v", err)
	}

	out, err = a.run("ansible-playbook", "-i", inventory(foreign), play)
	if err == nil || !strings.Contains(out, foreign+" is not blank") {
		t.Errorf("an ext4 device was not refused (%v):\n%s", err, tail(out, 40))
	}
	if typ, _ := exec.Command("blkid", "-p", "-o", "value", "-s", "TYPE", foreign).Output(); strings.TrimSpace(string(typ)) != "ext4" {
		t.Errorf("the refused device now holds %q", typ)
	}
}
