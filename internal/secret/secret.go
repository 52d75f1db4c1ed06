// Package secret keeps credentials encrypted at rest. Tables hold only
// references; the value is sealed with AES-256-GCM under a key id, so keys can
// rotate: new values use the active key, old ones still open with theirs.
package secret

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Key is one AES-256 key with its id.
type Key struct {
	ID    string
	Bytes []byte
}

// Keyring seals with its first key and opens with any.
type Keyring struct {
	active Key
	byID   map[string]cipher.AEAD
}

// NewKeyring builds a keyring; keys[0] is the active key.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no secret key")
	}
	kr := &Keyring{active: keys[0], byID: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if len(k.Bytes) != 32 {
			return nil, fmt.Errorf("secret key %s: want 32 bytes, got %d", k.ID, len(k.Bytes))
		}
		block, err := aes.NewCipher(k.Bytes)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		kr.byID[k.ID] = aead
	}
	return kr, nil
}

// Seal encrypts plaintext with the active key. aad binds the ciphertext to
// its owner (org and name) so a row copied elsewhere will not open.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, ciphertext []byte) {
	aead := k.byID[k.active.ID]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return k.active.ID, aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts a value sealed under keyID.
func (k *Keyring) Open(keyID string, ciphertext, aad []byte) ([]byte, error) {
	aead, ok := k.byID[keyID]
	if !ok {
		return nil, fmt.Errorf("secret sealed with unknown key %q (add it to AURORA_SECRET_KEY as an old key)", keyID)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("secret ciphertext too short")
	}
	pt, err := aead.Open(nil, ciphertext[:aead.NonceSize()], ciphertext[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("open secret: %w", err)
	}
	return pt, nil
}

// LoadOrCreateKeyFile reads the embedded-mode key from dir/secret.key,
// generating it (mode 0600) on first start.
func LoadOrCreateKeyFile(dir string) (Key, bool, error) {
	path := filepath.Join(dir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != 32 {
			return Key{}, false, fmt.Errorf("%s: not a base64 32-byte key", path)
		}
		return Key{ID: "file", Bytes: raw}, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return Key{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Key{}, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, false, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return Key{}, false, fmt.Errorf("write %s: %w", path, err)
	}
	return Key{ID: "file", Bytes: raw}, true, nil
}

// Backend persists sealed values; storage.Store implements it.
type Backend interface {
	PutSecret(ctx context.Context, orgID, name, keyID string, ciphertext []byte) (string, error)
	GetSecret(ctx context.Context, orgID, ref string) (keyID string, ciphertext []byte, err error)
	DeleteSecret(ctx context.Context, orgID, ref string) error
}

// Store keeps secret values: sealed in the database (the local store), or
// in Vault when Vault is set. Either way the tables that use a secret hold
// only its reference, the id of its secrets row; a row of a value in Vault
// holds the Vault path (key id VaultKeyID), so moving values between
// backends (Migrate) never changes a reference.
type Store struct {
	Keys    *Keyring
	Backend Backend
	// Vault, when set, receives every new value.
	Vault *Vault
}

func aad(orgID string) []byte { return []byte("aurora-secret:" + orgID) }

// Put stores a value and returns the reference to keep in a table.
func (s *Store) Put(ctx context.Context, orgID, name string, value []byte) (string, error) {
	if s.Vault == nil {
		keyID, ct := s.Keys.Seal(value, aad(orgID))
		return s.Backend.PutSecret(ctx, orgID, name, keyID, ct)
	}
	path := s.Vault.NewPath(orgID)
	if err := s.Vault.Write(ctx, path, value); err != nil {
		return "", err
	}
	ref, err := s.Backend.PutSecret(ctx, orgID, name, VaultKeyID, []byte(path))
	if err != nil {
		_ = s.Vault.Delete(context.WithoutCancel(ctx), path)
		return "", err
	}
	return ref, nil
}

// Get returns the value behind a reference.
func (s *Store) Get(ctx context.Context, orgID, ref string) ([]byte, error) {
	keyID, ct, err := s.Backend.GetSecret(ctx, orgID, ref)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, orgID, keyID, ct)
}

// open returns the value of a row: unsealed, or read from Vault.
func (s *Store) open(ctx context.Context, orgID, keyID string, ct []byte) ([]byte, error) {
	if keyID != VaultKeyID {
		return s.Keys.Open(keyID, ct, aad(orgID))
	}
	if s.Vault == nil {
		return nil, errors.New("secret is kept in Vault but VAULT_ADDR is not set")
	}
	if !s.Vault.Owns(orgID, string(ct)) {
		return nil, fmt.Errorf("secret's Vault path %q is outside the org's prefix", ct)
	}
	return s.Vault.Read(ctx, string(ct))
}

// Delete removes a value. The row goes first: a Vault entry left behind
// by a failure is unreachable, never a reference to nothing.
func (s *Store) Delete(ctx context.Context, orgID, ref string) error {
	keyID, ct, err := s.Backend.GetSecret(ctx, orgID, ref)
	if err != nil {
		// Nothing to look at (already gone): deleting stays idempotent.
		return s.Backend.DeleteSecret(ctx, orgID, ref)
	}
	if err := s.Backend.DeleteSecret(ctx, orgID, ref); err != nil {
		return err
	}
	if keyID == VaultKeyID && s.Vault != nil && s.Vault.Owns(orgID, string(ct)) {
		return s.Vault.Delete(ctx, string(ct))
	}
	return nil
}

func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
