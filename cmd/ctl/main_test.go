package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func noenv(string) string { return "" }

func TestKeygen(t *testing.T) {
	var a, b bytes.Buffer
	if err := run([]string{"cluster", "keygen"}, noenv, &a); err != nil {
		t.Fatal(err)
	}
	run([]string{"cluster", "keygen"}, noenv, &b)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.String()))
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %v (len %d)", a.String(), err, len(key))
	}
	if a.String() == b.String() {
		t.Fatal("two keygens returned the same key")
	}
}

func TestBadUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"cluster", "nope"}, {"--bogus"}, {}, {"cluster", "status"}} {
		if err := run(args, noenv, &out); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
