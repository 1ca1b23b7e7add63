package deploy

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"gopkg.in/yaml.v3"
)

// repoRoot is the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// tfModule is one Terraform module folder, parsed.
type tfModule struct {
	dir    string
	bodies map[string]*hclsyntax.Body // by file name
	src    map[string][]byte
	// vars are the declared variables: true when required (no default).
	vars map[string]bool
}

// parseModule parses every .tf file of dir (not sub-folders).
func parseModule(t *testing.T, dir string) *tfModule {
	t.Helper()
	m := &tfModule{dir: dir, bodies: map[string]*hclsyntax.Body{}, src: map[string][]byte{}, vars: map[string]bool{}}
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	if len(files) == 0 {
		t.Fatalf("%s: no .tf files", dir)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", f, diags.Error())
		}
		body := file.Body.(*hclsyntax.Body)
		m.bodies[filepath.Base(f)], m.src[filepath.Base(f)] = body, src
		for _, b := range body.Blocks {
			if b.Type == "variable" && len(b.Labels) == 1 {
				_, hasDefault := b.Body.Attributes["default"]
				m.vars[b.Labels[0]] = !hasDefault
			}
		}
	}
	return m
}

// moduleCall is a module block: its source and the arguments it passes.
type moduleCall struct {
	name, source string
	args         map[string]hclsyntax.Expression
}

// metaArgs are module block arguments that are not the module's variables.
var metaArgs = []string{"source", "version", "count", "for_each", "providers", "depends_on"}

func (m *tfModule) moduleCalls(t *testing.T) []moduleCall {
	t.Helper()
	var calls []moduleCall
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type != "module" {
				continue
			}
			c := moduleCall{name: b.Labels[0], args: map[string]hclsyntax.Expression{}}
			for name, a := range b.Body.Attributes {
				if name == "source" {
					v, diags := a.Expr.Value(nil)
					if diags.HasErrors() || v.Type() != cty.String {
						t.Fatalf("%s: module %s: source is not a string", m.dir, c.name)
					}
					c.source = v.AsString()
				}
				if !slices.Contains(metaArgs, name) {
					c.args[name] = a.Expr
				}
			}
			calls = append(calls, c)
		}
	}
	return calls
}

// traversals returns every reference in the module as dotted text
// ("module.inventory.cluster_ports", "var.ec").
func (m *tfModule) traversals() map[string]bool {
	out := map[string]bool{}
	for _, body := range m.bodies {
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if e, ok := n.(*hclsyntax.ScopeTraversalExpr); ok {
				out[traversalText(e.Traversal)] = true
			}
			return nil
		})
	}
	return out
}

func traversalText(tr hcl.Traversal) string {
	var parts []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			parts = append(parts, s.Name)
		case hcl.TraverseAttr:
			parts = append(parts, s.Name)
		default:
			return strings.Join(parts, ".")
		}
	}
	return strings.Join(parts, ".")
}

func terraformDir(t *testing.T) string { return filepath.Join(repoRoot(t), "deploy", "terraform") }

// TestTerraformFilesParse: every .tf and .tftest.hcl file of deploy/terraform
// is valid HCL.
func TestTerraformFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(terraformDir(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".terraform") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".tf") && !strings.HasSuffix(path, ".tftest.hcl") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
			t.Errorf("%s", diags.Error())
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("parsed only %d files under deploy/terraform", n)
	}
}

// interfacePorts are the default ports of INTERFACE.md: only the inventory
// module may spell them.
var interfacePorts = []string{"9000", "9100", "9101"}

