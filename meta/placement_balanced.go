package meta

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// NextPlacement computes the placement of a new epoch from the current one,
// prev, over the up drives of the up nodes. With the zero Placement as prev
// it computes a fresh placement (a new cluster's first epoch).
//
// It guarantees, in this order:
//
//  1. Validity: every PG gets width distinct up drives, and at most L drives
//     of one node, where L is the smallest limit the topology allows (1
//     whenever width nodes have up drives): a PG is as spread across nodes
//     as possible.
//  2. Balance: every drive has a target number of PG shards. The
//     pgCount*width shards are shared equally by the drives, so a node takes
//     a share proportional to its drive count, except that a node can hold
//     at most L shards of a PG; such a node is capped and the rest share
//     what it cannot take. Targets differ by at most one between drives that
//     are not capped. With at least width nodes every drive ends at its
//     target. With fewer nodes than width (L > 1) after growth or a drain,
//     the greedy steps can leave a drive a few per cent off its target
//     (never an invalid PG); see TestBalancerMeetsTargets.
//  3. Least movement: a shard stays on its drive in prev (same PG, same
//     shard index) unless the drive is gone or not up, the shard breaks rule
//     1, or the drive holds more than its target. Moved shards go to drives
//     below their target. Adding k nodes of equal drive count to N therefore
//     moves about k/(N+k) of the shards, the ideal; removing a node moves its
//     shards only; an unchanged topology moves nothing once balanced. Where
//     shares are not whole the extra shard stays on old drives, so the moved
//     fraction is short of the ideal by at most 1/(shards per drive): run
//     at least 10 shards per drive (pgCount*width >= 10*drives) to stay
//     within 10 % of it.
//
// The result depends only on prev and the set of (node, drive) ids and
// states, never on the order of nodes or drives in the input; it is
// deterministic (no randomness, no map iteration order), so a placement can
// be recomputed and checked anywhere. prev is ignored when its PG count or
// width differs from pgCount or width (the PG layout changed).
//
// Cost: O(pgCount*width) plus O(drives log drives); 1,000 nodes x 24 drives
// with 65,536 PGs of 4+2 takes well under a second (BenchmarkPlacement1000x24).
//
// Placements stored before NextPlacement existed (ComputePlacement's
// rendezvous layout) stay valid: NextPlacement starts from whatever prev
// holds and only moves what balance and validity require.
func NextPlacement(prev Placement, nodes []*Node, pgCount, width int, epoch uint64) (Placement, error) {
	if pgCount < 1 || pgCount > MaxPGCount {
		return Placement{}, invalid("pg count %d out of range 1..%d", pgCount, MaxPGCount)
	}
	if width < 1 || width > MaxShards {
		return Placement{}, invalid("width %d out of range 1..%d", width, MaxShards)
	}
	t, err := newTopology(nodes)
	if err != nil {
		return Placement{}, err
	}
	if len(t.ids) < width {
		return Placement{}, reject(ErrNotEnoughDrives, "%d up drives, a PG needs %d", len(t.ids), width)
	}
	b := newBalancer(t, pgCount, width)
	b.keep(prev)
	b.setTargets()
	b.fill()
	b.shed()
	b.repair()
	return b.placement(epoch), nil
}

// topology is the up drives of the up nodes, drives sorted by id and nodes
// by id, so that nothing depends on the input order.
type topology struct {
	ids        []string         // drive ids, sorted
	hash       []uint64         // per drive: hash of its id
	node       []int32          // per drive: index of its node
	nodeDrives []int32          // per node: number of up drives
	nodeList   [][]int32        // per node: its drives
	index      map[string]int32 // drive id -> index in ids
}

