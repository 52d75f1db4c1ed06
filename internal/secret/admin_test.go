package secret

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestMigrateRoundTrip moves every value local → Vault → local; references
// never change and every value reads back the same at each stage.
func TestMigrateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, org := openDB(t, dialect)
			srv := testenv.NewVaultServer(t, "secret", "root")
			v := testVault(t, srv, VaultConfig{Token: "root"})
			local := &Store{Keys: ring(t, key("k1", 1)), Backend: db}
			want := map[string][]byte{}
			for i := range 5 {
				val := []byte(fmt.Sprintf("value-%d", i))
				ref, err := local.Put(ctx, org, fmt.Sprint("s", i), val)
				if err != nil {
					t.Fatal(err)
				}
				want[ref] = val
			}
			check := func(stage string, s *Store) {
				t.Helper()
				for ref, val := range want {
					got, err := s.Get(ctx, org, ref)
					if err != nil || !bytes.Equal(got, val) {
						t.Fatalf("%s: %s = %q %v, want %q", stage, ref, got, err, val)
					}
				}
			}
			withVault := &Store{Keys: local.Keys, Backend: db, Vault: v}
			rep, err := withVault.Migrate(ctx, db, ToVault)
			if err != nil || rep.Changed != 5 || rep.Already != 0 {
				t.Fatalf("to vault: %+v %v", rep, err)
			}
			if n := len(srv.Paths()); n != 5 {
				t.Fatalf("vault holds %d values, want 5", n)
			}
			rows, _ := db.ListSecretRows(ctx)
			for _, r := range rows {
				if r.KeyID != VaultKeyID || bytes.Contains(r.Ciphertext, []byte("value-")) {
					t.Fatalf("row after migrate: %s %q", r.KeyID, r.Ciphertext)
				}
			}
			check("in vault", withVault)
			// Again: nothing to move.
			if rep, err := withVault.Migrate(ctx, db, ToVault); err != nil || rep.Changed != 0 || rep.Already != 5 {
				t.Fatalf("second run: %+v %v", rep, err)
			}
			rep, err = withVault.Migrate(ctx, db, ToLocal)
			if err != nil || rep.Changed != 5 {
				t.Fatalf("to local: %+v %v", rep, err)
			}
			if n := len(srv.Paths()); n != 0 {
				t.Errorf("vault still holds %d values after moving back", n)
			}
			check("local again", local)
			if _, err := withVault.Migrate(ctx, db, "s3"); err == nil {
				t.Error("unknown backend accepted")
			}
			if _, err := local.Migrate(ctx, db, ToVault); err == nil {
				t.Error("migrate without Vault configured accepted")
			}
		})
	}
}

// TestMigrateVaultDown stops half-way without losing anything; a second
// run finishes.
func TestMigrateVaultDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, org := openDB(t, "postgres")
	srv := testenv.NewVaultServer(t, "secret", "root")
	local := &Store{Keys: ring(t, key("k1", 1)), Backend: db}
	ref, err := local.Put(ctx, org, "a", []byte("A"))
	if err != nil {
		t.Fatal(err)
	}
	bad := &Store{Keys: local.Keys, Backend: db, Vault: testVault(t, srv, VaultConfig{Token: "revoked"})}
	if _, err := bad.Migrate(ctx, db, ToVault); err == nil {
		t.Fatal("migrate with a refused token succeeded")
	}
	if got, err := local.Get(ctx, org, ref); err != nil || string(got) != "A" {
		t.Fatalf("value after failed migrate: %q %v", got, err)
	}
	good := &Store{Keys: local.Keys, Backend: db, Vault: testVault(t, srv, VaultConfig{Token: "root"})}
	if rep, err := good.Migrate(ctx, db, ToVault); err != nil || rep.Changed != 1 {
		t.Fatalf("retry: %+v %v", rep, err)
	}
}

// TestRotate re-encrypts every value under the new key so the old one can
// leave the ring.
func TestRotate(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, org := openDB(t, dialect)
			old := &Store{Keys: ring(t, key("k1", 1)), Backend: db}
			var refs []string
			for i := range 3 {
				ref, err := old.Put(ctx, org, fmt.Sprint("s", i), []byte(fmt.Sprint("v", i)))
				if err != nil {
					t.Fatal(err)
				}
				refs = append(refs, ref)
			}
			rotated := &Store{Keys: ring(t, key("k2", 2), key("k1", 1)), Backend: db}
			// Before rotate: the new ring still reads the old values.
			if got, err := rotated.Get(ctx, org, refs[0]); err != nil || string(got) != "v0" {
				t.Fatalf("old value with the ring: %q %v", got, err)
			}
			newRef, _ := rotated.Put(ctx, org, "new", []byte("n"))
			rep, err := rotated.Rotate(ctx, db)
			if err != nil || rep.Changed != 3 || rep.Already != 1 {
				t.Fatalf("rotate: %+v %v", rep, err)
			}
			onlyNew := &Store{Keys: ring(t, key("k2", 2)), Backend: db}
			for i, ref := range append(refs, newRef) {
				want := "n"
				if i < 3 {
					want = fmt.Sprint("v", i)
				}
				if got, err := onlyNew.Get(ctx, org, ref); err != nil || string(got) != want {
					t.Errorf("after rotate, k2 alone: %s = %q %v", ref, got, err)
				}
			}
			if rep, _ := rotated.Rotate(ctx, db); rep.Changed != 0 {
				t.Errorf("second rotate changed %d", rep.Changed)
			}
			// A ring missing the key a value was sealed with fails loudly.
			wrong := &Store{Keys: ring(t, key("k3", 3)), Backend: db}
			if _, err := wrong.Rotate(ctx, db); err == nil {
				t.Error("rotate without the sealing key succeeded")
			}
		})
	}
}
