package chaos

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// ObjKey names one object of the workload.
type ObjKey struct{ Bucket, Key string }

func (k ObjKey) String() string { return k.Bucket + "/" + k.Key }

// Finding is one violation the checker found.
type Finding struct {
	Kind   string `json:"kind"` // lost_write, corrupt_read, resurrected, stale, unreadable, list_mismatch, not_linearizable, metadata_lost
	Object string `json:"object,omitempty"`
	Detail string `json:"detail"`
}

// Verdict is what the checker found in one run.
type Verdict struct {
	LostWrites    int       `json:"acknowledged_writes_lost"`
	CorruptReads  int       `json:"corrupt_reads"`
	Resurrected   int       `json:"deleted_objects_back"`
	Stale         int       `json:"stale_objects"`
	Unreadable    int       `json:"unreadable_after_heal"`
	ListMismatch  int       `json:"list_mismatches"`
	MetadataLost  int       `json:"metadata_writes_lost"`
	Linearizable  string    `json:"linearizable"` // ok, illegal, unknown (checker timed out)
	KeysChecked   int       `json:"keys_checked"`
	NonLinearKeys []string  `json:"non_linearizable_keys,omitempty"`
	Findings      []Finding `json:"findings,omitempty"`
}

// Failed reports whether the run broke a guarantee.
func (v *Verdict) Failed() bool {
	return v.LostWrites+v.CorruptReads+v.Resurrected+v.Stale+v.Unreadable+v.ListMismatch+v.MetadataLost > 0 || v.Linearizable == "illegal"
}

func (v *Verdict) add(kind, obj, format string, args ...any) {
	v.Findings = append(v.Findings, Finding{Kind: kind, Object: obj, Detail: fmt.Sprintf(format, args...)})
}

// Final is what the harness read after the faults healed.
type Final struct {
	Objects map[ObjKey]Op               // a GET of every key the workload touched
	Lists   map[string]map[string]int64 // endpoint + " " + bucket -> listing
	Meta    map[string]Op               // a HeadBucket / GetUser of every metadata name acknowledged
}

const absent = ""

// value is the state an acknowledged or failed write leaves: the body's
// SHA-256, or absent for a DELETE.
func value(op Op) string {
	if op.Kind == OpDelete {
		return absent
	}
	return op.SHA256
}

func isWrite(op Op) bool { return op.Kind == OpPut || op.Kind == OpDelete }

func short(v string) string {
	if v == absent {
		return "absent"
	}
	return v[:12]
}

