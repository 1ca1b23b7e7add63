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
	// Kind: lost_write, corrupt_read, resurrected, stale, unreadable,
	// list_mismatch, not_linearizable; for bucket and user names
	// metadata_lost (an acknowledged create undone), metadata_back (an
	// acknowledged delete undone), metadata_stale, metadata_unreadable.
	Kind   string `json:"kind"`
	Object string `json:"object,omitempty"` // bucket/key, or "bucket NAME", "user NAME"
	Detail string `json:"detail"`
}

// Verdict is what the checker found in one run.
type Verdict struct {
	LostWrites   int    `json:"acknowledged_writes_lost"`
	CorruptReads int    `json:"corrupt_reads"`
	Resurrected  int    `json:"deleted_objects_back"`
	Stale        int    `json:"stale_objects"`
	Unreadable   int    `json:"unreadable_after_heal"`
	ListMismatch int    `json:"list_mismatches"`
	MetadataLost int    `json:"metadata_writes_lost"` // bucket and user creates/deletes undone after heal
	Linearizable string `json:"linearizable"`         // ok, illegal, unknown (checker timed out)
	KeysChecked  int    `json:"keys_checked"`
	NamesChecked int    `json:"names_checked"` // bucket and user names
	// StaleBucketReads counts HeadBucket's answers "the bucket exists"
	// given after an acknowledged DeleteBucket of the name with no create
	// that could come between: a node that had not applied the delete yet
	// answered from its own state (bucket lookups are local by design:
	// only "no such bucket" is re-checked against the leader). Reported,
	// not a failure; these answers are left out of the linearizability
	// check. CreateBucket's "exists" answers are checked: it confirms
	// with the leader before it says so.
	StaleBucketReads int       `json:"stale_bucket_reads"`
	NonLinearKeys    []string  `json:"non_linearizable_keys,omitempty"`
	Findings         []Finding `json:"findings,omitempty"`
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
	Meta    map[string]Op               // a HeadBucket / GetUser of every bucket and user name touched, by metaKey
}

// absent is a register's value when the object or name does not exist;
// present a metadata name's when it does.
const (
	absent  = ""
	present = "present"
)

// value is the state an acknowledged or failed write leaves: the body's
// SHA-256 (present for a metadata create), or absent for a DELETE.
func value(op Op) string {
	if op.Kind == OpDelete {
		return absent
	}
	return op.SHA256
}

func isWrite(op Op) bool { return op.Kind == OpPut || op.Kind == OpDelete }

func short(v string) string {
	switch {
	case v == absent:
		return "absent"
	case len(v) > 12:
		return v[:12]
	}
	return v
}

// metaKey names the register of a bucket or user operation ("bucket
// NAME", "user NAME"), "" for other operations.
func metaKey(op Op) string {
	switch op.Kind {
	case OpCreateBucket, OpDeleteBucket, OpHeadBucket:
		return "bucket " + op.Bucket
	case OpCreateUser, OpDeleteUser, OpGetUser, OpAttachPolicy, OpDetachPolicy:
		return "user " + op.Name
	}
	return ""
}

// metaRegister maps a bucket or user operation onto an operation of its
// name's register (present or absent), in the terms of the object
// register: a create is a PUT of present (failed: one that may apply), a
// create answered "already exists" a GET that saw present; a delete a
// DELETE, or a GET that saw absent when it answered "no such"; a head, a
// show and a policy attachment are GETs (of present when they succeeded,
// of absent on "no such"; failed ones say nothing and are dropped).
func metaRegister(op Op) (Op, bool) {
	reg := op
	reg.SHA256 = absent
	switch op.Kind {
	case OpCreateBucket, OpCreateUser:
		switch op.Status {
		case OK, Fail:
			reg.Kind, reg.SHA256 = OpPut, present
		case Exists:
			reg.Kind, reg.Status, reg.SHA256 = OpGet, OK, present
		default:
			return Op{}, false
		}
	case OpDeleteBucket, OpDeleteUser:
		switch op.Status {
		case OK, Fail:
			reg.Kind = OpDelete
		case NotFound:
			reg.Kind = OpGet
		default:
			return Op{}, false
		}
	case OpHeadBucket, OpGetUser, OpAttachPolicy, OpDetachPolicy:
		switch op.Status {
		case OK, Exists:
			reg.Kind, reg.Status, reg.SHA256 = OpGet, OK, present
		case NotFound:
			reg.Kind = OpGet
		default:
			return Op{}, false
		}
	default:
		return Op{}, false
	}
	return reg, true
}

