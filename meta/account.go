package meta

// MaxAccountNameLen bounds an account name.
const MaxAccountNameLen = 64

// ValidateAccountName checks an account name: 1 to 64 letters, digits,
// '.', '_' or '-'. An account appears in ARNs (arn:aws:iam::ACCOUNT:root),
// so it holds no ':', '/' or wildcard.
func ValidateAccountName(name string) error {
	if name == "" || len(name) > MaxAccountNameLen {
		return invalid("account name %q: length %d outside 1..%d", name, len(name), MaxAccountNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return invalid("account name %q: character %q not allowed (letters, digits, '.', '_', '-')", name, c)
		}
	}
	return nil
}

// AccountExists reports whether name is an account. DefaultAccount always
// exists: it is implicit, never stored in State.Accounts, and cannot be
// removed; "" means DefaultAccount.
func (s *State) AccountExists(name string) bool {
	return name == "" || name == DefaultAccount || s.Accounts[name] != nil
}

func (s *State) applyPutAccount(c PutAccount) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if err := ValidateAccountName(c.Account.Name); err != nil {
		return err
	}
	if s.AccountExists(c.Account.Name) {
		return nil
	}
	s.Accounts[c.Account.Name] = c.Account.clone()
	return nil
}

func (s *State) applyDeleteAccount(c DeleteAccount) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	switch {
	case c.Name == "" || c.Name == DefaultAccount:
		return invalid("the default account cannot be removed")
	case s.Accounts[c.Name] == nil:
		return reject(ErrNoSuchAccount, "%s", c.Name)
	}
	n := 0
	for _, u := range s.Users {
		if u.Account == c.Name {
			n++
		}
	}
	if n > 0 {
		return reject(ErrAccountInUse, "%d user(s) and service account(s) belong to %s", n, c.Name)
	}
	delete(s.Accounts, c.Name)
	return nil
}

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

// validateIAMName checks an IAM entity name (user, group, policy) against
// AWS's rule: 1..max characters of letters, digits and "+=,.@_-".
func validateIAMName(what, name string, max int) error {
	if name == "" || len(name) > max {
		return invalid("%s name %q: length %d outside 1..%d", what, name, len(name), max)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case isAlnum(c):
		case c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '_' || c == '-':
		default:
			return invalid("%s name %q: character %q not allowed (letters, digits, +=,.@_-)", what, name, c)
		}
	}
	return nil
}