// Check compares the history and the final reads with the model. visDir,
// when not empty, receives a porcupine visualisation of every key whose
// history is not linearizable.
func Check(ops []Op, final Final, visDir string) Verdict {
	var v Verdict
	byKey := map[ObjKey][]Op{}
	for _, op := range ops {
		if op.Kind == OpPut || op.Kind == OpGet || op.Kind == OpDelete {
			k := ObjKey{op.Bucket, op.Key}
			byKey[k] = append(byKey[k], op)
		}
	}
	keys := make([]ObjKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	v.KeysChecked = len(keys)
	for _, k := range keys {
		checkKey(&v, k, byKey[k], final.Objects[k])
	}
	checkLists(&v, final)
	for name, op := range final.Meta {
		if op.Status != OK {
			v.MetadataLost++
			v.add("metadata_lost", name, "acknowledged %s of %s, after heal: %s %s", op.Kind, name, op.Status, op.Err)
		}
	}
	v.Linearizable = "ok"
	for _, k := range keys {
		res, info := porcupine.CheckOperationsVerbose(kvModel, kvHistory(byKey[k]), 20*time.Second)
		switch res {
		case porcupine.Illegal:
			v.Linearizable = "illegal"
			v.NonLinearKeys = append(v.NonLinearKeys, k.String())
			v.add("not_linearizable", k.String(), "the PUT/GET/DELETE history of this key has no linearization")
			if visDir != "" {
				_ = porcupine.VisualizePath(kvModel, info, filepath.Join(visDir, "linearizability-"+strings.ReplaceAll(k.String(), "/", "_")+".html"))
			}
		case porcupine.Unknown:
			if v.Linearizable == "ok" {
				v.Linearizable = "unknown"
			}
		}
	}
	return v
}

// checkKey checks one key: no read returned bytes no PUT wrote, and the
// final state is one the acknowledged writes allow.
func checkKey(v *Verdict, k ObjKey, ops []Op, fin Op) {
	written := map[string]bool{}
	for _, op := range ops {
		if op.Kind == OpPut {
			written[op.SHA256] = true
		}
	}
	for _, op := range ops {
		if op.Kind == OpGet && op.Status == OK && !written[op.SHA256] {
			v.CorruptReads++
			v.add("corrupt_read", k.String(), "client %d GET via %s at %.3fs returned %d bytes, SHA-256 %s: no PUT of the key wrote them", op.Client, op.Endpoint, float64(op.Start)/1e9, op.Size, op.SHA256)
		}
	}
	if fin.Kind == "" {
		return // the run was not checked after heal (no final read)
	}
	// A write is superseded when an acknowledged write began after it
	// ended. Failed writes may take effect late: their values stay allowed.
	allowed := map[string]string{}
	var acked []Op
	for _, op := range ops {
		if isWrite(op) && op.Status == OK {
			acked = append(acked, op)
		}
	}
	if len(acked) == 0 {
		allowed[absent] = "never written"
	}
	for _, w := range acked {
		superseded := slices.ContainsFunc(acked, func(w2 Op) bool { return w2.Start > w.End })
		if !superseded {
			allowed[value(w)] = fmt.Sprintf("acknowledged %s by client %d [%.3fs,%.3fs]", w.Kind, w.Client, float64(w.Start)/1e9, float64(w.End)/1e9)
		}
	}
	for _, op := range ops {
		if isWrite(op) && op.Status == Fail {
			if _, ok := allowed[value(op)]; !ok {
				allowed[value(op)] = fmt.Sprintf("failed %s by client %d (may have taken effect)", op.Kind, op.Client)
			}
		}
	}
	var got string
	switch fin.Status {
	case OK:
		got = fin.SHA256
	case NotFound:
		got = absent
	default:
		v.Unreadable++
		v.add("unreadable", k.String(), "GET after heal failed: %s", fin.Err)
		return
	}
	if _, ok := allowed[got]; ok {
		return
	}
	var want []string
	for val, why := range allowed {
		want = append(want, short(val)+" ("+why+")")
	}
	sort.Strings(want)
	_, onlyAbsent := allowed[absent]
	onlyAbsent = onlyAbsent && len(allowed) == 1
	switch {
	case got == absent:
		v.LostWrites++
		v.add("lost_write", k.String(), "absent after heal; allowed: %s", strings.Join(want, "; "))
	case !written[got]:
		v.CorruptReads++
		v.add("corrupt_read", k.String(), "after heal %d bytes with SHA-256 %s that no PUT wrote", fin.Size, got)
	case onlyAbsent:
		v.Resurrected++
		v.add("resurrected", k.String(), "deleted, yet after heal it reads %s", short(got))
	default:
		v.Stale++
		v.add("stale", k.String(), "after heal reads %s, superseded; allowed: %s", short(got), strings.Join(want, "; "))
	}
}

// checkLists compares every listing taken after heal with the final GETs.
func checkLists(v *Verdict, final Final) {
	want := map[string]map[string]int64{}
	for k, op := range final.Objects {
		if want[k.Bucket] == nil {
			want[k.Bucket] = map[string]int64{}
		}
		if op.Status == OK {
			want[k.Bucket][k.Key] = op.Size
		}
	}
	names := make([]string, 0, len(final.Lists))
	for n := range final.Lists {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		got := final.Lists[name]
		bucket := name[strings.LastIndexByte(name, ' ')+1:]
		exp := want[bucket]
		var diff []string
		for key, size := range exp {
			if gs, ok := got[key]; !ok {
				diff = append(diff, "missing "+key)
			} else if gs != size {
				diff = append(diff, fmt.Sprintf("%s size %d, GET read %d", key, gs, size))
			}
		}
		for key := range got {
			if _, ok := exp[key]; !ok {
				diff = append(diff, "extra "+key)
			}
		}
		if len(diff) > 0 {
			sort.Strings(diff)
			v.ListMismatch++
			v.add("list_mismatch", name, "%s", strings.Join(diff, ", "))
		}
	}
}

// --- porcupine: a register per key ---

type kvInput struct {
	kind   Kind
	val    string // put: the body's SHA-256
	failed bool   // a write whose outcome is unknown: it may or may not apply
}

// kvHistory turns one key's operations into porcupine operations. Failed
// GETs and LISTs carry no information and are left out; a failed write
// returns "never" (it may take effect at any later time, or not at all).
func kvHistory(ops []Op) []porcupine.Operation {
	var out []porcupine.Operation
	for _, op := range ops {
		in := kvInput{kind: op.Kind, val: value(op)}
		ret := op.End
		switch {
		case op.Kind == OpGet && op.Status == Fail:
			continue
		case op.Kind == OpGet:
			in.val = ""
		case op.Status == Fail:
			in.failed, ret = true, math.MaxInt64
		}
		var output string
		if op.Kind == OpGet && op.Status == OK {
			output = op.SHA256
		}
		out = append(out, porcupine.Operation{ClientId: op.Client, Input: in, Call: op.Start, Output: output, Return: ret})
	}
	return out
}

var kvNondet = porcupine.NondeterministicModel{
	Init: func() []any { return []any{absent} },
	Step: func(state, input, output any) []any {
		in, st := input.(kvInput), state.(string)
		switch in.kind {
		case OpGet:
			if output.(string) == st {
				return []any{st}
			}
			return nil
		default: // put, delete
			if in.failed {
				return []any{st, in.val}
			}
			return []any{in.val}
		}
	},
	Equal: func(a, b any) bool { return a == b },
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.kind == OpGet {
			return "get() -> " + short(output.(string))
		}
		s := fmt.Sprintf("%s(%s)", in.kind, short(in.val))
		if in.failed {
			s += " failed"
		}
		return s
	},
	DescribeState: func(state any) string { return short(state.(string)) },
}

// kvModel is the register model: GET sees the last applied write.
var kvModel = kvNondet.ToModel()
