package secret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Rows is what the admin operations need of the database beyond Backend;
// storage.Store implements it.
type Rows interface {
	ListSecretRows(ctx context.Context) ([]storage.SecretRow, error)
	ReplaceSecret(ctx context.Context, orgID, ref string, old storage.SecretRow, keyID string, ciphertext []byte) (bool, error)
}

// Report counts what Migrate or Rotate did.
type Report struct {
	Changed int // values moved or re-encrypted
	Already int // values already where (or as) they should be
	Gone    int // values deleted or replaced while the command ran
}

// Backends named by Migrate.
const (
	ToVault = "vault"
	ToLocal = "local"
)

// Migrate moves every stored value to the backend named to (ToVault or
// ToLocal). References do not change: each row is rewritten in place, and
// only if nobody changed it meanwhile. It is safe to run again after a
// failure or a kill: rows already moved are skipped, and a row is switched
// only after its value is written (a kill in between leaves an unused
// Vault entry at worst, never a lost value). Values are never logged.
func (s *Store) Migrate(ctx context.Context, db Rows, to string) (Report, error) {
	var rep Report
	if to != ToVault && to != ToLocal {
		return rep, fmt.Errorf("migrate: unknown backend %q (want %s or %s)", to, ToVault, ToLocal)
	}
	if s.Vault == nil {
		return rep, errors.New("migrate: Vault is not configured (VAULT_ADDR and VAULT_TOKEN or VAULT_ROLE_ID/VAULT_SECRET_ID)")
	}
	rows, err := db.ListSecretRows(ctx)
	if err != nil {
		return rep, err
	}
	for _, r := range rows {
		inVault := r.KeyID == VaultKeyID
		if inVault == (to == ToVault) {
			rep.Already++
			continue
		}
		val, err := s.open(ctx, r.OrgID, r.KeyID, r.Ciphertext)
		if err != nil {
			return rep, fmt.Errorf("migrate secret %s (%s): %w", r.Ref, r.Name, err)
		}
		var keyID string
		var ct []byte
		if to == ToVault {
			path := s.Vault.NewPath(r.OrgID)
			if err := s.Vault.Write(ctx, path, val); err != nil {
				return rep, fmt.Errorf("migrate secret %s (%s): %w", r.Ref, r.Name, err)
			}
			keyID, ct = VaultKeyID, []byte(path)
		} else {
			keyID, ct = s.Keys.Seal(val, aad(r.OrgID))
		}
		ok, err := db.ReplaceSecret(ctx, r.OrgID, r.Ref, r, keyID, ct)
		if err != nil || !ok {
			if to == ToVault {
				_ = s.Vault.Delete(context.WithoutCancel(ctx), string(ct))
			}
			if err != nil {
				return rep, fmt.Errorf("migrate secret %s (%s): %w", r.Ref, r.Name, err)
			}
			rep.Gone++
			continue
		}
		if to == ToLocal {
			// The row no longer points at the Vault entry; removing it
			// keeps the value in one place only.
			if err := s.Vault.Delete(ctx, string(r.Ciphertext)); err != nil {
				return rep, fmt.Errorf("migrate secret %s (%s): moved, but the old Vault entry stays: %w", r.Ref, r.Name, err)
			}
		}
		rep.Changed++
	}
	return rep, nil
}

// Rotate re-encrypts every locally sealed value that is not under the
// active key, so old keys can then leave AURORA_SECRET_KEY. Values kept in
// Vault are not touched (Vault encrypts them). Safe to run again.
func (s *Store) Rotate(ctx context.Context, db Rows) (Report, error) {
	var rep Report
	rows, err := db.ListSecretRows(ctx)
	if err != nil {
		return rep, err
	}
	for _, r := range rows {
		if r.KeyID == VaultKeyID || r.KeyID == s.Keys.active.ID {
			rep.Already++
			continue
		}
		val, err := s.Keys.Open(r.KeyID, r.Ciphertext, aad(r.OrgID))
		if err != nil {
			return rep, fmt.Errorf("rotate secret %s (%s): %w", r.Ref, r.Name, err)
		}
		keyID, ct := s.Keys.Seal(val, aad(r.OrgID))
		ok, err := db.ReplaceSecret(ctx, r.OrgID, r.Ref, r, keyID, ct)
		if err != nil {
			return rep, fmt.Errorf("rotate secret %s (%s): %w", r.Ref, r.Name, err)
		}
		if !ok {
			rep.Gone++
			continue
		}
		rep.Changed++
	}
	return rep, nil
}

// ActiveKeyID is the id of the key new values are sealed with.
func (k *Keyring) ActiveKeyID() string { return k.active.ID }
