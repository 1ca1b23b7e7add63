package meta

// Limits of the cluster settings chosen at bootstrap.
const (
	// MaxShards is the largest K+M (the erasure coder's limit).
	MaxShards = 256
	// MaxPGCount is the largest number of placement groups.
	MaxPGCount = 1 << 16
)

// Validate checks the settings of a cluster about to be bootstrapped.
func (c Cluster) Validate() error {
	switch {
	case c.ID == "":
		return invalid("cluster id is empty")
	case c.K < 1 || c.M < 0 || c.K+c.M > MaxShards:
		return invalid("erasure layout %d+%d out of range (k >= 1, m >= 0, k+m <= %d)", c.K, c.M, MaxShards)
	case c.PGCount < 1 || c.PGCount > MaxPGCount:
		return invalid("pg count %d out of range 1..%d", c.PGCount, MaxPGCount)
	case c.BlockSize < 1:
		return invalid("block size %d must be positive", c.BlockSize)
	case c.InlineMax < 0:
		return invalid("inline max %d must not be negative", c.InlineMax)
	case c.Expect < 1:
		return invalid("expect %d must be at least 1", c.Expect)
	}
	return nil
}

func (s *State) applyBootstrap(c Bootstrap) error {
	if s.Bootstrapped() {
		return ErrAlreadyBootstrapped
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if err := validateUser(&c.Root); err != nil {
		return err
	}
	root := c.Root.clone()
	root.Root = true
	s.Cluster = c.Cluster
	s.Users[root.AccessKey] = root
	return nil
}
