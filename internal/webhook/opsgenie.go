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

// Opsgenie webhooks (source "opsgenie"): one alert action per delivery,
// {"action", "alert": {"alertId", "alias", "message", "description", "tags",
// "teams", "details", "priority", "entity", "source", "tinyId", "username",
// "createdAt", "updatedAt", "note"…}, "source": {"name", "type"},
// "integrationName", "integrationId", "integrationType"}. The alert is keyed
// "opsgenie:<alertId>", or "opsgenie:<alias>" when alertId is empty.
//
// Actions (matched without regard to case) and what they become:
//
//	Create                          firing
//	Acknowledge                     firing, ActionAcknowledge
//	UnAcknowledge                   firing, ActionUnacknowledge
//	Close                           resolved (ends at updatedAt)
//	Delete                          resolved (ends at updatedAt), note "deleted"
//	AddNote                         ActionNote, note = alert.note
//	Escalate                        firing, note "escalated to <escalationNotify.name>"
//	AssignOwnership                 firing, note "assigned to <alert.owner>"
//	TakeOwnership                   firing, note "ownership taken by <alert.username>"
//
// Every other action (AddTags, RemoveTags, AddRecipient, AddTeam,
// AddResponder, AddDetails, UpdatePriority, Snooze, custom actions…) is
// ErrIgnored: it does not say whether the alert fires, and a late one on a
// closed alert must not reopen it. As for PagerDuty, an ActionNote alert is
// firing only because every alert has a status.
//
// createdAt and updatedAt are integers: Opsgenie sends milliseconds in some
// fields and nanoseconds in others (nanosecond values exceed float64
// precision and are read exactly). A value below 10^15 is taken as
// milliseconds (10^15 ms is the year 33658; 10^15 ns is 1970-01-12), anything
// larger as nanoseconds.
//
// Labels: tags (sorted, each once, joined with ","), teams (joined with ","),
// priority, entity, alias, tiny_id, source (the alert's source field) and
// integration (integrationName). The details object becomes annotations;
// values that are not strings are left out. Service and environment are read
// from details as from labels (alert.ServiceFromLabels; env, environment),
// and so are links (runbook_url or runbook, dashboard_url or grafana_url).
// Severity: priority P1 critical, P2 high, P3 warning, P4 and P5 info, else
// unknown.

// opsgenieKeyPrefix starts every Opsgenie fingerprint.
const opsgenieKeyPrefix = "opsgenie:"

// opsgenieThresholdNs separates millisecond from nanosecond times.
const opsgenieThresholdNs = 1_000_000_000_000_000

type opsgenieAction struct {
	status alert.Status
	action alert.Action
}

var opsgenieActions = map[string]opsgenieAction{
	"create":          {status: alert.StatusFiring},
	"acknowledge":     {status: alert.StatusFiring, action: alert.ActionAcknowledge},
	"unacknowledge":   {status: alert.StatusFiring, action: alert.ActionUnacknowledge},
	"close":           {status: alert.StatusResolved},
	"delete":          {status: alert.StatusResolved},
	"addnote":         {status: alert.StatusFiring, action: alert.ActionNote},
	"escalate":        {status: alert.StatusFiring},
	"assignownership": {status: alert.StatusFiring},
	"takeownership":   {status: alert.StatusFiring},
}

