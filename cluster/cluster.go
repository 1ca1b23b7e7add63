package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrMetaTooLarge is returned when a node's metadata does not fit in a gossip
// message (memberlist.MetaMaxSize bytes).
var ErrMetaTooLarge = errors.New("cluster: node metadata too large for gossip")

// Meta is what a node advertises about itself to its peers.
type Meta struct {
	RPCAddr string   // host:port of rpc (Raft + shard traffic)
	S3Addr  string   // host:port of the S3 frontend
	Drives  []string // drive ids, in --data order
	Version string   // the node's build version; empty from nodes that predate it
}

// Member is one live peer (or this node) and its advertised metadata.
type Member struct {
	ID         string // node id (memberlist name)
	GossipAddr string // host:port of its memberlist endpoint
	Meta       Meta
}

// EventType says what happened to a member.
type EventType uint8

// Event types.
const (
	EventJoin   EventType = 1
	EventUpdate EventType = 2
	EventLeave  EventType = 3
)

func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// Event is one membership change.
type Event struct {
	Type   EventType
	Member Member
}

// Config configures a Cluster.
type Config struct {
	NodeID    string
	BindAddr  string // host:port for memberlist, TCP and UDP
	Advertise string // host peers use to reach us; empty: derived from BindAddr
	Key       []byte // 16, 24 or 32 bytes: gossip encryption key (AES-GCM)
	Meta      Meta
	// Fast tunes the failure detector for loopback test clusters.
	Fast bool
	// Logger receives memberlist's own log lines (node bridges it to slog);
	// nil discards them.
	Logger *log.Logger
}

// DefaultConfig returns a Config with no identity set.
func DefaultConfig() Config { return Config{BindAddr: "0.0.0.0:9101"} }

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("cluster: node id is required")
	}
	switch len(c.Key) {
	case 16, 24, 32:
	default:
		return fmt.Errorf("cluster: gossip key must be 16, 24 or 32 bytes, got %d", len(c.Key))
	}
	if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
		return fmt.Errorf("cluster: gossip address %q: %w", c.BindAddr, err)
	}
	if len(encodeMeta(c.Meta)) > memberlist.MetaMaxSize {
		return ErrMetaTooLarge
	}
	return nil
}

// Cluster is a running gossip member.
type Cluster struct {
	log    *slog.Logger
	ml     *memberlist.Memberlist
	events chan Event

	mu   sync.Mutex
	meta []byte

	downMu sync.RWMutex
	down   map[string]*downMember // members gossip declared dead or gone, until they rejoin

	rejoinBase time.Duration // first retry of a down member's address
	stop       chan struct{}
	wg         sync.WaitGroup
}

// downMember is a member gossip declared dead or gone, and when to try its
// last known address again.
type downMember struct {
	addr    string
	since   time.Time     // declared down
	wait    time.Duration // current backoff
	next    time.Time     // next attempt
	joining bool          // an attempt is in flight
}

const (
	// rejoinMax caps the backoff between attempts to reach a down member.
	rejoinMax = 30 * time.Second
	// rejoinGiveUp is how long a down member's last address is tried: a
	// node removed for good is not called twice a minute for ever. A
	// member that comes back later still rejoins by itself (--join).
	rejoinGiveUp = 72 * time.Hour
)

