package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PostgreSQL writes a delivery's rows in as few round trips as it can. Every
// statement through database/sql is a network round trip, and on a loaded
// machine each round trip also costs two context switches and a wait for the
// scheduler; a 10-alert delivery used to take 14 of them. Here the queued
// rows of every table, the incidents' updates and the transaction's events
// are written by one statement of data-modifying WITH clauses, each reading
// its rows from arrays (unnest): the statement's text depends only on which
// kinds of rows there are, not on how many, so pgx prepares each of its few
// forms once per connection.
//
// The clauses of one statement do not see each other's rows, so an incident
// is never both inserted and updated by the same statement (SaveIncidents
// updates only incidents already written); foreign keys are checked at the
// end of the statement, when every clause has run.

// The statement's clauses, each numbering its parameters from $1 (renumbered
// when composed, see pgWriteStatement).
const (
	pgNewIncidents = `new_incidents AS (
  INSERT INTO incidents (id, org_id, status, severity, title, service, namespace, alert_name, group_key, correlation_rule, alert_count, firing_count,
    investigation_id, created_at, updated_at, last_alert_at, acknowledged_at, resolved_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
    $11::integer[], $12::integer[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[]))`
	pgNewInvestigations = `new_investigations AS (
  INSERT INTO investigations (id, org_id, incident_id, status, trigger, created_at, updated_at, rate_limited, scheduled_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::boolean[], $9::bigint[]))`
	pgNewAlerts = `new_alerts AS (
  INSERT INTO alerts (` + alertCols + `)
  SELECT id, org_id, source, integration_id, fingerprint, status, severity, name, title, description, service, environment, namespace,
    labels::json, annotations::json, links::json, starts_at, ends_at, first_received_at, last_received_at, received_count, incident_id, raw_payload_id,
    correlation_rule, correlation_reason
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
    $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[],
    $21::integer[], $22::text[], $23::text[], $24::text[], $25::text[])
    AS u(id, org_id, source, integration_id, fingerprint, status, severity, name, title, description, service, environment, namespace,
    labels, annotations, links, starts_at, ends_at, first_received_at, last_received_at, received_count, incident_id, raw_payload_id,
    correlation_rule, correlation_reason))`
	pgNewTimeline = `new_timeline AS (
  INSERT INTO timeline_events (id, org_id, incident_id, at, kind, message, data)
  SELECT id, org_id, incident_id, at, kind, message, data::json
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[]) AS u(id, org_id, incident_id, at, kind, message, data))`
	// One incident (the usual delivery) is updated through its primary
	// key; the form for several joins their arrays, which a generic plan
	// may do by scanning a small incidents table.
	pgSaveIncident = `saved_incidents AS (
  UPDATE incidents SET status = $3, severity = $4, title = $5, alert_count = $6, firing_count = $7,
    investigation_id = $8, updated_at = $9, last_alert_at = $10, acknowledged_at = $11, resolved_at = $12
  WHERE org_id = $1 AND id = $2)`
	pgSaveIncidents = `saved_incidents AS (
  UPDATE incidents i SET status = u.status, severity = u.severity, title = u.title, alert_count = u.alert_count, firing_count = u.firing_count,
    investigation_id = u.investigation_id, updated_at = u.updated_at, last_alert_at = u.last_alert_at, acknowledged_at = u.acknowledged_at, resolved_at = u.resolved_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[], $8::text[], $9::bigint[], $10::bigint[],
    $11::bigint[], $12::bigint[])
    AS u(org_id, id, status, severity, title, alert_count, firing_count, investigation_id, updated_at, last_alert_at, acknowledged_at, resolved_at)
  WHERE i.id = ANY($2::text[]) AND i.org_id = u.org_id AND i.id = u.id)`
	// Every touched alert gets one time (the delivery's) and its count of
	// receipts in this write.
	pgTouchAlerts = `touched_alerts AS (
  UPDATE alerts a SET last_received_at = $3, received_count = a.received_count + u.n
  FROM unnest($1::text[], $2::integer[]) AS u(id, n)
  WHERE a.id = ANY($1::text[]) AND a.id = u.id)`
	pgResolveAlerts = `resolved_alerts AS (
  UPDATE alerts a SET status = 'resolved', ends_at = u.ends_at, last_received_at = u.at, received_count = a.received_count + 1
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(id, ends_at, at)
  WHERE a.id = ANY($1::text[]) AND a.id = u.id)`
	pgNewEvents = `new_events AS (
  INSERT INTO events_pending (org_id, type, data, n, created_at)
  SELECT org_id, type, data, n, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(org_id, type, data, n, ord) ORDER BY ord)`
)

