package meta

// MaxAccessKeyLen bounds an access key's length.
const MaxAccessKeyLen = 128

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
	}
	return nil
}

func (s *State) applyPutUser(c PutUser) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	u := &c.User
	if err := validateUser(u); err != nil {
		return err
	}
	for _, other := range s.Users {
		if other.Name == u.Name && other.AccessKey != u.AccessKey {
			return reject(ErrUserExists, "name %q belongs to access key %s", u.Name, other.AccessKey)
		}
	}
	old, exists := s.Users[u.AccessKey]
	switch {
	case exists && old.Name != u.Name:
		return reject(ErrUserExists, "access key %s belongs to user %q", u.AccessKey, old.Name)
	case exists && old.Root != u.Root:
		return invalid("the root flag of user %q cannot change", u.Name)
	case !exists && u.Root:
		return invalid("a root user is created only by bootstrap")
	}
	nu := u.clone()
	if exists {
		nu.Created = old.Created
	}
	s.Users[nu.AccessKey] = nu
	return nil
}
