package webhook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// New Relic
//
// New Relic workflows send one issue per body, in the workflow's default
// webhook payload: id (the issue id), issueUrl, title, priority,
// impactedEntities, totalIncidents, state, trigger, isCorrelated, createdAt,
// updatedAt, sources, alertPolicyNames, alertConditionNames, workflowName.
//
// The fingerprint is "newrelic:<id>" (the id from issueUrl's /issues/<id>
// when id is empty). state: CREATED and ACTIVATED fire, ACKNOWLEDGED fires
// with alert.ActionAcknowledge, CLOSED resolves, in any case; another
// state (e.g. DEACTIVATED) is ErrIgnored, a missing one ErrInvalid.
// priority: CRITICAL critical, HIGH high, MEDIUM warning, LOW info, else
// unknown. Title: title, which may also be an array of strings or a string
// holding a JSON array (templates that render annotations.title whole);
// the first non-empty entry is taken; else the first condition name. Name
// is the first condition name, else the title. Service is the first
// impacted entity. Labels: policy, condition, entities and sources (lists
// joined by ", "), workflow, priority and state; annotations: trigger,
// total_incidents and correlated. issueUrl is the "newrelic" link.
// createdAt (epoch milliseconds, a number or a string of digits) is the
// start; for CLOSED, updatedAt is the end. An optional acknowledgedBy
// (added to the template) is the Actor of an acknowledgement. Lists take
// strings, numbers and booleans (as their JSON text); a single string
// counts as a one-item list. Labels built from lists are cut to
// MaxValueBytes rather than refused: they are not the alert's identity.

// parseNewRelic reads a New Relic workflow webhook (see the comment at the
// top of this file).
func parseNewRelic(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	for _, k := range []string{"id", "issueUrl", "priority", "state", "trigger", "workflowName", "totalIncidents", "isCorrelated", "acknowledgedBy"} {
		v, err := nrScalar(root, k)
		if err != nil {
			return nil, err
		}
		f[k] = strings.TrimSpace(v)
	}
	lists := map[string][]string{}
	for _, k := range []string{"title", "impactedEntities", "sources", "alertPolicyNames", "alertConditionNames"} {
		if lists[k], err = nrList(root, k); err != nil {
			return nil, err
		}
	}
	createdAt, err := nrMillis(root, "createdAt")
	if err != nil {
		return nil, err
	}
	updatedAt, err := nrMillis(root, "updatedAt")
	if err != nil {
		return nil, err
	}
	id := f["id"]
	if id == "" {
		id = nrIssueID(f["issueUrl"])
	}
	if id == "" {
		return nil, invalidf("id: required, the New Relic issue id ({{issueId}})")
	}

	a := alert.Alert{
		Fingerprint: ddKey("newrelic:", id),
		Severity:    nrSeverity(f["priority"]),
		StartsAt:    createdAt,
	}
	switch strings.ToUpper(f["state"]) {
	case "CREATED", "ACTIVATED":
		a.Status = alert.StatusFiring
	case "ACKNOWLEDGED":
		a.Status = alert.StatusFiring
		a.Action = alert.ActionAcknowledge
		a.Actor = truncateRunes(f["acknowledgedBy"], MaxTitleRunes)
	case "CLOSED":
		a.Status = alert.StatusResolved
		a.EndsAt = updatedAt
	case "":
		return nil, invalidf("state: required, one of CREATED, ACTIVATED, ACKNOWLEDGED, CLOSED")
	default:
		return nil, nrIgnored("state %q: not one Aurora acts on (it reads CREATED, ACTIVATED, ACKNOWLEDGED, CLOSED)", short(f["state"]))
	}

	conditions := lists["alertConditionNames"]
	entities := lists["impactedEntities"]
	a.Title = first(nrFirst(lists["title"]), nrFirst(conditions))
	a.Name = nrFirst(conditions)
	a.Service = truncateBytes(nrFirst(entities), MaxValueBytes)
	labels := map[string]string{}
	ddSet(labels, "policy", strings.Join(lists["alertPolicyNames"], ", "))
	ddSet(labels, "condition", strings.Join(conditions, ", "))
	ddSet(labels, "entities", strings.Join(entities, ", "))
	ddSet(labels, "sources", strings.Join(lists["sources"], ", "))
	ddSet(labels, "workflow", f["workflowName"])
	ddSet(labels, "priority", f["priority"])
	ddSet(labels, "state", f["state"])
	annotations := map[string]string{}
	ddSet(annotations, "trigger", f["trigger"])
	ddSet(annotations, "total_incidents", f["totalIncidents"])
	ddSet(annotations, "correlated", f["isCorrelated"])
	a.Labels, a.Annotations = labels, annotations
	var l links
	l.add("newrelic", f["issueUrl"])
	a.Links = l
	return []alert.Alert{a}, nil
}

