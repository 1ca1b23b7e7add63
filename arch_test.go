package strata_test

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/strata-io/strata"

type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	GoFiles    []string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

// allowed lists, for each package, the packages of ours it may import
// directly. A package missing here may import nothing of ours. This is the
// dependency graph of ARCHITECTURE.md.
var allowed = map[string][]string{
	"cmd/node":                  {"node"},
	"cmd/ctl":                   {"adminapi", "bench"},
	"node":                      {"cluster", "dataplane", "dataplane/drive", "iam", "meta", "raftfsm", "rpc", "s3api", "console", "adminapi", "audit", "metrics", "quota", "ilm"},
	"s3api":                     {"s3api/sigv", "dataplane", "meta", "iam", "adminapi", "audit", "quota"},
	"quota":                     {"meta", "dataplane"},
	"lifecycle":                 {"meta"},
	"ilm":                       {"meta", "lifecycle", "dataplane"},
	"console":                   {"adminapi"},
	"raftfsm":                   {"rpc", "meta", "iam"},
	"dataplane":                 {"dataplane/drive", "rpc", "meta"},
	"dataplane/drive/drivetest": {"dataplane/drive"},
	"meta/metatest":             {"meta"},
	"internal/testcluster":      {"node", "meta", "raftfsm", "internal/tlstest"},
	"test/e2e":                  {"internal/testcluster", "adminapi"},
	"test/chaos":                {"internal/testcluster", "adminapi"},
	"test/console":              {"internal/testcluster", "node", "adminapi"},
}

func TestImportGraph(t *testing.T) {
	for _, p := range listPackages(t) {
		name := rel(p.ImportPath)
		ok := map[string]bool{}
		for _, a := range allowed[name] {
			ok[a] = true
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if !ok[rel(imp)] {
				t.Errorf("%s imports %s: not allowed by the architecture (see arch_test.go)", name, rel(imp))
			}
		}
	}
}

func TestProductionCodeDoesNotImportTesting(t *testing.T) {
	for _, p := range listPackages(t) {
		name := rel(p.ImportPath)
		if strings.HasSuffix(name, "test") || strings.HasPrefix(name, "internal/testcluster") || strings.HasPrefix(name, "test/") {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "testing" || strings.HasPrefix(imp, "testing/") {
				t.Errorf("%s imports %s in production code", name, imp)
			}
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.GoFiles) == 0 {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, "doc.go"), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: no doc.go: %v", rel(p.ImportPath), err)
			continue
		}
		if f.Doc == nil || len(strings.TrimSpace(f.Doc.Text())) < 40 {
			t.Errorf("%s: doc.go has no real package comment", rel(p.ImportPath))
		}
	}
}
