package iam

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrUnseal is returned when a sealed secret cannot be opened: wrong key or
// tampered data.
var ErrUnseal = errors.New("iam: cannot unseal secret")

// sealVersion prefixes every sealed secret so the scheme can change later.
const sealVersion = 1

// Seal encrypts secret with key (32 bytes) using AES-256-GCM so that secret
// keys are never stored in clear in Raft logs and snapshots. The output is
// [version][12-byte nonce][ciphertext+tag].
func Seal(key []byte, secret string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(secret)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("iam: seal: %w", err)
	}
	return aead.Seal(out, out[1:], []byte(secret), []byte{sealVersion}), nil
}

// Unseal reverses Seal.
func Unseal(key, sealed []byte) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return "", ErrUnseal
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], []byte{sealVersion})
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("iam: seal key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