func newTopology(nodes []*Node) (*topology, error) {
	var up []*Node
	seenNode := map[string]bool{}
	for _, n := range nodes {
		if n == nil || n.State != StateUp {
			continue
		}
		if seenNode[n.ID] {
			return nil, invalid("node %s listed twice", n.ID)
		}
		seenNode[n.ID] = true
		up = append(up, n)
	}
	slices.SortFunc(up, func(a, b *Node) int { return cmp.Compare(a.ID, b.ID) })

	type cand struct {
		id   string
		node int32
	}
	var cands []cand
	t := &topology{}
	for _, n := range up {
		count := int32(0)
		for _, d := range n.Drives {
			if d == nil || d.State != StateUp {
				continue
			}
			cands = append(cands, cand{id: d.ID, node: int32(len(t.nodeDrives))})
			count++
		}
		if count > 0 { // a node without up drives takes no part
			t.nodeDrives = append(t.nodeDrives, count)
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(a.id, b.id) })
	t.ids = make([]string, len(cands))
	t.hash = make([]uint64, len(cands))
	t.node = make([]int32, len(cands))
	t.index = make(map[string]int32, len(cands))
	t.nodeList = make([][]int32, len(t.nodeDrives))
	for i, c := range cands {
		t.nodeList[c.node] = append(t.nodeList[c.node], int32(i))
		if i > 0 && c.id == cands[i-1].id {
			return nil, invalid("drive %s listed twice", c.id)
		}
		t.ids[i], t.node[i] = c.id, c.node
		h := fnv.New64a()
		h.Write([]byte(c.id))
		t.hash[i] = mix64(h.Sum64())
		t.index[c.id] = int32(i)
	}
	return t, nil
}

// nodeLimit is the smallest L with sum over nodes of min(drives, L) >= width:
// the most shards of one PG a node must hold.
func (t *topology) nodeLimit(width int) int32 {
	for l := int32(1); ; l++ {
		sum := 0
		for _, d := range t.nodeDrives {
			sum += int(min(d, l))
		}
		if sum >= width {
			return l
		}
	}
}

// balancer holds the assignment being built: slots[pg*width+i] is the drive
// of shard i of pg, or -1 for a hole to fill.
type balancer struct {
	t              *topology
	pgCount, width int
	limit          int32 // most shards of one PG on one node

	slots      []int32
	load       []int32 // per drive: shards assigned
	target     []int32 // per drive
	nodeLoad   []int64
	nodeTarget []int64

	// Drives below target, for the fill; openPos[d] is d's index in open
	// or -1.
	open    []int32
	openPos []int32

	// Scratch for the PG being worked on, cleared after each PG.
	inPG    []bool  // per drive
	nodeCnt []int32 // per node

	overflow int // holes filled on a drive already at its target
}

func newBalancer(t *topology, pgCount, width int) *balancer {
	b := &balancer{
		t: t, pgCount: pgCount, width: width, limit: t.nodeLimit(width),
		slots:      make([]int32, pgCount*width),
		load:       make([]int32, len(t.ids)),
		target:     make([]int32, len(t.ids)),
		nodeLoad:   make([]int64, len(t.nodeDrives)),
		nodeTarget: make([]int64, len(t.nodeDrives)),
		inPG:       make([]bool, len(t.ids)),
		nodeCnt:    make([]int32, len(t.nodeDrives)),
	}
	for i := range b.slots {
		b.slots[i] = -1
	}
	return b
}

func (b *balancer) row(pg int) []int32 { return b.slots[pg*b.width : (pg+1)*b.width] }

// enter marks the drives of pg's row in the scratch, except skip (-1: none).
func (b *balancer) enter(row []int32, skip int32) {
	for _, d := range row {
		if d >= 0 && d != skip {
			b.inPG[d] = true
			b.nodeCnt[b.t.node[d]]++
		}
	}
}

// leave clears what enter marked (inPG and nodeCnt are cleared in full for
// every drive of the row, so skip need not be passed again).
func (b *balancer) leave(row []int32) {
	for _, d := range row {
		if d >= 0 {
			b.inPG[d] = false
			b.nodeCnt[b.t.node[d]] = 0
		}
	}
}

func (b *balancer) eligible(d int32) bool {
	return !b.inPG[d] && b.nodeCnt[b.t.node[d]] < b.limit
}

