package incident

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Outcomes of one received alert, as counted in metrics.
const (
	OutcomeNew             = "new"
	OutcomeDuplicate       = "duplicate"
	OutcomeResolved        = "resolved"
	OutcomeReopened        = "reopened"
	OutcomeResolvedUnknown = "resolved_unknown"
	OutcomeNote            = "note"    // a note from the sender, added to the timeline
	OutcomeIgnored         = "ignored" // a sender action on an alert Aurora never saw
)

// Event types of the live stream.
const (
	EventIncidentCreated      = "incident.created"
	EventIncidentUpdated      = "incident.updated"
	EventAlertReceived        = "alert.received"
	EventInvestigationUpdated = "investigation.updated"
)

// Enqueuer inserts an investigation job in the caller's transaction, so an
// incident is never stored without the job that investigates it.
type Enqueuer interface {
	// A non-nil at delays the start (rate limiting).
	EnqueueInvestigation(ctx context.Context, tx *storage.Tx, orgID, investigationID string, at *time.Time) error
}

// Config is the correlation and investigation policy.
type Config struct {
	Rules        []Rule
	ReopenWindow time.Duration
	// Investigate says which severities start an investigation automatically
	// (the default policy; an integration may set its own).
	Investigate map[alert.Severity]bool
	// RateLimit caps investigations started per org per minute; the rest
	// wait in the queue (marked rate_limited), none is dropped. 0: no cap.
	RateLimit int
}

// Policy says which new incidents start an investigation. An integration
// may carry its own; otherwise Config.Investigate applies.
type Policy struct {
	Severities map[alert.Severity]bool
	// SkipAcknowledged leaves alone incidents someone already acknowledged
	// in the sending tool when they reached Aurora.
	SkipAcknowledged bool
}

// Service ingests alerts.
type Service struct {
	Store *storage.Store
	Cfg   Config
	Jobs  Enqueuer
	// Notify wakes live-event listeners after a commit that wrote events.
	Notify func(orgID string)
	Now    func() time.Time

	// perStatement turns off the batched lookups and writes of a delivery
	// (one statement per lookup and write, as before they existed); tests
	// compare the two.
	perStatement bool
}

// Request is one webhook delivery, parsed.
type Request struct {
	OrgID         string
	IntegrationID string
	Source        string
	ContentType   string
	Body          []byte
	Alerts        []alert.Alert
	// Policy overrides the default investigation policy (nil: default).
	Policy *Policy
}

// Result says what became of a delivery.
type Result struct {
	Accepted    int            `json:"accepted"`
	AlertIDs    []string       `json:"alert_ids"`
	IncidentIDs []string       `json:"incident_ids"`
	Outcomes    map[string]int `json:"-"`
	// NewIncidents counts incidents created by this delivery.
	NewIncidents int `json:"-"`
}

// Ingest stores a delivery in one transaction: the raw payload, every alert
// episode, incident changes, timeline, events and investigation jobs. If any
// of it fails nothing is stored, and the caller answers 5xx so the sender
// retries.
func (s *Service) Ingest(ctx context.Context, req Request) (Result, error) {
	var res Result
	var err error
	// On SQLite the transaction runs on the single writer, which every
	// other delivery waits for: labels and annotations are encoded before
	// it. On PostgreSQL they are encoded in the transaction, and only for
	// the alerts it stores: a re-delivered alert never uses them.
	var enc map[*alert.Alert]*storage.AlertFields
	if s.Store.DB.Dialect == storage.SQLite {
		enc = make(map[*alert.Alert]*storage.AlertFields, len(req.Alerts))
		for i := range req.Alerts {
			a := &req.Alerts[i]
			enc[a] = storage.EncodeAlertFields(a.Labels, a.Annotations, a.Links)
		}
	}
	// Each alert's correlation rule and group key, and the keys to lock,
	// are worked out before the transaction too (they depend only on the
	// alert); the advisory locks exist only on PostgreSQL.
	pre := prepared{matches: make(map[*alert.Alert]match, len(req.Alerts))}
	seen := map[int64]bool{}
	for i := range req.Alerts {
		a := &req.Alerts[i]
		m := selectRule(s.Cfg.Rules, a)
		pre.matches[a] = m
		if s.Store.DB.Dialect != storage.Postgres {
			continue
		}
		for _, k := range []string{"fp\x00" + req.OrgID + "\x00" + a.Source + "\x00" + a.Fingerprint, "grp\x00" + req.OrgID + "\x00" + m.groupKey} {
			if lk := lockKey(k); !seen[lk] {
				seen[lk] = true
				pre.locks = append(pre.locks, lk)
			}
		}
	}
	slices.Sort(pre.locks)
	for attempt := 0; attempt < 3; attempt++ {
		var wrote bool
		// Concurrent deliveries may share a transaction (SQLite); each is
		// answered only after the transaction that stores it committed.
		wrote, err = s.Store.InTxGrouped(ctx, func(tx *storage.Tx) error {
			var e error
			res, e = s.ingestTx(ctx, tx, req, enc, pre)
			return e
		})
		if err == nil {
			if wrote && s.Notify != nil {
				s.Notify(req.OrgID)
			}
			return res, nil
		}
		// A racing replica inserted the same open episode first; the retry
		// sees it and de-duplicates.
		if !storage.IsUniqueViolation(err) {
			break
		}
	}
	return Result{}, fmt.Errorf("ingest %s alerts: %w", req.Source, err)
}

