package deploy

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func ansibleDir(t *testing.T) string { return filepath.Join(repoRoot(t), "deploy", "ansible") }

func roleDir(t *testing.T) string { return filepath.Join(ansibleDir(t), "roles", "strata_node") }

// specOption is one variable of the role's meta/argument_specs.yml.
type specOption struct {
	Type     string                `yaml:"type"`
	Required bool                  `yaml:"required"`
	Elements string                `yaml:"elements"`
	Choices  []any                 `yaml:"choices"`
	Options  map[string]specOption `yaml:"options"`
}

// loadRoleSpec reads the options of the role's main entry point.
func loadRoleSpec(t *testing.T) map[string]specOption {
	t.Helper()
	var doc struct {
		ArgumentSpecs map[string]struct {
			Options map[string]specOption `yaml:"options"`
		} `yaml:"argument_specs"`
	}
	readYAML(t, filepath.Join(roleDir(t), "meta", "argument_specs.yml"), &doc)
	opts := doc.ArgumentSpecs["main"].Options
	if len(opts) == 0 {
		t.Fatal("meta/argument_specs.yml: no options for entry point main")
	}
	return opts
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// playbookVars are variables the playbooks read that are no role input.
var playbookVars = []string{"strata_decommission"}

// notVariables are strata_* words in the Ansible files that name a role or
// a group, not a variable.
var notVariables = []string{"strata_node", "strata_joining", "strata_members"}

// checkInventoryForRole: every host gets every variable the role requires,
// and every strata_* variable the inventory sets is one the role declares
// (a typo would be silently ignored by Ansible), drives with the declared
// keys only.
func checkInventoryForRole(t *testing.T, inv inventory, spec map[string]specOption) {
	t.Helper()
	for name, vars := range inv.hosts {
		for opt, s := range spec {
			_, inHost := vars[opt]
			_, inGroup := inv.group[opt]
			if s.Required && !inHost && !inGroup {
				t.Errorf("host %s: the role requires %s and the inventory does not set it", name, opt)
			}
		}
		for _, scope := range []map[string]any{vars, inv.group} {
			for k := range scope {
				if strings.HasPrefix(k, "strata_") && !slices.Contains(playbookVars, k) {
					if _, ok := spec[k]; !ok {
						t.Errorf("host %s: the inventory sets %s, which the role does not declare", name, k)
					}
				}
			}
		}
		drives, _ := vars["strata_drives"].([]any)
		for _, d := range drives {
			dm, _ := d.(map[string]any)
			if dm["path"] == nil {
				t.Errorf("host %s: a drive without a path: %v", name, d)
			}
			for k := range dm {
				if _, ok := spec["strata_drives"].Options[k]; !ok {
					t.Errorf("host %s: drive key %s is not declared", name, k)
				}
			}
		}
	}
}

// TestRoleVariablesAgree: meta/argument_specs.yml declares every strata_*
// variable the role and playbooks use; defaults/main.yml sets every one
// that is not required and nothing else; README.md documents each; the
// example inventory gives the role what it needs.
func TestRoleVariablesAgree(t *testing.T) {
	spec := loadRoleSpec(t)
	var defaults map[string]any
	readYAML(t, filepath.Join(roleDir(t), "defaults", "main.yml"), &defaults)
	for name := range defaults {
		if _, ok := spec[name]; !ok {
			t.Errorf("defaults/main.yml sets %s, which meta/argument_specs.yml does not declare", name)
		}
	}
	for name, s := range spec {
		if _, ok := defaults[name]; !ok && !s.Required {
			t.Errorf("%s is optional in meta/argument_specs.yml but has no default in defaults/main.yml", name)
		}
		if _, ok := defaults[name]; ok && s.Required {
			t.Errorf("%s is required in meta/argument_specs.yml but has a default", name)
		}
	}

	// Every strata_* word of the role's files and the playbooks (_strata_*
	// are the role's private variables: \b does not match after '_').
	word := regexp.MustCompile(`\bstrata_[a-z0-9_]+`)
	used := map[string]string{}
	scan := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range word.FindAllString(string(b), -1) {
			used[w] = path
		}
	}
	err := filepath.WalkDir(roleDir(t), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, "argument_specs.yml") {
			scan(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	playbooks, _ := filepath.Glob(filepath.Join(ansibleDir(t), "*.yml"))
	for _, p := range playbooks {
		if !strings.Contains(filepath.Base(p), "inventory") {
			scan(p)
		}
	}
	for w, path := range used {
		if slices.Contains(notVariables, w) || slices.Contains(playbookVars, w) {
			continue
		}
		if _, ok := spec[w]; !ok {
			t.Errorf("%s uses %s, which meta/argument_specs.yml does not declare", path, w)
		}
	}
	for name := range spec {
		if _, ok := used[name]; !ok {
			t.Errorf("meta/argument_specs.yml declares %s, which nothing uses", name)
		}
	}

	readme, err := os.ReadFile(filepath.Join(ansibleDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Collect(maps.Keys(spec)), playbookVars...) {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document `%s`", name)
		}
	}

	example, err := os.ReadFile(filepath.Join(ansibleDir(t), "inventory.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	checkInventoryForRole(t, parseInventory(t, example), spec)
}
