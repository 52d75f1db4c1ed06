package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// TestGolden covers testdata/pagerduty/*.json. Deliveries Aurora ignores
// live in testdata/pagerduty/ignored/, outside TestGolden's glob (it expects
// every payload to parse); their goldens hold the error text.

func TestPagerDutyIgnoredGolden(t *testing.T) { t.Parallel(); ignoredGolden(t, "pagerduty") }

// ignoredGolden checks that every testdata/<source>/ignored/*.json is refused
// with ErrIgnored alone, and compares the error text with the .golden.txt
// beside it.
func ignoredGolden(t *testing.T, source string) {
	files := payloads(t, filepath.Join(source, "ignored"))
	if len(files) == 0 {
		t.Fatalf("no ignored payloads for %s", source)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(file)
			mustNil(t, err)
			alerts, err := Parse(source, body, now)
			if err == nil {
				t.Fatalf("parsed into %v, want ErrIgnored", alerts)
			}
			exactlyOneSentinel(t, err)
			errIs(t, err, ErrIgnored)
			got := []byte(err.Error() + "\n")
			golden := strings.TrimSuffix(file, ".json") + ".golden.txt"
			if *update {
				mustNil(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create the golden file)", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("differs from %s:\n%s", golden, got)
			}
		})
	}
}

// exactlyOneSentinel fails unless err wraps exactly one of ErrMalformed,
// ErrInvalid and ErrIgnored: the API picks its answer by them.
func exactlyOneSentinel(t testing.TB, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{ErrMalformed, ErrInvalid, ErrIgnored} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error wraps %d of ErrMalformed, ErrInvalid, ErrIgnored, want exactly 1: %v", n, err)
	}
}

func parseOne(t *testing.T, source, body string) alert.Alert {
	t.Helper()
	alerts, err := Parse(source, []byte(body), now)
	mustNil(t, err)
	mustLen(t, alerts, 1)
	return alerts[0]
}

// The three real deliveries (Apache-2.0 fixtures) are one incident's life.
func TestPagerDutyLifecycle(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 4, 7, 3, 47, 13, 0, time.UTC)
	cases := []struct {
		file   string
		status alert.Status
		action alert.Action
		ends   time.Time
	}{
		{"incident_triggered.json", alert.StatusFiring, alert.ActionNone, time.Time{}},
		{"incident_acknowledged.json", alert.StatusFiring, alert.ActionAcknowledge, time.Time{}},
		{"incident_resolved.json", alert.StatusResolved, alert.ActionNone, time.Date(2025, 4, 7, 3, 49, 36, 358e6, time.UTC)},
	}
	for _, c := range cases {
		alerts := parseFile(t, "pagerduty", c.file)
		mustLen(t, alerts, 1)
		a := alerts[0]
		equal(t, "pagerduty:Q2CKYRLH85UNN4", a.Fingerprint, c.file)
		equal(t, c.status, a.Status, c.file)
		equal(t, c.action, a.Action, c.file)
		equal(t, "Ben", a.Actor, c.file)
		equal(t, "Test", a.Title, c.file)
		equal(t, "Webhook Tester", a.Service, c.file)
		equal(t, alert.SeverityWarning, a.Severity, "%s: urgency low without priority", c.file)
		isTrue(t, created.Equal(a.StartsAt), "%s: starts %v", c.file, a.StartsAt)
		isTrue(t, c.ends.Equal(a.EndsAt), "%s: ends %v, want %v", c.file, a.EndsAt, c.ends)
		equal(t, []alert.Link{{Text: "pagerduty", URL: "https://aldaviva.pagerduty.com/incidents/Q2CKYRLH85UNN4"}}, a.Links, c.file)
		equal(t, map[string]string{
			"service": "Webhook Tester", "service_id": "PNE3JZM", "urgency": "low",
			"incident_number": "37", "escalation_policy": "Notify Ben and Dad",
		}, a.Labels, c.file)
	}
}

// Every written payload about incident Q1XAMPLE9ZRT2B keys the same alert,
// whatever the shape of its data.
func TestPagerDutyOneKeyPerIncident(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"incident_priority_updated.json", "incident_escalated.json", "incident_reassigned.json",
		"incident_delegated.json", "incident_annotated.json", "incident_status_update_published.json",
		"incident_reopened.json",
	} {
		a := parseFile(t, "pagerduty", file)[0]
		equal(t, "pagerduty:Q1XAMPLE9ZRT2B", a.Fingerprint, file)
		equal(t, "Checkout p99 latency above 2s (eu-west-1)", a.Title, file)
	}
}

