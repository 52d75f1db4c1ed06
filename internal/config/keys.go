package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an AES-256 key, the only size Aurora accepts.
const KeySize = 32

// DefaultKeyID names a key written without an id, so a deployment that
// started with a single bare key can later rotate to "k2:NEW,OLD" and keep
// decrypting what OLD encrypted under "k1".
const DefaultKeyID = "k1"

// Key is one secret-encryption key and the id stored next to what it
// encrypted, so decryption can pick the right key after a rotation.
type Key struct {
	ID    string
	Bytes []byte
}

// String shows only the id: keys end up in %v of larger structs, and the
// bytes must never reach a log.
func (k Key) String() string { return "Key(" + k.ID + ")" }

// GoString keeps %#v as safe as %v.
func (k Key) GoString() string { return k.String() }

// ParseKeyRing reads a key ring: one key, or comma-separated "id:key"
// entries where the first encrypts and the rest only decrypt. Each key is
// 32 bytes in standard or URL-safe base64 (padded or not) or hex. Errors
// name entries by position and id, never by content.
func ParseKeyRing(s string) ([]Key, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no key given")
	}
	var keys []Key
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("key %d is empty", i+1)
		}
		id, enc, named := strings.Cut(entry, ":")
		if !named {
			id, enc = DefaultKeyID, entry
		} else if !validKeyID(id) {
			return nil, fmt.Errorf("key %d: id must be 1-64 letters, digits, '.', '_' or '-'", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("key %d: id %q used twice (a key without an id is %q)", i+1, id, DefaultKeyID)
		}
		seen[id] = true
		b, err := decodeKey(strings.TrimSpace(enc))
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %v", i+1, id, err)
		}
		keys = append(keys, Key{ID: id, Bytes: b})
	}
	return keys, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// decodeKey tries every accepted encoding. No string is valid in two of
// them at 32 bytes (hex needs 64 characters, base64 43 or 44), so the first
// decoding of the right length is the only one.
func decodeKey(s string) ([]byte, error) {
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	}
	wrongLen := -1
	for _, dec := range decoders {
		b, err := dec(s)
		if err != nil {
			continue
		}
		if len(b) == KeySize {
			return b, nil
		}
		if wrongLen < 0 {
			wrongLen = len(b)
		}
	}
	if wrongLen >= 0 {
		return nil, fmt.Errorf("decodes to %d bytes, need exactly %d (generate one with: openssl rand -base64 32)", wrongLen, KeySize)
	}
	return nil, errors.New("is neither base64 nor hex (generate one with: openssl rand -base64 32)")
}
