package meta

import "slices"

// MaxGroupNameLen bounds a group name (AWS IAM's limit).
const MaxGroupNameLen = 128

// ValidateGroupName checks a group name: 1 to 128 letters, digits and
// "+=,.@_-".
func ValidateGroupName(name string) error {
	return validateIAMName("group", name, MaxGroupNameLen)
}

// GroupsOf returns the names of the groups accessKey is a member of,
// sorted.
func (s *State) GroupsOf(accessKey string) []string {
	var out []string
	for name, g := range s.Groups {
		if slices.Contains(g.Members, accessKey) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// applyPutGroup creates a group or replaces its members. Policies are
// changed only by Attach/DetachPolicy: a PutGroup that carries any is
// refused, and a replaced group keeps its policies and Created. Members
// are stored sorted without repeats.
func (s *State) applyPutGroup(c PutGroup) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	g := &c.Group
	if err := ValidateGroupName(g.Name); err != nil {
		return err
	}
	if len(g.Policies) > 0 {
		return invalid("group %s: policies are attached with AttachPolicy, not PutGroup", g.Name)
	}
	for _, m := range g.Members {
		u := s.Users[m]
		switch {
		case u == nil:
			return reject(ErrNoSuchUser, "%s (member of group %s)", m, g.Name)
		case u.Parent != "":
			return invalid("group %s: %s is a service account", g.Name, m)
		}
	}
	ng := g.clone()
	ng.Members = sortedSet(ng.Members)
	if old := s.Groups[g.Name]; old != nil {
		ng.Created = old.Created
		ng.Policies = slices.Clone(old.Policies)
	}
	s.Groups[g.Name] = ng
	return nil
}

func (s *State) applyDeleteGroup(c DeleteGroup) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if s.Groups[c.Name] == nil {
		return reject(ErrNoSuchGroup, "%s", c.Name)
	}
	delete(s.Groups, c.Name)
	return nil
}
