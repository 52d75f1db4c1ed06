package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// ---------------------------------------------------------------- raw payloads

// InsertRawPayload stores a webhook body as received.
func (t *Tx) InsertRawPayload(ctx context.Context, orgID, integrationID, source, contentType string, body []byte, alertCount int, at time.Time) (string, error) {
	id := NewID()
	_, err := t.exec(ctx, `INSERT INTO raw_payloads (id, org_id, integration_id, source, content_type, body, alert_count, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		id, orgID, emptyNull(integrationID), source, contentType, body, alertCount, Micro(at))
	if err != nil {
		return "", fmt.Errorf("store raw payload: %w", err)
	}
	return id, nil
}

// ---------------------------------------------------------------- alerts

const alertCols = `id, org_id, source, integration_id, fingerprint, status, severity, name, title, description, service, environment, namespace,
labels, annotations, links, starts_at, ends_at, first_received_at, last_received_at, received_count, incident_id, raw_payload_id, correlation_rule, correlation_reason`

func scanAlert(sc scanner) (Alert, error) {
	var a Alert
	var integ, inc, raw sql.NullString
	var labels, annotations, links []byte
	var starts, first, last int64
	var ends sql.NullInt64
	err := sc.Scan(&a.ID, &a.OrgID, &a.Source, &integ, &a.Fingerprint, &a.Status, &a.Severity, &a.Name, &a.Title, &a.Description, &a.Service, &a.Environment, &a.Namespace,
		&labels, &annotations, &links, &starts, &ends, &first, &last, &a.ReceivedCount, &inc, &raw, &a.CorrelationRule, &a.CorrelationReason)
	if err != nil {
		return Alert{}, err
	}
	a.IntegrationID, a.IncidentID, a.RawPayloadID = integ.String, inc.String, raw.String
	a.StartsAt, a.EndsAt, a.FirstReceivedAt, a.LastReceivedAt = FromMicro(starts), nullMicro(ends), FromMicro(first), FromMicro(last)
	if err := errors.Join(json.Unmarshal(labels, &a.Labels), json.Unmarshal(annotations, &a.Annotations), json.Unmarshal(links, &a.Links)); err != nil {
		return Alert{}, fmt.Errorf("decode alert %s: %w", a.ID, err)
	}
	if a.Links == nil {
		a.Links = []alert.Link{}
	}
	return a, nil
}

// OpenAlert returns the open (firing) episode of a fingerprint, if any.
func (t *Tx) OpenAlert(ctx context.Context, orgID, source, fingerprint string) (*Alert, error) {
	a, err := scanAlert(t.queryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE org_id = $1 AND source = $2 AND fingerprint = $3 AND status = 'firing'`, orgID, source, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find open alert: %w", err)
	}
	return &a, nil
}

// LastResolvedAlert returns the most recent resolved episode of a
// fingerprint: the one a new firing rejoins (the intake asks only when no
// episode is open, so it is the fingerprint's latest).
func (t *Tx) LastResolvedAlert(ctx context.Context, orgID, source, fingerprint string) (*Alert, error) {
	a, err := scanAlert(t.queryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE org_id = $1 AND source = $2 AND fingerprint = $3 AND status = 'resolved'
		ORDER BY last_received_at DESC, id DESC LIMIT 1`, orgID, source, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find last resolved alert: %w", err)
	}
	return &a, nil
}

// InsertAlert stores a new episode.
func (t *Tx) InsertAlert(ctx context.Context, a *Alert) error {
	a.ID = NewID()
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if a.Links == nil {
		a.Links = []alert.Link{}
	}
	f := a.fields()
	_, err := t.exec(ctx, `INSERT INTO alerts (`+alertCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25)`,
		a.ID, a.OrgID, a.Source, emptyNull(a.IntegrationID), a.Fingerprint, a.Status, a.Severity, a.Name, a.Title, a.Description, a.Service, a.Environment, a.Namespace,
		f.Labels, f.Annotations, f.Links, Micro(a.StartsAt), microPtr(a.EndsAt), Micro(a.FirstReceivedAt), Micro(a.LastReceivedAt),
		a.ReceivedCount, emptyNull(a.IncidentID), emptyNull(a.RawPayloadID), a.CorrelationRule, a.CorrelationReason)
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	return nil
}

// TouchAlert records a re-delivery: last_received_at and the counter only.
func (t *Tx) TouchAlert(ctx context.Context, a *Alert, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE alerts SET last_received_at = $1, received_count = received_count + 1 WHERE id = $2`, Micro(at), a.ID)
	if err != nil {
		return fmt.Errorf("touch alert: %w", err)
	}
	a.touched(at)
	return nil
}

// touched is what a re-delivery changes in a stored alert.
func (a *Alert) touched(at time.Time) {
	a.LastReceivedAt = at
	a.ReceivedCount++
}

// resolved is what a resolve changes in a stored alert.
func (a *Alert) resolved(endsAt, at time.Time) {
	a.Status, a.EndsAt, a.LastReceivedAt = string(alert.StatusResolved), &endsAt, at
	a.ReceivedCount++
}

// ResolveAlert closes an episode.
func (t *Tx) ResolveAlert(ctx context.Context, a *Alert, endsAt, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE alerts SET status = 'resolved', ends_at = $1, last_received_at = $2, received_count = received_count + 1 WHERE id = $3`, Micro(endsAt), Micro(at), a.ID)
	if err != nil {
		return fmt.Errorf("resolve alert: %w", err)
	}
	a.resolved(endsAt, at)
	return nil
}

