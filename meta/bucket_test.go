package meta_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
)

func TestValidateBucketName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.2024", true},
		{"a1b", true},
		{"1bucket", true},
		{strings.Repeat("a", 63), true},
		{"192.168.1.1x", true},
		{"1.2.3", true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"UPPER", false},
		{"under_score", false},
		{"space s", false},
		{"-dash", false},
		{"dash-", false},
		{".dot", false},
		{"dot.", false},
		{"dots..x", false},
		{"192.168.1.1", false},
		{"10.0.0.255", false},
		{"xn--punycode", false},
		{"sthree-bucket", false},
		{"sthree-configurator", false},
		{"amzn-s3-demo-bucket", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"bucket.mrap", false},
		{"bucket--x-s3", false},
		{"bucket--table-s3", false},
		{"ümlaut", false},
	} {
		err := meta.ValidateBucketName(tc.name)
		if tc.ok && err != nil {
			t.Errorf("%q: unexpected %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, meta.ErrInvalidBucketName) {
			t.Errorf("%q: got %v, want ErrInvalidBucketName", tc.name, err)
		}
	}
}