// New starts gossip on cfg.BindAddr. It does not join anyone: call Join.
func New(cfg Config, logger *slog.Logger) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	host, portStr, _ := net.SplitHostPort(cfg.BindAddr)
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip port %q: %w", portStr, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	c := &Cluster{
		log:    logger.With("component", "cluster"),
		events: make(chan Event, 256),
		meta:   encodeMeta(cfg.Meta),
		down:   map[string]*downMember{},
		stop:   make(chan struct{}),

		rejoinBase: 5 * time.Second,
	}
	mc := memberlist.DefaultLANConfig()
	if cfg.Fast {
		c.rejoinBase = time.Second
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 500 * time.Millisecond
		mc.ProbeTimeout = 250 * time.Millisecond
		mc.SuspicionMult = 2
	}
	mc.Name = cfg.NodeID
	mc.BindAddr = host
	mc.BindPort = port
	mc.AdvertisePort = port
	if cfg.Advertise != "" {
		mc.AdvertiseAddr = cfg.Advertise
	} else if host != "0.0.0.0" && host != "::" {
		mc.AdvertiseAddr = host
	}
	mc.SecretKey = cfg.Key
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	mc.Delegate = (*delegate)(c)
	mc.Events = (*eventDelegate)(c)
	mc.Logger = cfg.Logger
	if mc.Logger == nil {
		mc.Logger = log.New(io.Discard, "", 0)
	}
	// A restarted node reuses its name at a possibly new address.
	mc.DeadNodeReclaimTime = 10 * time.Second
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("cluster: start gossip on %s: %w", cfg.BindAddr, err)
	}
	c.ml = ml
	c.wg.Add(1)
	go c.rejoinLoop()
	return c, nil
}

// rejoinLoop keeps knocking on the last known address of every member gossip
// declared down, with a backoff from rejoinBase to rejoinMax, until it is
// seen alive again (or for rejoinGiveUp). memberlist alone does not heal a split in which each side
// has declared the other dead: it probes and gossips only to members it
// believes alive (and to the dead for a short while), so two halves of a
// healed partition could stay apart forever. A Join is a full state exchange;
// the other side refutes its death and gossip carries the news to everyone.
func (c *Cluster) rejoinLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.rejoinBase / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.downMu.Lock()
			for name, d := range c.down {
				if d.joining || d.addr == "" || now.Before(d.next) {
					continue
				}
				if now.Sub(d.since) > rejoinGiveUp {
					c.log.Info("no longer trying to reach a member down for long", "member", name, "addr", d.addr, "down_since", d.since)
					d.addr = ""
					continue
				}
				d.joining = true
				c.wg.Add(1)
				go c.rejoin(name, d)
			}
			c.downMu.Unlock()
		}
	}
}

// rejoin makes one attempt to reach down member name at its last address.
func (c *Cluster) rejoin(name string, d *downMember) {
	defer c.wg.Done()
	addr := d.addr
	n, err := c.ml.Join([]string{addr})
	c.downMu.Lock()
	defer c.downMu.Unlock()
	if c.down[name] != d { // it came back while we knocked
		return
	}
	d.joining = false
	if n > 0 {
		c.log.Info("reached a member declared down; gossip merges again", "member", name, "addr", addr)
	} else {
		c.log.Debug("down member still unreachable", "member", name, "addr", addr, "err", err)
	}
	d.wait = min(2*d.wait, rejoinMax)
	d.next = time.Now().Add(d.wait)
}

// Join contacts the given gossip addresses; it succeeds when at least one
// answered.
func (c *Cluster) Join(addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, nil
	}
	n, err := c.ml.Join(addrs)
	if n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("cluster: join %s: %w", strings.Join(addrs, ","), err)
}

// Events delivers membership changes. The channel is buffered; a consumer that
// falls far behind loses nothing important because Members() is the truth.
func (c *Cluster) Events() <-chan Event { return c.events }

