package meta

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Snapshot format, version 6:
//
//	header:  "STRATA-SNAP" [format version u8 = 6]
//	records: [record kind u8][payload length u32 big-endian][payload JSON]
//	         in this fixed order: one cluster, nodes sorted by id, one
//	         placement, buckets sorted by name, users sorted by access key,
//	         accounts, groups and managed policies, each sorted by name,
//	         audit webhooks sorted by URL, usage batch sequences sorted by
//	         node id
//	end:     [0][0 0 0 0]
//
// Version 5 is version 6 without the buckets' lifecycle rules (an optional
// field of the bucket record). Version 4 is version 5 without the usage
// batch sequence records and without the quota and usage of buckets and
// the quota of users (optional fields of their records). Version 3 is
// version 4 without the audit webhook records. Version 2 is
// version 3 without the bucket's CORS rules (an optional field of the
// bucket record). Version 1 is version 2 without the account, group and
// policy records (and without the IAM fields of users and buckets, which
// are optional). A new record kind or a changed payload needs a new format
// version; readers keep restoring every older version
// (testdata/snapshot/v1.snap pins v1, v2.snap v2, v3.snap v3, v4.snap v4,
// v5.snap v5, v6.snap v6).

// SnapshotMagic starts every snapshot.
const SnapshotMagic = "STRATA-SNAP"

// SnapshotVersion is the format version WriteSnapshot writes.
const SnapshotVersion uint8 = 6

// Record kinds, in the order they appear. All versions share kinds 1..5;
// 6..8 are those of versions 2 and later, 9 that of versions 4 and later,
// 10 that of versions 5 and 6.
const (
	recordEnd       uint8 = 0
	recordCluster   uint8 = 1
	recordNode      uint8 = 2
	recordPlacement uint8 = 3
	recordBucket    uint8 = 4
	recordUser      uint8 = 5
	recordAccount   uint8 = 6
	recordGroup     uint8 = 7
	recordPolicy    uint8 = 8
	recordWebhook   uint8 = 9
	recordUsageSeq  uint8 = 10
)

// usageSeqRecord is one entry of State.UsageSeqs.
type usageSeqRecord struct {
	Node string `json:"node"`
	Seq  uint64 `json:"seq"`
}

// lastRecord is the highest record kind of each format version.
var lastRecord = map[uint8]uint8{1: recordUser, 2: recordPolicy, 3: recordPolicy, 4: recordWebhook, 5: recordUsageSeq, 6: recordUsageSeq}

// maxRecordLen bounds one record's payload; the reader never allocates more
// than the bytes actually present.
const maxRecordLen = 1 << 30