type ingestTx struct {
	s         *Service
	tx        *storage.Tx
	req       Request
	enc       map[*alert.Alert]*storage.AlertFields // each alert's labels, annotations and links, encoded
	matches   map[*alert.Alert]match                // each alert's rule and group key
	now       time.Time
	rawID     string
	incidents map[string]*storage.Incident // touched in this tx, by id
	created   map[string]bool
	changed   map[string]bool
	// counted holds the incidents whose firing alerts were counted in this
	// transaction (see alertResolved).
	counted map[string]bool
	// open and latest hold each fingerprint's open and latest episodes,
	// looked up for the whole delivery at once (nil: look up per alert).
	open, latest map[episodeKey]*storage.Alert
	// groups holds, by group key, the open incident (or nil) of the groups
	// new episodes may join, looked up with the episodes where the store
	// can (see storage.Tx.EpisodesAndProbes); a key not in it is looked up
	// when needed. locked holds the incidents of the alerts the delivery
	// resolves, looked up the same way, and firing their firing alerts
	// then.
	groups map[string]*storage.Incident
	locked map[string]*storage.Incident
	firing map[string]int
}

// episodeKey names a fingerprint's episodes.
type episodeKey struct{ source, fingerprint string }

// prepared is what Ingest works out about a delivery before its
// transaction.
type prepared struct {
	matches map[*alert.Alert]match // each alert's rule and group key
	locks   []int64                // sorted advisory lock keys (PostgreSQL)
}

