package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Datadog
//
// A Datadog webhook body is whatever payload template the user configured in
// Datadog's Webhooks integration, with Datadog's $VARIABLES substituted as
// JSON strings. Two shapes are read (docs/integrations/datadog.md):
//
//   - Aurora's recommended template: "alert_id" ($ALERT_ID, the monitor id),
//     "transition" ($ALERT_TRANSITION), "scope" ($ALERT_SCOPE), "priority",
//     "alert_type", "tags", "link", "snapshot", "hostname", "metric",
//     "query", "alert_status", "event_type", "id", "date", "last_updated",
//     "body", "org" {id, name} and "aurora_template". The fingerprint is
//     "datadog:<monitor id>:<scope>" with the scope's comma-separated tags
//     trimmed, sorted and deduplicated (the scope may be empty: a simple
//     monitor is one alert), so each group of a multi-alert monitor is one
//     alert and its Triggered and Recovered notifications share a key. The
//     names Keep's Datadog template uses (alert_transition, monitor_id,
//     scopes, url, alert_query, and severity for $ALERT_PRIORITY) are read
//     as aliases; the recommended names win.
//   - Datadog's default template: body, last_updated, event_type, title,
//     date, org, id. The status is only in the title ("[P1] [Triggered on
//     {host:a}] CPU high") and there is no monitor id, so the fingerprint is
//     "datadog:title:<monitor title>[ on {<scope>}]": the title without its
//     priority and status tokens, runs of spaces collapsed, plus the
//     normalised scope when the status token names one.
//
// Both are one code path: a payload with a non-empty alert_id is keyed by
// the monitor, any other by its title. The scope is the scope field, else
// the title's "on {…}". Status comes from the transition when it is a
// known one, else from the title's status token: Triggered, Re-Triggered,
// Warn, Re-Warn, No Data, Re-No Data and Renotify fire; Recovered and OK
// resolve (any case). An unknown transition or token, or none at all,
// fires. Severity: Warn and Re-Warn are warning; else the priority (field,
// else the title's [Pn] token) P1 critical, P2 high, P3 warning, P4 and P5
// info; else a priority field holding a severity name (alert.ParseSeverity);
// else alert_type error high, warning warning, info and success info; else
// unknown. A transition other than Triggered and Recovered is kept as the
// Note ("Datadog: No Data") and every one as annotation transition.
//
// Title is the monitor title plus " on {<scope>}" when there is a scope;
// Name is the monitor title alone, so correlation sees every group of a
// monitor under one name. A title that is only tokens, or none, becomes
// "Datadog monitor <id>" when a monitor id is known, else stays as sent.
//
// Values arrive as strings (numbers and booleans, from templates that leave
// a variable unquoted, are read in their JSON text form); a value that is
// still a literal "$VARIABLE" counts as empty, and a payload left with
// neither title nor alert_id for that reason is refused as an unfilled
// template. date (else last_updated) is epoch milliseconds (a number below
// 1e11 is taken as seconds) or RFC 3339, anything else is refused; it is
// the start, and for a resolved alert also the end. The body loses
// Datadog's %%% markdown fence and becomes the description (else
// alert_status). Tags and scope tags become labels ("k:v" as k=v, several
// values of one key sorted and joined by commas, a bare tag t as
// tag_t="true"; scope tags win over tags), then monitor_id, scope, host
// ($HOSTNAME), priority, event_type and metric win over both. Service is
// alert.ServiceFromLabels, Environment env (else environment), Namespace
// kube_namespace (else namespace). Annotations: transition, alert_type,
// alert_status, query, event_id, org_id, org_name. Links: link as
// "datadog", snapshot as "snapshot", and the "Monitor Status" link of the
// footer Datadog appends to the body as "monitor" (its /monitors/<id> also
// gives the monitor_id label when the payload has no alert_id; it does not
// change the key). Labels and annotations built from these descriptive
// values are cut to MaxValueBytes, and tags with over-long names are
// dropped, rather than refused: they are not the alert's identity. A
// fingerprint that would exceed MaxKeyBytes keeps its prefix and replaces
// the rest by its SHA-256.

// ddAliases lists, per field, the member names read for it, first found
// wins: Aurora's recommended template, then other templates in use.
var ddAliases = map[string][]string{
	"transition": {"transition", "alert_transition"},
	"alert_id":   {"alert_id", "monitor_id"},
	"scope":      {"scope", "alert_scope", "scopes"},
	"priority":   {"priority", "alert_priority", "severity"},
	"link":       {"link", "url"},
	"title":      {"title", "event_title", "alert_title"},
	"query":      {"query", "alert_query"},
}

