package webhook

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// newRelicBody renders a New Relic workflow default payload with the given
// fields over a filled-in base; a nil value removes the field.
func newRelicBody(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"id":                  "0ea2df1c-adab-45d2-aae0-042b609d2322",
		"issueUrl":            "https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=WEBHOOK",
		"title":               "High CPU on host-1",
		"priority":            "CRITICAL",
		"impactedEntities":    []any{"host-1"},
		"totalIncidents":      1,
		"state":               "ACTIVATED",
		"trigger":             "STATE_CHANGE",
		"isCorrelated":        false,
		"createdAt":           json.Number("1713766590228"),
		"updatedAt":           json.Number("1713766657383"),
		"sources":             []any{"newrelic"},
		"alertPolicyNames":    []any{"Golden Signals"},
		"alertConditionNames": []any{"High CPU"},
		"workflowName":        "DBA Team workflow",
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	mustNil(t, err)
	return b
}

// An issue's ACTIVATED, ACKNOWLEDGED and CLOSED notifications key one
// alert; the acknowledgement keeps it firing and carries the action.
func TestNewRelicLifecycleKeepsFingerprint(t *testing.T) {
	t.Parallel()
	act := parseFile(t, "newrelic", "workflow_activated.json")[0]
	ack := parseFile(t, "newrelic", "workflow_acknowledged.json")[0]
	closed := parseFile(t, "newrelic", "workflow_default_closed.json")[0]
	equal(t, "newrelic:95a9344a-2590-48ce-8d83-07e28b6d22c6", act.Fingerprint)
	equal(t, act.Fingerprint, ack.Fingerprint)
	equal(t, act.Fingerprint, closed.Fingerprint)
	equal(t, alert.StatusFiring, act.Status)
	equal(t, alert.ActionNone, act.Action)
	equal(t, alert.StatusFiring, ack.Status)
	equal(t, alert.ActionAcknowledge, ack.Action)
	equal(t, alert.StatusResolved, closed.Status)
	equal(t, alert.ActionNone, closed.Action)
	equal(t, act.StartsAt, closed.StartsAt)
	equal(t, time.Date(2024, 4, 22, 6, 17, 37, 383e6, time.UTC), closed.EndsAt, "updatedAt ends a closed issue")
}

func TestNewRelicStateAndPriority(t *testing.T) {
	t.Parallel()
	cases := []struct {
		state, priority string
		status          alert.Status
		action          alert.Action
		sev             alert.Severity
	}{
		{"CREATED", "CRITICAL", alert.StatusFiring, alert.ActionNone, alert.SeverityCritical},
		{"ACTIVATED", "HIGH", alert.StatusFiring, alert.ActionNone, alert.SeverityHigh},
		{"ACKNOWLEDGED", "MEDIUM", alert.StatusFiring, alert.ActionAcknowledge, alert.SeverityWarning},
		{"CLOSED", "LOW", alert.StatusResolved, alert.ActionNone, alert.SeverityInfo},
		{" closed ", "low", alert.StatusResolved, alert.ActionNone, alert.SeverityInfo},
		{"Activated", "", alert.StatusFiring, alert.ActionNone, alert.SeverityUnknown},
		{"ACTIVATED", "URGENT", alert.StatusFiring, alert.ActionNone, alert.SeverityUnknown},
	}
	for _, c := range cases {
		t.Run(c.state+" "+c.priority, func(t *testing.T) {
			t.Parallel()
			a := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"state": c.state, "priority": c.priority}))
			equal(t, c.status, a.Status)
			equal(t, c.action, a.Action)
			equal(t, c.sev, a.Severity)
		})
	}
	// An acknowledgement names who acknowledged when the template adds it.
	a := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"state": "ACKNOWLEDGED", "acknowledgedBy": "jane@example.com"}))
	equal(t, "jane@example.com", a.Actor)
	b := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"state": "ACTIVATED", "acknowledgedBy": "jane@example.com"}))
	equal(t, "", b.Actor, "only an acknowledgement has an actor")
}

func TestNewRelicIgnoredStates(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"DEACTIVATED", "SNOOZED"} {
		alerts, err := Parse("newrelic", newRelicBody(t, map[string]any{"state": s}), now)
		errIs(t, err, ErrIgnored)
		isTrue(t, alerts == nil)
		if err != nil {
			contains(t, err.Error(), s)
		}
	}
}

