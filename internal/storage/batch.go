package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Batched reads and writes for alert intake. A delivery of many alerts used
// to cost several statements (so, on PostgreSQL, network round trips) per
// alert; these let it look up every fingerprint at once and write its new
// alerts and timeline entries in multi-row inserts.
//
// Queued rows are written before the transaction's next statement (see
// flushPending, called by exec, query and queryRow) and before commit, so
// every later statement of the transaction sees them, exactly as if they had
// been inserted one by one when queued; only consecutive queued rows are
// merged into one statement.

type pendingTimeline struct {
	id, orgID, incidentID, kind, message, data string
	at                                         int64
}

// hasPending reports whether queued rows (or, pipelined, deferred
// statements) wait to be written.
func (t *Tx) hasPending() bool {
	return len(t.deferred) > 0 || len(t.pendingUpdates) > 0 || len(t.pendingAlerts) > 0 || len(t.pendingTimeline) > 0 || len(t.pendingIncidents) > 0 || len(t.pendingInvestigations) > 0 ||
		len(t.pendingTouches) > 0 || len(t.pendingResolves) > 0
}

type pendingResolve struct {
	id         string
	endsAt, at int64
}

// resolveQueued reports whether alert id has a queued resolve: one
// statement must not update a row twice (queued touches of one alert are
// merged instead).
func (t *Tx) resolveQueued(id string) bool {
	for _, r := range t.pendingResolves {
		if r.id == id {
			return true
		}
	}
	return false
}

// QueueResolve is ResolveAlert with the write deferred on PostgreSQL, as
// QueueTouch. *a changes at once.
func (t *Tx) QueueResolve(ctx context.Context, a *Alert, endsAt, at time.Time) error {
	if t.dialect != Postgres {
		return t.ResolveAlert(ctx, a, endsAt, at)
	}
	if t.pendingTouches[a.ID] > 0 || t.resolveQueued(a.ID) {
		if err := t.FlushPending(ctx); err != nil {
			return err
		}
	}
	t.pendingResolves = append(t.pendingResolves, pendingResolve{id: a.ID, endsAt: Micro(endsAt), at: Micro(at)})
	a.resolved(endsAt, at)
	return nil
}

// QueueTouch is TouchAlert with the write deferred on PostgreSQL, where
// every statement is a round trip: a re-delivered group (what Alertmanager
// mostly sends) otherwise cost one UPDATE per alert. *a changes at once.
// SQLite, in process, writes it at once.
func (t *Tx) QueueTouch(ctx context.Context, a *Alert, at time.Time) error {
	if t.dialect != Postgres {
		return t.TouchAlert(ctx, a, at)
	}
	if t.resolveQueued(a.ID) {
		if err := t.FlushPending(ctx); err != nil {
			return err
		}
	}
	if t.pendingTouches == nil {
		t.pendingTouches = map[string]int{}
	}
	t.pendingTouches[a.ID]++
	if at.After(t.touchedAt) {
		t.touchedAt = at
	}
	a.touched(at)
	return nil
}

// QueueIncident is InsertIncident with the write deferred: in.ID is set at
// once; the row is written with the transaction's next statement, from *in
// as it is then (so changes made to *in until then need no UPDATE).
func (t *Tx) QueueIncident(in *Incident) {
	in.ID = NewID()
	t.pendingIncidents = append(t.pendingIncidents, in)
}

// QueueInvestigation is InsertInvestigation with the write deferred.
func (t *Tx) QueueInvestigation(orgID, incidentID, trigger string, at time.Time, scheduledAt *time.Time) Investigation {
	v := Investigation{ID: NewID(), OrgID: orgID, IncidentID: incidentID, Status: InvestigationQueued, Trigger: trigger, CreatedAt: at, UpdatedAt: at, Steps: []Step{},
		RateLimited: scheduledAt != nil, ScheduledAt: scheduledAt}
	t.pendingInvestigations = append(t.pendingInvestigations, v)
	return v
}

// pendingIncident reports whether in waits in the queue to be inserted.
func (t *Tx) pendingIncident(in *Incident) bool {
	for _, p := range t.pendingIncidents {
		if p == in {
			return true
		}
	}
	return false
}

