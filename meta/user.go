package meta

import (
	"slices"
)

// MaxAccessKeyLen bounds an access key's length.
const MaxAccessKeyLen = 128

// MaxUserNameLen bounds a user name checked by ValidateUserName (AWS IAM's
// limit).
const MaxUserNameLen = 64

// ValidateUserName checks a new user's name (which is also its access key)
// against the IAM rules: 1 to 64 characters of letters, digits and
// "+=,.@_-". Apply does not enforce it, so that users created before the
// rule existed keep applying the same way; the admin API checks it before
// it proposes a new user.
func ValidateUserName(name string) error {
	return validateIAMName("user", name, MaxUserNameLen)
}

func validateUser(u *User) error {
	switch {
	case u.AccessKey == "":
		return invalid("user has no access key")
	case len(u.AccessKey) > MaxAccessKeyLen:
		return invalid("access key longer than %d bytes", MaxAccessKeyLen)
	case u.Name == "":
		return invalid("user %s has no name", u.AccessKey)
	case len(u.SecretSealed) == 0:
		return invalid("user %s has no sealed secret", u.Name)
	case u.Root && u.Parent != "":
		return invalid("the root user cannot be a service account")
	case u.Root && len(u.Policies) > 0:
		return invalid("the root user is allowed everything; it takes no policies")
	case u.Parent != "" && len(u.Policies) > 0:
		return invalid("service account %s has its parent's policies; restrict it with a session policy instead", u.AccessKey)
	case u.Parent == "" && len(u.SessionPolicy) > 0:
		return invalid("user %s: only a service account carries a session policy", u.AccessKey)
	case u.Quota < 0:
		return invalid("user %s: quota of %d bytes", u.AccessKey, u.Quota)
	case u.Parent != "" && u.Quota != 0:
		return invalid("service account %s has no quota of its own: its buckets count toward user %s", u.AccessKey, u.Parent)
	case len(u.SessionPolicy) > MaxPolicyDocumentSize:
		return invalid("service account %s: session policy of %d bytes exceeds %d", u.AccessKey, len(u.SessionPolicy), MaxPolicyDocumentSize)
	}
	return nil
}

// AccountOf returns the account u belongs to: DefaultAccount when the user
// was recorded without one (the root user, users created before accounts
// existed).
func (u *User) AccountOf() string {
	if u.Account == "" {
		return DefaultAccount
	}
	return u.Account
}

// IsServiceAccount reports whether u is a service account (has a parent).
func (u *User) IsServiceAccount() bool { return u.Parent != "" }

// ServiceAccountsOf returns the access keys of the service accounts whose
// parent is accessKey, sorted.
func (s *State) ServiceAccountsOf(accessKey string) []string {
	var out []string
	for ak, u := range s.Users {
		if u.Parent == accessKey && accessKey != "" {
			out = append(out, ak)
		}
	}
	slices.Sort(out)
	return out
}

// applyPutUser creates or replaces a user or service account. Beyond the
// identity rules of PutUser:
//   - a user's Account must exist (DefaultAccount and "" always do);
//   - a service account's Parent must be an existing user that is neither
//     a service account nor root, the parent may have at most
//     MaxServiceAccounts, Parent never changes, and the service account's
//     Account is always its parent's (the command's value is ignored);
//   - every name in Policies must be a managed or predefined policy; the
//     stored list is sorted without repeats;
//   - when a user's account changes, its service accounts follow;
//   - an existing user keeps its Quota (SetUserQuota changes it), a new
//     one takes the command's.
func (s *State) applyPutUser(c PutUser) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	u := &c.User
	if err := validateUser(u); err != nil {
		return err
	}
	if u.Parent == "" {
		// Names are unique among users; a service account's name is a
		// label its owner chooses.
		for _, other := range s.Users {
			if other.Parent == "" && other.Name == u.Name && other.AccessKey != u.AccessKey {
				return reject(ErrUserExists, "name %q belongs to access key %s", u.Name, other.AccessKey)
			}
		}
	}
	old, exists := s.Users[u.AccessKey]
	switch {
	case exists && c.Create:
		return reject(ErrUserExists, "access key %s is taken", u.AccessKey)
	case exists && old.Name != u.Name && old.Parent == "":
		return reject(ErrUserExists, "access key %s belongs to user %q", u.AccessKey, old.Name)
	case exists && old.Root != u.Root:
		return invalid("the root flag of user %q cannot change", u.Name)
	case !exists && u.Root:
		return invalid("a root user is created only by bootstrap")
	case exists && old.Parent != u.Parent:
		if old.Parent == "" || u.Parent == "" {
			return reject(ErrUserExists, "access key %s is taken", u.AccessKey)
		}
		return invalid("the parent of service account %s cannot change", u.AccessKey)
	}
	account := u.Account
	if u.Parent != "" {
		p := s.Users[u.Parent]
		switch {
		case p == nil:
			return reject(ErrNoSuchUser, "parent %s of service account %s", u.Parent, u.AccessKey)
		case p.Parent != "":
			return invalid("parent %s of service account %s is itself a service account", u.Parent, u.AccessKey)
		case p.Root:
			return invalid("the root user has no service accounts")
		}
		if !exists && len(s.ServiceAccountsOf(u.Parent)) >= MaxServiceAccounts {
			return reject(ErrTooManyServiceAccounts, "user %s has %d", u.Parent, MaxServiceAccounts)
		}
		account = p.Account
	} else if !s.AccountExists(account) {
		return reject(ErrNoSuchAccount, "%s (user %s)", account, u.AccessKey)
	}
	for _, p := range u.Policies {
		if !s.PolicyExists(p) {
			return reject(ErrNoSuchPolicy, "%s (user %s)", p, u.AccessKey)
		}
	}
	nu := u.clone()
	nu.Account = account
	nu.Policies = sortedSet(nu.Policies)
	nu.SessionPolicy = nilIfEmpty(nu.SessionPolicy)
	if exists {
		nu.Created = old.Created
		nu.Quota = old.Quota
	}
	s.Users[nu.AccessKey] = nu
	if exists && nu.Parent == "" && old.Account != nu.Account {
		for _, ak := range s.ServiceAccountsOf(nu.AccessKey) {
			child := s.Users[ak].clone()
			child.Account = nu.Account
			s.Users[ak] = child
		}
	}
	return nil
}

// applyDeleteUser removes a user, its service accounts and its group
// memberships; removing a service account removes only it. The buckets the
// user owns keep their Owner.
func (s *State) applyDeleteUser(c DeleteUser) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	u := s.Users[c.AccessKey]
	switch {
	case u == nil:
		return reject(ErrNoSuchUser, "%s", c.AccessKey)
	case u.Root:
		return invalid("the root user cannot be removed")
	}
	if u.Parent == "" {
		for _, ak := range s.ServiceAccountsOf(c.AccessKey) {
			delete(s.Users, ak)
		}
	}
	delete(s.Users, c.AccessKey)
	for name, g := range s.Groups {
		if slices.Contains(g.Members, c.AccessKey) {
			ng := g.clone()
			ng.Members = sortedSet(slices.DeleteFunc(ng.Members, func(m string) bool { return m == c.AccessKey }))
			s.Groups[name] = ng
		}
	}
	return nil
}

// sortedSet returns names sorted without repeats, nil when empty (so that
// states compare equal after a snapshot round trip).
func sortedSet(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