func (s *Service) ingestTx(ctx context.Context, tx *storage.Tx, req Request, enc map[*alert.Alert]*storage.AlertFields, pre prepared) (Result, error) {
	now := s.Now().UTC()
	// Lock every fingerprint and group key this delivery touches.
	locks := pre.locks
	var rawID string
	var err error
	if s.perStatement {
		if err = tx.LockKeys(ctx, locks); err == nil {
			rawID, err = tx.InsertRawPayload(ctx, req.OrgID, req.IntegrationID, req.Source, req.ContentType, req.Body, len(req.Alerts), now)
		}
	} else {
		rawID, err = tx.LockAndInsertRawPayload(ctx, locks, req.OrgID, req.IntegrationID, req.Source, req.ContentType, req.Body, len(req.Alerts), now)
	}
	if err != nil {
		return Result{}, err
	}
	it := &ingestTx{s: s, tx: tx, req: req, enc: enc, matches: pre.matches, now: now, rawID: rawID,
		incidents: map[string]*storage.Incident{}, created: map[string]bool{}, changed: map[string]bool{}, counted: map[string]bool{}}
	if err := it.lookUpEpisodes(ctx); err != nil {
		return Result{}, err
	}
	res := Result{AlertIDs: make([]string, 0, len(req.Alerts)), IncidentIDs: []string{}, Outcomes: map[string]int{}}
	incSeen := map[string]bool{}
	for i := range req.Alerts {
		stored, outcome, err := it.one(ctx, &req.Alerts[i])
		if err != nil {
			return Result{}, fmt.Errorf("alert %d (%s): %w", i, req.Alerts[i].Fingerprint, err)
		}
		res.Outcomes[outcome]++
		if stored == nil {
			continue
		}
		res.Accepted++
		res.AlertIDs = append(res.AlertIDs, stored.ID)
		if stored.IncidentID != "" && !incSeen[stored.IncidentID] {
			incSeen[stored.IncidentID] = true
			res.IncidentIDs = append(res.IncidentIDs, stored.IncidentID)
		}
		if err := tx.InsertEvent(ctx, req.OrgID, EventAlertReceived, stored); err != nil {
			return Result{}, err
		}
	}
	// Write each touched incident once, then its event.
	ids := slices.Sorted(maps.Keys(it.incidents))
	save := make([]*storage.Incident, 0, len(ids))
	for _, id := range ids {
		inc := it.incidents[id]
		if !it.changed[id] && !it.created[id] {
			continue
		}
		if s.perStatement {
			if err := tx.SaveIncident(ctx, inc); err != nil {
				return Result{}, err
			}
		} else {
			save = append(save, inc)
		}
		typ := EventIncidentUpdated
		if it.created[id] {
			typ = EventIncidentCreated
			res.NewIncidents++
		}
		if err := tx.InsertEvent(ctx, req.OrgID, typ, inc); err != nil {
			return Result{}, err
		}
	}
	// Batched, the incidents are written last, with every queued row and
	// (on PostgreSQL) the events, in one statement.
	if !s.perStatement {
		if err := tx.SaveIncidents(ctx, save); err != nil {
			return Result{}, err
		}
	}
	// The queued rows are written at commit (on PostgreSQL in the same
	// round trip as COMMIT).
	return res, nil
}

// lookUpEpisodes finds the open and latest episodes of every fingerprint of
// the delivery in two queries, instead of two per alert. It does so only when
// no fingerprint occurs twice: then each alert's lookups run before anything
// of its fingerprint is written in this transaction, so they find exactly
// what the per-alert queries would. A delivery that repeats a fingerprint
// (a later alert must see what the earlier one wrote) looks up per alert.
func (it *ingestTx) lookUpEpisodes(ctx context.Context) error {
	if it.s.perStatement {
		return nil
	}
	bySource := map[string][]string{}
	resolving := map[string][]string{}
	probes := map[string][]storage.GroupProbe{}
	since := map[string]time.Time{}
	probe := true
	seen := make(map[episodeKey]bool, len(it.req.Alerts))
	for i := range it.req.Alerts {
		a := &it.req.Alerts[i]
		k := episodeKey{a.Source, a.Fingerprint}
		if seen[k] {
			return nil
		}
		seen[k] = true
		bySource[a.Source] = append(bySource[a.Source], a.Fingerprint)
		if a.Status == alert.StatusResolved {
			resolving[a.Source] = append(resolving[a.Source], a.Fingerprint)
		}
		// The group a new episode of this fingerprint would look for
		// (groupIncident), probed in the same round trip.
		m, ok := it.matches[a]
		if !ok {
			probe = false
			continue
		}
		at := it.now.Add(-m.rule.Window)
		if t, ok := since[m.groupKey]; ok && !t.Equal(at) {
			probe = false // one time per group key
		}
		since[m.groupKey] = at
		probes[a.Source] = append(probes[a.Source], storage.GroupProbe{Fingerprint: a.Fingerprint, GroupKey: m.groupKey, Since: at})
	}
	open := make(map[episodeKey]*storage.Alert, len(seen))
	latest := make(map[episodeKey]*storage.Alert, len(seen))
	var groups, locked map[string]*storage.Incident
	var firing map[string]int
	for source, fps := range bySource {
		ps := storage.Probes{Resolving: resolving[source]}
		if probe {
			ps.Groups = probes[source]
		}
		// The latest episode is looked up only where none is open.
		o, l, p, err := it.tx.EpisodesAndProbes(ctx, it.req.OrgID, source, fps, ps)
		if err != nil {
			return err
		}
		if p != nil {
			if groups == nil {
				groups, locked, firing = map[string]*storage.Incident{}, map[string]*storage.Incident{}, map[string]int{}
			}
			maps.Copy(groups, p.Groups)
			maps.Copy(locked, p.Incidents)
			maps.Copy(firing, p.Firing)
		}
		for fp, a := range o {
			open[episodeKey{source, fp}] = a
		}
		for fp, a := range l {
			latest[episodeKey{source, fp}] = a
		}
	}
	it.open, it.latest, it.groups, it.locked, it.firing = open, latest, groups, locked, firing
	return nil
}