// StaleFiringAlerts lists firing alerts of the given sources not received since before.
func (t *Tx) StaleFiringAlerts(ctx context.Context, orgID string, sources []string, before time.Time, limit int) ([]Alert, error) {
	args := []any{orgID, Micro(before), limit}
	ph := make([]string, len(sources))
	for i, s := range sources {
		args = append(args, s)
		ph[i] = fmt.Sprintf("$%d", i+4)
	}
	rows, err := t.query(ctx, `SELECT `+alertCols+` FROM alerts WHERE org_id = $1 AND status = 'firing' AND last_received_at < $2 AND source IN (`+strings.Join(ph, ",")+`) ORDER BY last_received_at LIMIT $3`, args...)
	if err != nil {
		return nil, fmt.Errorf("find stale alerts: %w", err)
	}
	return collectAlerts(rows)
}

func collectAlerts(rows *sql.Rows) ([]Alert, error) { return collect(rows, scanAlert) }

// FiringCount counts an incident's firing alerts.
func (t *Tx) FiringCount(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT count(*) FROM alerts WHERE incident_id = $1 AND status = 'firing'`, incidentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count firing alerts: %w", err)
	}
	return n, nil
}

// ---------------------------------------------------------------- incidents

const incidentCols = `i.id, i.org_id, i.status, i.severity, i.title, i.service, i.namespace, i.alert_name, i.group_key, i.correlation_rule, i.alert_count, i.firing_count,
i.investigation_id, v.status, i.created_at, i.updated_at, i.last_alert_at, i.acknowledged_at, i.resolved_at`

const incidentFrom = ` FROM incidents i LEFT JOIN investigations v ON v.id = i.investigation_id `

func scanIncident(sc scanner) (Incident, error) {
	var in Incident
	var invID, invStatus sql.NullString
	var created, updated, last int64
	var ack, res sql.NullInt64
	err := sc.Scan(&in.ID, &in.OrgID, &in.Status, &in.Severity, &in.Title, &in.Service, &in.Namespace, &in.AlertName, &in.GroupKey, &in.CorrelationRule,
		&in.AlertCount, &in.FiringCount, &invID, &invStatus, &created, &updated, &last, &ack, &res)
	if err != nil {
		return Incident{}, err
	}
	if invID.Valid {
		in.Investigation = &InvestigationRef{ID: invID.String, Status: invStatus.String}
	}
	in.CreatedAt, in.UpdatedAt, in.LastAlertAt = FromMicro(created), FromMicro(updated), FromMicro(last)
	in.AcknowledgedAt, in.ResolvedAt = nullMicro(ack), nullMicro(res)
	return in, nil
}

// OpenIncidentByGroup finds the incident an alert of this group key joins:
// not resolved, and its latest alert newer than since.
func (t *Tx) OpenIncidentByGroup(ctx context.Context, orgID, groupKey string, since time.Time) (*Incident, error) {
	in, err := scanIncident(t.queryRow(ctx, `SELECT `+incidentCols+incidentFrom+`WHERE i.org_id = $1 AND i.group_key = $2 AND i.status <> 'resolved' AND i.last_alert_at >= $3 ORDER BY i.last_alert_at DESC, i.id DESC LIMIT 1`,
		orgID, groupKey, Micro(since)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find incident for group: %w", err)
	}
	return &in, nil
}

// IncidentForUpdate loads an incident inside a write transaction.
func (t *Tx) IncidentForUpdate(ctx context.Context, orgID, id string) (*Incident, error) {
	q := `SELECT ` + incidentCols + incidentFrom + `WHERE i.org_id = $1 AND i.id = $2`
	if t.dialect == Postgres {
		q += ` FOR UPDATE OF i`
	}
	in, err := scanIncident(t.queryRow(ctx, q, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load incident: %w", err)
	}
	return &in, nil
}

// InsertIncident stores a new incident.
func (t *Tx) InsertIncident(ctx context.Context, in *Incident) error {
	in.ID = NewID()
	_, err := t.exec(ctx, `INSERT INTO incidents (id, org_id, status, severity, title, service, namespace, alert_name, group_key, correlation_rule, alert_count, firing_count, created_at, updated_at, last_alert_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		in.ID, in.OrgID, in.Status, in.Severity, in.Title, in.Service, in.Namespace, in.AlertName, in.GroupKey, in.CorrelationRule, in.AlertCount, in.FiringCount,
		Micro(in.CreatedAt), Micro(in.UpdatedAt), Micro(in.LastAlertAt))
	if err != nil {
		return fmt.Errorf("store incident: %w", err)
	}
	return nil
}