// TestCloudModulesFeedInventory: the aws and openstack modules pass the
// inventory module every variable it declares (only ports may be left to
// its INTERFACE.md defaults), nothing it does not declare, and open their
// security groups from its port lists rather than from numbers of their own.
func TestCloudModulesFeedInventory(t *testing.T) {
	root := terraformDir(t)
	inv := parseModule(t, filepath.Join(root, "modules", "strata-inventory"))
	for _, cloud := range []string{"aws", "openstack"} {
		t.Run(cloud, func(t *testing.T) {
			m := parseModule(t, filepath.Join(root, "modules", cloud))
			var call *moduleCall
			for _, c := range m.moduleCalls(t) {
				if c.source == "../strata-inventory" {
					call = &c
				}
			}
			if call == nil {
				t.Fatalf("modules/%s does not call ../strata-inventory", cloud)
			}
			for name := range call.args {
				if _, ok := inv.vars[name]; !ok {
					t.Errorf("modules/%s passes %s, which strata-inventory does not declare", cloud, name)
				}
			}
			for name := range inv.vars {
				if _, ok := call.args[name]; !ok && name != "ports" {
					t.Errorf("modules/%s does not pass %s to strata-inventory", cloud, name)
				}
			}
			// A variable of the cloud module with the inventory's name must
			// reach it as is, or the operator's value is silently dropped.
			for name, expr := range call.args {
				if _, own := m.vars[name]; !own {
					continue
				}
				if tr, ok := expr.(*hclsyntax.ScopeTraversalExpr); !ok || traversalText(tr.Traversal) != "var."+name {
					t.Errorf("modules/%s passes %s = something else than var.%s", cloud, name, name)
				}
			}
			refs := m.traversals()
			for _, want := range []string{"module.inventory.cluster_ports", "module.inventory.client_ports", "module.inventory.inventory"} {
				if !refs[want] {
					t.Errorf("modules/%s never uses %s", cloud, want)
				}
			}
			for file, src := range m.src {
				tokens, _ := hclsyntax.LexConfig(src, file, hcl.InitialPos)
				for _, tok := range tokens {
					if tok.Type == hclsyntax.TokenNumberLit && slices.Contains(interfacePorts, string(tok.Bytes)) {
						t.Errorf("modules/%s/%s:%d spells port %s: take it from module.inventory", cloud, file, tok.Range.Start.Line, tok.Bytes)
					}
				}
			}
		})
	}
}

// TestExamplesCallModules: each example passes the modules it calls every
// required variable and only declared ones.
func TestExamplesCallModules(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(terraformDir(t), "examples", "*"))
	if len(dirs) < 2 {
		t.Fatalf("want at least two examples, have %v", dirs)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ex := parseModule(t, dir)
			calls := ex.moduleCalls(t)
			if len(calls) == 0 {
				t.Fatal("the example calls no module")
			}
			for _, c := range calls {
				target := parseModule(t, filepath.Join(dir, c.source))
				for name, required := range target.vars {
					if _, ok := c.args[name]; required && !ok {
						t.Errorf("module %s (%s) needs %s", c.name, c.source, name)
					}
				}
				for name := range c.args {
					if _, ok := target.vars[name]; !ok {
						t.Errorf("module %s (%s) has no variable %s", c.name, c.source, name)
					}
				}
			}
		})
	}
}

// templateFileArgs returns the names the inventory module passes to
// templatefile for inventory.yml.tftpl.
func templateFileArgs(t *testing.T, m *tfModule) []string {
	t.Helper()
	var names []string
	for _, body := range m.bodies {
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
				return nil
			}
			obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
			if !ok {
				t.Fatalf("templatefile's second argument is not an object literal")
			}
			for _, item := range obj.Items {
				key, diags := item.KeyExpr.Value(nil)
				if diags.HasErrors() {
					// A bare identifier key reads as a traversal.
					if k, ok := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr); ok {
						names = append(names, hcl.ExprAsKeyword(k.Wrapped))
						continue
					}
					t.Fatalf("templatefile key: %s", diags.Error())
				}
				names = append(names, key.AsString())
			}
			return nil
		})
	}
	slices.Sort(names)
	return names
}

// inventoryNode is one node as the inventory module hands it to the template.
type inventoryNode struct {
	name, address, ansibleHost string
	drives                     [][2]string // path, device ("" for none)
	s3, rpc, gossip            int
	vars                       map[string]string
}

