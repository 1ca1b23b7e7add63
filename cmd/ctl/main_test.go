package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestKeygen(t *testing.T) {
	var a, b bytes.Buffer
	if err := run([]string{"cluster", "keygen"}, &a); err != nil {
		t.Fatal(err)
	}
	run([]string{"cluster", "keygen"}, &b)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.String()))
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %v (len %d)", a.String(), err, len(key))
	}
	if a.String() == b.String() {
		t.Fatal("two keygens returned the same key")
	}
	if err := run([]string{"cluster", "nope"}, &a); err == nil {
		t.Fatal("unknown command accepted")
	}
}