// Check compares the history and the final reads with the model: each
// object and each bucket or user name is a register. visDir, when not
// empty, receives a porcupine visualisation of every register whose
// history is not linearizable.
func Check(ops []Op, final Final, visDir string) Verdict {
	var v Verdict
	type register struct {
		name string
		ops  []Op // in the object register's terms (metaRegister for names)
		raw  []Op // a name's operations as recorded
		fin  Op
		meta bool
	}
	objs := map[ObjKey][]Op{}
	metas := map[string][]Op{}
	for _, op := range ops {
		switch op.Kind {
		case OpPut, OpGet, OpDelete:
			k := ObjKey{op.Bucket, op.Key}
			objs[k] = append(objs[k], op)
		default:
			if k := metaKey(op); k != "" {
				metas[k] = append(metas[k], op)
			}
		}
	}
	var regs []register
	for k, o := range objs {
		regs = append(regs, register{name: k.String(), ops: o, fin: final.Objects[k]})
	}
	for k, raw := range metas {
		var o []Op
		for _, op := range raw {
			if reg, ok := metaRegister(op); ok {
				o = append(o, reg)
			}
		}
		fin, _ := metaRegister(final.Meta[k])
		regs = append(regs, register{name: k, ops: o, raw: raw, fin: fin, meta: true})
	}
	sort.Slice(regs, func(i, j int) bool {
		if regs[i].meta != regs[j].meta {
			return !regs[i].meta
		}
		return regs[i].name < regs[j].name
	})
	v.KeysChecked, v.NamesChecked = len(objs), len(metas)
	for _, r := range regs {
		checkKey(&v, r.name, r.ops, r.fin, r.meta)
		if r.meta {
			v.StaleBucketReads += staleBucketReads(r.raw)
		}
	}
	checkLists(&v, final)
	v.Linearizable = "ok"
	for _, r := range regs {
		model, hist, what := kvModel, kvHistory(r.ops), "PUT/GET/DELETE"
		if r.meta {
			model, hist, what = metaModel, metaHistory(r.raw), "create/delete/read"
		}
		res, info := porcupine.CheckOperationsVerbose(model, hist, 20*time.Second)
		switch res {
		case porcupine.Illegal:
			v.Linearizable = "illegal"
			v.NonLinearKeys = append(v.NonLinearKeys, r.name)
			v.add("not_linearizable", r.name, "the %s history of this register has no linearization", what)
			if visDir != "" {
				_ = porcupine.VisualizePath(model, info, filepath.Join(visDir, "linearizability-"+strings.NewReplacer("/", "_", " ", "_").Replace(r.name)+".html"))
			}
		case porcupine.Unknown:
			if v.Linearizable == "ok" {
				v.Linearizable = "unknown"
			}
		}
	}
	return v
}

