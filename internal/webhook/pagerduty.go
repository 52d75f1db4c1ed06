package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// PagerDuty v3 webhooks (source "pagerduty"). Each delivery carries one
// event, {"event": {"id", "event_type", "resource_type", "occurred_at",
// "agent", "client", "data"}}; data is the incident itself for most incident
// events, and an object referring to it ({"incident": {...}, ...}) for notes,
// status updates and responder requests. Every event of one PagerDuty
// incident becomes one alert keyed "pagerduty:<incident id>", so the whole
// PagerDuty lifecycle lands on one Aurora alert episode.
//
// Event types and what they become:
//
//	incident.triggered                  firing
//	incident.acknowledged               firing, ActionAcknowledge
//	incident.unacknowledged             firing, ActionUnacknowledge
//	incident.resolved                   resolved (ends at occurred_at)
//	incident.reopened                   firing, ActionUnacknowledge, note "reopened"
//	incident.escalated                  data.status, note "escalated to <assignees>"
//	incident.reassigned                 data.status, note "reassigned to <assignees>"
//	incident.delegated                  data.status, note "delegated to escalation policy <name>"
//	incident.priority_updated           data.status, note "priority changed to <P>"
//	incident.annotated                  ActionNote, note = data.content
//	incident.status_update_published    ActionNote, note "status update: <data.message>"
//
// data.status triggered and acknowledged are firing, resolved is resolved.
// Anything else (pagey.ping, service.*, incident.responder.*,
// incident.workflow.*, incident types PagerDuty adds later…) is ErrIgnored.
// An ActionNote alert reports no status of its own: it is firing only
// because every alert has a status, and applying the note must not change
// the incident's state.
//
// Severity is the priority's name through alert.ParseSeverity (P1 critical,
// P2 high, P3 warning, P4 and P5 info); without a recognised priority,
// urgency high is high and low is warning; otherwise unknown.

// pagerDutyKeyPrefix starts every PagerDuty fingerprint.
const pagerDutyKeyPrefix = "pagerduty:"

// pagerDutyEvent says what one event type does to the alert.
type pagerDutyEvent struct {
	status   alert.Status // "" means: read it from data.status
	action   alert.Action
	dataNote bool // data refers to the incident (data.incident) instead of being it
}

var pagerDutyEvents = map[string]pagerDutyEvent{
	"incident.triggered":               {status: alert.StatusFiring},
	"incident.acknowledged":            {status: alert.StatusFiring, action: alert.ActionAcknowledge},
	"incident.unacknowledged":          {status: alert.StatusFiring, action: alert.ActionUnacknowledge},
	"incident.resolved":                {status: alert.StatusResolved},
	"incident.reopened":                {status: alert.StatusFiring, action: alert.ActionUnacknowledge},
	"incident.escalated":               {},
	"incident.reassigned":              {},
	"incident.delegated":               {},
	"incident.priority_updated":        {},
	"incident.annotated":               {status: alert.StatusFiring, action: alert.ActionNote, dataNote: true},
	"incident.status_update_published": {status: alert.StatusFiring, action: alert.ActionNote, dataNote: true},
}

