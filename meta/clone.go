package meta

import (
	"bytes"
	"maps"
	"slices"
)

// Clone returns a deep copy of s: no pointer, slice or map is shared. A field
// added to a state type that holds a pointer, slice or map must be copied in
// the type's clone method below.
func (s *State) Clone() *State {
	c := &State{
		Cluster:   s.Cluster,
		Placement: s.Placement.clone(),
		Nodes:     make(map[string]*Node, len(s.Nodes)),
		Buckets:   make(map[string]*Bucket, len(s.Buckets)),
		Users:     make(map[string]*User, len(s.Users)),
		Accounts:  make(map[string]*Account, len(s.Accounts)),
		Groups:    make(map[string]*Group, len(s.Groups)),
		Policies:  make(map[string]*Policy, len(s.Policies)),

		AuditWebhooks: make(map[string]*AuditWebhook, len(s.AuditWebhooks)),
		UsageSeqs:     maps.Clone(s.UsageSeqs),
	}
	if c.UsageSeqs == nil {
		c.UsageSeqs = map[string]uint64{}
	}
	for k, n := range s.Nodes {
		c.Nodes[k] = n.clone()
	}
	for k, b := range s.Buckets {
		c.Buckets[k] = b.clone()
	}
	for k, u := range s.Users {
		c.Users[k] = u.clone()
	}
	for k, a := range s.Accounts {
		c.Accounts[k] = a.clone()
	}
	for k, g := range s.Groups {
		c.Groups[k] = g.clone()
	}
	for k, p := range s.Policies {
		c.Policies[k] = p.clone()
	}
	for k, w := range s.AuditWebhooks {
		c.AuditWebhooks[k] = w.clone()
	}
	return c
}

func (n *Node) clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Drives != nil {
		c.Drives = make([]*Drive, len(n.Drives))
		for i, d := range n.Drives {
			if d != nil {
				dc := *d
				c.Drives[i] = &dc
			}
		}
	}
	return &c
}

func (b *Bucket) clone() *Bucket {
	if b == nil {
		return nil
	}
	c := *b
	c.Policy = bytes.Clone(b.Policy)
	c.CORS = cloneCORS(b.CORS)
	c.Lifecycle = cloneLifecycle(b.Lifecycle)
	return &c
}

func (u *User) clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	c.SecretSealed = bytes.Clone(u.SecretSealed)
	c.Policies = slices.Clone(u.Policies)
	c.SessionPolicy = bytes.Clone(u.SessionPolicy)
	return &c
}

func (a *Account) clone() *Account {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

func (g *Group) clone() *Group {
	if g == nil {
		return nil
	}
	c := *g
	c.Members = slices.Clone(g.Members)
	c.Policies = slices.Clone(g.Policies)
	return &c
}

func (p *Policy) clone() *Policy {
	if p == nil {
		return nil
	}
	c := *p
	c.Document = bytes.Clone(p.Document)
	return &c
}

func (p Placement) clone() Placement {
	c := Placement{Epoch: p.Epoch, MovingTotal: p.MovingTotal, Created: p.Created}
	if p.PGs != nil {
		c.PGs = make([][]string, len(p.PGs))
		for i, pg := range p.PGs {
			c.PGs[i] = append([]string(nil), pg...)
		}
	}
	if p.Moving != nil {
		c.Moving = make(map[int][]string, len(p.Moving))
		for pg, ids := range p.Moving {
			c.Moving[pg] = append([]string(nil), ids...)
		}
	}
	return c
}
