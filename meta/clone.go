package meta

import "bytes"

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
	return &c
}

func (u *User) clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	c.SecretSealed = bytes.Clone(u.SecretSealed)
	return &c
}

func (p Placement) clone() Placement {
	c := Placement{Epoch: p.Epoch}
	if p.PGs != nil {
		c.PGs = make([][]string, len(p.PGs))
		for i, pg := range p.PGs {
			c.PGs[i] = append([]string(nil), pg...)
		}
	}
	return c
}
