package dataplane

import "github.com/strata-io/strata/meta"

// OwnsKey reports whether this node is the one that acts on bucket/key in
// background work spread across the nodes (lifecycle execution): the node
// of the first drive of the key's PG that is on a live node — the node
// whose scanner walks that PG (ownedPGs). Every live node agrees while
// they see the same placement and liveness, so each key has one owner;
// while those change, a key may briefly have two or none. False when
// there is no placement.
func (s *Store) OwnsKey(bucket, key string) bool {
	owns := false
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			return
		}
		tc := s.topoCacheLocked(st)
		pg := PGOf(st.Cluster.ID, bucket, key, st.Cluster.PGCount)
		owns = pg < len(tc.pgs) && s.ownsPG(tc, pg)
	})
	return owns
}

// ownsPG reports whether this node is responsible for PG pg's background
// work (scanner, migration, lifecycle): the node of the PG's first drive
// whose node is alive.
func (s *Store) ownsPG(tc *topoCache, pg int) bool {
	for _, id := range tc.pgs[pg] {
		if node := tc.driveNode[id]; node != "" && s.aliveNode(node) {
			return node == s.cfg.NodeID
		}
	}
	return false
}
