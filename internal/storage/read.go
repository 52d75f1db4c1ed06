package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IncidentFilter narrows ListIncidents.
type IncidentFilter struct {
	Status   []string
	Severity []string
	Service  string
	Since    time.Time
	Until    time.Time
	Query    string // substring of the title
	Limit    int
	Cursor   *Cursor
}

// where builds a WHERE clause with numbered placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	// Each "?" in cond becomes the next $n.
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	ph := make([]string, len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		ph[i], args[i] = "?", v
	}
	w.add(col+" IN ("+strings.Join(ph, ",")+")", args...)
}

func (w *where) sql() string { return " WHERE " + strings.Join(w.conds, " AND ") }

// ListIncidents pages through an org's incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context, orgID string, f IncidentFilter) ([]Incident, string, error) {
	w := &where{}
	w.add("i.org_id = ?", orgID)
	w.in("i.status", f.Status)
	w.in("i.severity", f.Severity)
	if f.Service != "" {
		w.add("i.service = ?", f.Service)
	}
	if !f.Since.IsZero() {
		w.add("i.created_at >= ?", Micro(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("i.created_at < ?", Micro(f.Until))
	}
	if f.Query != "" {
		w.add("lower(i.title) LIKE ?", "%"+strings.ToLower(f.Query)+"%")
	}
	if f.Cursor != nil {
		w.add("(i.created_at < ? OR (i.created_at = ? AND i.id < ?))", f.Cursor.At, f.Cursor.At, f.Cursor.ID)
	}
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+incidentCols+incidentFrom+w.sql()+fmt.Sprintf(` ORDER BY i.created_at DESC, i.id DESC LIMIT %d`, f.Limit+1), w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list incidents: %w", err)
	}
	out, err := collect(rows, scanIncident)
	if err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, f.Limit, func(i Incident) (time.Time, string) { return i.CreatedAt, i.ID })
	return out, next, nil
}

// trimPage drops the extra row a list query fetched (limit+1, to know
// whether more follow) and returns the cursor after the last row kept, or
// "" on the last page.
func trimPage[T any](out []T, limit int, key func(T) (time.Time, string)) ([]T, string) {
	if len(out) <= limit {
		return out, ""
	}
	out = out[:limit]
	at, id := key(out[len(out)-1])
	return out, EncodeCursor(Micro(at), id)
}

// IncidentCounts counts an org's incidents per status.
func (s *Store) IncidentCounts(ctx context.Context, orgID string) (map[string]int, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT status, count(*) FROM incidents WHERE org_id = $1 GROUP BY status`, orgID)
	if err != nil {
		return nil, fmt.Errorf("count incidents: %w", err)
	}
	defer rows.Close()
	out := map[string]int{IncidentOpen: 0, IncidentAcknowledged: 0, IncidentResolved: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// GetIncident loads one incident of the org.
func (s *Store) GetIncident(ctx context.Context, orgID, id string) (Incident, error) {
	in, err := scanIncident(s.DB.reader(ctx).QueryRowContext(ctx, `SELECT `+incidentCols+incidentFrom+`WHERE i.org_id = $1 AND i.id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, ErrNotFound
	}
	if err != nil {
		return Incident{}, fmt.Errorf("load incident: %w", err)
	}
	return in, nil
}

// AlertFilter narrows ListAlerts.
type AlertFilter struct {
	Status     []string
	Severity   []string
	Source     string
	Service    string
	IncidentID string
	Since      time.Time
	Until      time.Time
	Limit      int
	Cursor     *Cursor
}