func pagerDutyIgnored(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

func parsePagerDuty(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	ev, ok, err := root.obj("event")
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, v2 := root.m["messages"]; v2 {
			return nil, invalidf("messages: this is a PagerDuty v2 webhook; Aurora reads v3 webhook subscriptions (Integrations → Generic Webhooks (v3))")
		}
		return nil, invalidf("event: required, an object (PagerDuty v3 webhook)")
	}
	eventType, err := ev.str("event_type")
	if err != nil {
		return nil, err
	}
	et := strings.ToLower(strings.TrimSpace(eventType))
	if et == "" {
		return nil, invalidf("%s: required, a non-empty string", ev.at("event_type"))
	}
	resourceType, err := ev.str("resource_type")
	if err != nil {
		return nil, err
	}
	rt := strings.ToLower(strings.TrimSpace(resourceType))
	if !strings.HasPrefix(et, "incident.") {
		return nil, pagerDutyIgnored("PagerDuty event type %q is not about an incident", short(eventType))
	}
	// The resource of incident events is the incident, notes included (their
	// data.type says incident_note); "incident_note" is accepted as well, in
	// case a sender names the note instead.
	if rt != "" && rt != "incident" && rt != "incident_note" {
		return nil, pagerDutyIgnored("PagerDuty resource type %q is not an incident", short(resourceType))
	}
	rule, known := pagerDutyEvents[et]
	if !known {
		return nil, pagerDutyIgnored("PagerDuty event type %q is not tracked", short(eventType))
	}
	// Fields common to every event, read before data so that the order of
	// errors follows the document.
	occurredAt, err := ev.time("occurred_at")
	if err != nil {
		return nil, err
	}
	var actor string
	agent, ok, err := ev.obj("agent")
	if err != nil {
		return nil, err
	}
	if ok {
		if actor, err = agent.str("summary"); err != nil {
			return nil, err
		}
	}
	data, ok, err := ev.obj("data")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidf("%s: required, an object", ev.at("data"))
	}
	inc := data
	if rule.dataNote {
		// data is an incident_note or incident_status_update; the incident
		// is a reference inside it. Should PagerDuty ever send the incident
		// itself, that serves too.
		ref, ok, err := data.obj("incident")
		if err != nil {
			return nil, err
		}
		typ, err := data.str("type")
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			inc = ref
		case strings.TrimSpace(typ) != "incident":
			return nil, invalidf("%s: required for %s, an object", data.at("incident"), et)
		}
	}

	id, err := inc.str("id")
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, invalidf("%s: required, the PagerDuty incident id", inc.at("id"))
	}
	fp := pagerDutyKeyPrefix + id
	if len(fp) > MaxKeyBytes {
		return nil, invalidf("%s: is %d bytes, at most %d", inc.at("id"), len(id), MaxKeyBytes-len(pagerDutyKeyPrefix))
	}

	f, err := pagerDutyIncident(inc)
	if err != nil {
		return nil, err
	}

	st := rule.status
	if st == "" {
		raw, err := inc.str("status")
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "triggered", "acknowledged":
			st = alert.StatusFiring
		case "resolved":
			st = alert.StatusResolved
		default:
			return nil, invalidf("%s: must be triggered, acknowledged or resolved for %s, got %q", inc.at("status"), et, short(raw))
		}
	}

	var note string
	switch et {
	case "incident.reopened":
		note = "reopened"
	case "incident.escalated":
		note = joinNote("escalated to ", f.assignees, "escalated")
	case "incident.reassigned":
		note = joinNote("reassigned to ", f.assignees, "reassigned")
	case "incident.delegated":
		note = joinNote("delegated to escalation policy ", f.escalationPolicy, "delegated")
	case "incident.priority_updated":
		note = joinNote("priority changed to ", f.priority, "priority removed")
	case "incident.annotated":
		if note, err = pagerDutyText(data, "content"); err != nil {
			return nil, err
		}
		note = joinNote("", note, "note added")
	case "incident.status_update_published":
		if note, err = pagerDutyText(data, "message"); err != nil {
			return nil, err
		}
		note = joinNote("status update: ", note, "status update published")
	}

	startsAt, err := inc.time("created_at")
	if err != nil {
		return nil, err
	}
	if startsAt.IsZero() {
		startsAt = occurredAt
	}
	var endsAt time.Time
	if st == alert.StatusResolved {
		endsAt = occurredAt // zero is made now by Parse
	}
	var l links
	l.add("pagerduty", f.htmlURL)

	return []alert.Alert{{
		Fingerprint: fp,
		Status:      st,
		Severity:    pagerDutySeverity(f.priority, f.urgency),
		Title:       first(f.title, f.summary),
		Service:     strings.TrimSpace(f.labels["service"]),
		Labels:      f.labels,
		StartsAt:    startsAt,
		EndsAt:      endsAt,
		Links:       l,
		Action:      rule.action,
		Actor:       truncateRunes(strings.TrimSpace(actor), MaxTitleRunes),
		Note:        truncateBytes(note, MaxDescriptionBytes),
	}}, nil
}

// pagerDutyFields are what an incident (or an incident reference, which has
// fewer of them) tells about the alert.
type pagerDutyFields struct {
	title, summary, htmlURL     string
	priority, urgency           string
	escalationPolicy, assignees string
	labels                      map[string]string
}

