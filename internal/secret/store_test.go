package secret

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// openDB returns a migrated store on dialect ("sqlite" or "postgres") and
// the default org's id.
func openDB(t *testing.T, dialect string) (*storage.Store, string) {
	t.Helper()
	ctx := context.Background()
	o := storage.Options{DataDir: t.TempDir(), PoolMin: 1, PoolMax: 4}
	if dialect == "postgres" {
		o.PostgresURL = testenv.Postgres(t)
	} else {
		o.SQLitePath = filepath.Join(o.DataDir, "aurora.db")
	}
	db, err := storage.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	st := storage.NewStore(db)
	org, err := st.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, org.ID
}

func testVault(t *testing.T, srv *testenv.VaultServer, cfg VaultConfig) *Vault {
	t.Helper()
	cfg.Addr = srv.URL
	v, err := NewVault(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// storeConformance is what every secrets backend must do, local or Vault.
func storeConformance(t *testing.T, s *Store, orgID string) {
	t.Helper()
	ctx := context.Background()
	values := map[string][]byte{
		"text":   []byte("hunter2"),
		"binary": {0xff, 0x00, 0xfe, 'x'},
		"empty":  {},
		"json":   []byte(`{"token":"abc","n":1}`),
	}
	refs := map[string]string{}
	for name, v := range values {
		ref, err := s.Put(ctx, orgID, name, v)
		if err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
		refs[name] = ref
	}
	for name, v := range values {
		got, err := s.Get(ctx, orgID, refs[name])
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("get %s = %q, %v; want %q", name, got, err, v)
		}
	}
	if _, err := s.Get(ctx, "other-org", refs["text"]); err == nil {
		t.Error("another org read the secret")
	}
	if err := s.Delete(ctx, orgID, refs["text"]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, orgID, refs["text"]); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("get after delete: %v, want not found", err)
	}
	if err := s.Delete(ctx, orgID, refs["text"]); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect+"/local", func(t *testing.T) {
			t.Parallel()
			db, org := openDB(t, dialect)
			storeConformance(t, &Store{Keys: ring(t, key("k1", 1)), Backend: db}, org)
		})
		t.Run(dialect+"/vault-token", func(t *testing.T) {
			t.Parallel()
			db, org := openDB(t, dialect)
			srv := testenv.NewVaultServer(t, "kv", "root-token")
			v := testVault(t, srv, VaultConfig{Token: "root-token", Mount: "kv", Prefix: "team/aurora"})
			storeConformance(t, &Store{Keys: ring(t, key("k1", 1)), Backend: db, Vault: v}, org)
			// Only references in the table: no row holds a value.
			rows, err := db.ListSecretRows(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.KeyID != VaultKeyID || !strings.HasPrefix(string(r.Ciphertext), "team/aurora/"+org+"/") {
					t.Errorf("row %s holds %q under %s, want a Vault path", r.Name, r.Ciphertext, r.KeyID)
				}
			}
			if n := len(srv.Paths()); n != len(rows) {
				t.Errorf("vault holds %d entries for %d rows (deleted values must leave Vault)", n, len(rows))
			}
		})
		t.Run(dialect+"/vault-approle", func(t *testing.T) {
			t.Parallel()
			db, org := openDB(t, dialect)
			srv := testenv.NewVaultServer(t, "secret", "unused")
			v := testVault(t, srv, VaultConfig{RoleID: "role-1", SecretID: "s3cr3t-id"})
			s := &Store{Keys: ring(t, key("k1", 1)), Backend: db, Vault: v}
			storeConformance(t, s, org)
			// An expired token: the next call logs in again by itself.
			ref, err := s.Put(context.Background(), org, "x", []byte("v1"))
			if err != nil {
				t.Fatal(err)
			}
			srv.RevokeAll()
			if got, err := s.Get(context.Background(), org, ref); err != nil || string(got) != "v1" {
				t.Fatalf("get after token revocation: %q %v", got, err)
			}
			if srv.Logins() != 2 {
				t.Errorf("%d AppRole logins, want 2", srv.Logins())
			}
		})
	}
}

func TestVaultRefusals(t *testing.T) {
	t.Parallel()
	srv := testenv.NewVaultServer(t, "secret", "root")
	if _, err := NewVault(context.Background(), VaultConfig{Addr: srv.URL, RoleID: "role-1", SecretID: "wrong"}); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad AppRole secret id: %v (must fail without echoing it)", err)
	}
	if _, err := NewVault(context.Background(), VaultConfig{Addr: srv.URL}); err == nil {
		t.Error("no credentials accepted")
	}
	v := testVault(t, srv, VaultConfig{Token: "not-root"})
	if err := v.Write(context.Background(), v.NewPath("o"), []byte("x")); err == nil {
		t.Error("write with a refused token succeeded")
	}
	if !v.Owns("o", "aurora/o/abc") || v.Owns("o", "aurora/p/abc") || v.Owns("o", "aurora/o/../p/abc") || v.Owns("o", "other/o/abc") {
		t.Error("Owns accepts a path outside the org's prefix")
	}
	// A row pointing outside the org's prefix is refused, never read.
	db, org := openDB(t, "sqlite")
	ref, err := db.PutSecret(context.Background(), org, "evil", VaultKeyID, []byte("aurora/another-org/abc"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Keys: ring(t, key("k1", 1)), Backend: db, Vault: testVault(t, srv, VaultConfig{Token: "root"})}
	if _, err := s.Get(context.Background(), org, ref); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("get of a foreign path: %v", err)
	}
	noVault := &Store{Keys: ring(t, key("k1", 1)), Backend: db}
	if _, err := noVault.Get(context.Background(), org, ref); err == nil || !strings.Contains(err.Error(), "VAULT_ADDR") {
		t.Errorf("get of a Vault row without Vault: %v", err)
	}
}

func ring(t *testing.T, keys ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