// Which clauses a write needs, as bits of pgWriteParts' index.
const (
	pgPartIncidents = 1 << iota
	pgPartInvestigations
	pgPartAlerts
	pgPartTimeline
	pgPartSaveOne
	pgPartSaveMany
	pgPartTouches
	pgPartResolves
	pgPartEvents
	pgParts = iota
)

// pgWriteParts are the clauses, in statement order.
var pgWriteParts = [pgParts]string{pgNewIncidents, pgNewInvestigations, pgNewAlerts, pgNewTimeline, pgSaveIncident, pgSaveIncidents, pgTouchAlerts, pgResolveAlerts, pgNewEvents}

var pgParamRef = regexp.MustCompile(`\$(\d+)`)

// pgWriteStatements caches the composed statements by their parts.
var pgWriteStatements sync.Map // int → string

// pgWriteStatement is the statement of the clauses in the set parts, their
// parameters numbered in that order. A delivery writes only what it has:
// an INSERT of no rows still opens its table and every index of it, and
// most deliveries create no incident. Each distinct statement is prepared
// once per connection; a handful occur.
func pgWriteStatement(parts int) string {
	if s, ok := pgWriteStatements.Load(parts); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString("WITH\n")
	offset, n := 0, 0
	for i, part := range pgWriteParts {
		if parts&(1<<i) == 0 {
			continue
		}
		if n > 0 {
			b.WriteString(",\n")
		}
		n++
		most := 0
		b.WriteString(pgParamRef.ReplaceAllStringFunc(part, func(ref string) string {
			k, _ := strconv.Atoi(ref[1:])
			most = max(most, k)
			return "$" + strconv.Itoa(k+offset)
		}))
		offset += most
	}
	b.WriteString("\nSELECT 1")
	s, _ := pgWriteStatements.LoadOrStore(parts, b.String())
	return s.(string)
}

// writePG writes every queued row, updates the given incidents (which must
// not be queued) and, with events, the transaction's events not yet
// written, in one statement.
func (t *Tx) writePG(ctx context.Context, update []*Incident, events bool) error {
	st, ok := t.pgWrite(update, events)
	if !ok {
		return nil
	}
	if _, err := t.execNow(ctx, st.sql, st.args...); err != nil {
		return fmt.Errorf("%s: %w", st.what, err)
	}
	return nil
}