// ListAlerts pages through an org's alerts, newest first.
func (s *Store) ListAlerts(ctx context.Context, orgID string, f AlertFilter) ([]Alert, string, error) {
	w := &where{}
	w.add("org_id = ?", orgID)
	w.in("status", f.Status)
	w.in("severity", f.Severity)
	if f.Source != "" {
		w.add("source = ?", f.Source)
	}
	if f.Service != "" {
		w.add("service = ?", f.Service)
	}
	if f.IncidentID != "" {
		w.add("incident_id = ?", f.IncidentID)
	}
	if !f.Since.IsZero() {
		w.add("first_received_at >= ?", Micro(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("first_received_at < ?", Micro(f.Until))
	}
	if f.Cursor != nil {
		w.add("(first_received_at < ? OR (first_received_at = ? AND id < ?))", f.Cursor.At, f.Cursor.At, f.Cursor.ID)
	}
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+alertCols+` FROM alerts`+w.sql()+fmt.Sprintf(` ORDER BY first_received_at DESC, id DESC LIMIT %d`, f.Limit+1), w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list alerts: %w", err)
	}
	out, err := collectAlerts(rows)
	if err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, f.Limit, func(a Alert) (time.Time, string) { return a.FirstReceivedAt, a.ID })
	return out, next, nil
}

// IncidentAlerts lists every alert of an incident, oldest first.
func (s *Store) IncidentAlerts(ctx context.Context, orgID, incidentID string) ([]Alert, error) {
	// "org_id || ''" keeps the planner off alerts_list (org_id, first_received_at…):
	// reading the org's alerts in this order and filtering on incident_id
	// avoids a sort but visits every alert of the org, which SQLite (without
	// statistics) and PostgreSQL (before ANALYZE) both chose; alerts_incident
	// finds the incident's few alerts directly.
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE org_id || '' = $1 AND incident_id = $2 ORDER BY first_received_at, id LIMIT 1000`, orgID, incidentID)
	if err != nil {
		return nil, fmt.Errorf("list incident alerts: %w", err)
	}
	return collectAlerts(rows)
}

// RelatedAlerts lists recent alerts of the same service or namespace that are
// not in the incident, newest first.
func (s *Store) RelatedAlerts(ctx context.Context, orgID, incidentID, service, namespace string, since time.Time, limit int) ([]Alert, error) {
	if service == "" && namespace == "" {
		return []Alert{}, nil
	}
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE org_id = $1 AND (incident_id IS NULL OR incident_id <> $2)
AND last_received_at >= $3 AND (($4 <> '' AND service = $4) OR ($5 <> '' AND namespace = $5)) ORDER BY last_received_at DESC LIMIT $6`,
		orgID, incidentID, Micro(since), service, namespace, limit)
	if err != nil {
		return nil, fmt.Errorf("list related alerts: %w", err)
	}
	return collectAlerts(rows)
}

// Timeline lists an incident's timeline, oldest first.
func (s *Store) Timeline(ctx context.Context, orgID, incidentID string) ([]TimelineEvent, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT id, incident_id, at, kind, message, data FROM timeline_events WHERE org_id = $1 AND incident_id = $2 ORDER BY at, id LIMIT 5000`, orgID, incidentID)
	if err != nil {
		return nil, fmt.Errorf("list timeline: %w", err)
	}
	defer rows.Close()
	out := []TimelineEvent{}
	for rows.Next() {
		var e TimelineEvent
		var at int64
		var data []byte
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Message, &data); err != nil {
			return nil, err
		}
		e.At = FromMicro(at)
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return nil, fmt.Errorf("decode timeline event: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const investigationCols = `id, org_id, incident_id, status, trigger, attempts, error, report, created_at, updated_at, started_at, finished_at, rate_limited, scheduled_at`

func scanInvestigation(sc scanner) (Investigation, error) {
	var v Investigation
	var report []byte
	var created, updated int64
	var started, finished, scheduled sql.NullInt64
	if err := sc.Scan(&v.ID, &v.OrgID, &v.IncidentID, &v.Status, &v.Trigger, &v.Attempts, &v.Error, &report, &created, &updated, &started, &finished, &v.RateLimited, &scheduled); err != nil {
		return Investigation{}, err
	}
	v.Report = report
	v.CreatedAt, v.UpdatedAt, v.StartedAt, v.FinishedAt = FromMicro(created), FromMicro(updated), nullMicro(started), nullMicro(finished)
	v.ScheduledAt = nullMicro(scheduled)
	v.Steps = []Step{}
	return v, nil
}

func getInvestigation(ctx context.Context, q querier, orgID, id string) (Investigation, error) {
	v, err := scanInvestigation(q.QueryRowContext(ctx, `SELECT `+investigationCols+` FROM investigations WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Investigation{}, ErrNotFound
	}
	if err != nil {
		return Investigation{}, fmt.Errorf("load investigation: %w", err)
	}
	v.Steps, err = listSteps(ctx, q, orgID, id)
	return v, err
}