func nrIgnored(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

func nrSeverity(p string) alert.Severity {
	switch strings.ToUpper(strings.TrimSpace(p)) {
	case "CRITICAL":
		return alert.SeverityCritical
	case "HIGH":
		return alert.SeverityHigh
	case "MEDIUM":
		return alert.SeverityWarning
	case "LOW":
		return alert.SeverityInfo
	}
	return alert.SeverityUnknown
}

// nrScalar reads a string member; numbers and booleans are taken in their
// JSON text form (templates render isCorrelated and ids either way).
func nrScalar(o object, key string) (string, error) {
	switch v := o.m[key].(type) {
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return o.str(key)
}

// nrList reads a list of names: an array of scalars, a string holding a
// JSON array, or a plain string as a one-item list. Blank entries are
// dropped.
func nrList(o object, key string) ([]string, error) {
	v := o.m[key]
	if s, ok := v.(string); ok {
		if err := noNUL(o.at(key), s); err != nil {
			return nil, err
		}
		v = []any{s}
		if inner, ok := nrStringArray(s); ok {
			v = inner
		}
	}
	var out []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		return []string{v.String()}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case []any:
		for i, e := range v {
			p := o.at(key) + "[" + strconv.Itoa(i) + "]"
			var s string
			switch e := e.(type) {
			case nil:
			case string:
				s = e
			case json.Number:
				s = e.String()
			case float64: // from a string holding a JSON array
				s = strconv.FormatFloat(e, 'g', -1, 64)
			case bool:
				s = strconv.FormatBool(e)
			default:
				return nil, invalidf("%s: must be a string, got %s", p, kind(e))
			}
			if err := noNUL(p, s); err != nil {
				return nil, err
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	default:
		return nil, invalidf("%s: must be an array of strings or a string, got %s", o.at(key), kind(v))
	}
}

// nrStringArray decodes a string that holds a JSON array of scalars, as
// a template renders a list inside quotes; anything else is not one.
func nrStringArray(s string) ([]any, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "[") {
		return nil, false
	}
	var inner []any
	if json.Unmarshal([]byte(t), &inner) != nil {
		return nil, false
	}
	for _, e := range inner {
		switch e.(type) {
		case nil, string, float64, bool:
		default:
			return nil, false
		}
	}
	return inner, true
}

func nrFirst(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// nrMillis reads an epoch-milliseconds member: a JSON integer or a string
// of digits; absent, null, "" and 0 are the zero Time.
func nrMillis(o object, key string) (time.Time, error) {
	var s string
	switch v := o.m[key].(type) {
	case nil:
		return time.Time{}, nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return time.Time{}, invalidf("%s: must be epoch milliseconds, got %s", o.at(key), kind(v))
	}
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, invalidf("%s: must be epoch milliseconds, got %q", o.at(key), short(s))
	}
	if n == 0 {
		return time.Time{}, nil
	}
	t := time.UnixMilli(n).UTC()
	if t.Year() > 9999 {
		return time.Time{}, invalidf("%s: time %q is out of range", o.at(key), short(s))
	}
	return t, nil
}

// nrIssueID takes the issue id from an issue URL's path
// (…/accounts/1/issues/<id>?notifier=…).
func nrIssueID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "issues" && parts[i+1] != "" {
			return parts[i+1]
		}
	}
	return ""
}