// addAlert stores a new episode. Batched, the row is queued and written
// with the transaction's next statement, merged with the rows queued next
// to it (see storage.Tx.QueueAlert).
func (it *ingestTx) addAlert(ctx context.Context, st *storage.Alert) error {
	if it.s.perStatement {
		return it.tx.InsertAlert(ctx, st)
	}
	it.tx.QueueAlert(st)
	return nil
}

// touch records a re-delivery of an episode; batched, the update is written
// with the transaction's next statement (see storage.Tx.QueueTouch).
func (it *ingestTx) touch(ctx context.Context, a *storage.Alert) error {
	if it.s.perStatement {
		return it.tx.TouchAlert(ctx, a, it.now)
	}
	return it.tx.QueueTouch(ctx, a, it.now)
}

// resolve closes an episode, queued like touch.
func (it *ingestTx) resolve(ctx context.Context, a *storage.Alert, endsAt time.Time) error {
	if it.s.perStatement {
		return it.tx.ResolveAlert(ctx, a, endsAt, it.now)
	}
	return it.tx.QueueResolve(ctx, a, endsAt, it.now)
}

// addTimeline appends to an incident's timeline, queued like addAlert.
func (it *ingestTx) addTimeline(ctx context.Context, incidentID, kind, msg string, data map[string]any) error {
	if it.s.perStatement {
		return it.tx.InsertTimeline(ctx, it.req.OrgID, incidentID, kind, msg, data, it.now)
	}
	it.tx.QueueTimeline(it.req.OrgID, incidentID, kind, msg, data, it.now)
	return nil
}

// openAlert is tx.OpenAlert, answered from lookUpEpisodes when it ran.
func (it *ingestTx) openAlert(ctx context.Context, a *alert.Alert) (*storage.Alert, error) {
	if it.open == nil {
		return it.tx.OpenAlert(ctx, it.req.OrgID, a.Source, a.Fingerprint)
	}
	return it.open[episodeKey{a.Source, a.Fingerprint}], nil
}

// latestAlert is tx.LastResolvedAlert, answered from lookUpEpisodes when it ran.
// It is asked only when no episode is open, as lookUpEpisodes assumes.
func (it *ingestTx) latestAlert(ctx context.Context, a *alert.Alert) (*storage.Alert, error) {
	if it.latest == nil {
		return it.tx.LastResolvedAlert(ctx, it.req.OrgID, a.Source, a.Fingerprint)
	}
	return it.latest[episodeKey{a.Source, a.Fingerprint}], nil
}

// one applies a single alert: its status, then any action the sender
// reports (acknowledged, unacknowledged) on its incident. A note changes no
// status at all. It returns nil for a note on an alert never seen.
func (it *ingestTx) one(ctx context.Context, a *alert.Alert) (*storage.Alert, string, error) {
	if a.Action == alert.ActionNote {
		return it.note(ctx, a)
	}
	st, outcome, err := it.status(ctx, a)
	if err != nil || st.IncidentID == "" {
		return st, outcome, err
	}
	return st, outcome, it.senderAction(ctx, a, st)
}

// actor names who acted, for the timeline.
func actor(a *alert.Alert) string {
	if a.Actor != "" {
		return a.Actor + " (" + a.Source + ")"
	}
	return a.Source
}