func opsgenieIgnored(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

func parseOpsgenie(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	action, err := root.str("action")
	if err != nil {
		return nil, err
	}
	act := strings.ToLower(strings.TrimSpace(action))
	if act == "" {
		return nil, invalidf("%s: required, a non-empty string", root.at("action"))
	}
	rule, known := opsgenieActions[act]
	if !known {
		return nil, opsgenieIgnored("Opsgenie action %q does not change the alert's status", short(action))
	}
	al, ok, err := root.obj("alert")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidf("%s: required, an object", root.at("alert"))
	}

	s := map[string]string{}
	for _, k := range []string{"alertId", "alias", "message", "description", "priority", "entity", "source", "tinyId", "username", "note", "owner"} {
		if s[k], err = al.str(k); err != nil {
			return nil, err
		}
		if k != "description" && k != "note" {
			s[k] = strings.TrimSpace(s[k])
		}
	}
	keyField := "alertId"
	if s[keyField] == "" {
		keyField = "alias"
	}
	if s[keyField] == "" {
		return nil, invalidf("%s: required (or %s), the Opsgenie alert id", al.at("alertId"), al.at("alias"))
	}
	fp := opsgenieKeyPrefix + s[keyField]
	if len(fp) > MaxKeyBytes {
		return nil, invalidf("%s: is %d bytes, at most %d", al.at(keyField), len(s[keyField]), MaxKeyBytes-len(opsgenieKeyPrefix))
	}

	tags, err := opsgenieStrings(al, "tags")
	if err != nil {
		return nil, err
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	teams, err := opsgenieStrings(al, "teams")
	if err != nil {
		return nil, err
	}
	integration, err := root.str("integrationName")
	if err != nil {
		return nil, err
	}
	labels := vendorLabels{}
	for _, kv := range []struct{ name, path, value string }{
		{"tags", al.at("tags"), strings.Join(tags, ",")},
		{"teams", al.at("teams"), strings.Join(teams, ",")},
		{"priority", al.at("priority"), s["priority"]},
		{"entity", al.at("entity"), s["entity"]},
		{"alias", al.at("alias"), s["alias"]},
		{"tiny_id", al.at("tinyId"), s["tinyId"]},
		{"source", al.at("source"), s["source"]},
		{"integration", root.at("integrationName"), integration},
	} {
		if err := labels.set(kv.path, kv.name, kv.value); err != nil {
			return nil, err
		}
	}
	details, err := opsgenieDetails(al)
	if err != nil {
		return nil, err
	}

	createdAt, err := opsgenieTime(al, "createdAt")
	if err != nil {
		return nil, err
	}
	updatedAt, err := opsgenieTime(al, "updatedAt")
	if err != nil {
		return nil, err
	}
	var endsAt time.Time
	if rule.status == alert.StatusResolved {
		endsAt = updatedAt // zero is made now by Parse
	}

	var note string
	switch act {
	case "delete":
		note = "deleted"
	case "addnote":
		note = joinNote("", s["note"], "note added")
	case "escalate":
		var to string
		notify, ok, err := root.obj("escalationNotify")
		if err != nil {
			return nil, err
		}
		if ok {
			if to, err = notify.str("name"); err != nil {
				return nil, err
			}
		}
		note = joinNote("escalated to ", to, "escalated")
	case "assignownership":
		note = joinNote("assigned to ", s["owner"], "ownership assigned")
	case "takeownership":
		note = joinNote("ownership taken by ", s["username"], "ownership taken")
	}

	var l links
	l.annotationLinks(details)

	return []alert.Alert{{
		Fingerprint: fp,
		Status:      rule.status,
		Severity:    opsgenieSeverity(s["priority"]),
		Title:       s["message"],
		Description: s["description"],
		Service:     alert.ServiceFromLabels(details),
		Environment: environment(details),
		Labels:      labels,
		Annotations: details,
		StartsAt:    createdAt,
		EndsAt:      endsAt,
		Links:       l,
		Action:      rule.action,
		Actor:       truncateRunes(s["username"], MaxTitleRunes),
		Note:        truncateBytes(note, MaxDescriptionBytes),
	}}, nil
}

// opsgenieSeverity maps Opsgenie's five priorities; anything else is unknown.
func opsgenieSeverity(priority string) alert.Severity {
	switch strings.ToUpper(priority) {
	case "P1":
		return alert.SeverityCritical
	case "P2":
		return alert.SeverityHigh
	case "P3":
		return alert.SeverityWarning
	case "P4", "P5":
		return alert.SeverityInfo
	}
	return alert.SeverityUnknown
}

// opsgenieStrings reads an array of names (tags, teams), trimmed, blanks
// left out. Opsgenie sends strings; an object item is read by its "name",
// as Opsgenie writes team and responder objects elsewhere.
func opsgenieStrings(o object, key string) ([]string, error) {
	list, _, err := o.arr(key)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, v := range list {
		p := o.at(key) + "[" + strconv.Itoa(i) + "]"
		var s string
		switch v := v.(type) {
		case string:
			if err := noNUL(p, v); err != nil {
				return nil, err
			}
			s = v
		case map[string]any:
			if s, err = (object{m: v, path: p}).str("name"); err != nil {
				return nil, err
			}
		default:
			return nil, invalidf("%s: must be a string, got %s", p, kind(v))
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// opsgenieDetails reads alert.details as annotations. Opsgenie's details are
// string to string; any other value is left out rather than refusing the
// delivery. Names and string values follow the rules for annotations.
func opsgenieDetails(al object) (map[string]string, error) {
	sub, ok, err := al.obj("details")
	if err != nil || !ok {
		return nil, err
	}
	strs := make(map[string]any, len(sub.m))
	for k, v := range sub.m {
		if s, ok := v.(string); ok {
			strs[k] = s
		}
	}
	return stringMap(object{m: map[string]any{"details": strs}, path: al.path}, "details", false)
}

// opsgenieTime reads an integer time in milliseconds or nanoseconds since
// 1970 exactly; absent, null and 0 are the zero Time.
func opsgenieTime(o object, key string) (time.Time, error) {
	switch v := o.m[key].(type) {
	case nil:
		return time.Time{}, nil
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, invalidf("%s: must be a whole number of milliseconds or nanoseconds since 1970, got %s", o.at(key), short(v.String()))
		}
		if n == 0 {
			return time.Time{}, nil
		}
		var t time.Time
		if n < opsgenieThresholdNs {
			t = time.UnixMilli(n).UTC()
		} else {
			t = time.Unix(0, n).UTC()
		}
		if t.Year() > 9999 {
			return time.Time{}, invalidf("%s: time %s is out of range", o.at(key), short(v.String()))
		}
		return t, nil
	default:
		return time.Time{}, invalidf("%s: must be a number, got %s", o.at(key), kind(v))
	}
}