func TestNewRelicFields(t *testing.T) {
	t.Parallel()
	a := ddParseOne(t, "newrelic", newRelicBody(t, nil))
	equal(t, "High CPU on host-1", a.Title)
	equal(t, "High CPU", a.Name)
	equal(t, "host-1", a.Service)
	equal(t, time.Date(2024, 4, 22, 6, 16, 30, 228e6, time.UTC), a.StartsAt)
	equal(t, []alert.Link{{Text: "newrelic", URL: "https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=WEBHOOK"}}, a.Links)
	equal(t, map[string]string{"trigger": "STATE_CHANGE", "total_incidents": "1", "correlated": "false"}, a.Annotations)

	titles := []struct {
		title any
		want  string
	}{
		{`["Disk full on 'db'"]`, "Disk full on 'db'"},
		{` ["", "second"] `, "second"},
		{[]any{"", "from an array"}, "from an array"},
		{`[not json`, "[not json"},
		{`[{"a":1}]`, `[{"a":1}]`},
		{"", "High CPU"}, // the condition names an issue without a title
		{nil, "High CPU"},
		{json.Number("42"), "42"},
	}
	for _, c := range titles {
		a := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"title": c.title}))
		equal(t, c.want, a.Title, "title %#v", c.title)
	}

	// Lists as strings; ids, counts and times as strings or numbers.
	b := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{
		"id": json.Number("12345"), "impactedEntities": `["a","b"]`, "alertPolicyNames": "One policy",
		"alertConditionNames": []any{nil, " c1 ", 2, true}, "createdAt": "1713766590228", "isCorrelated": "true",
		"totalIncidents": "3", "sources": nil, "workflowName": nil,
	}))
	equal(t, "newrelic:12345", b.Fingerprint)
	equal(t, "a", b.Service)
	equal(t, "c1", b.Name)
	equal(t, map[string]string{
		"policy": "One policy", "condition": "c1, 2, true", "entities": "a, b",
		"priority": "CRITICAL", "state": "ACTIVATED",
	}, b.Labels)
	equal(t, "true", b.Annotations["correlated"])
	equal(t, time.Date(2024, 4, 22, 6, 16, 30, 228e6, time.UTC), b.StartsAt)

	// No id: the issue URL's.
	c := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"id": ""}))
	equal(t, "newrelic:0ea2df1c-adab-45d2-aae0-042b609d2322", c.Fingerprint)

	// No times: now; a closed issue without updatedAt ends now.
	d := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"createdAt": nil, "updatedAt": json.Number("0"), "state": "CLOSED"}))
	equal(t, now.UTC(), d.StartsAt)
	equal(t, now.UTC(), d.EndsAt)

	// Nothing but the essentials.
	e := ddParseOne(t, "newrelic", []byte(`{"id":"x","state":"CREATED"}`))
	equal(t, "newrelic:x", e.Fingerprint)
	equal(t, "alert newrelic:x", e.Title)
	equal(t, alert.SeverityUnknown, e.Severity)

	// A long id is hashed into a bounded key.
	f := ddParseOne(t, "newrelic", newRelicBody(t, map[string]any{"id": strings.Repeat("z", 300)}))
	isTrue(t, strings.HasPrefix(f.Fingerprint, "newrelic:sha256:") && len(f.Fingerprint) <= MaxKeyBytes, f.Fingerprint)
}

func TestNewRelicBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields map[string]any
		raw    string
		want   error
		msg    string
	}{
		{name: "not json", raw: `{"id":`, want: ErrMalformed},
		{name: "array", raw: `[]`, want: ErrInvalid, msg: "must be a JSON object"},
		{name: "no id", fields: map[string]any{"id": nil, "issueUrl": nil}, want: ErrInvalid, msg: "id: required"},
		{name: "no id in url", fields: map[string]any{"id": "", "issueUrl": "https://one.newrelic.com/"}, want: ErrInvalid, msg: "id: required"},
		{name: "no state", fields: map[string]any{"state": nil}, want: ErrInvalid, msg: "state: required"},
		{name: "state number", fields: map[string]any{"state": []any{}}, want: ErrInvalid, msg: "state: must be a string, got array"},
		{name: "id object", fields: map[string]any{"id": map[string]any{}}, want: ErrInvalid, msg: "id: must be a string, got object"},
		{name: "entities object", fields: map[string]any{"impactedEntities": map[string]any{}}, want: ErrInvalid, msg: "impactedEntities: must be an array of strings or a string, got object"},
		{name: "nested entity", fields: map[string]any{"impactedEntities": []any{[]any{"a"}}}, want: ErrInvalid, msg: "impactedEntities[0]: must be a string, got array"},
		{name: "createdAt text", fields: map[string]any{"createdAt": "yesterday"}, want: ErrInvalid, msg: `createdAt: must be epoch milliseconds, got "yesterday"`},
		{name: "createdAt float", fields: map[string]any{"createdAt": json.Number("1.5e12")}, want: ErrInvalid, msg: "createdAt: must be epoch milliseconds"},
		{name: "createdAt negative", fields: map[string]any{"createdAt": json.Number("-1")}, want: ErrInvalid, msg: "createdAt: must be epoch milliseconds"},
		{name: "createdAt bool", fields: map[string]any{"createdAt": true}, want: ErrInvalid, msg: "createdAt: must be epoch milliseconds, got boolean"},
		{name: "updatedAt far", fields: map[string]any{"updatedAt": json.Number("999999999999999999")}, want: ErrInvalid, msg: "updatedAt: time"},
		{name: "NUL", fields: map[string]any{"title": "a\x00"}, want: ErrInvalid, msg: "NUL"},
		{name: "NUL in a JSON-array title", fields: map[string]any{"title": `["a\u0000"]`}, want: ErrInvalid, msg: "NUL"},
		// A bad field is reported even when the state is one Aurora ignores.
		{name: "ignored state, bad time", fields: map[string]any{"state": "DEACTIVATED", "createdAt": "x"}, want: ErrInvalid, msg: "createdAt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(c.raw)
			if c.raw == "" {
				body = newRelicBody(t, c.fields)
			}
			alerts, err := Parse("newrelic", body, now)
			errIs(t, err, c.want)
			isTrue(t, alerts == nil)
			if err != nil {
				contains(t, err.Error(), c.msg)
			}
		})
	}
}

func FuzzNewRelic(f *testing.F) {
	fuzzOwnSource(f, "newrelic", "newrelic:",
		filepath.Join("testdata", "datadog", "recommended_triggered.json"))
}