// pdEvent builds a delivery around an incident with the given extra fields.
func pdEvent(eventType, incidentFields string) string {
	inc := `"id":"PX1","type":"incident","title":"T","created_at":"2025-01-01T00:00:00Z"`
	if incidentFields != "" {
		inc += "," + incidentFields
	}
	return `{"event":{"id":"E1","event_type":"` + eventType + `","resource_type":"incident","occurred_at":"2025-01-01T01:00:00Z","agent":{"summary":"Ann","type":"user_reference"},"data":{` + inc + `}}}`
}

func TestPagerDutyEvents(t *testing.T) {
	t.Parallel()
	occurred := time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		body   string
		status alert.Status
		action alert.Action
		note   string
	}{
		{"triggered", pdEvent("incident.triggered", `"status":"triggered"`), "firing", "", ""},
		{"triggered ignores data status", pdEvent("incident.triggered", `"status":"resolved"`), "firing", "", ""},
		{"acknowledged", pdEvent("incident.acknowledged", `"status":"acknowledged"`), "firing", "acknowledge", ""},
		{"unacknowledged", pdEvent("incident.unacknowledged", `"status":"triggered"`), "firing", "unacknowledge", ""},
		{"resolved", pdEvent("incident.resolved", `"status":"resolved"`), "resolved", "", ""},
		{"reopened", pdEvent("incident.reopened", `"status":"triggered"`), "firing", "unacknowledge", "reopened"},
		{"escalated", pdEvent("incident.escalated", `"status":"triggered","assignees":[{"summary":"Bo"},{"summary":"Cy"},{"summary":"Bo"}]`), "firing", "", "escalated to Bo, Cy"},
		{"escalated without assignees", pdEvent("incident.escalated", `"status":"acknowledged"`), "firing", "", "escalated"},
		{"reassigned", pdEvent("incident.reassigned", `"status":"acknowledged","assignees":[{"summary":"Bo"}]`), "firing", "", "reassigned to Bo"},
		{"delegated", pdEvent("incident.delegated", `"status":"triggered","escalation_policy":{"summary":"DB"}`), "firing", "", "delegated to escalation policy DB"},
		{"priority updated", pdEvent("incident.priority_updated", `"status":"triggered","priority":{"summary":"P1"}`), "firing", "", "priority changed to P1"},
		{"priority removed", pdEvent("incident.priority_updated", `"status":"triggered","priority":null`), "firing", "", "priority removed"},
		{"priority updated on resolved incident", pdEvent("incident.priority_updated", `"status":"resolved","priority":{"summary":"P4"}`), "resolved", "", "priority changed to P4"},
		{"status case forgiven", pdEvent("incident.reassigned", `"status":" Acknowledged "`), "firing", "", "reassigned"},
		{"event type case forgiven", pdEvent("Incident.Acknowledged", ``), "firing", "acknowledge", ""},
		{"annotated", `{"event":{"event_type":"incident.annotated","resource_type":"incident","occurred_at":"2025-01-01T01:00:00Z","agent":{"summary":"Ann"},"data":{"incident":{"id":"PX1","summary":"T","html_url":"https://x.pagerduty.com/incidents/PX1"},"id":"N1","content":"  looking  ","trimmed":false,"type":"incident_note"}}}`, "firing", "note", "looking"},
		{"annotated, resource type incident_note", `{"event":{"event_type":"incident.annotated","resource_type":"incident_note","occurred_at":"2025-01-01T01:00:00Z","data":{"incident":{"id":"PX1","summary":"T"},"content":"x","type":"incident_note"}}}`, "firing", "note", "x"},
		{"annotated, trimmed by PagerDuty", `{"event":{"event_type":"incident.annotated","resource_type":"incident","data":{"incident":{"id":"PX1"},"content":"long text","trimmed":true}}}`, "firing", "note", "long text…"},
		{"annotated, empty note", `{"event":{"event_type":"incident.annotated","data":{"incident":{"id":"PX1"},"content":""}}}`, "firing", "note", "note added"},
		{"annotated, data is the incident", `{"event":{"event_type":"incident.annotated","data":{"id":"PX1","type":"incident","title":"T","content":"c"}}}`, "firing", "note", "c"},
		{"status update", `{"event":{"event_type":"incident.status_update_published","resource_type":"incident","data":{"incident":{"id":"PX1"},"message":"fix deployed","type":"incident_status_update"}}}`, "firing", "note", "status update: fix deployed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := parseOne(t, "pagerduty", c.body)
			equal(t, "pagerduty:PX1", a.Fingerprint)
			equal(t, c.status, a.Status)
			equal(t, c.action, a.Action)
			equal(t, c.note, a.Note)
			if c.status == alert.StatusResolved && strings.Contains(c.body, "occurred_at") {
				isTrue(t, occurred.Equal(a.EndsAt), "ends %v", a.EndsAt)
			}
		})
	}
}