// note adds a sender's note to the timeline of the alert's incident.
func (it *ingestTx) note(ctx context.Context, a *alert.Alert) (*storage.Alert, string, error) {
	ep, err := it.openAlert(ctx, a)
	if err == nil && ep == nil {
		ep, err = it.latestAlert(ctx, a)
	}
	if err != nil {
		return nil, "", err
	}
	if ep == nil || ep.IncidentID == "" {
		return nil, OutcomeIgnored, nil
	}
	inc, err := it.incident(ctx, ep.IncidentID)
	if err != nil {
		return nil, "", err
	}
	inc.UpdatedAt = it.now
	it.changed[inc.ID] = true
	text := a.Note
	if text == "" {
		text = "(empty note)"
	}
	return ep, OutcomeNote, it.addTimeline(ctx, inc.ID, "note", "Note by "+actor(a)+": "+text, map[string]any{"alert_id": ep.ID, "actor": a.Actor})
}

// senderAction applies an acknowledgement (or its withdrawal) made in the
// sending tool to the incident, and records the sender's event note.
func (it *ingestTx) senderAction(ctx context.Context, a *alert.Alert, st *storage.Alert) error {
	if a.Action == alert.ActionNone && a.Note == "" {
		return nil
	}
	inc, err := it.incident(ctx, st.IncidentID)
	if err != nil {
		return err
	}
	data := map[string]any{"alert_id": st.ID, "actor": a.Actor}
	switch {
	case a.Action == alert.ActionAcknowledge && inc.Status == storage.IncidentOpen:
		inc.Status, inc.AcknowledgedAt, inc.UpdatedAt = storage.IncidentAcknowledged, &it.now, it.now
		it.changed[inc.ID] = true
		return it.addTimeline(ctx, inc.ID, "acknowledged", "Acknowledged by "+actor(a), data)
	case a.Action == alert.ActionUnacknowledge && inc.Status == storage.IncidentAcknowledged:
		inc.Status, inc.AcknowledgedAt, inc.UpdatedAt = storage.IncidentOpen, nil, it.now
		it.changed[inc.ID] = true
		msg := "Acknowledgement withdrawn by " + actor(a)
		if a.Note != "" {
			msg += ": " + a.Note
		}
		return it.addTimeline(ctx, inc.ID, "unacknowledged", msg, data)
	case a.Note != "":
		inc.UpdatedAt = it.now
		it.changed[inc.ID] = true
		return it.addTimeline(ctx, inc.ID, "sender_event", a.Source+": "+a.Note, data)
	}
	return nil
}