func (b *balancer) assign(pos int, d int32) {
	b.slots[pos] = d
	b.inPG[d] = true
	b.nodeCnt[b.t.node[d]]++
	b.load[d]++
	b.nodeLoad[b.t.node[d]]++
}

// keep copies the shards of prev that stay valid: the drive is still up, not
// repeated in the PG, and its node within the per-node limit (earlier shard
// indexes win).
func (b *balancer) keep(prev Placement) {
	if len(prev.PGs) != b.pgCount {
		return
	}
	for _, row := range prev.PGs {
		if len(row) != b.width {
			return
		}
	}
	for pg, ids := range prev.PGs {
		row := b.row(pg)
		for i, id := range ids {
			d, ok := b.t.index[id]
			if ok && b.eligible(d) {
				b.assign(pg*b.width+i, d)
			}
		}
		b.leave(row)
	}
}

// setTargets shares pgCount*width shards among the drives by water-filling:
// equal per drive, except that a node holds at most pgCount*min(drives, L);
// a capped node's drives split its cap and the others share the rest. Where
// shares are not whole, the extra shard goes to the drives holding the most
// now, which moves the least.
func (b *balancer) setTargets() {
	t := b.t
	nodes := len(t.nodeDrives)
	capOf := make([]int64, nodes)
	for n, d := range t.nodeDrives {
		capOf[n] = int64(b.pgCount) * int64(min(d, b.limit))
	}
	order := make([]int, nodes)
	for n := range order {
		order[n] = n
	}
	// Ascending per-drive cap, capOf[n]/drives[n], compared exactly.
	slices.SortFunc(order, func(x, y int) int {
		if c := cmp.Compare(capOf[x]*int64(t.nodeDrives[y]), capOf[y]*int64(t.nodeDrives[x])); c != 0 {
			return c
		}
		return x - y
	})
	rest, restDrives := int64(b.pgCount)*int64(b.width), int64(len(t.ids))
	capped := make([]bool, nodes)
	for _, n := range order {
		d := int64(t.nodeDrives[n])
		if capOf[n]*restDrives >= rest*d {
			break // this node and all after it take the equal share
		}
		capped[n] = true
		rest -= capOf[n]
		restDrives -= d
	}

	// Drives by load, most loaded first: the extra shards go there.
	byLoad := make([]int32, len(t.ids))
	for i := range byLoad {
		byLoad[i] = int32(i)
	}
	slices.SortStableFunc(byLoad, func(x, y int32) int { return cmp.Compare(b.load[y], b.load[x]) })

	var q, extra int64
	if restDrives > 0 {
		q, extra = rest/restDrives, rest%restDrives
	}
	nodeExtra := make([]int64, nodes) // capped nodes: extra shards left to give
	seen := make([]int64, nodes)      // drives of the node given a target so far
	for n := range nodes {
		if capped[n] {
			nodeExtra[n] = capOf[n] % int64(t.nodeDrives[n])
		}
	}
	for _, d := range byLoad {
		n := t.node[d]
		if capped[n] {
			b.target[d] = int32(capOf[n] / int64(t.nodeDrives[n]))
			if nodeExtra[n] > 0 {
				b.target[d]++
				nodeExtra[n]--
			}
		} else {
			b.target[d] = int32(q)
			// The node's cap bounds its drives' extras; the shares still
			// add up (each uncapped node has room for its part of them).
			if extra > 0 && b.nodeTarget[n]+q+1+q*(int64(t.nodeDrives[n])-seen[n]-1) <= capOf[n] {
				b.target[d]++
				extra--
			}
		}
		b.nodeTarget[n] += int64(b.target[d])
		seen[n]++
	}
	if extra > 0 {
		// Unreachable by the argument in the loop; keep the shares whole
		// regardless, on the least loaded drives that have room.
		for i := len(byLoad) - 1; i >= 0 && extra > 0; i-- {
			d := byLoad[i]
			if n := t.node[d]; !capped[n] && b.nodeTarget[n] < capOf[n] && int(b.target[d]) < b.pgCount {
				b.target[d]++
				b.nodeTarget[n]++
				extra--
			}
		}
	}
}