func TestPagerDutyFields(t *testing.T) {
	t.Parallel()
	t.Run("severity", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			fields string
			want   alert.Severity
		}{
			{`"priority":{"summary":"P1"},"urgency":"low"`, alert.SeverityCritical},
			{`"priority":{"summary":"P2"}`, alert.SeverityHigh},
			{`"priority":{"summary":"P3"}`, alert.SeverityWarning},
			{`"priority":{"summary":"P4"}`, alert.SeverityInfo},
			{`"priority":{"summary":"P5"}`, alert.SeverityInfo},
			{`"priority":{"name":"P2"}`, alert.SeverityHigh},
			{`"priority":{"summary":"Sev-Whatever"},"urgency":"high"`, alert.SeverityHigh},
			{`"urgency":"high"`, alert.SeverityHigh},
			{`"urgency":"low"`, alert.SeverityWarning},
			{`"urgency":"suppressed"`, alert.SeverityUnknown},
			{``, alert.SeverityUnknown},
		}
		for _, c := range cases {
			a := parseOne(t, "pagerduty", pdEvent("incident.triggered", c.fields))
			equal(t, c.want, a.Severity, c.fields)
		}
	})
	t.Run("labels and links", func(t *testing.T) {
		t.Parallel()
		a := parseFile(t, "pagerduty", "incident_priority_updated.json")[0]
		equal(t, map[string]string{
			"service": "Checkout API", "service_id": "PSVC7QZ", "urgency": "high", "priority": "P1",
			"incident_number": "1042", "escalation_policy": "Checkout Primary", "teams": "Payments, SRE",
		}, a.Labels)
		equal(t, "Checkout API", a.Service)
		equal(t, alert.SeverityCritical, a.Severity)
		equal(t, "Dana Okafor", a.Actor)
	})
	t.Run("title falls back to summary, start to occurred_at", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "pagerduty", `{"event":{"event_type":"incident.triggered","occurred_at":"2025-01-01T01:00:00+01:00","data":{"id":"PX1","summary":"S","number":"12","html_url":"javascript:alert(1)"}}}`)
		equal(t, "S", a.Title)
		isTrue(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Equal(a.StartsAt), "starts %v", a.StartsAt)
		equal(t, "12", a.Labels["incident_number"])
		equal(t, 0, len(a.Links), "unsafe link dropped")
		equal(t, "", a.Actor)
	})
	t.Run("no times at all", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "pagerduty", `{"event":{"event_type":"incident.resolved","data":{"id":"PX1"}}}`)
		isTrue(t, now.Equal(a.StartsAt) && now.Equal(a.EndsAt), "starts %v ends %v", a.StartsAt, a.EndsAt)
		equal(t, "alert pagerduty:PX1", a.Title)
	})
	t.Run("long note cut", func(t *testing.T) {
		t.Parallel()
		body, err := json.Marshal(map[string]any{"event": map[string]any{"event_type": "incident.annotated", "data": map[string]any{
			"incident": map[string]any{"id": "PX1"}, "content": strings.Repeat("n", MaxDescriptionBytes+5)}}})
		mustNil(t, err)
		alerts, err := Parse("pagerduty", body, now)
		mustNil(t, err)
		isTrue(t, len(alerts[0].Note) <= MaxDescriptionBytes, "note of %d bytes", len(alerts[0].Note))
	})
}