// WriteSnapshot serialises s to w in the current format version.
func WriteSnapshot(w io.Writer, s *State) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(SnapshotMagic)
	bw.WriteByte(SnapshotVersion)
	if err := writeRecord(bw, recordCluster, s.Cluster); err != nil {
		return err
	}
	for _, id := range sortedKeys(s.Nodes) {
		n := s.Nodes[id]
		if n == nil || n.ID != id {
			return fmt.Errorf("meta: snapshot: node entry %q is nil or has another id", id)
		}
		if err := writeRecord(bw, recordNode, n); err != nil {
			return err
		}
	}
	if err := writeRecord(bw, recordPlacement, s.Placement); err != nil {
		return err
	}
	for _, name := range sortedKeys(s.Buckets) {
		b := s.Buckets[name]
		if b == nil || b.Name != name {
			return fmt.Errorf("meta: snapshot: bucket entry %q is nil or has another name", name)
		}
		if err := writeRecord(bw, recordBucket, b); err != nil {
			return err
		}
	}
	for _, ak := range sortedKeys(s.Users) {
		u := s.Users[ak]
		if u == nil || u.AccessKey != ak {
			return fmt.Errorf("meta: snapshot: user entry %q is nil or has another access key", ak)
		}
		if err := writeRecord(bw, recordUser, u); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(s.Accounts) {
		a := s.Accounts[name]
		if a == nil || a.Name != name {
			return fmt.Errorf("meta: snapshot: account entry %q is nil or has another name", name)
		}
		if err := writeRecord(bw, recordAccount, a); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(s.Groups) {
		g := s.Groups[name]
		if g == nil || g.Name != name {
			return fmt.Errorf("meta: snapshot: group entry %q is nil or has another name", name)
		}
		if err := writeRecord(bw, recordGroup, g); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(s.Policies) {
		p := s.Policies[name]
		if p == nil || p.Name != name {
			return fmt.Errorf("meta: snapshot: policy entry %q is nil or has another name", name)
		}
		if err := writeRecord(bw, recordPolicy, p); err != nil {
			return err
		}
	}
	for _, u := range sortedKeys(s.AuditWebhooks) {
		w := s.AuditWebhooks[u]
		if w == nil || w.URL != u {
			return fmt.Errorf("meta: snapshot: audit webhook entry %q is nil or has another URL", u)
		}
		if err := writeRecord(bw, recordWebhook, w); err != nil {
			return err
		}
	}
	for _, node := range sortedKeys(s.UsageSeqs) {
		if err := writeRecord(bw, recordUsageSeq, usageSeqRecord{Node: node, Seq: s.UsageSeqs[node]}); err != nil {
			return err
		}
	}
	bw.Write([]byte{recordEnd, 0, 0, 0, 0})
	return bw.Flush()
}

func writeRecord(w *bufio.Writer, kind uint8, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("meta: snapshot record %d: %w", kind, err)
	}
	if len(payload) > maxRecordLen {
		return fmt.Errorf("meta: snapshot record %d of %d bytes exceeds %d", kind, len(payload), maxRecordLen)
	}
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	w.Write(hdr[:])
	_, err = w.Write(payload) // bufio keeps the first write error; Flush reports it
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ReadSnapshot restores a fresh State from a snapshot of any supported format
// version. It reads up to and including the end record (it may buffer bytes
// beyond it). Truncated, reordered or unknown input is an error wrapping
// ErrMalformed, never a panic.
func ReadSnapshot(r io.Reader) (*State, error) {
	br := bufio.NewReader(r)
	hdr := make([]byte, len(SnapshotMagic)+1)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("%w: snapshot header: %w", ErrMalformed, err)
	}
	if string(hdr[:len(SnapshotMagic)]) != SnapshotMagic {
		return nil, fmt.Errorf("%w: not a Strata snapshot", ErrMalformed)
	}
	v := hdr[len(SnapshotMagic)]
	maxKind, ok := lastRecord[v]
	if !ok {
		return nil, fmt.Errorf("%w: snapshot format version %d unsupported (this node reads 1..%d)", ErrMalformed, v, SnapshotVersion)
	}
	return readRecords(br, maxKind)
}

// readRecords reads the records of a format whose highest record kind is
// maxKind.
func readRecords(br *bufio.Reader, maxKind uint8) (*State, error) {
	s := NewState()
	var buf bytes.Buffer
	last := recordEnd
	for n := 0; ; n++ {
		var rh [5]byte
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d header: %w", ErrMalformed, n, noEOF(err))
		}
		kind, size := rh[0], binary.BigEndian.Uint32(rh[1:])
		if kind == recordEnd {
			if size != 0 {
				return nil, fmt.Errorf("%w: snapshot end record with length %d", ErrMalformed, size)
			}
			break
		}
		if err := checkRecordOrder(last, kind, maxKind); err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d: %v", ErrMalformed, n, err)
		}
		last = kind
		if size > maxRecordLen {
			return nil, fmt.Errorf("%w: snapshot record %d of %d bytes", ErrMalformed, n, size)
		}
		buf.Reset()
		// CopyN grows the buffer with the data present, so a garbage length
		// cannot make the reader allocate a gigabyte.
		if _, err := io.CopyN(&buf, br, int64(size)); err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d payload: %w", ErrMalformed, n, noEOF(err))
		}
		if err := s.restoreRecord(kind, buf.Bytes()); err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d (kind %d): %v", ErrMalformed, n, kind, err)
		}
	}
	if last < recordPlacement {
		return nil, fmt.Errorf("%w: snapshot ends before its placement record", ErrMalformed)
	}
	return s, nil
}

