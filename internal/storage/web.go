package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WebSession is a signed-in browser. ID is the SHA-256 of the cookie value.
type WebSession struct {
	ID        string
	OrgID     string
	UserID    string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Email and Role are the user's, read when the session is loaded.
	Email string
	Role  string
}

// CreateWebSession stores a new session.
func (s *Store) CreateWebSession(ctx context.Context, ws WebSession) error {
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO web_sessions (id, org_id, user_id, csrf_token, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		ws.ID, ws.OrgID, ws.UserID, ws.CSRFToken, Micro(ws.CreatedAt), Micro(ws.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSessionByID loads a live session with its user's email and current
// role; ErrNotFound when it is unknown, expired, or its user is disabled. It
// reads the writer so a session created a moment ago is seen at once.
func (s *Store) WebSessionByID(ctx context.Context, id string, now time.Time) (WebSession, error) {
	var ws WebSession
	var created, expires int64
	err := s.DB.primary().QueryRowContext(ctx, `SELECT s.id, s.org_id, s.user_id, s.csrf_token, s.created_at, s.expires_at, u.email, u.role
		FROM web_sessions s JOIN users u ON u.id = s.user_id AND u.org_id = s.org_id
		WHERE s.id = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`, id, Micro(now)).
		Scan(&ws.ID, &ws.OrgID, &ws.UserID, &ws.CSRFToken, &created, &expires, &ws.Email, &ws.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return WebSession{}, ErrNotFound
	}
	if err != nil {
		return WebSession{}, fmt.Errorf("load web session: %w", err)
	}
	ws.CreatedAt, ws.ExpiresAt = FromMicro(created), FromMicro(expires)
	return ws, nil
}

// DeleteWebSession signs a session out.
func (s *Store) DeleteWebSession(ctx context.Context, orgID, id string) error {
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM web_sessions WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// DeleteExpiredWebSessions removes sessions and login failures older than
// their windows; sign-in calls it, so the tables stay small without a job.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, now, failuresBefore time.Time) error {
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, Micro(now)); err != nil {
		return fmt.Errorf("delete expired web sessions: %w", err)
	}
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM web_login_failures WHERE at < $1`, Micro(failuresBefore)); err != nil {
		return fmt.Errorf("delete old login failures: %w", err)
	}
	return nil
}

// RecordLoginFailures notes one failed sign-in under each key.
func (s *Store) RecordLoginFailures(ctx context.Context, at time.Time, keys ...string) error {
	for _, k := range keys {
		if _, err := s.DB.W.ExecContext(ctx, `INSERT INTO web_login_failures (id, key, at) VALUES ($1,$2,$3)`, NewID(), k, Micro(at)); err != nil {
			return fmt.Errorf("record login failure: %w", err)
		}
	}
	return nil
}

// CountLoginFailures counts failed sign-ins under key since a time.
func (s *Store) CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := s.DB.primary().QueryRowContext(ctx, `SELECT count(*) FROM web_login_failures WHERE key = $1 AND at >= $2`, key, Micro(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// ClearLoginFailures forgets the failures under key (after a good sign-in).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM web_login_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// Verdict is the headline of an investigation's report, for lists.
type Verdict struct {
	Verdict  string
	Category string
}

// InvestigationVerdicts reads the verdict and root-cause category of the
// reports of these investigations of the org (those without a report are
// left out), in one query for a whole dashboard page.
func (s *Store) InvestigationVerdicts(ctx context.Context, orgID string, ids []string) (map[string]Verdict, error) {
	out := map[string]Verdict{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{orgID}
	ph := make([]string, 0, len(ids))
	for _, id := range ids {
		args = append(args, id)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT id, report FROM investigations WHERE org_id = $1 AND report IS NOT NULL AND id IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load verdicts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("load verdicts: %w", err)
		}
		var rep struct {
			Verdict   string `json:"verdict"`
			RootCause *struct {
				Category string `json:"category"`
			} `json:"root_cause"`
		}
		if json.Unmarshal(raw, &rep) != nil || rep.Verdict == "" {
			continue
		}
		v := Verdict{Verdict: rep.Verdict}
		if rep.RootCause != nil {
			v.Category = rep.RootCause.Category
		}
		out[id] = v
	}
	return out, rows.Err()
}