// shed moves the shards a drive holds beyond its target to drives below
// theirs. Each drive offers its shards in the order of a fixed hash of PG and
// drive; a shard moves when some open drive can join its PG (pick), else the
// next one is tried. Every move fixes one excess and one deficit, so the
// moves are exactly what balance needs.
func (b *balancer) shed() {
	type shard struct {
		score uint64
		pos   int
	}
	held := map[int32][]shard{}
	for pos, d := range b.slots {
		if b.load[d] > b.target[d] {
			held[d] = append(held[d], shard{score: mix64(b.t.hash[d] ^ pgKey(pos/b.width)), pos: pos})
		}
	}
	over := make([]int32, 0, len(held))
	for d := range held {
		over = append(over, d)
	}
	slices.Sort(over)
	for _, z := range over {
		slices.SortFunc(held[z], func(x, y shard) int {
			if c := cmp.Compare(x.score, y.score); c != 0 {
				return c
			}
			return x.pos - y.pos
		})
	}
	// Round robin, one shard per drive and round, so that no drive takes
	// the open drives' room in PGs that another full drive needs.
	next := make(map[int32]int, len(over))
	for moved := true; moved && len(b.open) > 0; {
		moved = false
		for _, z := range over {
			list := held[z]
			for next[z] < len(list) && b.load[z] > b.target[z] && len(b.open) > 0 {
				s := list[next[z]]
				next[z]++
				row := b.row(s.pos / b.width)
				b.enter(row, z)
				d := b.pick(mix64(uint64(s.pos) ^ b.t.hash[z]))
				b.leave(row)
				if d >= 0 {
					b.move(s.pos, d)
					moved = true
					break
				}
			}
		}
	}
}

func pgKey(pg int) uint64 { return mix64(uint64(pg) ^ 0x9e3779b97f4a7c15) }

// fill gives every hole a drive below its target, in PG order. The node
// whose shards lack the most wins (then the drive that lacks the most on
// it): filling the neediest first is what lets the last PGs still find
// drives on nodes they do not use yet. Up to exactNodes nodes every node is
// weighed; above that, candidates are drawn from the open drives by a fixed
// hash of (pg, shard index, attempt) and the better of the first two
// eligible ones wins (the power of two choices), which keeps a 24,000-drive
// placement linear in the number of shards. Only when no open drive is
// eligible does a hole go to the least loaded eligible drive, beyond its
// target, for repair to even out.
func (b *balancer) fill() {
	b.openPos = make([]int32, len(b.t.ids))
	for d := range b.load {
		b.openPos[d] = -1
		if b.load[d] < b.target[d] {
			b.openPos[d] = int32(len(b.open))
			b.open = append(b.open, int32(d))
		}
	}
	for pg := range b.pgCount {
		row := b.row(pg)
		if !slices.Contains(row, -1) {
			continue
		}
		b.enter(row, -1)
		for i, d := range row {
			if d >= 0 {
				continue
			}
			pos := pg*b.width + i
			d = b.choose(pos)
			b.assign(pos, d)
			if b.load[d] == b.target[d] {
				b.close(d)
			}
		}
		b.leave(row)
	}
}

// close removes d from the open drives.
func (b *balancer) close(d int32) {
	i := b.openPos[d]
	if i < 0 {
		return
	}
	last := b.open[len(b.open)-1]
	b.open[i] = last
	b.openPos[last] = i
	b.open = b.open[:len(b.open)-1]
	b.openPos[d] = -1
}

// better reports whether drive x is a better pick than y: its node, then the
// drive itself, is further below target.
func (b *balancer) better(x, y int32) bool {
	nx, ny := b.t.node[x], b.t.node[y]
	if dx, dy := b.nodeTarget[nx]-b.nodeLoad[nx], b.nodeTarget[ny]-b.nodeLoad[ny]; dx != dy {
		return dx > dy
	}
	return b.target[x]-b.load[x] > b.target[y]-b.load[y]
}