// pgWrite is writePG's statement; it takes the queued rows (and, with
// events, marks the events written). ok is false when there is nothing to
// write.
func (t *Tx) pgWrite(update []*Incident, events bool) (st pgStmt, ok bool) {
	incidents, investigations, alerts, timeline, touches, resolves := t.pendingIncidents, t.pendingInvestigations, t.pendingAlerts, t.pendingTimeline,
		t.pendingTouches, t.pendingResolves
	t.pendingIncidents, t.pendingInvestigations, t.pendingAlerts, t.pendingTimeline, t.pendingTouches, t.pendingResolves = nil, nil, nil, nil, nil, nil
	touchedAt := t.touchedAt
	t.touchedAt = time.Time{}
	var evs []pendingEvent
	if events {
		evs = t.events[t.eventsDone:]
		t.eventsDone = len(t.events)
	}
	if len(incidents)+len(investigations)+len(alerts)+len(timeline)+len(update)+len(touches)+len(resolves)+len(evs) == 0 {
		return pgStmt{}, false
	}
	args := make([]any, 0, 64)
	parts := 0

	// Incidents.
	if n := len(incidents); n > 0 {
		parts |= pgPartIncidents
		id, org, status, sev, title, service, ns, name, group, rule, invID := col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n),
			col[string](n), col[string](n), col[string](n), col[string](n), col[*string](n)
		alertCount, firing := col[int32](n), col[int32](n)
		created, updated, last, acked, resolved := col[int64](n), col[int64](n), col[int64](n), col[*int64](n), col[*int64](n)
		for i, in := range incidents {
			id[i], org[i], status[i], sev[i], title[i], service[i], ns[i], name[i], group[i], rule[i] = in.ID, in.OrgID, in.Status, in.Severity, in.Title, in.Service,
				in.Namespace, in.AlertName, in.GroupKey, in.CorrelationRule
			alertCount[i], firing[i] = int32(in.AlertCount), int32(in.FiringCount)
			if in.Investigation != nil {
				invID[i] = &in.Investigation.ID
			}
			created[i], updated[i], last[i], acked[i], resolved[i] = Micro(in.CreatedAt), Micro(in.UpdatedAt), Micro(in.LastAlertAt), microPtr64(in.AcknowledgedAt), microPtr64(in.ResolvedAt)
		}
		args = append(args, id, org, status, sev, title, service, ns, name, group, rule, alertCount, firing, invID, created, updated, last, acked, resolved)
	}
	// Investigations.
	if n := len(investigations); n > 0 {
		parts |= pgPartInvestigations
		id, org, inc, status, trigger := col[string](n), col[string](n), col[string](n), col[string](n), col[string](n)
		created, updated, scheduled := col[int64](n), col[int64](n), col[*int64](n)
		limited := col[bool](n)
		for i, v := range investigations {
			id[i], org[i], inc[i], status[i], trigger[i] = v.ID, v.OrgID, v.IncidentID, v.Status, v.Trigger
			created[i], updated[i], limited[i], scheduled[i] = Micro(v.CreatedAt), Micro(v.CreatedAt), v.RateLimited, microPtr64(v.ScheduledAt)
		}
		args = append(args, id, org, inc, status, trigger, created, updated, limited, scheduled)
	}
	// Alerts.
	if n := len(alerts); n > 0 {
		parts |= pgPartAlerts
		id, org, source, integ, fp, status, sev, name, title, desc, service, env, ns, labels, annotations, links := col[string](n), col[string](n), col[string](n),
			col[*string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n),
			col[string](n), col[string](n), col[string](n), col[string](n)
		starts, ends, first, last := col[int64](n), col[*int64](n), col[int64](n), col[int64](n)
		count := col[int32](n)
		inc, raw, rule, reason := col[*string](n), col[*string](n), col[string](n), col[string](n)
		for i, a := range alerts {
			id[i], org[i], source[i], integ[i], fp[i], status[i], sev[i], name[i], title[i], desc[i], service[i], env[i], ns[i] = a.ID, a.OrgID, a.Source,
				nonEmpty(a.IntegrationID), a.Fingerprint, a.Status, a.Severity, a.Name, a.Title, a.Description, a.Service, a.Environment, a.Namespace
			f := a.fields()
			labels[i], annotations[i], links[i] = f.Labels, f.Annotations, f.Links
			starts[i], ends[i], first[i], last[i], count[i] = Micro(a.StartsAt), microPtr64(a.EndsAt), Micro(a.FirstReceivedAt), Micro(a.LastReceivedAt), int32(a.ReceivedCount)
			inc[i], raw[i], rule[i], reason[i] = nonEmpty(a.IncidentID), nonEmpty(a.RawPayloadID), a.CorrelationRule, a.CorrelationReason
		}
		args = append(args, id, org, source, integ, fp, status, sev, name, title, desc, service, env, ns, labels, annotations, links, starts, ends, first, last,
			count, inc, raw, rule, reason)
	}
	// Timeline.
	if n := len(timeline); n > 0 {
		parts |= pgPartTimeline
		id, org, inc, kind, msg, data := col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[string](n)
		at := col[int64](n)
		for i, r := range timeline {
			id[i], org[i], inc[i], at[i], kind[i], msg[i], data[i] = r.id, r.orgID, r.incidentID, r.at, r.kind, r.message, r.data
		}
		args = append(args, id, org, inc, at, kind, msg, data)
	}
	// Incident updates.
	if len(update) == 1 {
		parts |= pgPartSaveOne
		in := update[0]
		var invID *string
		if in.Investigation != nil {
			invID = &in.Investigation.ID
		}
		args = append(args, in.OrgID, in.ID, in.Status, in.Severity, in.Title, int32(in.AlertCount), int32(in.FiringCount), invID,
			Micro(in.UpdatedAt), Micro(in.LastAlertAt), microPtr64(in.AcknowledgedAt), microPtr64(in.ResolvedAt))
	} else if n := len(update); n > 0 {
		parts |= pgPartSaveMany
		org, id, status, sev, title, invID := col[string](n), col[string](n), col[string](n), col[string](n), col[string](n), col[*string](n)
		alertCount, firing := col[int32](n), col[int32](n)
		updated, last, acked, resolved := col[int64](n), col[int64](n), col[*int64](n), col[*int64](n)
		for i, in := range update {
			org[i], id[i], status[i], sev[i], title[i] = in.OrgID, in.ID, in.Status, in.Severity, in.Title
			alertCount[i], firing[i] = int32(in.AlertCount), int32(in.FiringCount)
			if in.Investigation != nil {
				invID[i] = &in.Investigation.ID
			}
			updated[i], last[i], acked[i], resolved[i] = Micro(in.UpdatedAt), Micro(in.LastAlertAt), microPtr64(in.AcknowledgedAt), microPtr64(in.ResolvedAt)
		}
		args = append(args, org, id, status, sev, title, alertCount, firing, invID, updated, last, acked, resolved)
	}
	// Re-delivered alerts.
	if n := len(touches); n > 0 {
		parts |= pgPartTouches
		ids, counts := make([]string, 0, n), make([]int32, 0, n)
		for id, k := range touches {
			ids, counts = append(ids, id), append(counts, int32(k))
		}
		args = append(args, ids, counts, Micro(touchedAt))
	}
	// Resolved alerts.
	if n := len(resolves); n > 0 {
		parts |= pgPartResolves
		ids, ends, at := col[string](n), col[int64](n), col[int64](n)
		for i, r := range resolves {
			ids[i], ends[i], at[i] = r.id, r.endsAt, r.at
		}
		args = append(args, ids, ends, at)
	}
	// Events, in the order they were added, in rows (see eventRows).
	if rows := eventRows(evs); len(rows) > 0 {
		parts |= pgPartEvents
		n := len(rows)
		org, typ, data, count := col[string](n), col[string](n), col[string](n), col[int32](n)
		for i, r := range rows {
			org[i], typ[i], data[i], count[i] = r.orgID, r.typ, r.data, int32(r.n)
		}
		args = append(args, org, typ, data, count, Micro(time.Now()))
	}
	return pgStmt{sql: pgWriteStatement(parts), args: args,
		what: fmt.Sprintf("store %d alerts (%d re-delivered, %d resolved), %d timeline entries, %d incidents", len(alerts), len(touches), len(resolves), len(timeline),
			len(incidents)+len(update))}, true
}

