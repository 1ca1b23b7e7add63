package iam

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, s := range []string{"", "secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"} {
		sealed, err := Seal(key, s)
		if err != nil {
			t.Fatal(err)
		}
		if s != "" && bytes.Contains(sealed, []byte(s)) {
			t.Fatal("sealed output contains the secret in clear")
		}
		got, err := Unseal(key, sealed)
		if err != nil || got != s {
			t.Fatalf("Unseal = %q, %v; want %q", got, err, s)
		}
	}
}

func TestUnsealRejects(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	sealed, _ := Seal(key, "secret")
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := Unseal(other, sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("wrong key: %v", err)
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := Unseal(key, tampered); !errors.Is(err, ErrUnseal) {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := Unseal(key, []byte{1, 2}); !errors.Is(err, ErrUnseal) {
		t.Fatalf("short: %v", err)
	}
	if _, err := Seal([]byte("short"), "x"); err == nil {
		t.Fatal("short key accepted")
	}
}