// ddState is what a Datadog transition means for an alert.
type ddState int

const (
	ddUnknownState ddState = iota
	ddFiring
	ddWarn
	ddResolved
)

// ddTransitions are Datadog's $ALERT_TRANSITION values (and the status
// tokens of event titles), normalised by ddNorm.
var ddTransitions = map[string]ddState{
	"triggered":    ddFiring,
	"re-triggered": ddFiring,
	"no data":      ddFiring,
	"re-no data":   ddFiring,
	"renotify":     ddFiring,
	"warn":         ddWarn,
	"re-warn":      ddWarn,
	"recovered":    ddResolved,
	"ok":           ddResolved,
}

// ddPlainTransitions say no more than firing or resolved; others are kept
// as the alert's Note.
var ddPlainTransitions = map[string]bool{"triggered": true, "recovered": true}

var (
	// ddUnfilled matches a template variable Datadog did not substitute.
	ddUnfilled = regexp.MustCompile(`^\$[A-Z][A-Z0-9_]*(\[[^\]]*\])?$`)
	// ddMonitorLink finds the "Monitor Status" link Datadog appends to
	// every monitor notification's message.
	ddMonitorLink = regexp.MustCompile(`\[Monitor Status\]\((https?://[^)\s]+)\)`)
	ddMonitorID   = regexp.MustCompile(`/monitors/([0-9]+)`)
)

// ddPayload reads the string members of a Datadog payload, counting the
// unfilled template variables it meets.
type ddPayload struct {
	o        object
	unfilled []string
}

// text reads the first present member among the field's aliases.
func (p *ddPayload) text(field string) (string, error) {
	names, ok := ddAliases[field]
	if !ok {
		names = []string{field}
	}
	for _, k := range names {
		if _, present := p.o.m[k]; present {
			return p.member(p.o, k)
		}
	}
	return "", nil
}

// member reads one member of o as text: a string, or a number or boolean
// in its JSON text form; absent, null and unfilled variables are "".
func (p *ddPayload) member(o object, key string) (string, error) {
	var s string
	switch v := o.m[key].(type) {
	case nil:
		return "", nil
	case string:
		if err := noNUL(o.at(key), v); err != nil {
			return "", err
		}
		s = v
	case json.Number:
		s = v.String()
	case bool:
		s = strconv.FormatBool(v)
	default:
		return "", invalidf("%s: must be a string, got %s", o.at(key), kind(v))
	}
	if t := strings.TrimSpace(s); ddUnfilled.MatchString(t) {
		p.unfilled = append(p.unfilled, t)
		return "", nil
	}
	return s, nil
}