func pagerDutyIncident(inc object) (pagerDutyFields, error) {
	var f pagerDutyFields
	var err error
	for _, p := range []struct {
		key string
		dst *string
	}{{"title", &f.title}, {"summary", &f.summary}, {"html_url", &f.htmlURL}, {"urgency", &f.urgency}} {
		if *p.dst, err = inc.str(p.key); err != nil {
			return f, err
		}
	}
	service, serviceID, err := pagerDutyRef(inc, "service")
	if err != nil {
		return f, err
	}
	if f.priority, _, err = pagerDutyRef(inc, "priority"); err != nil {
		return f, err
	}
	if f.escalationPolicy, _, err = pagerDutyRef(inc, "escalation_policy"); err != nil {
		return f, err
	}
	number, err := scalarText(inc, "number")
	if err != nil {
		return f, err
	}
	teams, err := pagerDutyRefList(inc, "teams")
	if err != nil {
		return f, err
	}
	assignees, err := pagerDutyRefList(inc, "assignees")
	if err != nil {
		return f, err
	}
	f.assignees = strings.Join(assignees, ", ")
	f.priority = strings.TrimSpace(f.priority)
	f.urgency = strings.TrimSpace(f.urgency)

	labels := vendorLabels{}
	for _, kv := range []struct{ name, path, value string }{
		{"service", inc.at("service") + ".summary", service},
		{"service_id", inc.at("service") + ".id", serviceID},
		{"urgency", inc.at("urgency"), f.urgency},
		{"priority", inc.at("priority") + ".summary", f.priority},
		{"incident_number", inc.at("number"), number},
		{"escalation_policy", inc.at("escalation_policy") + ".summary", f.escalationPolicy},
		{"teams", inc.at("teams"), strings.Join(teams, ", ")},
	} {
		if err := labels.set(kv.path, kv.name, kv.value); err != nil {
			return f, err
		}
	}
	f.labels = labels
	return f, nil
}

// pagerDutyRef reads a reference object ({"id", "summary", "type", ...});
// absent or null is "".
func pagerDutyRef(o object, key string) (summary, id string, err error) {
	ref, ok, err := o.obj(key)
	if err != nil || !ok {
		return "", "", err
	}
	return pagerDutyRefFields(ref)
}

// pagerDutyRefFields reads a reference's name and id. PagerDuty names a
// reference by its summary; name is the REST API's spelling and serves when
// summary is missing.
func pagerDutyRefFields(ref object) (summary, id string, err error) {
	if summary, err = ref.str("summary"); err != nil {
		return "", "", err
	}
	name, err := ref.str("name")
	if err != nil {
		return "", "", err
	}
	if id, err = ref.str("id"); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(first(summary, name)), strings.TrimSpace(id), nil
}

// pagerDutyRefList reads an array of references as their summaries, in the
// order sent, each once.
func pagerDutyRefList(o object, key string) ([]string, error) {
	list, _, err := o.arr(key)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, v := range list {
		p := o.at(key) + "[" + strconv.Itoa(i) + "]"
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalidf("%s: must be an object, got %s", p, kind(v))
		}
		s, _, err := pagerDutyRefFields(object{m: m, path: p})
		if err != nil {
			return nil, err
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// pagerDutyText reads a note's text member, trimmed; PagerDuty sets
// "trimmed": true when it cut the text, which is then marked with "…".
func pagerDutyText(o object, key string) (string, error) {
	s, err := o.str(key)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	cut, _ := o.m["trimmed"].(bool)
	if cut && s != "" && !strings.HasSuffix(s, "…") {
		s += "…"
	}
	return s, nil
}

// pagerDutySeverity maps an incident's priority name, else its urgency.
func pagerDutySeverity(priority, urgency string) alert.Severity {
	if s := alert.ParseSeverity(priority); s != alert.SeverityUnknown {
		return s
	}
	switch strings.ToLower(urgency) {
	case "high":
		return alert.SeverityHigh
	case "low":
		return alert.SeverityWarning
	}
	return alert.SeverityUnknown
}

// joinNote is prefix+value, or fallback when value is blank.
func joinNote(prefix, value, fallback string) string {
	if strings.TrimSpace(value) == "" {
		return fallback
	}
	return prefix + strings.TrimSpace(value)
}

// scalarText reads a member that senders write as a number or a string
// (ids, counters) as text; numbers keep their JSON spelling. Absent or null
// is "".
func scalarText(o object, key string) (string, error) {
	switch v := o.m[key].(type) {
	case nil:
		return "", nil
	case json.Number:
		return v.String(), nil
	case string:
		if err := noNUL(o.at(key), v); err != nil {
			return "", err
		}
		return strings.TrimSpace(v), nil
	default:
		return "", invalidf("%s: must be a number or a string, got %s", o.at(key), kind(v))
	}
}

// vendorLabels builds labels from a sender's named fields (rather than from
// a label object): blank values are left out, and over-long values are
// refused like over-long labels, naming the field they came from.
type vendorLabels map[string]string

func (l vendorLabels) set(path, name, value string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	if len(value) > MaxValueBytes {
		return invalidf("%s: is %d bytes, at most %d", path, len(value), MaxValueBytes)
	}
	if err := noNUL(path, value); err != nil {
		return err
	}
	l[name] = value
	return nil
}
