package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ToolsetSetting is an org's stored configuration of one toolset.
type ToolsetSetting struct {
	OrgID string `json:"-"`
	Name  string `json:"name"`
	// Settings is the non-secret part (URL, contexts, flags); nil when the
	// org has none and the environment's configuration applies.
	Settings json.RawMessage `json:"settings,omitempty"`
	// SecretRef points at the sealed credentials (internal/secret); "" when
	// there are none.
	SecretRef string    `json:"-"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// LastTest is the last connection test's result (JSON), nil when never
	// tested.
	LastTest json.RawMessage `json:"last_test,omitempty"`
}

const toolsetCols = `org_id, name, settings, secret_ref, version, updated_at, updated_by, last_test`

func scanToolset(sc scanner) (ToolsetSetting, error) {
	var t ToolsetSetting
	var settings, ref, last sql.NullString
	var updated int64
	if err := sc.Scan(&t.OrgID, &t.Name, &settings, &ref, &t.Version, &updated, &t.UpdatedBy, &last); err != nil {
		return ToolsetSetting{}, err
	}
	if settings.Valid {
		t.Settings = json.RawMessage(settings.String)
	}
	if last.Valid {
		t.LastTest = json.RawMessage(last.String)
	}
	t.SecretRef, t.UpdatedAt = ref.String, FromMicro(updated)
	return t, nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// ListToolsetSettings returns the org's toolset rows, by name.
func (s *Store) ListToolsetSettings(ctx context.Context, orgID string) ([]ToolsetSetting, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+toolsetCols+` FROM toolset_settings WHERE org_id = $1 ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list toolset settings: %w", err)
	}
	return collect(rows, scanToolset)
}

// ToolsetVersions returns the version of each of the org's toolset rows.
// It reads the writer so a change is seen at once by every replica (a
// read replica may lag behind the PUT that bumped the version).
func (s *Store) ToolsetVersions(ctx context.Context, orgID string) (map[string]int64, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT name, version FROM toolset_settings WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, fmt.Errorf("toolset versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("toolset versions: %w", err)
		}
		out[name] = v
	}
	return out, rows.Err()
}

// GetToolsetSetting loads one toolset row of the org (ErrNotFound when the
// org never configured or tested it).
func (s *Store) GetToolsetSetting(ctx context.Context, orgID, name string) (ToolsetSetting, error) {
	t, err := scanToolset(s.DB.primary().QueryRowContext(ctx, `SELECT `+toolsetCols+` FROM toolset_settings WHERE org_id = $1 AND name = $2`, orgID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return ToolsetSetting{}, ErrNotFound
	}
	if err != nil {
		return ToolsetSetting{}, fmt.Errorf("load toolset setting: %w", err)
	}
	return t, nil
}

// PutToolsetSetting stores the org's settings and secret reference of a
// toolset (nil settings: fall back to the environment), bumps its version
// and returns the previous row's secret reference so the caller can delete
// the credentials it replaced. The last test result is cleared: it tested
// other settings.
func (s *Store) PutToolsetSetting(ctx context.Context, t ToolsetSetting) (oldRef string, version int64, err error) {
	now := Micro(time.Now())
	_, err = s.InTx(ctx, func(tx *Tx) error {
		// Create the row first so concurrent PUTs serialise on its lock
		// instead of racing to insert it.
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO toolset_settings (org_id, name, version, updated_at) VALUES ($1,$2,0,$3) ON CONFLICT (org_id, name) DO NOTHING`,
			t.OrgID, t.Name, now); err != nil {
			return err
		}
		q := `SELECT secret_ref, version FROM toolset_settings WHERE org_id = $1 AND name = $2`
		if tx.dialect == Postgres { // SQLite has one writer: its transaction already excludes others
			q += ` FOR UPDATE`
		}
		var ref sql.NullString
		var v int64
		if err := tx.tx.QueryRowContext(ctx, q, t.OrgID, t.Name).Scan(&ref, &v); err != nil {
			return err
		}
		oldRef, version = ref.String, v+1
		_, err := tx.tx.ExecContext(ctx, `UPDATE toolset_settings SET settings = $1, secret_ref = $2, version = $3, updated_at = $4, updated_by = $5, last_test = NULL WHERE org_id = $6 AND name = $7`,
			nullJSON(t.Settings), emptyNull(t.SecretRef), version, now, t.UpdatedBy, t.OrgID, t.Name)
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("store toolset setting: %w", err)
	}
	return oldRef, version, nil
}

// SetToolsetTest records a connection test's result (JSON) for the org's
// toolset, creating the row (without settings) when there is none. The
// version is unchanged: a test changes no configuration.
func (s *Store) SetToolsetTest(ctx context.Context, orgID, name string, result json.RawMessage) error {
	now := Micro(time.Now())
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO toolset_settings (org_id, name, version, updated_at, last_test) VALUES ($1,$2,0,$3,$4)
ON CONFLICT (org_id, name) DO UPDATE SET last_test = excluded.last_test`, orgID, name, now, storableJSON(string(result)))
	if err != nil {
		return fmt.Errorf("store toolset test: %w", err)
	}
	return nil
}