// parseDatadog reads a Datadog webhook notification (see the comment at the
// top of this file): one alert per body.
func parseDatadog(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	p := &ddPayload{o: root}
	f := map[string]string{}
	for _, k := range []string{"transition", "alert_id", "scope", "priority", "link", "title",
		"snapshot", "alert_type", "tags", "hostname", "metric", "query", "alert_status",
		"event_type", "id", "date", "last_updated", "body"} {
		v, err := p.text(k)
		if err != nil {
			return nil, err
		}
		if k != "body" {
			v = strings.TrimSpace(v)
		}
		f[k] = v
	}
	org, hasOrg, err := root.obj("org")
	if err != nil {
		return nil, err
	}
	if hasOrg {
		for _, k := range []string{"id", "name"} {
			v, err := p.member(org, k)
			if err != nil {
				return nil, err
			}
			f["org_"+k] = strings.TrimSpace(v)
		}
	}
	// The payload's own status, priority and scope win over the title's
	// tokens; the title still gives the monitor's name.
	t := parseDDTitle(f["title"])
	if f["title"] == "" && f["alert_id"] == "" {
		if len(p.unfilled) > 0 {
			return nil, invalidf("looks like an unfilled Datadog template (%s is still a variable): Datadog fills in the variables when a monitor notifies; use the monitor's Test Notifications to try it", short(p.unfilled[0]))
		}
		return nil, invalidf("title: required, Datadog's $EVENT_TITLE (or alert_id, the monitor id)")
	}

	state, stateText := ddState(ddUnknownState), ""
	for _, cand := range []string{f["transition"], t.status} {
		if s, ok := ddTransitions[ddNorm(cand)]; ok {
			state, stateText = s, cand
			break
		}
	}
	if state == ddUnknownState {
		// An unknown or missing transition fires: a notification Aurora
		// cannot read is more likely a problem than a recovery.
		state, stateText = ddFiring, first(f["transition"], t.status)
	}
	st := alert.StatusFiring
	if state == ddResolved {
		st = alert.StatusResolved
	}

	scope := ddScope(first(f["scope"], t.scope))
	msg := f["body"]
	description := first(ddBody(msg), f["alert_status"])

	var l links
	l.add("datadog", f["link"])
	l.add("snapshot", f["snapshot"])
	monitorID := f["alert_id"]
	if m := ddMonitorLink.FindStringSubmatch(msg); m != nil {
		if l.add("monitor", m[1]) && monitorID == "" {
			if id := ddMonitorID.FindStringSubmatch(m[1]); id != nil {
				monitorID = id[1]
			}
		}
	}

	labels := map[string]string{}
	ddTags(labels, f["tags"])
	ddTags(labels, scope)
	ddSet(labels, "monitor_id", monitorID)
	ddSet(labels, "scope", scope)
	ddSet(labels, "host", f["hostname"])
	priority := ddPriority(first(f["priority"], t.priority))
	ddSet(labels, "priority", first(priority, f["priority"]))
	ddSet(labels, "event_type", f["event_type"])
	ddSet(labels, "metric", f["metric"])
	annotations := map[string]string{}
	ddSet(annotations, "transition", stateText)
	ddSet(annotations, "alert_type", f["alert_type"])
	ddSet(annotations, "alert_status", f["alert_status"])
	ddSet(annotations, "query", f["query"])
	ddSet(annotations, "event_id", f["id"])
	ddSet(annotations, "org_id", f["org_id"])
	ddSet(annotations, "org_name", f["org_name"])

	name := t.name
	if name == "" {
		// A title of tokens alone ("[Triggered]") names nothing.
		name = f["title"]
		if monitorID != "" {
			name = "Datadog monitor " + monitorID
		}
	}
	title := name
	if scope != "" {
		title += " on {" + scope + "}"
	}
	var fp string
	if id := f["alert_id"]; id != "" {
		if len(id) <= 64 {
			fp = ddKey("datadog:"+id+":", scope)
		} else {
			fp = ddKey("datadog:", id+":"+scope)
		}
	} else {
		fp = ddKey("datadog:title:", strings.Join(strings.Fields(title), " "))
	}

	at, err := ddTime("date", f["date"])
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		if at, err = ddTime("last_updated", f["last_updated"]); err != nil {
			return nil, err
		}
	}
	a := alert.Alert{
		Fingerprint: fp,
		Status:      st,
		Severity:    ddSeverity(state, priority, f["priority"], f["alert_type"]),
		Name:        name,
		Title:       title,
		Description: description,
		Service:     alert.ServiceFromLabels(labels),
		Environment: environment(labels),
		Namespace:   strings.TrimSpace(first(labels["kube_namespace"], labels["namespace"])),
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    at,
		Links:       l,
	}
	if st == alert.StatusResolved {
		a.EndsAt = at
	}
	if stateText != "" && !ddPlainTransitions[ddNorm(stateText)] {
		a.Note = "Datadog: " + truncateRunes(stateText, MaxTitleRunes)
	}
	return []alert.Alert{a}, nil
}

// ddTitle is an event title taken apart: "[P1] [Triggered on {host:a}] CPU
// high" is priority P1, status Triggered, scope host:a, name "CPU high".
type ddTitle struct {
	priority, status, scope, name string
}

// parseDDTitle removes the leading priority and status tokens Datadog puts
// in event titles. A bracketed token is a status token when it is a known
// transition, names a scope ("X on {…}"), or follows a priority token
// (Datadog always writes the status after it); otherwise it is part of the
// monitor's name. Empty "[]" left at the start of the name (a monitor name
// whose template variable rendered empty) are dropped.
func parseDDTitle(s string) ddTitle {
	var t ddTitle
	rest := strings.TrimSpace(s)
	for range 2 {
		inner, after, ok := ddBracket(rest)
		if !ok {
			break
		}
		if t.priority == "" && ddPriority(inner) != "" {
			t.priority = ddPriority(inner)
			rest = strings.TrimSpace(after)
			continue
		}
		word, scope, scoped := ddSplitScope(inner)
		if _, known := ddTransitions[ddNorm(word)]; known || scoped || t.priority != "" {
			t.status, t.scope = strings.TrimSpace(word), scope
			rest = strings.TrimSpace(after)
		}
		break
	}
	for strings.HasPrefix(rest, "[]") {
		rest = strings.TrimSpace(rest[2:])
	}
	t.name = rest
	return t
}