// inventoryInput is the templatefile object of the inventory module.
type inventoryInput struct {
	clusterName, ec, region, serviceManager string
	pgCount, voters                         int
	domains                                 []string
	ansibleUser                             *string
	groupVars                               map[string]string
	nodes                                   []inventoryNode
}

func stringMap(m map[string]string) cty.Value {
	if len(m) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	vals := map[string]cty.Value{}
	for k, v := range m {
		vals[k] = cty.StringVal(v)
	}
	return cty.MapVal(vals)
}

// renderInventory evaluates inventory.yml.tftpl with HCL's template engine
// and Terraform's jsonencode, as templatefile does.
func renderInventory(t *testing.T, in inventoryInput) string {
	t.Helper()
	path := filepath.Join(terraformDir(t), "modules", "strata-inventory", "inventory.yml.tftpl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var nodes []cty.Value
	for _, n := range in.nodes {
		var drives []cty.Value
		for _, d := range n.drives {
			drives = append(drives, cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal(d[0]), "device": cty.StringVal(d[1])}))
		}
		nodes = append(nodes, cty.ObjectVal(map[string]cty.Value{
			"name":         cty.StringVal(n.name),
			"address":      cty.StringVal(n.address),
			"ansible_host": cty.StringVal(n.ansibleHost),
			"drives":       cty.ListVal(drives),
			"s3_port":      cty.NumberIntVal(int64(n.s3)),
			"rpc_port":     cty.NumberIntVal(int64(n.rpc)),
			"gossip_port":  cty.NumberIntVal(int64(n.gossip)),
			"vars":         stringMap(n.vars),
		}))
	}
	domains := cty.ListValEmpty(cty.String)
	if len(in.domains) > 0 {
		var ds []cty.Value
		for _, d := range in.domains {
			ds = append(ds, cty.StringVal(d))
		}
		domains = cty.ListVal(ds)
	}
	user := cty.NullVal(cty.String)
	if in.ansibleUser != nil {
		user = cty.StringVal(*in.ansibleUser)
	}
	vars := map[string]cty.Value{
		"cluster_name":    cty.StringVal(in.clusterName),
		"nodes":           cty.ListVal(nodes),
		"ec":              cty.StringVal(in.ec),
		"pg_count":        cty.NumberIntVal(int64(in.pgCount)),
		"voters":          cty.NumberIntVal(int64(in.voters)),
		"region":          cty.StringVal(in.region),
		"domains":         domains,
		"service_manager": cty.StringVal(in.serviceManager),
		"ansible_user":    user,
		"group_vars":      stringMap(in.groupVars),
	}
	// Every name the template uses must be one renderInventory passes.
	for _, tr := range tmpl.Variables() {
		if _, ok := vars[tr.RootName()]; !ok {
			t.Fatalf("the template uses %s, which renderInventory does not pass", tr.RootName())
		}
	}
	ctx := &hcl.EvalContext{Variables: vars, Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
	out, diags := tmpl.Value(ctx)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return out.AsString()
}

// sampleInventory is a 4-node production-like cluster.
func sampleInventory() inventoryInput {
	user := "debian"
	in := inventoryInput{clusterName: "demo", ec: "2+2", region: "us-east-1", serviceManager: "systemd",
		pgCount: 256, voters: 5, domains: []string{"s3.example.org"}, ansibleUser: &user,
		groupVars: map[string]string{"strata_release_archive": "strata-linux-amd64.tar.gz"}}
	for i := range 4 {
		in.nodes = append(in.nodes, inventoryNode{
			name: fmt.Sprintf("n%d", i+1), address: fmt.Sprintf("10.0.1.%d", 11+i), ansibleHost: fmt.Sprintf("203.0.113.%d", 11+i),
			drives: [][2]string{{"/var/lib/strata/nvme0", "/dev/nvme1n1"}, {"/var/lib/strata/nvme1", ""}},
			s3:     9000, rpc: 9100, gossip: 9101, vars: map[string]string{"strata_log_level": "debug"},
		})
	}
	return in
}