func TestPagerDutyIgnored(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, body, msg string }{
		{"ping", `{"event":{"event_type":"pagey.ping","resource_type":"pagey","data":{"message":"hi"}}}`, `PagerDuty event type "pagey.ping" is not about an incident`},
		{"service", `{"event":{"event_type":"service.created","resource_type":"service","data":{}}}`, `"service.created" is not about an incident`},
		{"responder", `{"event":{"event_type":"incident.responder.added","resource_type":"incident","data":{"incident":{"id":"PX1"}}}}`, `PagerDuty event type "incident.responder.added" is not tracked`},
		{"unknown incident event", pdEvent("incident.workflow.started", ""), `"incident.workflow.started" is not tracked`},
		{"odd resource type", `{"event":{"event_type":"incident.triggered","resource_type":"service","data":{"id":"PX1"}}}`, `PagerDuty resource type "service" is not an incident`},
		// Ignoring comes before validating the rest: a ping's data is not an incident.
		{"ignored before validated", `{"event":{"event_type":"pagey.ping","data":"x","occurred_at":"yesterday"}}`, "not about an incident"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("pagerduty", []byte(c.body), now)
			if alerts != nil {
				t.Errorf("alerts %v with error", alerts)
			}
			errIs(t, err, ErrIgnored)
			exactlyOneSentinel(t, err)
			contains(t, err.Error(), c.msg)
		})
	}
}

func TestPagerDutyBadInput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxValueBytes+1)
	cases := []struct {
		name    string
		body    string
		wantErr error
		msg     string
	}{
		{"empty", ``, ErrMalformed, "empty body"},
		{"not json", `event=incident.triggered`, ErrMalformed, "invalid character"},
		{"array", `[{"event":{}}]`, ErrInvalid, "body: must be a JSON object, got array"},
		{"no event", `{}`, ErrInvalid, "event: required, an object (PagerDuty v3 webhook)"},
		{"v2 webhook", `{"messages":[{"event":"incident.trigger"}]}`, ErrInvalid, "PagerDuty v2 webhook"},
		{"event not object", `{"event":"incident.triggered"}`, ErrInvalid, "event: must be an object, got string"},
		{"no event type", `{"event":{"data":{"id":"PX1"}}}`, ErrInvalid, "event.event_type: required"},
		{"event type not string", `{"event":{"event_type":1}}`, ErrInvalid, "event.event_type: must be a string, got number"},
		{"resource type not string", `{"event":{"event_type":"incident.triggered","resource_type":[]}}`, ErrInvalid, "event.resource_type: must be a string, got array"},
		{"no data", `{"event":{"event_type":"incident.triggered"}}`, ErrInvalid, "event.data: required, an object"},
		{"data not object", `{"event":{"event_type":"incident.triggered","data":[]}}`, ErrInvalid, "event.data: must be an object, got array"},
		{"no id", `{"event":{"event_type":"incident.triggered","data":{"title":"T"}}}`, ErrInvalid, "event.data.id: required"},
		{"blank id", `{"event":{"event_type":"incident.triggered","data":{"id":"  "}}}`, ErrInvalid, "event.data.id: required"},
		{"id too long", `{"event":{"event_type":"incident.triggered","data":{"id":"` + strings.Repeat("i", MaxKeyBytes) + `"}}}`, ErrInvalid, "event.data.id: is 256 bytes, at most 246"},
		{"NUL in id", `{"event":{"event_type":"incident.triggered","data":{"id":"P\u0000"}}}`, ErrInvalid, "event.data.id: must not contain a NUL character"},
		{"bad occurred_at", pdEventRaw(`"occurred_at":"2025-01-01 00:00"`, `"id":"PX1"`), ErrInvalid, `event.occurred_at: must be an RFC 3339 time`},
		{"bad created_at", pdEvent("incident.triggered", `"created_at":"nope"`), ErrInvalid, `event.data.created_at: must be an RFC 3339 time`},
		{"agent not object", pdEventRaw(`"agent":"Ann"`, `"id":"PX1"`), ErrInvalid, "event.agent: must be an object, got string"},
		{"service not object", pdEvent("incident.triggered", `"service":"svc"`), ErrInvalid, "event.data.service: must be an object, got string"},
		{"service summary not string", pdEvent("incident.triggered", `"service":{"summary":1}`), ErrInvalid, "event.data.service.summary: must be a string, got number"},
		{"teams not array", pdEvent("incident.triggered", `"teams":{}`), ErrInvalid, "event.data.teams: must be an array, got object"},
		{"team not object", pdEvent("incident.triggered", `"teams":[{"summary":"a"},"b"]`), ErrInvalid, "event.data.teams[1]: must be an object, got string"},
		{"team summary not string", pdEvent("incident.triggered", `"teams":[{"summary":true}]`), ErrInvalid, "event.data.teams[0].summary: must be a string, got boolean"},
		{"number not scalar", pdEvent("incident.triggered", `"number":{}`), ErrInvalid, "event.data.number: must be a number or a string, got object"},
		{"service name too long", pdEvent("incident.triggered", `"service":{"summary":"`+long+`"}`), ErrInvalid, "event.data.service.summary: is 16385 bytes, at most 16384"},
		{"status missing where needed", pdEvent("incident.escalated", ``), ErrInvalid, `event.data.status: must be triggered, acknowledged or resolved for incident.escalated, got ""`},
		{"status unknown", pdEvent("incident.priority_updated", `"status":"closed"`), ErrInvalid, `event.data.status: must be triggered, acknowledged or resolved for incident.priority_updated, got "closed"`},
		{"note without incident", `{"event":{"event_type":"incident.annotated","data":{"content":"x","type":"incident_note"}}}`, ErrInvalid, "event.data.incident: required for incident.annotated"},
		{"note incident not object", `{"event":{"event_type":"incident.annotated","data":{"incident":"PX1"}}}`, ErrInvalid, "event.data.incident: must be an object, got string"},
		{"note without incident id", `{"event":{"event_type":"incident.annotated","data":{"incident":{}}}}`, ErrInvalid, "event.data.incident.id: required"},
		{"note content not string", `{"event":{"event_type":"incident.annotated","data":{"incident":{"id":"PX1"},"content":5}}}`, ErrInvalid, "event.data.content: must be a string, got number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("pagerduty", []byte(c.body), now)
			if err == nil {
				t.Fatalf("parsed into %v, want %v", alerts, c.wantErr)
			}
			if alerts != nil {
				t.Errorf("alerts %v with error", alerts)
			}
			errIs(t, err, c.wantErr)
			exactlyOneSentinel(t, err)
			contains(t, err.Error(), c.msg)
		})
	}
}

