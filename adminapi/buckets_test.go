package adminapi

import (
	"math"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576":             1 << 20,
		"2TB":                 2_000_000_000_000,
		"2 TB":                2_000_000_000_000,
		"500GiB":              500 << 30,
		"10MB":                10_000_000,
		"10M":                 10 << 20,
		"1MiB":                1 << 20,
		"128KiB":              128 << 10,
		"64k":                 64 << 10,
		"64kB":                64_000,
		"1.5GiB":              3 << 29,
		"0.5TB":               500_000_000_000,
		"7B":                  7,
		" 3 GB ":              3_000_000_000,
		"1PB":                 1e15,
		"2PiB":                2 << 50,
		"7EiB":                7 << 60,
		"8EB":                 8e18,
		"9223372036854775807": math.MaxInt64,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "TB", "-1GB", "0", "0B", "0.1B", "lots", "1XB", "1e3", "+5", "2 T B", "1_000", "8EiB", "10EB", "9223372036854775808", "NaNGB", "InfTB", "1tb"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for in, want := range map[int64]string{
		0:                 "0 B",
		1023:              "1023 B",
		1024:              "1 KiB",
		1536:              "1.5 KiB",
		500 << 30:         "500 GiB",
		2_000_000_000_000: "1.8 TiB",
		-2048:             "-2 KiB",
		math.MaxInt64:     "8 EiB",
	} {
		if got := FormatSize(in); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", in, got, want)
		}
	}
}