const (
	probes     = 16 // random draws among open drives before a full scan
	exactNodes = 64 // up to this many nodes, fill weighs every node
)

// choose picks the drive for the hole at pos; the scratch holds the PG.
func (b *balancer) choose(pos int) int32 {
	seed := mix64(uint64(pos) ^ 0x2545f4914f6cdd1d)
	if d := b.pick(seed); d >= 0 {
		return d
	}
	return b.overflowPick(seed)
}

// pick returns an open drive that can join the PG in the scratch, or -1;
// seed varies the choice between PGs.
func (b *balancer) pick(seed uint64) int32 {
	if len(b.t.nodeDrives) <= exactNodes {
		return b.neediest(seed)
	}
	best, found := int32(-1), 0
	for a := uint64(0); a < probes && found < 2 && len(b.open) > 0; a++ {
		d := b.open[mix64(seed+a*0x9e3779b97f4a7c15)%uint64(len(b.open))]
		if !b.eligible(d) {
			continue
		}
		found++
		if best < 0 || b.better(d, best) {
			best = d
		}
	}
	if best >= 0 {
		return best
	}
	if n := len(b.open); n > 0 {
		start := int(seed % uint64(n))
		for k := range n {
			if d := b.open[(start+k)%n]; b.eligible(d) && (best < 0 || b.better(d, best)) {
				best = d
			}
		}
	}
	return best
}

// neediest returns the open drive, eligible for the PG in the scratch, of
// the node furthest below its target, or -1. Ties go to the first node from
// a hashed offset, so that PGs do not all start on the same node.
func (b *balancer) neediest(seed uint64) int32 {
	nn := len(b.t.nodeDrives)
	start := int(seed % uint64(nn))
	best, bestNode := int32(-1), int32(-1)
	for k := range nn {
		n := int32((start + k) % nn)
		if b.nodeCnt[n] >= b.limit {
			continue
		}
		if bestNode >= 0 && b.nodeTarget[n]-b.nodeLoad[n] <= b.nodeTarget[bestNode]-b.nodeLoad[bestNode] {
			continue
		}
		drives := b.t.nodeList[n]
		first := int((seed >> 32) % uint64(len(drives)))
		pick := int32(-1)
		for j := range drives {
			d := drives[(first+j)%len(drives)]
			if b.inPG[d] || b.load[d] >= b.target[d] {
				continue
			}
			if pick < 0 || b.target[d]-b.load[d] > b.target[pick]-b.load[pick] {
				pick = d
			}
		}
		if pick >= 0 {
			best, bestNode = pick, n
		}
	}
	return best
}

// overflowPick is the last resort of choose: every drive below target is on
// a node the PG cannot take more of, so the least loaded eligible drive
// (relative to its target) goes beyond its target. One always exists:
// nodeLimit guarantees it.
func (b *balancer) overflowPick(seed uint64) int32 {
	b.overflow++
	best := int32(-1)
	n := len(b.t.ids)
	start := int(seed % uint64(n))
	for k := range n {
		d := int32((start + k) % n)
		if b.eligible(d) && (best < 0 || b.load[d]-b.target[d] < b.load[best]-b.target[best]) {
			best = d
		}
	}
	return best
}

// repair moves shards off drives still above target (fill's fallback, or
// shed finding no open drive for any of a drive's PGs) onto open drives. A
// direct move needs a PG of the full drive that an open drive can join;
// failing that, a two-step move shifts a shard of some drive Y to the open
// drive in a PG that can take it, and gives Y the full drive's shard in
// another PG. Each step is one extra shard moved. What remains unfixed
// leaves a drive one above and one below target.
func (b *balancer) repair() {
	for d := range b.load {
		z := int32(d)
		for b.load[z] > b.target[z] && len(b.open) > 0 {
			if !b.repairDirect(z) && !b.repairTwoStep(z) {
				break
			}
		}
	}
}