// col is a column of n values; never nil, so that an empty column is an
// empty array rather than NULL.
func col[T any](n int) []T { return make([]T, n) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func microPtr64(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := Micro(*t)
	return &v
}

// LockAndInsertRawPayload is LockKeys then InsertRawPayload; on PostgreSQL
// in one statement (the insert does not depend on the locks).
func (t *Tx) LockAndInsertRawPayload(ctx context.Context, keys []int64, orgID, integrationID, source, contentType string, body []byte, alertCount int, at time.Time) (string, error) {
	if t.dialect != Postgres || len(keys) == 0 {
		if err := t.LockKeys(ctx, keys); err != nil {
			return "", err
		}
		return t.InsertRawPayload(ctx, orgID, integrationID, source, contentType, body, alertCount, at)
	}
	id := NewID()
	const q = `WITH raw AS (INSERT INTO raw_payloads (id, org_id, integration_id, source, content_type, body, alert_count, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8))
SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest($9::bigint[]) AS k ORDER BY 1) s`
	if t.conn != nil {
		// Sent with the next statement (the episodes' look-up).
		t.deferred = append(t.deferred, pgStmt{sql: q, args: []any{id, orgID, emptyNull(integrationID), source, contentType, body, alertCount, Micro(at), keys},
			what: "lock keys and store raw payload"})
		return id, nil
	}
	_, err := t.exec(ctx, q, id, orgID, emptyNull(integrationID), source, contentType, body, alertCount, Micro(at), keys)
	if err != nil {
		return "", fmt.Errorf("lock keys and store raw payload: %w", err)
	}
	return id, nil
}

// Episodes is OpenAlerts and then LastResolvedAlerts for the fingerprints with no
// open episode; on PostgreSQL in one statement.
func (t *Tx) Episodes(ctx context.Context, orgID, source string, fingerprints []string) (open, latest map[string]*Alert, err error) {
	open, latest, _, err = t.EpisodesAndProbes(ctx, orgID, source, fingerprints, Probes{})
	return open, latest, err
}

// GroupProbe names a correlation group that an alert of Fingerprint joins if
// it opens a new episode, and the oldest last alert time of an incident it
// may join.
type GroupProbe struct {
	Fingerprint, GroupKey string
	Since                 time.Time
}

// Probes are look-ups EpisodesAndProbes makes in the same round trip as the
// episodes, where statements are pipelined (PostgreSQL).
type Probes struct {
	// Groups: OpenIncidentByGroupLocked for every group with a fingerprint
	// that has no open episode (each group key with one Since).
	Groups []GroupProbe
	// Resolving: fingerprints the delivery resolves. The incidents of their
	// open episodes are locked (IncidentForUpdate) and then, after the
	// lock, their firing alerts counted (FiringCount).
	Resolving []string
}

// Probed is what the probes found.
type Probed struct {
	// Groups holds the incident found (or nil) under each probed group key.
	Groups map[string]*Incident
	// Incidents holds the resolving fingerprints' incidents by id, Firing
	// their firing alerts' count.
	Incidents map[string]*Incident
	Firing    map[string]int
}

// EpisodesAndProbes is Episodes and, in the same round trip, the probes;
// without pipelining probed is nil: nothing was probed.
func (t *Tx) EpisodesAndProbes(ctx context.Context, orgID, source string, fingerprints []string, probes Probes) (open, latest map[string]*Alert,
	probed *Probed, err error) {
	if t.dialect != Postgres {
		open, err = t.OpenAlerts(ctx, orgID, source, fingerprints)
		if err != nil {
			return nil, nil, nil, err
		}
		var rest []string
		for _, fp := range fingerprints {
			if open[fp] == nil {
				rest = append(rest, fp)
			}
		}
		latest, err = t.LastResolvedAlerts(ctx, orgID, source, rest)
		return open, latest, nil, err
	}
	open, latest = make(map[string]*Alert, len(fingerprints)), make(map[string]*Alert, len(fingerprints))
	if len(fingerprints) == 0 {
		return open, latest, nil, nil
	}
	// The same lookups as OpenAlerts and LastResolvedAlerts, through the same
	// indexes; the first column says which one found the row. The open
	// episode is one index probe per fingerprint (LATERAL … LIMIT 1, which
	// the planner cannot flatten): as a semi-join, a table never analysed
	// (a fresh install, autovacuum off) was planned as a scan of every
	// firing alert of the source per delivery, 100× slower at 20k alerts.
	const q = `WITH f AS (SELECT unnest($3::text[]) AS fp),
o AS (SELECT a.* FROM f CROSS JOIN LATERAL (SELECT ` + alertCols + ` FROM alerts WHERE org_id = $1 AND source = $2 AND fingerprint = f.fp AND status = 'firing' LIMIT 1) a)
SELECT true, o.* FROM o
UNION ALL
SELECT false, ` + alertCols + ` FROM alerts WHERE id IN (SELECT (SELECT b.id FROM alerts b WHERE b.org_id = $1 AND b.source = $2 AND b.fingerprint = f.fp
AND b.status = 'resolved' ORDER BY b.last_received_at DESC, b.id DESC LIMIT 1) FROM f WHERE f.fp NOT IN (SELECT fingerprint FROM o))`
	scan := func(rows rowScanner) error {
		for rows.Next() {
			var isOpen bool
			a, err := scanAlert(prefixScanner{rows, &isOpen})
			if err != nil {
				return err
			}
			m := latest
			if isOpen {
				m = open
			}
			if m[a.Fingerprint] != nil && !isOpen {
				return errors.New("two latest episodes for one fingerprint") // cannot happen: one id per fingerprint
			}
			m[a.Fingerprint] = &a
		}
		return rows.Err()
	}
	if t.conn != nil {
		// With the statements waiting to be sent (the locks), in one round
		// trip: it runs after them, so after the locks are held.
		qs := []pgStmt{{sql: q, args: []any{orgID, source, fingerprints}, what: "find alert episodes", scan: scan}}
		found := map[string]*Incident{}
		if len(probes.Groups) > 0 {
			qs = append(qs, groupProbe(orgID, source, probes.Groups, found))
		}
		probed = &Probed{Groups: map[string]*Incident{}, Incidents: map[string]*Incident{}, Firing: map[string]int{}}
		if len(probes.Resolving) > 0 {
			qs = append(qs, resolvingProbes(orgID, source, probes.Resolving, probed)...)
		}
		if err := t.pipeline(ctx, qs, false); err != nil {
			return nil, nil, nil, err
		}
		// The group probe ran for the groups with a fingerprint not open,
		// as the look-up just before it saw them.
		for _, p := range probes.Groups {
			if open[p.Fingerprint] == nil {
				probed.Groups[p.GroupKey] = found[p.GroupKey]
			}
		}
		return open, latest, probed, nil
	}
	rows, err := t.query(ctx, q, orgID, source, fingerprints)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("find alert episodes: %w", err)
	}
	defer rows.Close()
	if err := scan(rows); err != nil {
		return nil, nil, nil, fmt.Errorf("find alert episodes: %w", err)
	}
	return open, latest, nil, nil
}