// SaveIncident writes an incident's mutable fields.
func (t *Tx) SaveIncident(ctx context.Context, in *Incident) error {
	var invID any
	if in.Investigation != nil {
		invID = in.Investigation.ID
	}
	_, err := t.exec(ctx, `UPDATE incidents SET status = $1, severity = $2, title = $3, alert_count = $4, firing_count = $5, investigation_id = $6,
updated_at = $7, last_alert_at = $8, acknowledged_at = $9, resolved_at = $10 WHERE org_id = $11 AND id = $12`,
		in.Status, in.Severity, in.Title, in.AlertCount, in.FiringCount, invID, Micro(in.UpdatedAt), Micro(in.LastAlertAt), microPtr(in.AcknowledgedAt), microPtr(in.ResolvedAt), in.OrgID, in.ID)
	if err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	return nil
}

// InsertTimeline appends to an incident's timeline.
func (t *Tx) InsertTimeline(ctx context.Context, orgID, incidentID, kind, message string, data map[string]any, at time.Time) error {
	if data == nil {
		data = map[string]any{}
	}
	_, err := t.exec(ctx, `INSERT INTO timeline_events (id, org_id, incident_id, at, kind, message, data) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		NewID(), orgID, incidentID, Micro(at), kind, message, dataJSON(data))
	if err != nil {
		return fmt.Errorf("store timeline event: %w", err)
	}
	return nil
}

// InsertEvent adds an event to the live event stream. It is written when
// the transaction ends (see flushEvents), so ids follow commit order.
func (t *Tx) InsertEvent(_ context.Context, orgID, typ string, data any) error {
	var enc string
	if a, ok := data.(*Alert); ok {
		enc = a.eventJSON()
	} else {
		enc = mustJSON(data)
	}
	t.events = append(t.events, pendingEvent{orgID: orgID, typ: typ, data: enc})
	return nil
}

// ---------------------------------------------------------------- investigations

// InsertInvestigation stores a queued investigation.
// A non-nil scheduledAt marks it held back by the rate limit until then.
func (t *Tx) InsertInvestigation(ctx context.Context, orgID, incidentID, trigger string, at time.Time, scheduledAt *time.Time) (Investigation, error) {
	v := Investigation{ID: NewID(), OrgID: orgID, IncidentID: incidentID, Status: InvestigationQueued, Trigger: trigger, CreatedAt: at, UpdatedAt: at, Steps: []Step{},
		RateLimited: scheduledAt != nil, ScheduledAt: scheduledAt}
	_, err := t.exec(ctx, `INSERT INTO investigations (id, org_id, incident_id, status, trigger, created_at, updated_at, rate_limited, scheduled_at) VALUES ($1,$2,$3,$4,$5,$6,$6,$7,$8)`,
		v.ID, orgID, incidentID, v.Status, trigger, Micro(at), v.RateLimited, microPtr(scheduledAt))
	if err != nil {
		return Investigation{}, fmt.Errorf("store investigation: %w", err)
	}
	return v, nil
}

// InvestigationStartAt returns the start time of an org's n-th latest
// investigation start (1 is the latest), counting a held-back
// investigation's scheduled start, others' creation; ok is false when the
// org has fewer than n. The rate limit's look-up: O(n) through
// investigations_org_start, whatever the number of investigations.
func (t *Tx) InvestigationStartAt(ctx context.Context, orgID string, n int) (at time.Time, ok bool, err error) {
	var us int64
	err = t.queryRow(ctx, `SELECT COALESCE(scheduled_at, created_at) FROM investigations WHERE org_id = $1
		ORDER BY COALESCE(scheduled_at, created_at) DESC LIMIT 1 OFFSET $2`, orgID, n-1).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("investigation start times: %w", err)
	}
	return FromMicro(us), true, nil
}

// ResolveAlertAuto closes an episode Aurora resolved itself; the received
// counter is not touched since nothing was received.
func (t *Tx) ResolveAlertAuto(ctx context.Context, a *Alert, endsAt time.Time) error {
	_, err := t.exec(ctx, `UPDATE alerts SET status = 'resolved', ends_at = $1 WHERE id = $2`, Micro(endsAt), a.ID)
	if err != nil {
		return fmt.Errorf("auto-resolve alert: %w", err)
	}
	a.Status, a.EndsAt = "resolved", &endsAt
	return nil
}