// ddBracket splits "[inner] after". A scope may itself hold "]", so a token
// naming a scope ends at "}]".
func ddBracket(s string) (inner, after string, ok bool) {
	if !strings.HasPrefix(s, "[") {
		return "", "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", false
	}
	if i := strings.Index(s[:end], " on {"); i >= 0 && s[end-1] != '}' {
		if j := strings.Index(s[i:], "}]"); j >= 0 {
			end = i + j + 1
		}
	}
	return s[1:end], s[end+1:], true
}

// ddSplitScope splits "Triggered on {host:a,env:b}".
func ddSplitScope(inner string) (word, scope string, scoped bool) {
	i := strings.Index(inner, " on {")
	if i < 0 || !strings.HasSuffix(inner, "}") {
		return inner, "", false
	}
	return inner[:i], inner[i+len(" on {") : len(inner)-1], true
}

// ddNorm normalises a transition for lookup: case, underscores and runs of
// spaces do not matter.
func ddNorm(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(s, "_", " "))), " ")
}

// ddPriority returns "P1".."P5" for a priority in any case, else "".
func ddPriority(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 && s[0] == 'P' && s[1] >= '1' && s[1] <= '5' {
		return s
	}
	return ""
}

// ddSeverity maps a notification onto Aurora's scale; see the comment at
// the top of this file. rawPriority is the priority field as sent, for
// templates that put a severity name there instead of P1..P5.
func ddSeverity(state ddState, priority, rawPriority, alertType string) alert.Severity {
	if state == ddWarn {
		return alert.SeverityWarning
	}
	switch priority {
	case "P1":
		return alert.SeverityCritical
	case "P2":
		return alert.SeverityHigh
	case "P3":
		return alert.SeverityWarning
	case "P4", "P5":
		return alert.SeverityInfo
	}
	if s := alert.ParseSeverity(rawPriority); s != alert.SeverityUnknown {
		return s
	}
	switch strings.ToLower(strings.TrimSpace(alertType)) {
	case "error":
		return alert.SeverityHigh
	case "warning":
		return alert.SeverityWarning
	case "info", "success":
		return alert.SeverityInfo
	}
	return alert.SeverityUnknown
}

// ddScope normalises a scope ("b:2, a:1" and "a:1,b:2" are one group):
// comma-separated tags, trimmed, sorted, once each.
func ddScope(s string) string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return strings.Join(slices.Compact(tags), ",")
}

// ddTags sets labels from comma-separated Datadog tags: "k:v" as k=v (the
// value after the first colon; several values of one key are joined by
// commas, sorted), a bare tag t as tag_t="true".
func ddTags(labels map[string]string, s string) {
	values := map[string][]string{}
	var order []string
	for t := range strings.SplitSeq(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		k, v, ok := strings.Cut(t, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			k, v = "tag_"+k, "true"
		}
		if k == "" || v == "" || len(k) > MaxKeyBytes {
			continue
		}
		if _, seen := values[k]; !seen {
			order = append(order, k)
		}
		values[k] = append(values[k], v)
	}
	for _, k := range order {
		vs := values[k]
		slices.Sort(vs)
		ddSet(labels, k, strings.Join(slices.Compact(vs), ","))
	}
}

// ddSet sets a descriptive label or annotation: trimmed, dropped when
// empty, cut to MaxValueBytes.
func ddSet(m map[string]string, k, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	m[k] = truncateBytes(v, MaxValueBytes)
}

// ddBody strips the %%% fence Datadog wraps markdown messages in.
func ddBody(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "%%%")
	s = strings.TrimSuffix(s, "%%%")
	return strings.TrimSpace(s)
}

// ddTime reads $DATE or $LAST_UPDATED: epoch milliseconds (seconds below
// 1e11, which as milliseconds would be 1973), or RFC 3339; "" and 0 are the
// zero Time.
func ddTime(key, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, invalidf("%s: epoch time %q is out of range", key, short(s))
		}
		if n == 0 {
			return time.Time{}, nil
		}
		var t time.Time
		if n < 1e11 {
			t = time.Unix(n, 0)
		} else {
			t = time.UnixMilli(n)
		}
		t = t.UTC()
		if t.Year() > 9999 {
			return time.Time{}, invalidf("%s: epoch time %q is out of range", key, short(s))
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidf("%s: must be epoch milliseconds or an RFC 3339 time, got %q", key, short(s))
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, invalidf("%s: time %q is out of range", key, short(s))
	}
	return t, nil
}

// ddKey joins a fingerprint prefix and an identity. An identity that
// would make the key longer than MaxKeyBytes is replaced by its SHA-256 in
// hex, so a long scope or title still keys one alert, stably.
func ddKey(prefix, id string) string {
	if len(prefix)+len(id) <= MaxKeyBytes {
		return prefix + id
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + "sha256:" + hex.EncodeToString(sum[:])
}
