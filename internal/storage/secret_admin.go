package storage

import (
	"context"
	"fmt"
	"time"
)

// SecretRow is one stored secret as the secrets admin commands (aurora
// secrets migrate / rotate) see it: across orgs, by reference.
type SecretRow struct {
	OrgID string
	Ref   string
	Name  string
	KeyID string
	// Ciphertext is the sealed value, or for a value kept in Vault its path.
	Ciphertext []byte
}

// ListSecretRows returns every stored secret of every org, oldest first.
// It is for the admin commands only: request handlers go through an org.
func (s *Store) ListSecretRows(ctx context.Context) ([]SecretRow, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT org_id, id, name, key_id, ciphertext FROM secrets ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	defer rows.Close()
	var out []SecretRow
	for rows.Next() {
		var r SecretRow
		if err := rows.Scan(&r.OrgID, &r.Ref, &r.Name, &r.KeyID, &r.Ciphertext); err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceSecret swaps a secret's sealed value (or Vault path) in place, so
// the references other tables keep stay valid. It changes the row only if
// it still holds old (key id and ciphertext), and reports whether it did:
// false means the secret was replaced or deleted meanwhile.
func (s *Store) ReplaceSecret(ctx context.Context, orgID, ref string, old SecretRow, keyID string, ciphertext []byte) (bool, error) {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE secrets SET key_id = $1, ciphertext = $2, updated_at = $3
		WHERE org_id = $4 AND id = $5 AND key_id = $6 AND ciphertext = $7`,
		keyID, ciphertext, Micro(time.Now()), orgID, ref, old.KeyID, old.Ciphertext)
	if err != nil {
		return false, fmt.Errorf("replace secret: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("replace secret: %w", err)
	}
	return n == 1, nil
}
