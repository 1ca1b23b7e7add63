package deploy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needAnsible skips the test without ansible-playbook.
func needAnsible(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook is not installed (Debian: apt-get install ansible-core): skipping the Ansible tests")
	}
}

// ansible runs ansible-playbook and friends from deploy/ansible with a
// configuration, home and temporary folders of the test's own.
type ansible struct {
	t    *testing.T
	dir  string // deploy/ansible
	logs string // every run's output, numbered
	env  []string
	runs int
}

func newAnsible(t *testing.T, tmp string) *ansible {
	t.Helper()
	a := &ansible{t: t, dir: ansibleDir(t), logs: filepath.Join(tmp, "ansible-logs")}
	home := filepath.Join(tmp, "ansible-home")
	for _, d := range []string{a.logs, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(home, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a.env = append(os.Environ(),
		"ANSIBLE_CONFIG="+cfg, "ANSIBLE_HOME="+home,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"), "ANSIBLE_REMOTE_TEMP="+filepath.Join(home, "remote-tmp"),
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_ROLES_PATH="+filepath.Join(a.dir, "roles"), "ANSIBLE_PYTHON_INTERPRETER=auto_silent")
	return a
}

// run runs an Ansible command in deploy/ansible and returns its output,
// also kept in the test's log folder.
func (a *ansible) run(tool string, args ...string) (string, error) {
	a.t.Helper()
	a.runs++
	cmd := exec.Command(tool, args...)
	cmd.Dir, cmd.Env = a.dir, a.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	name := fmt.Sprintf("%02d-%s-%s.log", a.runs, tool, filepath.Base(args[len(args)-1]))
	_ = os.WriteFile(filepath.Join(a.logs, name), out.Bytes(), 0o644)
	a.t.Logf("%s %s: %v in %s", tool, args[len(args)-1], errText(err), time.Since(start).Round(100*time.Millisecond))
	return out.String(), err
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// playbooks are the playbooks operators run.
var playbooks = []string{"site.yml", "add-node.yml", "rolling-restart.yml", "decommission.yml"}

// TestAnsibleStatic: every playbook passes --syntax-check; the role and
// playbooks are ansible-lint clean when ansible-lint is installed; the
// production (systemd) unit the role renders passes systemd-analyze verify.
func TestAnsibleStatic(t *testing.T) {
	needAnsible(t)
	tmp := t.TempDir()
	a := newAnsible(t, tmp)
	for _, p := range playbooks {
		if out, err := a.run("ansible-playbook", "-i", "inventory.example.yml", "-e", "strata_decommission=n4", "--syntax-check", p); err != nil {
			t.Errorf("%s --syntax-check: %v\n%s", p, err, tail(out, 30))
		}
	}

	if _, err := exec.LookPath("ansible-lint"); err != nil {
		t.Log("ansible-lint is not installed (Debian: apt-get install ansible-lint): lint skipped")
	} else {
		args := append([]string{"--offline", "--nocolor", "-p"}, playbooks...)
		if out, err := a.run("ansible-lint", append(args, "roles/strata_node")...); err != nil {
			t.Errorf("ansible-lint: %v\n%s", err, tail(out, 40))
		}
	}

	// The unit of a production host, rendered by the role's template with
	// its defaults; ExecStart must exist for systemd-analyze.
	out := filepath.Join(tmp, "unit")
	bin := filepath.Join(tmp, "bin")
	for _, d := range []string{out, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/bin/true", filepath.Join(bin, "strata-node")); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(tmp, "prod.yml")
	writeFile(t, inv, fmt.Sprintf(`all:
  children:
    strata:
      hosts:
        prod1:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
          strata_advertise: 10.0.1.11
          strata_bin_dir: %s
          strata_ec: "4+2"
          strata_cluster_key: "not used here"
          strata_drives:
            - {path: /var/lib/strata/nvme0, device: /dev/nvme1n1}
            - {path: /var/lib/strata/nvme1, device: /dev/nvme2n1}
`, bin))
	template := filepath.Join(roleDir(t), "templates", "strata-node.service.j2")
	if res, err := a.run("ansible-playbook", "-i", inv, "-e", "unit_template="+template, "-e", "out_dir="+out,
		filepath.Join(repoRoot(t), "test", "deploy", "testdata", "render-unit.yml")); err != nil {
		t.Fatalf("render the unit: %v\n%s", err, tail(res, 30))
	}
	unitPath := filepath.Join(out, "strata-node.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=" + bin + "/strata-node server --config /etc/strata/strata.yml",
		"EnvironmentFile=/etc/strata/strata.env", "User=strata", "Restart=on-failure", "LimitNOFILE=1048576",
		"NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/strata/nvme0 /var/lib/strata/nvme1", "RequiresMountsFor=/var/lib/strata/nvme0 /var/lib/strata/nvme1",
		"WantedBy=multi-user.target",
	} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %q:\n%s", want, unit)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not installed: unit verification skipped")
		return
	}
	cmd := exec.Command("systemd-analyze", "verify", unitPath)
	res, err := cmd.CombinedOutput()
	// verify warns about unknown keys and the like on stderr with rc 0:
	// any line about our unit is a failure.
	if err != nil || bytes.Contains(res, []byte("strata-node.service")) {
		t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, res, unit)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a port free for TCP and UDP on 127.0.0.1 (gossip
// listens on both), below the kernel's ephemeral range: the cluster's own
// outgoing connections take ephemeral ports, and one of them could take a
// node's port before the node (the fifth starts a minute after the test
// picked its ports).
func freePort(t *testing.T, taken map[int]bool) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				low = v
			}
		}
	}
	if low <= 11000 {
		t.Fatalf("the ephemeral port range starts at %d: no room below it for the nodes' ports", low)
	}
	for range 1000 {
		p := 10000 + mrand.IntN(low-10000)
		if taken[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			u.Close()
			taken[p] = true
			return p
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
