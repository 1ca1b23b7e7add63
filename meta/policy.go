package meta

import (
	"encoding/json"
	"slices"
)

// MaxPolicyDocumentSize is the largest policy document (managed, bucket or
// session policy) the state accepts: 20 KiB, as package iam.
const MaxPolicyDocumentSize = 20 << 10

// MaxPolicyNameLen bounds a managed policy's name (AWS IAM's limit).
const MaxPolicyNameLen = 128

// predefinedPolicies are the names of the built-in policies package iam
// serves (iam.PredefinedNames). meta cannot import iam, so it keeps the
// names; a test in s3api checks that both lists agree.
var predefinedPolicies = []string{"readonly", "readwrite", "writeonly"}

// PredefinedPolicyNames returns the names of the predefined policies,
// sorted. They are not stored in the state, cannot be created, replaced
// or removed, and can be attached like managed policies.
func PredefinedPolicyNames() []string { return slices.Clone(predefinedPolicies) }

// IsPredefinedPolicy reports whether name is a predefined policy.
func IsPredefinedPolicy(name string) bool { return slices.Contains(predefinedPolicies, name) }

// PolicyExists reports whether name is a managed or predefined policy.
func (s *State) PolicyExists(name string) bool {
	return IsPredefinedPolicy(name) || s.Policies[name] != nil
}

// ValidatePolicyName checks a managed policy's name: 1 to 128 letters,
// digits and "+=,.@_-".
func ValidatePolicyName(name string) error {
	return validateIAMName("policy", name, MaxPolicyNameLen)
}

// PolicyUsers returns who has policy name attached: user access keys and
// group names, each sorted.
func (s *State) PolicyUsers(name string) (users, groups []string) {
	for ak, u := range s.Users {
		if slices.Contains(u.Policies, name) {
			users = append(users, ak)
		}
	}
	for g, gr := range s.Groups {
		if slices.Contains(gr.Policies, name) {
			groups = append(groups, g)
		}
	}
	slices.Sort(users)
	slices.Sort(groups)
	return users, groups
}

// validateDocument checks what meta can check of a policy document: its
// size and that it is JSON. Package iam validates the language before the
// document is proposed.
func validateDocument(what string, doc []byte) error {
	switch {
	case len(doc) > MaxPolicyDocumentSize:
		return invalid("%s: document of %d bytes exceeds %d", what, len(doc), MaxPolicyDocumentSize)
	case !json.Valid(doc):
		return invalid("%s: document is not JSON", what)
	}
	return nil
}

func (s *State) applyPutPolicy(c PutPolicy) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	p := &c.Policy
	if err := ValidatePolicyName(p.Name); err != nil {
		return err
	}
	if IsPredefinedPolicy(p.Name) {
		return invalid("policy %s is predefined", p.Name)
	}
	if len(p.Document) == 0 {
		return invalid("policy %s has no document", p.Name)
	}
	if err := validateDocument("policy "+p.Name, p.Document); err != nil {
		return err
	}
	np := p.clone()
	if old := s.Policies[p.Name]; old != nil {
		np.Created = old.Created
	}
	s.Policies[p.Name] = np
	return nil
}

func (s *State) applyDeletePolicy(c DeletePolicy) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if IsPredefinedPolicy(c.Name) {
		return invalid("policy %s is predefined", c.Name)
	}
	if s.Policies[c.Name] == nil {
		return reject(ErrNoSuchPolicy, "%s", c.Name)
	}
	if users, groups := s.PolicyUsers(c.Name); len(users)+len(groups) > 0 {
		return reject(ErrPolicyInUse, "%s is attached to users %v and groups %v", c.Name, users, groups)
	}
	delete(s.Policies, c.Name)
	return nil
}

// attachTarget checks the target of an Attach/DetachPolicy and returns the
// policy list to change.
func (s *State) attachTarget(user, group string) ([]string, error) {
	switch {
	case (user == "") == (group == ""):
		return nil, invalid("a policy is attached to exactly one of a user or a group")
	case user != "":
		u := s.Users[user]
		switch {
		case u == nil:
			return nil, reject(ErrNoSuchUser, "%s", user)
		case u.Parent != "":
			return nil, invalid("%s is a service account: it has its parent's policies", user)
		case u.Root:
			return nil, invalid("the root user is allowed everything; it takes no policies")
		}
		return u.Policies, nil
	default:
		g := s.Groups[group]
		if g == nil {
			return nil, reject(ErrNoSuchGroup, "%s", group)
		}
		return g.Policies, nil
	}
}

// setPolicies stores policies on the target attachTarget accepted.
func (s *State) setPolicies(user, group string, policies []string) {
	if user != "" {
		u := s.Users[user].clone()
		u.Policies = sortedSet(policies)
		s.Users[user] = u
		return
	}
	g := s.Groups[group].clone()
	g.Policies = sortedSet(policies)
	s.Groups[group] = g
}

func (s *State) applyAttachPolicy(c AttachPolicy) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	cur, err := s.attachTarget(c.User, c.Group)
	if err != nil {
		return err
	}
	if !s.PolicyExists(c.Policy) {
		return reject(ErrNoSuchPolicy, "%s", c.Policy)
	}
	if slices.Contains(cur, c.Policy) {
		return nil
	}
	s.setPolicies(c.User, c.Group, append(slices.Clone(cur), c.Policy))
	return nil
}

func (s *State) applyDetachPolicy(c DetachPolicy) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	cur, err := s.attachTarget(c.User, c.Group)
	if err != nil {
		return err
	}
	if !slices.Contains(cur, c.Policy) {
		return invalid("policy %s is not attached to %s%s", c.Policy, c.User, c.Group)
	}
	s.setPolicies(c.User, c.Group, slices.DeleteFunc(slices.Clone(cur), func(p string) bool { return p == c.Policy }))
	return nil
}