// GetInvestigation loads an investigation with its steps.
func (s *Store) GetInvestigation(ctx context.Context, orgID, id string) (Investigation, error) {
	return getInvestigation(ctx, s.DB.reader(ctx), orgID, id)
}

// IncidentInvestigations lists an incident's investigations, newest first, without steps.
func (s *Store) IncidentInvestigations(ctx context.Context, orgID, incidentID string) ([]Investigation, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+investigationCols+` FROM investigations WHERE org_id = $1 AND incident_id = $2 ORDER BY created_at DESC, id DESC`, orgID, incidentID)
	if err != nil {
		return nil, fmt.Errorf("list investigations: %w", err)
	}
	return collect(rows, scanInvestigation)
}

func listSteps(ctx context.Context, q querier, orgID, investigationID string) ([]Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, investigation_id, seq, kind, tool, input, output, status, error, started_at, finished_at FROM investigation_steps WHERE org_id = $1 AND investigation_id = $2 ORDER BY seq`, orgID, investigationID)
	if err != nil {
		return nil, fmt.Errorf("list steps: %w", err)
	}
	defer rows.Close()
	out := []Step{}
	for rows.Next() {
		var st Step
		var input, output []byte
		var started int64
		var finished sql.NullInt64
		if err := rows.Scan(&st.ID, &st.InvestigationID, &st.Seq, &st.Kind, &st.Tool, &input, &output, &st.Status, &st.Error, &started, &finished); err != nil {
			return nil, err
		}
		st.Input, st.Output = input, output
		st.StartedAt, st.FinishedAt = FromMicro(started), nullMicro(finished)
		out = append(out, st)
	}
	return out, rows.Err()
}

// EventsAfter returns an org's events with id > after, oldest first: those
// of up to limit rows (a row holds one or more events, see eventRow).
func (s *Store) EventsAfter(ctx context.Context, orgID string, after int64, limit int) ([]Event, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT id, org_id, type, data, n, created_at FROM events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var data []byte
		var n, at int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.Type, &data, &n, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = FromMicro(at)
		out = appendEvents(out, e, data, n, after)
	}
	return out, rows.Err()
}

// appendEvents appends the events of one row (e with its id, data and n as
// stored) that come after after. A row's events are its data's lines, the
// last one numbered with the row's id. A row whose line count is not its n
// (written by an older version's sequencer during an upgrade) gives each
// line the row's id.
func appendEvents(out []Event, e Event, data []byte, n, after int64) []Event {
	if n <= 1 && bytes.IndexByte(data, '\n') < 0 {
		e.Data = data
		return append(out, e)
	}
	lines := bytes.Split(data, []byte{'\n'})
	last := e.ID
	for k, line := range lines {
		if int64(len(lines)) == n {
			e.ID = last - n + 1 + int64(k)
		}
		if e.ID <= after {
			continue
		}
		e.Data = line
		out = append(out, e)
	}
	return out
}

// LastEventID is the newest event id of an org (0 when none).
func (s *Store) LastEventID(ctx context.Context, orgID string) (int64, error) {
	var id sql.NullInt64
	if err := s.DB.primary().QueryRowContext(ctx, `SELECT max(id) FROM events WHERE org_id = $1`, orgID).Scan(&id); err != nil {
		return 0, fmt.Errorf("read last event: %w", err)
	}
	return id.Int64, nil
}

// QueueCount is the number of jobs in one queue and state.
type QueueCount struct {
	Queue string
	State string
	Count int
}

// QueueCounts reads River's job table grouped by queue and state.
func (s *Store) QueueCounts(ctx context.Context) ([]QueueCount, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT queue, state, count(*) FROM river_job GROUP BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []QueueCount
	for rows.Next() {
		var c QueueCount
		if err := rows.Scan(&c.Queue, &c.State, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