// SaveIncidents is SaveIncident for several incidents. An incident still
// queued by QueueIncident needs no UPDATE: its row is inserted as it is now.
// On PostgreSQL the queued rows, the updates and the transaction's events so
// far are written in one statement (one round trip); the events' JSON must
// therefore already be final, as InsertEvent makes it.
func (t *Tx) SaveIncidents(ctx context.Context, ins []*Incident) error {
	var update []*Incident
	for _, in := range ins {
		if !t.pendingIncident(in) {
			update = append(update, in)
		}
	}
	if t.conn != nil {
		// Written with the next statement, or with COMMIT.
		if t.pendingErr != nil {
			return t.pendingErr
		}
		if len(t.pendingUpdates) > 0 {
			if err := t.FlushPending(ctx); err != nil {
				return err
			}
		}
		t.pendingUpdates, t.updateEvents = update, true
		return nil
	}
	if t.dialect == Postgres {
		if t.pendingErr != nil {
			return t.pendingErr
		}
		if err := t.writePG(ctx, update, true); err != nil {
			t.pendingErr = err
			return err
		}
		return nil
	}
	if err := t.FlushPending(ctx); err != nil {
		return err
	}
	for _, in := range update {
		if err := t.SaveIncident(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// QueueAlert is InsertAlert with the write deferred: a.ID and the defaults
// are set at once; the row is written with the transaction's next statement.
func (t *Tx) QueueAlert(a *Alert) {
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
	t.pendingAlerts = append(t.pendingAlerts, a)
}

// QueueTimeline is InsertTimeline with the write deferred.
func (t *Tx) QueueTimeline(orgID, incidentID, kind, message string, data map[string]any, at time.Time) {
	if data == nil {
		data = map[string]any{}
	}
	t.pendingTimeline = append(t.pendingTimeline, pendingTimeline{id: NewID(), orgID: orgID, incidentID: incidentID,
		kind: kind, message: message, data: dataJSON(data), at: Micro(at)})
}

// FlushPending writes the queued rows now. A failure is also remembered, so
// the transaction cannot commit (see InTx).
func (t *Tx) FlushPending(ctx context.Context) error {
	if !t.hasPending() {
		return t.pendingErr
	}
	var err error
	if t.conn != nil {
		return t.pipeline(ctx, nil, false)
	}
	if t.dialect == Postgres {
		err = t.writePG(ctx, nil, false)
	} else {
		// Incidents first: the other rows reference them. Alerts next: they
		// were queued before or with the timeline entries that cite them.
		incidents, investigations, alerts, timeline := t.pendingIncidents, t.pendingInvestigations, t.pendingAlerts, t.pendingTimeline
		t.pendingIncidents, t.pendingInvestigations, t.pendingAlerts, t.pendingTimeline = nil, nil, nil, nil
		err = t.insertIncidents(ctx, incidents)
		if err == nil {
			err = t.insertInvestigations(ctx, investigations)
		}
		if err == nil {
			err = t.insertAlerts(ctx, alerts)
		}
		if err == nil {
			err = t.insertTimeline(ctx, timeline)
		}
	}
	if err != nil && t.pendingErr == nil {
		t.pendingErr = err
	}
	return err
}

// insertIncidents writes queued incidents one prepared statement each (SQLite).
func (t *Tx) insertIncidents(ctx context.Context, ins []*Incident) error {
	for _, in := range ins {
		var invID any
		if in.Investigation != nil {
			invID = in.Investigation.ID
		}
		_, err := t.execNow(ctx, `INSERT INTO incidents (id, org_id, status, severity, title, service, namespace, alert_name, group_key, correlation_rule, alert_count, firing_count,
investigation_id, created_at, updated_at, last_alert_at, acknowledged_at, resolved_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)`,
			in.ID, in.OrgID, in.Status, in.Severity, in.Title, in.Service, in.Namespace, in.AlertName, in.GroupKey, in.CorrelationRule, in.AlertCount, in.FiringCount,
			invID, Micro(in.CreatedAt), Micro(in.UpdatedAt), Micro(in.LastAlertAt), microPtr(in.AcknowledgedAt), microPtr(in.ResolvedAt))
		if err != nil {
			return fmt.Errorf("store incident: %w", err)
		}
	}
	return nil
}

// insertInvestigations writes queued investigations one prepared statement
// each (SQLite).
func (t *Tx) insertInvestigations(ctx context.Context, vs []Investigation) error {
	for _, v := range vs {
		_, err := t.execNow(ctx, `INSERT INTO investigations (id, org_id, incident_id, status, trigger, created_at, updated_at, rate_limited, scheduled_at) VALUES ($1,$2,$3,$4,$5,$6,$6,$7,$8)`,
			v.ID, v.OrgID, v.IncidentID, v.Status, v.Trigger, Micro(v.CreatedAt), v.RateLimited, microPtr(v.ScheduledAt))
		if err != nil {
			return fmt.Errorf("store investigation: %w", err)
		}
	}
	return nil
}

// flushBefore writes queued rows before another statement runs. An error
// is kept for InTx; the statement itself then runs in a transaction that
// will be rolled back (and on PostgreSQL fails at once as aborted).
func (t *Tx) flushBefore(ctx context.Context) {
	if t.hasPending() {
		_ = t.FlushPending(ctx)
	}
}

// batchRows bounds the rows of one multi-row insert so that it stays under
// PostgreSQL's limit on bound parameters.
const batchRows = 200

// rowsPerInsert is how many queued rows one INSERT statement writes. SQLite
// has no round trips to save, and a statement that writes several rows keeps
// a statement journal (written to a temporary file) so that it can be undone
// alone; one prepared single-row INSERT per row is cheaper there.
func (t *Tx) rowsPerInsert() int {
	if t.dialect == SQLite {
		return 1
	}
	return batchRows
}

func (t *Tx) insertAlerts(ctx context.Context, alerts []*Alert) error {
	const cols = 25
	n := t.rowsPerInsert()
	for start := 0; start < len(alerts); start += n {
		batch := alerts[start:min(start+n, len(alerts))]
		args := make([]any, 0, len(batch)*cols)
		for _, a := range batch {
			f := a.fields()
			args = append(args, a.ID, a.OrgID, a.Source, emptyNull(a.IntegrationID), a.Fingerprint, a.Status, a.Severity, a.Name, a.Title, a.Description, a.Service, a.Environment, a.Namespace,
				f.Labels, f.Annotations, f.Links, Micro(a.StartsAt), microPtr(a.EndsAt), Micro(a.FirstReceivedAt), Micro(a.LastReceivedAt),
				a.ReceivedCount, emptyNull(a.IncidentID), emptyNull(a.RawPayloadID), a.CorrelationRule, a.CorrelationReason)
		}
		if _, err := t.execNow(ctx, insertSQL(alertInsert, len(batch), cols), args...); err != nil {
			return fmt.Errorf("store alert: %w", err)
		}
	}
	return nil
}

func (t *Tx) insertTimeline(ctx context.Context, rows []pendingTimeline) error {
	const cols = 7
	n := t.rowsPerInsert()
	for start := 0; start < len(rows); start += n {
		batch := rows[start:min(start+n, len(rows))]
		args := make([]any, 0, len(batch)*cols)
		for _, r := range batch {
			args = append(args, r.id, r.orgID, r.incidentID, r.at, r.kind, r.message, r.data)
		}
		if _, err := t.execNow(ctx, insertSQL(timelineInsert, len(batch), cols), args...); err != nil {
			return fmt.Errorf("store timeline event: %w", err)
		}
	}
	return nil
}

// placeholders writes "($n+1,…,$n+k)".
func placeholders(b *strings.Builder, n, k int) {
	var num [20]byte
	b.WriteByte('(')
	for j := 1; j <= k; j++ {
		if j > 1 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.Write(strconv.AppendInt(num[:0], int64(n+j), 10))
	}
	b.WriteByte(')')
}

const (
	alertInsert    = `INSERT INTO alerts (` + alertCols + `) VALUES `
	timelineInsert = `INSERT INTO timeline_events (id, org_id, incident_id, at, kind, message, data) VALUES `
)

// The one-row inserts, the only ones SQLite runs: built once, since their
// text was rebuilt for every row on the single writer before.
var (
	alertInsertOne    = buildInsertSQL(alertInsert, 1, 25)
	timelineInsertOne = buildInsertSQL(timelineInsert, 1, 7)
)

// insertSQL is head followed by rows groups of k placeholders.
func insertSQL(head string, rows, k int) string {
	if rows == 1 {
		switch head {
		case alertInsert:
			return alertInsertOne
		case timelineInsert:
			return timelineInsertOne
		}
	}
	return buildInsertSQL(head, rows, k)
}

func buildInsertSQL(head string, rows, k int) string {
	var b strings.Builder
	b.Grow(len(head) + rows*k*5)
	b.WriteString(head)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		placeholders(&b, i*k, k)
	}
	return b.String()
}

// fingerprintList is the SQL that turns parameter $3 (a list of
// fingerprints) into rows, and the parameter's value.
func (t *Tx) fingerprintList(fps []string) (string, any) {
	if t.dialect == Postgres {
		return `SELECT unnest($3::text[]) AS fp`, fps
	}
	return `SELECT value AS fp FROM json_each($3)`, mustJSON(fps)
}

// OpenAlerts is OpenAlert for many fingerprints of one source at once: the
// open episode of each fingerprint that has one, by fingerprint.
func (t *Tx) OpenAlerts(ctx context.Context, orgID, source string, fingerprints []string) (map[string]*Alert, error) {
	out := make(map[string]*Alert, len(fingerprints))
	if len(fingerprints) == 0 {
		return out, nil
	}
	list, arg := t.fingerprintList(fingerprints)
	q := `SELECT ` + alertCols + ` FROM alerts WHERE org_id = $1 AND source = $2 AND fingerprint IN (` + list + `) AND status = 'firing'`
	if t.dialect == Postgres {
		// One index probe per fingerprint whatever the statistics (see
		// Tx.Episodes).
		q = `SELECT a.* FROM (` + list + `) f CROSS JOIN LATERAL (SELECT ` + alertCols + ` FROM alerts WHERE org_id = $1 AND source = $2 AND fingerprint = f.fp AND status = 'firing' LIMIT 1) a`
	}
	rows, err := t.query(ctx, q, orgID, source, arg)
	if err != nil {
		return nil, fmt.Errorf("find open alerts: %w", err)
	}
	found, err := collectAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("find open alerts: %w", err)
	}
	for i := range found {
		out[found[i].Fingerprint] = &found[i]
	}
	return out, nil
}

// LastResolvedAlerts is LastResolvedAlert for many fingerprints of one
// source at once: the most recent resolved episode of each fingerprint that
// has one, looked up as LastResolvedAlert does (newest by last_received_at,
// then id), through the same index.
func (t *Tx) LastResolvedAlerts(ctx context.Context, orgID, source string, fingerprints []string) (map[string]*Alert, error) {
	out := make(map[string]*Alert, len(fingerprints))
	if len(fingerprints) == 0 {
		return out, nil
	}
	list, arg := t.fingerprintList(fingerprints)
	rows, err := t.query(ctx, `SELECT `+alertCols+` FROM alerts WHERE id IN (SELECT (SELECT b.id FROM alerts b WHERE b.org_id = $1 AND b.source = $2 AND b.fingerprint = f.fp
AND b.status = 'resolved' ORDER BY b.last_received_at DESC, b.id DESC LIMIT 1) FROM (`+list+`) AS f)`, orgID, source, arg)
	if err != nil {
		return nil, fmt.Errorf("find latest alerts: %w", err)
	}
	found, err := collectAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("find latest alerts: %w", err)
	}
	for i := range found {
		if prev := out[found[i].Fingerprint]; prev != nil {
			return nil, errors.New("find latest alerts: two episodes for one fingerprint") // cannot happen: one id per fingerprint
		}
		out[found[i].Fingerprint] = &found[i]
	}
	return out, nil
}