// status applies an alert's firing or resolved status.
func (it *ingestTx) status(ctx context.Context, a *alert.Alert) (*storage.Alert, string, error) {
	tx, org := it.tx, it.req.OrgID
	open, err := it.openAlert(ctx, a)
	if err != nil {
		return nil, "", err
	}
	if a.Status == alert.StatusResolved {
		if open != nil {
			endsAt := a.EndsAt
			if endsAt.IsZero() {
				endsAt = it.now
			}
			if err := it.resolve(ctx, open, endsAt); err != nil {
				return nil, "", err
			}
			if open.IncidentID != "" {
				if err := it.alertResolved(ctx, open); err != nil {
					return nil, "", err
				}
			}
			return open, OutcomeResolved, nil
		}
		latest, err := it.latestAlert(ctx, a)
		if err != nil {
			return nil, "", err
		}
		if latest != nil {
			// The resolve was delivered again.
			return latest, OutcomeDuplicate, it.touch(ctx, latest)
		}
		// A resolve for an alert never seen firing (e.g. Aurora was
		// connected after it fired): kept for the record, no incident.
		st := it.newRecord(a)
		st.Status = string(alert.StatusResolved)
		end := a.EndsAt
		if end.IsZero() {
			end = it.now
		}
		st.EndsAt = &end
		st.CorrelationRule = "none"
		st.CorrelationReason = "resolved alert never seen firing; not attached to an incident"
		return st, OutcomeResolvedUnknown, it.addAlert(ctx, st)
	}

	// Firing.
	if open != nil {
		return open, OutcomeDuplicate, it.touch(ctx, open)
	}
	latest, err := it.latestAlert(ctx, a)
	if err != nil {
		return nil, "", err
	}
	if latest != nil && !a.StartsAt.IsZero() && latest.StartsAt.Equal(a.StartsAt) && latest.Status == string(alert.StatusResolved) {
		// A late retry of the firing notification of an episode that has
		// since resolved (same start time): not a new episode.
		return latest, OutcomeDuplicate, it.touch(ctx, latest)
	}
	st := it.newRecord(a)
	outcome := OutcomeNew
	if latest != nil && latest.IncidentID != "" {
		inc, err := it.incident(ctx, latest.IncidentID)
		if err != nil {
			return nil, "", err
		}
		if inc.Status == storage.IncidentResolved && inc.ResolvedAt != nil && it.now.Sub(*inc.ResolvedAt) <= it.s.Cfg.ReopenWindow {
			st.CorrelationRule = "reopen"
			st.CorrelationReason = fmt.Sprintf("same fingerprint %s fired again %s after its incident resolved (reopen window %s)",
				a.Fingerprint, it.now.Sub(*inc.ResolvedAt).Round(time.Second), it.s.Cfg.ReopenWindow)
			st.IncidentID = inc.ID
			if err := it.addAlert(ctx, st); err != nil {
				return nil, "", err
			}
			inc.Status, inc.ResolvedAt, inc.AcknowledgedAt = storage.IncidentOpen, nil, nil
			if err := it.attach(ctx, inc, st, "reopened", "Incident reopened: "+st.Title+" fired again"); err != nil {
				return nil, "", err
			}
			return st, OutcomeReopened, nil
		}
		if inc.Status != storage.IncidentResolved {
			// The previous episode's incident is still open (e.g. other
			// alerts keep it firing): the new episode belongs there.
			st.CorrelationRule = "same-fingerprint"
			st.CorrelationReason = fmt.Sprintf("same fingerprint %s as an earlier alert of this open incident", a.Fingerprint)
			st.IncidentID = inc.ID
			if err := it.addAlert(ctx, st); err != nil {
				return nil, "", err
			}
			return st, outcome, it.attach(ctx, inc, st, "alert_added", "Alert fired again: "+st.Title)
		}
	}
	m, ok := it.matches[a]
	if !ok {
		m = selectRule(it.s.Cfg.Rules, a)
	}
	inc, err := it.groupIncident(ctx, m)
	if err != nil {
		return nil, "", err
	}
	if inc != nil {
		st.CorrelationRule = m.rule.Name
		st.CorrelationReason = fmt.Sprintf("same %s as the incident, whose latest alert was %s ago (window %s)",
			joinVals(m.values), it.now.Sub(inc.LastAlertAt).Round(time.Second), m.rule.Window)
		st.IncidentID = inc.ID
		if err := it.addAlert(ctx, st); err != nil {
			return nil, "", err
		}
		return st, outcome, it.attach(ctx, inc, st, "alert_added", "Alert grouped into incident: "+st.Title)
	}
	// A new incident.
	inc = &storage.Incident{OrgID: org, Status: storage.IncidentOpen, Severity: string(a.Severity), Title: st.Title, Service: a.Service,
		Namespace: a.Namespace, AlertName: a.Name, GroupKey: m.groupKey, CorrelationRule: m.rule.Name, AlertCount: 1, FiringCount: 1,
		CreatedAt: it.now, UpdatedAt: it.now, LastAlertAt: it.now}
	if it.s.perStatement {
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return nil, "", err
		}
	} else {
		// Written with the transaction's next statement, as it is then.
		tx.QueueIncident(inc)
	}
	it.incidents[inc.ID], it.created[inc.ID] = inc, true
	st.IncidentID = inc.ID
	st.CorrelationRule = m.rule.Name
	st.CorrelationReason = fmt.Sprintf("first alert of a new incident (no open incident with %s in the last %s)", joinVals(m.values), m.rule.Window)
	if err := it.addAlert(ctx, st); err != nil {
		return nil, "", err
	}
	if err := it.addTimeline(ctx, inc.ID, "created", "Incident opened by "+a.Source+" alert: "+st.Title,
		map[string]any{"alert_id": st.ID, "rule": m.rule.Name}); err != nil {
		return nil, "", err
	}
	pol := Policy{Severities: it.s.Cfg.Investigate}
	if it.req.Policy != nil {
		pol = *it.req.Policy
	}
	skip := ""
	switch {
	case !pol.Severities[alert.Severity(inc.Severity)]:
		skip = fmt.Sprintf("No automatic investigation: severity %s is not in the configured list", inc.Severity)
	case pol.SkipAcknowledged && a.Action == alert.ActionAcknowledge:
		skip = "No automatic investigation: already acknowledged at " + a.Source + " (integration setting)"
	}
	if skip == "" {
		if err := it.s.StartInvestigation(ctx, tx, inc, "alert", it.now); err != nil {
			return nil, "", err
		}
	} else if err := it.addTimeline(ctx, inc.ID, "investigation_skipped", skip, nil); err != nil {
		return nil, "", err
	}
	return st, outcome, nil
}