// move puts drive to into slot pos.
func (b *balancer) move(pos int, to int32) {
	from := b.slots[pos]
	b.load[from]--
	b.nodeLoad[b.t.node[from]]--
	b.slots[pos] = to
	b.load[to]++
	b.nodeLoad[b.t.node[to]]++
	if b.load[to] == b.target[to] {
		b.close(to)
	}
}

func (b *balancer) repairDirect(z int32) bool {
	for pos, d := range b.slots {
		if d != z {
			continue
		}
		row := b.row(pos / b.width)
		b.enter(row, z)
		best := int32(-1)
		for _, o := range b.open {
			if b.eligible(o) && (best < 0 || b.better(o, best)) {
				best = o
			}
		}
		b.leave(row)
		if best >= 0 {
			b.move(pos, best)
			return true
		}
	}
	return false
}

// twoStepTries bounds the open drives repairTwoStep tries per full drive:
// each try scans every PG.
const twoStepTries = 4

func (b *balancer) repairTwoStep(z int32) bool {
	open := slices.Clone(b.open)
	slices.SortFunc(open, func(x, y int32) int {
		if b.better(x, y) {
			return -1
		}
		if b.better(y, x) {
			return 1
		}
		return cmp.Compare(x, y)
	})
	for _, u := range open[:min(len(open), twoStepTries)] {
		// Slots (in PGs that can take u) whose drive could make room.
		var room []int
		for pg := range b.pgCount {
			row := b.row(pg)
			b.enter(row, -1)
			if b.eligible(u) {
				for i, y := range row {
					if y != z {
						room = append(room, pg*b.width+i)
					}
				}
			}
			b.leave(row)
		}
		for posB, d := range b.slots {
			if d != z {
				continue
			}
			pgB := posB / b.width
			row := b.row(pgB)
			b.enter(row, z)
			for _, posA := range room {
				if y := b.slots[posA]; posA/b.width != pgB && b.eligible(y) {
					b.leave(row)
					b.move(posA, u) // y -> u in PG A
					b.move(posB, y) // z -> y in PG B
					return true
				}
			}
			b.leave(row)
		}
	}
	return false
}

// placement turns the slots into drive ids; the rows share one backing array.
func (b *balancer) placement(epoch uint64) Placement {
	ids := make([]string, len(b.slots))
	for pos, d := range b.slots {
		ids[pos] = b.t.ids[d]
	}
	pgs := make([][]string, b.pgCount)
	for pg := range pgs {
		pgs[pg] = ids[pg*b.width : (pg+1)*b.width : (pg+1)*b.width]
	}
	return Placement{Epoch: epoch, PGs: pgs}
}

// PlacementChange counts how a placement differs from an earlier one.
type PlacementChange struct {
	Shards int // (PG, shard index) slots of the new placement
	Moved  int // slots whose drive differs from the earlier placement's
	PGs    int // PGs with at least one moved slot
}

// Fraction is Moved/Shards: the share of the data that must be copied.
func (c PlacementChange) Fraction() float64 {
	if c.Shards == 0 {
		return 0
	}
	return float64(c.Moved) / float64(c.Shards)
}

// ComparePlacements reports which shards of to sit on another drive than in
// from: shard i of a PG moves when to.PGs[pg][i] != from.PGs[pg][i]. A slot
// that from lacks (a PG or shard index beyond its shape) counts as moved.
func ComparePlacements(from, to Placement) PlacementChange {
	var c PlacementChange
	for pg, row := range to.PGs {
		var old []string
		if pg < len(from.PGs) {
			old = from.PGs[pg]
		}
		changed := false
		for i, d := range row {
			c.Shards++
			if i >= len(old) || old[i] != d {
				c.Moved++
				changed = true
			}
		}
		if changed {
			c.PGs++
		}
	}
	return c
}