// checkRecordOrder enforces the order: cluster once, nodes, placement once,
// buckets, users, then (versions 2 and later) accounts, groups, policies,
// then (versions 4 and later) audit webhooks, then (versions 5 and 6)
// usage batch sequences.
func checkRecordOrder(last, kind, maxKind uint8) error {
	switch {
	case kind > maxKind:
		return fmt.Errorf("unknown record kind %d", kind)
	case kind < last:
		return fmt.Errorf("record kind %d after kind %d", kind, last)
	case kind == last && (kind == recordCluster || kind == recordPlacement):
		return fmt.Errorf("record kind %d twice", kind)
	case last == recordEnd && kind != recordCluster:
		return errors.New("first record is not the cluster")
	case last < recordPlacement && kind > recordPlacement:
		return errors.New("placement record missing")
	}
	return nil
}

func (s *State) restoreRecord(kind uint8, payload []byte) error {
	switch kind {
	case recordCluster:
		return strictJSON(payload, &s.Cluster)
	case recordNode:
		var n Node
		if err := strictJSON(payload, &n); err != nil {
			return err
		}
		if n.ID == "" || s.Nodes[n.ID] != nil {
			return fmt.Errorf("node id %q empty or repeated", n.ID)
		}
		if slices.Contains(n.Drives, nil) {
			return fmt.Errorf("node %s has a null drive", n.ID)
		}
		s.Nodes[n.ID] = &n
	case recordPlacement:
		return strictJSON(payload, &s.Placement)
	case recordBucket:
		var b Bucket
		if err := strictJSON(payload, &b); err != nil {
			return err
		}
		if b.Name == "" || s.Buckets[b.Name] != nil {
			return fmt.Errorf("bucket name %q empty or repeated", b.Name)
		}
		b.Policy = nilIfEmpty(b.Policy)
		b.CORS = cloneCORS(b.CORS)
		b.Lifecycle = cloneLifecycle(b.Lifecycle)
		s.Buckets[b.Name] = &b
	case recordUser:
		var u User
		if err := strictJSON(payload, &u); err != nil {
			return err
		}
		if u.AccessKey == "" || s.Users[u.AccessKey] != nil {
			return fmt.Errorf("user access key %q empty or repeated", u.AccessKey)
		}
		u.Policies = nilIfEmpty(u.Policies)
		u.SessionPolicy = nilIfEmpty(u.SessionPolicy)
		s.Users[u.AccessKey] = &u
	case recordAccount:
		var a Account
		if err := strictJSON(payload, &a); err != nil {
			return err
		}
		if a.Name == "" || s.Accounts[a.Name] != nil {
			return fmt.Errorf("account name %q empty or repeated", a.Name)
		}
		s.Accounts[a.Name] = &a
	case recordGroup:
		var g Group
		if err := strictJSON(payload, &g); err != nil {
			return err
		}
		if g.Name == "" || s.Groups[g.Name] != nil {
			return fmt.Errorf("group name %q empty or repeated", g.Name)
		}
		g.Members, g.Policies = nilIfEmpty(g.Members), nilIfEmpty(g.Policies)
		s.Groups[g.Name] = &g
	case recordPolicy:
		var p Policy
		if err := strictJSON(payload, &p); err != nil {
			return err
		}
		if p.Name == "" || s.Policies[p.Name] != nil {
			return fmt.Errorf("policy name %q empty or repeated", p.Name)
		}
		s.Policies[p.Name] = &p
	case recordWebhook:
		var w AuditWebhook
		if err := strictJSON(payload, &w); err != nil {
			return err
		}
		if w.URL == "" || s.AuditWebhooks[w.URL] != nil {
			return fmt.Errorf("audit webhook URL %q empty or repeated", w.URL)
		}
		s.AuditWebhooks[w.URL] = w.clone()
	case recordUsageSeq:
		var r usageSeqRecord
		if err := strictJSON(payload, &r); err != nil {
			return err
		}
		if _, dup := s.UsageSeqs[r.Node]; r.Node == "" || dup {
			return fmt.Errorf("usage sequence of node %q empty or repeated", r.Node)
		}
		s.UsageSeqs[r.Node] = r.Seq
	}
	return nil
}

// nilIfEmpty maps an empty slice to nil: the writer omits empty optional
// fields, so only nil survives a round trip.
func nilIfEmpty[S ~[]E, E any](v S) S {
	if len(v) == 0 {
		return nil
	}
	return v
}

// noEOF turns a clean EOF in the middle of a snapshot into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