// TestInventoryTemplate: the template uses exactly what the module passes
// to templatefile, and what it renders is an inventory the role accepts.
func TestInventoryTemplate(t *testing.T) {
	m := parseModule(t, filepath.Join(terraformDir(t), "modules", "strata-inventory"))
	passed := templateFileArgs(t, m)
	want := []string{"ansible_user", "cluster_name", "domains", "ec", "group_vars", "nodes", "pg_count", "region", "service_manager", "voters"}
	if !slices.Equal(passed, want) {
		t.Fatalf("main.tf passes templatefile %v; renderInventory knows %v: keep them in step", passed, want)
	}
	text := renderInventory(t, sampleInventory())
	inv := parseInventory(t, []byte(text))
	if got := slices.Sorted(maps.Keys(inv.hosts)); !slices.Equal(got, []string{"n1", "n2", "n3", "n4"}) {
		t.Fatalf("hosts %v in\n%s", got, text)
	}
	checkInventoryForRole(t, inv, loadRoleSpec(t))
	n1 := inv.hosts["n1"]
	if n1["strata_advertise"] != "10.0.1.11" || n1["ansible_host"] != "203.0.113.11" || n1["strata_s3_port"] != 9000 || n1["strata_log_level"] != "debug" {
		t.Errorf("n1 rendered as %v", n1)
	}
	drives, _ := n1["strata_drives"].([]any)
	if len(drives) != 2 || drives[0].(map[string]any)["device"] != "/dev/nvme1n1" || drives[1].(map[string]any)["device"] != nil {
		t.Errorf("n1 drives rendered as %v", n1["strata_drives"])
	}
	if inv.group["ansible_user"] != "debian" || inv.group["strata_ec"] != "2+2" {
		t.Errorf("group vars rendered as %v", inv.group)
	}
}

// inventory is an Ansible YAML inventory's group strata.
type inventory struct {
	hosts map[string]map[string]any
	group map[string]any
}

func parseInventory(t *testing.T, text []byte) inventory {
	t.Helper()
	var doc struct {
		All struct {
			Children map[string]struct {
				Hosts map[string]map[string]any `yaml:"hosts"`
				Vars  map[string]any            `yaml:"vars"`
			} `yaml:"children"`
		} `yaml:"all"`
	}
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Fatalf("inventory is not YAML: %v\n%s", err, text)
	}
	g, ok := doc.All.Children["strata"]
	if !ok || len(g.Hosts) == 0 {
		t.Fatalf("inventory has no hosts in group strata:\n%s", text)
	}
	for h, v := range g.Hosts {
		if v == nil {
			g.Hosts[h] = map[string]any{}
		}
	}
	return inventory{hosts: g.Hosts, group: g.Vars}
}

// runTerraform runs terraform offline, without touching the user's
// configuration or the source tree's .terraform folders.
func runTerraform(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	cli := filepath.Join(dataDir, "terraformrc")
	if err := os.WriteFile(cli, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("terraform", args...)
	cmd.Env = append(os.Environ(), "TF_DATA_DIR="+filepath.Join(dataDir, "data"), "TF_CLI_CONFIG_FILE="+cli,
		"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestTerraformCLI: `terraform fmt -check` on every module and example, and
// `terraform init` + `terraform test` on the provider-free inventory module.
func TestTerraformCLI(t *testing.T) {
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform is not installed: skipping terraform fmt -check and terraform test (the HCL checks above still ran)")
	}
	dir := terraformDir(t)
	data := t.TempDir()
	if out, err := runTerraform(t, data, "fmt", "-check", "-recursive", "-diff", dir); err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
	mod := filepath.Join(dir, "modules", "strata-inventory")
	if out, err := runTerraform(t, data, "-chdir="+mod, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	out, err := runTerraform(t, data, "-chdir="+mod, "test", "-no-color")
	if err != nil {
		t.Fatalf("terraform test: %v\n%s", err, out)
	}
	if !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("terraform test did not report its runs:\n%s", out)
	}
	t.Logf("terraform test: %s", lastLine(out))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