// resolvingProbes are the queries of Probes.Resolving: the incidents of the
// fingerprints' open episodes, locked in id order; then, as a statement of
// its own (so after the locks), their firing alerts counted.
func resolvingProbes(orgID, source string, fps []string, probed *Probed) []pgStmt {
	const ids = `SELECT a.incident_id FROM unnest($3::text[]) AS f(fp) CROSS JOIN LATERAL (SELECT incident_id FROM alerts
  WHERE org_id = $1 AND source = $2 AND fingerprint = f.fp AND status = 'firing' LIMIT 1) a WHERE a.incident_id IS NOT NULL`
	args := []any{orgID, source, fps}
	return []pgStmt{{
		sql:  `SELECT ` + incidentCols + incidentFrom + `WHERE i.org_id = $1 AND i.id IN (` + ids + `) ORDER BY i.id FOR UPDATE OF i`,
		args: args,
		what: "lock the incidents of resolved alerts",
		scan: func(rows rowScanner) error {
			for rows.Next() {
				in, err := scanIncident(rows)
				if err != nil {
					return err
				}
				probed.Incidents[in.ID] = &in
				probed.Firing[in.ID] = 0
			}
			return rows.Err()
		},
	}, {
		sql:  `SELECT incident_id, count(*) FROM alerts WHERE incident_id IN (` + ids + `) AND status = 'firing' GROUP BY incident_id`,
		args: args,
		what: "count the firing alerts of resolved alerts' incidents",
		scan: func(rows rowScanner) error {
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					return err
				}
				if _, ok := probed.Firing[id]; ok {
					probed.Firing[id] = n
				}
			}
			return rows.Err()
		},
	}}
}

