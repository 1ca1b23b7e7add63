package bench

import (
	"strings"
	"testing"
)

func names(ws []Workload) string {
	var n []string
	for _, w := range ws {
		n = append(n, w.Name)
	}
	return strings.Join(n, ",")
}

func TestSelect(t *testing.T) {
	all := strings.Join(Names(), ",")
	if all != "put-4k,get-4k,put-1m,get-1m,put-64m,get-64m,getput,mixed,list,delete" {
		t.Fatalf("catalogue %s", all)
	}
	for spec, want := range map[string]string{
		"":                    all,
		"all":                 all,
		" all ":               all,
		"put-1m":              "put-1m",
		"get-1m,put-1m":       "put-1m,get-1m", // catalogue order
		"put":                 "put-4k,put-1m,put-64m",
		"get":                 "get-4k,get-1m,get-64m",
		"64m":                 "put-64m,get-64m",
		"4k,delete,4k,PUT-4K": "put-4k,get-4k,delete", // each once, any case
		"list, getput,":       "getput,list",
		"mixed":               "mixed",
		"all,put":             all,
	} {
		got, err := Select(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		if names(got) != want {
			t.Errorf("%q: %s, want %s", spec, names(got), want)
		}
	}
	for _, bad := range []string{"put-2m", "gets", "mix", ",", "put-1m,nope"} {
		if ws, err := Select(bad); err == nil {
			t.Errorf("%q accepted: %s", bad, names(ws))
		}
	}
	// Select returns a fresh slice: changing it leaves the catalogue be.
	ws, _ := Select("")
	ws[0].Name = "x"
	if Catalogue()[0].Name != "put-4k" {
		t.Fatal("Select shares the catalogue")
	}
}

func TestMixes(t *testing.T) {
	for _, w := range Catalogue() {
		m, sum := w.mix(), 0
		for _, s := range m {
			sum += s.percent
		}
		if sum != 100 {
			t.Errorf("%s: shares add up to %d%%", w.Name, sum)
		}
	}
	// warp's mixed: 45% GET, 15% PUT, 30% STAT (HEAD), 10% DELETE.
	mixed := Workload{Kind: KindMixed}.mix()
	count := map[Op]int{}
	for roll := range 100 {
		count[pick(mixed, roll)]++
	}
	if count[OpGet] != 45 || count[OpPut] != 15 || count[OpHead] != 30 || count[OpDelete] != 10 {
		t.Errorf("mixed: %v", count)
	}
	getput := Workload{Kind: KindGetPut}.mix()
	if pick(getput, 0) != OpGet || pick(getput, 69) != OpGet || pick(getput, 70) != OpPut || pick(getput, 99) != OpPut {
		t.Error("getput is not 70% GET then 30% PUT")
	}
}

func TestSizeClassAndPrepareCounts(t *testing.T) {
	for size, want := range map[int64]string{4 * kib: "4k", mib: "1m", 64 * mib: "64m", 1000: "1000b", 1536: "1536b"} {
		if got := sizeClass(size); got != want {
			t.Errorf("sizeClass(%d) = %s, want %s", size, got, want)
		}
	}
	for _, c := range []struct {
		size       int64
		conc, want int
	}{{4 * kib, 16, 2000}, {mib, 16, 256}, {64 * mib, 16, 32}, {64 * mib, 4, 8}, {mib, 200, 400}} {
		if got := objectsFor(c.size, c.conc); got != c.want {
			t.Errorf("objectsFor(%d, %d) = %d, want %d", c.size, c.conc, got, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.Concurrency64M = 4
	if cfg.concurrency(Workload{Size: 64 * mib}) != 4 || cfg.concurrency(Workload{Size: mib}) != 16 {
		t.Error("--concurrency-64m not applied to the 64 MiB workloads alone")
	}
	for op, want := range map[Op]string{OpPut: "PUT", OpGet: "GET", OpHead: "HEAD", OpDelete: "DELETE", OpList: "LIST"} {
		if op.String() != want {
			t.Errorf("op %d: %s, want %s", op, op, want)
		}
	}
}