func joinVals(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func (it *ingestTx) newRecord(a *alert.Alert) *storage.Alert {
	starts := a.StartsAt
	if starts.IsZero() {
		starts = it.now
	}
	st := &storage.Alert{OrgID: it.req.OrgID, Source: a.Source, IntegrationID: it.req.IntegrationID, Fingerprint: a.Fingerprint,
		Status: string(alert.StatusFiring), Severity: string(a.Severity), Name: a.Name, Title: a.Title, Description: a.Description,
		Service: a.Service, Environment: a.Environment, Namespace: a.Namespace, Labels: a.Labels, Annotations: a.Annotations, Links: a.Links,
		StartsAt: starts, FirstReceivedAt: it.now, LastReceivedAt: it.now, ReceivedCount: 1, RawPayloadID: it.rawID}
	if f := it.enc[a]; f != nil {
		st.SetEncoded(f)
	}
	return st
}

// incident loads an incident once per transaction.
func (it *ingestTx) incident(ctx context.Context, id string) (*storage.Incident, error) {
	if inc, ok := it.incidents[id]; ok {
		return inc, nil
	}
	if inc := it.locked[id]; inc != nil {
		return it.hold(inc), nil
	}
	inc, err := it.tx.IncidentForUpdate(ctx, it.req.OrgID, id)
	if err != nil {
		return nil, err
	}
	return it.hold(inc), nil
}

// hold keeps an incident this transaction loaded (and locked); the copy it
// already holds wins. An incident whose firing alerts were counted with the
// episodes starts from that count, kept from then on as alerts attach and
// resolve (see alertResolved): the count an alertResolved would make now,
// since only this transaction can have changed them and it did so through
// attach and alertResolved.
func (it *ingestTx) hold(inc *storage.Incident) *storage.Incident {
	if held, ok := it.incidents[inc.ID]; ok {
		return held
	}
	if n, ok := it.firing[inc.ID]; ok {
		inc.FiringCount = n
		it.counted[inc.ID] = true
	}
	it.incidents[inc.ID] = inc
	return inc
}

func (it *ingestTx) groupIncident(ctx context.Context, m match) (*storage.Incident, error) {
	// An incident created earlier in this same delivery.
	for _, inc := range it.incidents {
		if inc.GroupKey == m.groupKey && inc.Status != storage.IncidentResolved && it.now.Sub(inc.LastAlertAt) <= m.rule.Window {
			return inc, nil
		}
	}
	if it.s.perStatement {
		found, err := it.tx.OpenIncidentByGroup(ctx, it.req.OrgID, m.groupKey, it.now.Add(-m.rule.Window))
		if err != nil || found == nil {
			return nil, err
		}
		return it.incident(ctx, found.ID)
	}
	// Found and locked in one statement (or with the episodes: the same
	// answer, as only this transaction could have changed the group since,
	// and what it created is found above); the copy this transaction
	// already holds (and may have changed) wins, as it.incident would have
	// it.
	found, probed := it.groups[m.groupKey]
	if !probed {
		var err error
		found, err = it.tx.OpenIncidentByGroupLocked(ctx, it.req.OrgID, m.groupKey, it.now.Add(-m.rule.Window))
		if err != nil {
			return nil, err
		}
	}
	if found == nil {
		return nil, nil
	}
	return it.hold(found), nil
}

// attach adds a new episode to an incident.
func (it *ingestTx) attach(ctx context.Context, inc *storage.Incident, st *storage.Alert, kind, msg string) error {
	inc.AlertCount++
	inc.FiringCount++
	inc.LastAlertAt, inc.UpdatedAt = it.now, it.now
	it.changed[inc.ID] = true
	data := map[string]any{"alert_id": st.ID, "rule": st.CorrelationRule, "reason": st.CorrelationReason}
	if alert.Severity(st.Severity).Rank() > alert.Severity(inc.Severity).Rank() {
		data["severity_from"] = inc.Severity
		inc.Severity = st.Severity
		msg += " (severity raised to " + st.Severity + ")"
	}
	return it.addTimeline(ctx, inc.ID, kind, msg, data)
}

// alertResolved updates an incident after one of its alerts resolved.
func (it *ingestTx) alertResolved(ctx context.Context, a *storage.Alert) error {
	inc, err := it.incident(ctx, a.IncidentID)
	if err != nil {
		return err
	}
	// The incident's firing alerts are counted once per transaction, after
	// its row was locked (so only this transaction changes them), with this
	// transaction's writes so far; from then on its count is kept here as
	// alerts attach (attach) and resolve (below). Per statement, counted
	// after every resolve, as before batching.
	var n int
	if it.counted[inc.ID] {
		n = inc.FiringCount - 1
	} else {
		if n, err = it.tx.FiringCount(ctx, inc.ID); err != nil {
			return err
		}
		if !it.s.perStatement {
			it.counted[inc.ID] = true
		}
	}
	inc.FiringCount, inc.UpdatedAt = n, it.now
	it.changed[inc.ID] = true
	if err := it.addTimeline(ctx, inc.ID, "alert_resolved", "Alert resolved: "+a.Title, map[string]any{"alert_id": a.ID}); err != nil {
		return err
	}
	if n == 0 && inc.Status != storage.IncidentResolved {
		inc.Status = storage.IncidentResolved
		inc.ResolvedAt = &it.now
		return it.addTimeline(ctx, inc.ID, "resolved", "Incident resolved: all its alerts resolved", nil)
	}
	return nil
}

// StartInvestigation records a queued investigation for an incident and
// enqueues its job in tx.
func (s *Service) StartInvestigation(ctx context.Context, tx *storage.Tx, inc *storage.Incident, trigger string, now time.Time) error {
	if s.Jobs == nil {
		return errors.New("no job queue configured")
	}
	var at *time.Time
	if lim := s.Cfg.RateLimit; lim > 0 {
		// At most lim start in any minute: this one starts no sooner than a
		// minute after the lim-th latest start. Starts are handed out in
		// order, so none of the lim-1 later ones falls in the minute before
		// it, and none after it (each later start is at least this one).
		// A burst's first lim start now, the next lim a minute after the
		// first of them, and so on; a storm that lasts keeps that pace.
		last, ok, err := tx.InvestigationStartAt(ctx, inc.OrgID, lim)
		if err != nil {
			return err
		}
		if t := last.Add(time.Minute); ok && t.After(now) {
			at = &t
		}
	}
	var v storage.Investigation
	if s.perStatement {
		var err error
		if v, err = tx.InsertInvestigation(ctx, inc.OrgID, inc.ID, trigger, now, at); err != nil {
			return err
		}
	} else {
		// Written with the transaction's next statement (or at commit).
		v = tx.QueueInvestigation(inc.OrgID, inc.ID, trigger, now, at)
	}
	inc.Investigation = &storage.InvestigationRef{ID: v.ID, Status: v.Status}
	if err := s.Jobs.EnqueueInvestigation(ctx, tx, inc.OrgID, v.ID, at); err != nil {
		return fmt.Errorf("enqueue investigation: %w", err)
	}
	msg := "Investigation queued (" + trigger + ")"
	if at != nil {
		msg = fmt.Sprintf("Investigation queued (%s); rate limited: starts at %s", trigger, at.Format(time.RFC3339))
	}
	data := map[string]any{"investigation_id": v.ID, "rate_limited": at != nil}
	if s.perStatement {
		if err := tx.InsertTimeline(ctx, inc.OrgID, inc.ID, "investigation_queued", msg, data, now); err != nil {
			return err
		}
	} else {
		tx.QueueTimeline(inc.OrgID, inc.ID, "investigation_queued", msg, data, now)
	}
	return tx.InsertEvent(ctx, inc.OrgID, EventInvestigationUpdated, v)
}