// groupProbe is the query of Probes.Groups: the open incident
// of each group (OpenIncidentByGroupLocked's) with a fingerprint that has no
// open episode, locked; scanned into found by group key.
func groupProbe(orgID, source string, probes []GroupProbe, found map[string]*Incident) pgStmt {
	fps, keys, since := make([]string, len(probes)), make([]string, len(probes)), make([]int64, len(probes))
	for i, p := range probes {
		fps[i], keys[i], since[i] = p.Fingerprint, p.GroupKey, Micro(p.Since)
	}
	return pgStmt{
		sql: `WITH g AS (SELECT DISTINCT f.key, f.since FROM unnest($3::text[], $4::text[], $5::bigint[]) AS f(fp, key, since)
  WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.org_id = $1 AND a.source = $2 AND a.fingerprint = f.fp AND a.status = 'firing'))
SELECT g.key, x.* FROM g CROSS JOIN LATERAL (SELECT ` + incidentCols + incidentFrom + `WHERE i.org_id = $1 AND i.group_key = g.key AND i.status <> 'resolved'
  AND i.last_alert_at >= g.since ORDER BY i.last_alert_at DESC, i.id DESC LIMIT 1 FOR UPDATE OF i) x`,
		args: []any{orgID, source, fps, keys, since},
		what: "find incidents for groups",
		scan: func(rows rowScanner) error {
			for rows.Next() {
				var key string
				in, err := scanIncident(prefixScanner{rows, &key})
				if err != nil {
					return err
				}
				found[key] = &in
			}
			return rows.Err()
		},
	}
}

// prefixScanner scans one leading column into first, the rest as sc would.
type prefixScanner struct {
	sc    scanner
	first any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.sc.Scan(append([]any{p.first}, dest...)...)
}

// OpenIncidentByGroupLocked is OpenIncidentByGroup followed by
// IncidentForUpdate of the incident found, in one statement: on PostgreSQL
// the row is locked as it is read.
func (t *Tx) OpenIncidentByGroupLocked(ctx context.Context, orgID, groupKey string, since time.Time) (*Incident, error) {
	q := `SELECT ` + incidentCols + incidentFrom + `WHERE i.org_id = $1 AND i.group_key = $2 AND i.status <> 'resolved' AND i.last_alert_at >= $3 ORDER BY i.last_alert_at DESC, i.id DESC LIMIT 1`
	if t.dialect == Postgres {
		q += ` FOR UPDATE OF i`
	}
	in, err := scanIncident(t.queryRow(ctx, q, orgID, groupKey, Micro(since)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find incident for group: %w", err)
	}
	return &in, nil
}