// Members returns the live members (this node included), sorted by id.
func (c *Cluster) Members() []Member {
	nodes := c.ml.Members()
	out := make([]Member, 0, len(nodes))
	for _, n := range nodes {
		m, err := toMember(n)
		if err != nil {
			c.log.Warn("ignoring member with bad metadata", "member", n.Name, "err", err)
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LocalAddr returns this node's gossip address as advertised.
func (c *Cluster) LocalAddr() string { return c.ml.LocalNode().Address() }

// SetMeta changes this node's advertised metadata and gossips it.
func (c *Cluster) SetMeta(m Meta) error {
	b := encodeMeta(m)
	if len(b) > memberlist.MetaMaxSize {
		return ErrMetaTooLarge
	}
	c.mu.Lock()
	c.meta = b
	c.mu.Unlock()
	return c.ml.UpdateNode(5 * time.Second)
}

// Close leaves the cluster gracefully (bounded) and stops gossip.
func (c *Cluster) Close() error {
	close(c.stop)
	_ = c.ml.Leave(2 * time.Second)
	err := c.ml.Shutdown()
	c.wg.Wait()
	return err
}

// Down reports whether gossip has declared node id dead (or seen it leave)
// and it has not rejoined since. A node never seen is not down. It is cheap:
// the data plane asks it before every call to another node, so that calls to
// a node that stopped answering (a paused or partitioned process, whose TCP
// connections still open) fail at once instead of waiting for a timeout.
func (c *Cluster) Down(id string) bool {
	c.downMu.RLock()
	defer c.downMu.RUnlock()
	return c.down[id] != nil
}

func (c *Cluster) emit(t EventType, n *memberlist.Node) {
	c.downMu.Lock()
	if t == EventLeave {
		if c.down[n.Name] == nil {
			now := time.Now()
			c.down[n.Name] = &downMember{addr: n.Address(), since: now, wait: c.rejoinBase, next: now.Add(c.rejoinBase)}
		}
	} else {
		delete(c.down, n.Name)
	}
	c.downMu.Unlock()
	m, err := toMember(n)
	if err != nil {
		c.log.Warn("ignoring member with bad metadata", "member", n.Name, "err", err)
		return
	}
	select {
	case c.events <- Event{Type: t, Member: m}:
	default:
		c.log.Warn("membership event dropped: consumer too slow", "member", m.ID, "event", t.String())
	}
}

func toMember(n *memberlist.Node) (Member, error) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		return Member{}, err
	}
	return Member{ID: n.Name, GossipAddr: n.Address(), Meta: meta}, nil
}

type delegate Cluster

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}
func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

type eventDelegate Cluster

func (e *eventDelegate) NotifyJoin(n *memberlist.Node)   { (*Cluster)(e).emit(EventJoin, n) }
func (e *eventDelegate) NotifyLeave(n *memberlist.Node)  { (*Cluster)(e).emit(EventLeave, n) }
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) { (*Cluster)(e).emit(EventUpdate, n) }

// Meta wire format: version byte 1, then length-prefixed (uvarint) strings:
// rpc addr, s3 addr, drive count, drive ids, and optionally the build
// version. Compact because memberlist caps metadata at 512 bytes. Fields are
// only ever appended: a decoder ignores trailing fields it does not know, so
// older nodes read newer metadata and newer nodes read older (a missing
// trailing field is empty).
const metaVersion = 1

func encodeMeta(m Meta) []byte {
	var b bytes.Buffer
	b.WriteByte(metaVersion)
	put := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	put(m.RPCAddr)
	put(m.S3Addr)
	b.Write(binary.AppendUvarint(nil, uint64(len(m.Drives))))
	for _, d := range m.Drives {
		put(d)
	}
	if m.Version != "" {
		put(m.Version)
	}
	return b.Bytes()
}

func decodeMeta(p []byte) (Meta, error) {
	var m Meta
	if len(p) == 0 {
		return m, errors.New("cluster: empty member metadata")
	}
	if p[0] != metaVersion {
		return m, fmt.Errorf("cluster: member metadata version %d not supported", p[0])
	}
	r := bytes.NewReader(p[1:])
	get := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return "", err
		}
		if n > uint64(r.Len()) {
			return "", io.ErrUnexpectedEOF
		}
		s := make([]byte, n)
		_, err = io.ReadFull(r, s)
		return string(s), err
	}
	var err error
	if m.RPCAddr, err = get(); err != nil {
		return m, fmt.Errorf("cluster: member metadata: %w", err)
	}
	if m.S3Addr, err = get(); err != nil {
		return m, fmt.Errorf("cluster: member metadata: %w", err)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(r.Len()) {
		return m, errors.New("cluster: member metadata: bad drive count")
	}
	for i := uint64(0); i < n; i++ {
		d, err := get()
		if err != nil {
			return m, fmt.Errorf("cluster: member metadata: %w", err)
		}
		m.Drives = append(m.Drives, d)
	}
	if r.Len() > 0 {
		if m.Version, err = get(); err != nil {
			return m, fmt.Errorf("cluster: member metadata: version: %w", err)
		}
	}
	return m, nil
}
