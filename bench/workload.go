package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is what a workload does.
type Kind uint8

// The kinds of workload.
const (
	KindPut    Kind = iota + 1 // PUT new objects of Size
	KindGet                    // GET objects of Size written before
	KindGetPut                 // 70% GET, 30% PUT of Size
	KindMixed                  // warp's mix: 45% GET, 15% PUT, 30% HEAD, 10% DELETE of Size
	KindList                   // list a prefix of Config.ListKeys objects of Size, page by page
	KindDelete                 // DELETE objects of Size written before
)

// Workload is one timed benchmark.
type Workload struct {
	Name string // as --workloads names it: put-4k, getput, ...
	Kind Kind
	Size int64 // object size in bytes
}

// Op is one kind of S3 request.
type Op uint8

// The requests the workloads make.
const (
	OpPut Op = iota
	OpGet
	OpHead
	OpDelete
	OpList
	numOps
)

// String is the op's name in the report: PUT, GET, HEAD, DELETE, LIST.
func (o Op) String() string {
	return [...]string{"PUT", "GET", "HEAD", "DELETE", "LIST"}[o]
}

// share is an op's part of a mix, in percent.
type share struct {
	op      Op
	percent int
}

// mix is the ops of w with their shares; a pure workload has one op at 100%.
func (w Workload) mix() []share {
	switch w.Kind {
	case KindPut:
		return []share{{OpPut, 100}}
	case KindGet:
		return []share{{OpGet, 100}}
	case KindGetPut:
		return []share{{OpGet, 70}, {OpPut, 30}}
	case KindMixed:
		return []share{{OpGet, 45}, {OpPut, 15}, {OpHead, 30}, {OpDelete, 10}}
	case KindList:
		return []share{{OpList, 100}}
	case KindDelete:
		return []share{{OpDelete, 100}}
	}
	return nil
}

// pick is the op of a mix for a roll in [0, 100).
func pick(m []share, roll int) Op {
	for _, s := range m {
		if roll < s.percent {
			return s.op
		}
		roll -= s.percent
	}
	return m[len(m)-1].op
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// Catalogue is every workload, in the order a run takes them: each GET
// follows the PUT of its size and reads what it wrote; delete comes last
// and removes what the others left.
func Catalogue() []Workload {
	return []Workload{
		{"put-4k", KindPut, 4 * kib},
		{"get-4k", KindGet, 4 * kib},
		{"put-1m", KindPut, mib},
		{"get-1m", KindGet, mib},
		{"put-64m", KindPut, 64 * mib},
		{"get-64m", KindGet, 64 * mib},
		{"getput", KindGetPut, mib},
		{"mixed", KindMixed, mib},
		{"list", KindList, 4 * kib}, // then its objects are delete's
		{"delete", KindDelete, 4 * kib},
	}
}

// Select reads a --workloads value: "" or "all", or a comma-separated list
// of workload names and groups: "put" and "get" (every size), "4k", "1m"
// and "64m" (PUT and GET of that size). The result is in Catalogue order,
// each workload once.
func Select(spec string) ([]Workload, error) {
	all := Catalogue()
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return all, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		n := 0
		for _, w := range all {
			kind, size, _ := strings.Cut(w.Name, "-")
			if w.Name == name || name == "all" || (size != "" && (name == kind || name == size)) {
				want[w.Name] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("unknown workload %q (workloads: %s; groups: all, put, get, 4k, 1m, 64m)", name, strings.Join(Names(), ", "))
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no workload in %q", spec)
	}
	return slices.DeleteFunc(all, func(w Workload) bool { return !want[w.Name] }), nil
}

// Names is every workload's name, in Catalogue order.
func Names() []string {
	var names []string
	for _, w := range Catalogue() {
		names = append(names, w.Name)
	}
	return names
}

// sizeClass names the objects of a size in keys: 4k, 1m, 64m.
func sizeClass(size int64) string {
	switch {
	case size >= mib && size%mib == 0:
		return fmt.Sprintf("%dm", size/mib)
	case size >= kib && size%kib == 0:
		return fmt.Sprintf("%dk", size/kib)
	}
	return fmt.Sprintf("%db", size)
}
