package secret

import (
	"bytes"
	"testing"
)

func key(id string, b byte) Key { return Key{ID: id, Bytes: bytes.Repeat([]byte{b}, 32)} }

func TestRotation(t *testing.T) {
	t.Parallel()
	old, err := NewKeyring([]Key{key("k1", 1)})
	if err != nil {
		t.Fatal(err)
	}
	id, ct := old.Seal([]byte("hunter2"), []byte("org-a"))
	if bytes.Contains(ct, []byte("hunter2")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	rotated, err := NewKeyring([]Key{key("k2", 2), key("k1", 1)})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := rotated.Open(id, ct, []byte("org-a"))
	if err != nil || string(pt) != "hunter2" {
		t.Fatalf("open with rotated ring: %q %v", pt, err)
	}
	if id2, _ := rotated.Seal([]byte("x"), nil); id2 != "k2" {
		t.Errorf("new values sealed with %s, want active k2", id2)
	}
	if _, err := rotated.Open(id, ct, []byte("org-b")); err == nil {
		t.Error("ciphertext opened under another org")
	}
	if _, err := NewKeyring([]Key{{ID: "short", Bytes: []byte("abc")}}); err == nil {
		t.Error("short key accepted")
	}
	onlyNew, _ := NewKeyring([]Key{key("k2", 2)})
	if _, err := onlyNew.Open(id, ct, []byte("org-a")); err == nil {
		t.Error("opened without the old key")
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, created, err := LoadOrCreateKeyFile(dir)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := LoadOrCreateKeyFile(dir)
	if err != nil || created || !bytes.Equal(k1.Bytes, k2.Bytes) {
		t.Fatalf("reload: %v %v", created, err)
	}
}