// checkKey checks one register: no read returned bytes no PUT wrote
// (objects), and the final state is one the acknowledged writes allow.
// For a bucket or user name (meta) the findings are metadata_* ones.
func checkKey(v *Verdict, name string, ops []Op, fin Op, meta bool) {
	written := map[string]bool{}
	for _, op := range ops {
		if op.Kind == OpPut {
			written[op.SHA256] = true
		}
	}
	for _, op := range ops {
		if !meta && op.Kind == OpGet && op.Status == OK && !written[op.SHA256] {
			v.CorruptReads++
			v.add("corrupt_read", name, "client %d GET via %s at %.3fs returned %d bytes, SHA-256 %s: no PUT of the key wrote them", op.Client, op.Endpoint, float64(op.Start)/1e9, op.Size, op.SHA256)
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
		kind := "unreadable"
		if meta {
			kind = "metadata_unreadable"
		}
		v.add(kind, name, "read after heal failed: %s", fin.Err)
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
	case meta:
		v.MetadataLost++
		kind := "metadata_stale"
		switch {
		case got == absent:
			kind = "metadata_lost"
		case onlyAbsent:
			kind = "metadata_back"
		}
		v.add(kind, name, "after heal %s; allowed: %s", short(got), strings.Join(want, "; "))
	case got == absent:
		v.LostWrites++
		v.add("lost_write", name, "absent after heal; allowed: %s", strings.Join(want, "; "))
	case !written[got]:
		v.CorruptReads++
		v.add("corrupt_read", name, "after heal %d bytes with SHA-256 %s that no PUT wrote", fin.Size, got)
	case onlyAbsent:
		v.Resurrected++
		v.add("resurrected", name, "deleted, yet after heal it reads %s", short(got))
	default:
		v.Stale++
		v.add("stale", name, "after heal reads %s, superseded; allowed: %s", short(got), strings.Join(want, "; "))
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

// --- porcupine: a register per bucket or user name ---

// metaInput is one operation on a name: create, delete or read, with
// its definite answer; a failed create or delete may apply or not.
type metaInput struct {
	op     string // create, delete, read
	answer string // create: ok, exists; delete: ok, absent; read: present, absent
	failed bool
}

// metaHistory turns a name's operations into porcupine operations. A
// create answered OK created the name (it did not exist): creates are not
// upserts; a delete answered OK removed an existing name. Reads are
// HeadBucket, GetUser and policy attachments (which answer "no such user"
// for a missing user). Failed reads, and HeadBucket's "exists" answers
// (local reads, see Verdict.StaleBucketReads), are left out.
func metaHistory(ops []Op) []porcupine.Operation {
	var out []porcupine.Operation
	for _, op := range ops {
		var in metaInput
		switch op.Kind {
		case OpCreateBucket, OpCreateUser:
			in.op = "create"
		case OpDeleteBucket, OpDeleteUser:
			in.op = "delete"
		case OpHeadBucket:
			if op.Status == OK {
				continue // a local read, see Verdict.StaleBucketReads
			}
			in.op = "read"
		default:
			in.op = "read"
		}
		ret := op.End
		switch op.Status {
		case Fail:
			if in.op == "read" {
				continue
			}
			in.failed, ret = true, math.MaxInt64
		case OK:
			in.answer = map[string]string{"create": "ok", "delete": "ok", "read": present}[in.op]
		case Exists:
			in.answer = "exists"
			if in.op == "read" {
				in.answer = present
			}
		case NotFound:
			in.answer = "absent"
		}
		out = append(out, porcupine.Operation{ClientId: op.Client, Input: in, Call: op.Start, Output: in.answer, Return: ret})
	}
	return out
}

var metaNondet = porcupine.NondeterministicModel{
	Init: func() []any { return []any{false} },
	Step: func(state, input, _ any) []any {
		in, st := input.(metaInput), state.(bool)
		switch {
		case in.failed && in.op == "create":
			return []any{st, true}
		case in.failed: // delete
			return []any{st, false}
		case in.op == "create" && in.answer == "ok" && !st,
			in.op == "read" && in.answer == present && st:
			return []any{true}
		case in.op == "delete" && in.answer == "ok" && st,
			in.answer == "absent" && !st:
			return []any{false}
		case in.op == "create" && in.answer == "exists" && st:
			return []any{true}
		}
		return nil
	},
	Equal: func(a, b any) bool { return a == b },
	DescribeOperation: func(input, _ any) string {
		in := input.(metaInput)
		if in.failed {
			return in.op + "() failed"
		}
		return in.op + "() -> " + in.answer
	},
	DescribeState: func(state any) string {
		if state.(bool) {
			return present
		}
		return "absent"
	},
}

// metaModel is the name register: it exists or not.
var metaModel = metaNondet.ToModel()

// staleBucketReads counts a bucket name's HeadBucket answers "exists"
// that began after an acknowledged DeleteBucket ended, with no
// CreateBucket that could have taken effect between the delete and the
// answer.
func staleBucketReads(ops []Op) int {
	n := 0
	for _, h := range ops {
		if h.Kind != OpHeadBucket || h.Status != OK {
			continue
		}
		stale := false
		for _, d := range ops {
			if d.Kind != OpDeleteBucket || d.Status != OK || d.End >= h.Start {
				continue
			}
			created := slices.ContainsFunc(ops, func(c Op) bool {
				return c.Kind == OpCreateBucket && c.Start < h.End && (c.Status == Fail || c.Status == OK && c.End > d.Start)
			})
			if !created {
				stale = true
				break
			}
		}
		if stale {
			n++
		}
	}
	return n
}