// pdEventRaw builds an incident.triggered delivery with extra event members.
func pdEventRaw(eventFields, dataFields string) string {
	return `{"event":{"event_type":"incident.triggered",` + eventFields + `,"data":{` + dataFields + `}}}`
}

func FuzzPagerDuty(f *testing.F) {
	fuzzVendor(f, "pagerduty", pagerDutyKeyPrefix, []string{
		``, `{}`, `{"event":{}}`, `{"messages":[]}`,
		`{"event":{"event_type":"incident.annotated","data":{"incident":{"id":"x"},"content":"\u0000"}}}`,
		`{"event":{"event_type":"incident.escalated","data":{"id":"x","status":"acknowledged","assignees":[{}]}}}`,
		`{"event":{"event_type":"incident.resolved","occurred_at":"9999-12-31T23:59:59-01:00","data":{"id":"x"}}}`,
		`{"event":{"event_type":"incident.triggered","data":{"id":"x","number":1e400,"teams":[{"name":"t"}]}}}`,
	})
}

// fuzzVendor checks that a one-event-per-delivery parser never panics, that
// its errors say which answer the API gives, and that whatever it accepts is
// one storable alert keyed under the source's prefix.
func fuzzVendor(f *testing.F, source, prefix string, seeds []string) {
	for _, dir := range []string{source, filepath.Join(source, "ignored")} {
		for _, file := range payloads(f, dir) {
			body, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(body)
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fuzzNow := time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := Parse(source, body, fuzzNow)
		if err != nil {
			exactlyOneSentinel(t, err)
			if alerts != nil {
				t.Fatalf("alerts returned with error %v", err)
			}
			return
		}
		if len(alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(alerts))
		}
		a := alerts[0]
		checkAlert(t, source, 0, a)
		if !strings.HasPrefix(a.Fingerprint, prefix) || len(a.Fingerprint) == len(prefix) {
			t.Fatalf("fingerprint %q", a.Fingerprint)
		}
		switch a.Action {
		case alert.ActionNone, alert.ActionAcknowledge, alert.ActionUnacknowledge, alert.ActionNote:
		default:
			t.Fatalf("action %q", a.Action)
		}
		if a.Action == alert.ActionNote && a.Note == "" {
			t.Fatal("note action without a note")
		}
		if len(a.Note) > MaxDescriptionBytes {
			t.Fatalf("note of %d bytes", len(a.Note))
		}
		out, err := json.Marshal(alerts)
		if err != nil {
			t.Fatalf("result does not marshal: %v", err)
		}
		if bytes.Contains(out, []byte(`\u0000`)) {
			t.Fatalf("result holds a NUL character: %s", out)
		}
	})
}
