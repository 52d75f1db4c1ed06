package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GetInvestigationTx loads an investigation (with steps) inside a transaction.
func (t *Tx) GetInvestigationTx(ctx context.Context, orgID, id string) (Investigation, error) {
	return getInvestigation(ctx, t.tx, orgID, id)
}

// SetInvestigationStatus moves an investigation along its state machine.
// started/finished are recorded when non-nil.
func (t *Tx) SetInvestigationStatus(ctx context.Context, v *Investigation, status, errMsg string, at time.Time) error {
	v.Status, v.Error, v.UpdatedAt = status, errMsg, at
	switch status {
	case InvestigationRunning:
		v.Attempts++
		v.RateLimited = false
		if v.StartedAt == nil {
			v.StartedAt = &at
		}
	case InvestigationCompleted, InvestigationFailed, InvestigationCancelled:
		v.FinishedAt = &at
	}
	var report any
	if len(v.Report) > 0 {
		report = storableJSON(string(v.Report))
	}
	_, err := t.exec(ctx, `UPDATE investigations SET status = $1, error = $2, attempts = $3, report = $4, updated_at = $5, started_at = $6, finished_at = $7, rate_limited = $8 WHERE org_id = $9 AND id = $10`,
		v.Status, storableText(v.Error), v.Attempts, report, Micro(at), microPtr(v.StartedAt), microPtr(v.FinishedAt), v.RateLimited, v.OrgID, v.ID)
	if err != nil {
		return fmt.Errorf("update investigation: %w", err)
	}
	return nil
}

// UpsertStep writes a step by (investigation, seq): a retried attempt that
// re-runs an unfinished step overwrites it rather than adding a twin.
func (t *Tx) UpsertStep(ctx context.Context, orgID string, st *Step) error {
	if st.ID == "" {
		st.ID = NewID()
	}
	var output any
	if len(st.Output) > 0 {
		output = storableJSON(string(st.Output))
	}
	input := "{}"
	if len(st.Input) > 0 {
		input = storableJSON(string(st.Input))
	}
	_, err := t.exec(ctx, `INSERT INTO investigation_steps (id, org_id, investigation_id, seq, kind, tool, input, output, status, error, started_at, finished_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
ON CONFLICT (investigation_id, seq) DO UPDATE SET kind = excluded.kind, tool = excluded.tool, input = excluded.input, output = excluded.output,
status = excluded.status, error = excluded.error, started_at = excluded.started_at, finished_at = excluded.finished_at`,
		st.ID, orgID, st.InvestigationID, st.Seq, st.Kind, storableText(st.Tool), input, output, st.Status, storableText(st.Error), Micro(st.StartedAt), microPtr(st.FinishedAt))
	if err != nil {
		return fmt.Errorf("store step: %w", err)
	}
	return nil
}

// DeleteRawPayloadsBefore removes raw payloads received before t.
func (t *Tx) DeleteRawPayloadsBefore(ctx context.Context, orgID string, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM raw_payloads WHERE org_id = $1 AND received_at < $2`, orgID, Micro(before))
	if err != nil {
		return 0, fmt.Errorf("delete raw payloads: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteEventsBefore prunes the live event stream.
func (t *Tx) DeleteEventsBefore(ctx context.Context, orgID string, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM events WHERE org_id = $1 AND created_at < $2`, orgID, Micro(before))
	if err != nil {
		return 0, fmt.Errorf("delete events: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RecordJobRun notes that a periodic job ran for a period. The id is the
// period key, so a second run of the same period is refused (ErrConflict):
// the database, not the scheduler, is what makes duplicates impossible.
func (t *Tx) RecordJobRun(ctx context.Context, orgID, kind, period, ranBy string, affected int, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO job_runs (id, org_id, kind, period, affected, ran_by, finished_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		orgID+"/"+kind+"/"+period, orgID, kind, period, affected, ranBy, Micro(at))
	if IsUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("record job run: %w", err)
	}
	return nil
}

// JobRun is one recorded periodic run.
type JobRun struct {
	Kind       string    `json:"kind"`
	Period     string    `json:"period"`
	Affected   int       `json:"affected"`
	RanBy      string    `json:"ran_by"`
	FinishedAt time.Time `json:"finished_at"`
}

// ListJobRuns lists recorded periodic runs of an org, newest first.
func (s *Store) ListJobRuns(ctx context.Context, orgID string, limit int) ([]JobRun, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT kind, period, affected, ran_by, finished_at FROM job_runs WHERE org_id = $1 ORDER BY finished_at DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list job runs: %w", err)
	}
	defer rows.Close()
	out := []JobRun{}
	for rows.Next() {
		var r JobRun
		var at int64
		if err := rows.Scan(&r.Kind, &r.Period, &r.Affected, &r.RanBy, &at); err != nil {
			return nil, err
		}
		r.FinishedAt = FromMicro(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// AcquireLease takes or renews a named lease for holder until now+ttl. It
// succeeds when the lease is free, expired, or already held by holder, and
// returns the term (which grows each time the holder changes).
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, int64, error) {
	now := time.Now()
	var term int64
	var got string
	// One statement, so two candidates racing cannot both win: the row is
	// either inserted, or updated only when free/expired/ours.
	err := s.DB.W.QueryRowContext(ctx, `INSERT INTO leases (name, org_id, holder, term, expires_at) VALUES ($1, '', $2, 1, $3)
ON CONFLICT (name) DO UPDATE SET
  term = CASE WHEN leases.holder = excluded.holder THEN leases.term ELSE leases.term + 1 END,
  holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at < $4
RETURNING holder, term`, name, holder, Micro(now.Add(ttl)), Micro(now)).Scan(&got, &term)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return got == holder, term, nil
}

// ReleaseLease gives a lease up so another candidate need not wait for expiry.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.DB.W.ExecContext(ctx, `UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2`, name, holder)
	return err
}

// LockKeys serialises concurrent transactions touching the same alert or
// group on PostgreSQL (transaction-scoped advisory locks, taken in sorted
// order so two transactions cannot deadlock). SQLite has one writer, so it
// needs none.
func (t *Tx) LockKeys(ctx context.Context, keys []int64) error {
	if t.dialect != Postgres || len(keys) == 0 {
		return nil
	}
	_, err := t.exec(ctx, `SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) s`, keys)
	if err != nil {
		return fmt.Errorf("lock keys: %w", err)
	}
	return nil
}
