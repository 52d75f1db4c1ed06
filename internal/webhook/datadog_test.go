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

// datadogBody renders a payload of Aurora's recommended Datadog template
// with the given fields over a filled-in base.
func datadogBody(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"aurora_template": "1",
		"id":              "100",
		"alert_id":        "42",
		"title":           "[P2] [Triggered on {host:a}] CPU high",
		"transition":      "Triggered",
		"priority":        "P2",
		"scope":           "host:a",
		"alert_type":      "error",
		"date":            "1756720680000",
		"body":            "%%%\nCPU is high\n%%%",
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

func ddParseOne(t testing.TB, source string, body []byte) alert.Alert {
	t.Helper()
	alerts, err := Parse(source, body, now)
	mustNil(t, err)
	mustLen(t, alerts, 1)
	return alerts[0]
}

// A Triggered and a Recovered notification of one monitor group must key
// one alert, in either template shape, however the scope is written.
func TestDatadogLifecycleKeepsFingerprint(t *testing.T) {
	t.Parallel()
	pairs := []struct{ firing, resolved string }{
		{"recommended_triggered.json", "recommended_recovered.json"},
		{"default_triggered_multi.json", "default_recovered_multi.json"},
	}
	for _, p := range pairs {
		fire := parseFile(t, "datadog", p.firing)
		res := parseFile(t, "datadog", p.resolved)
		mustLen(t, fire, 1)
		mustLen(t, res, 1)
		equal(t, alert.StatusFiring, fire[0].Status, p.firing)
		equal(t, alert.StatusResolved, res[0].Status, p.resolved)
		equal(t, fire[0].Fingerprint, res[0].Fingerprint, "%s / %s", p.firing, p.resolved)
	}
	// The two shapes key differently: the recommended one by monitor id.
	isTrue(t, strings.HasPrefix(parseFile(t, "datadog", "recommended_triggered.json")[0].Fingerprint, "datadog:4213785:"))
	isTrue(t, strings.HasPrefix(parseFile(t, "datadog", "default_triggered_multi.json")[0].Fingerprint, "datadog:title:"))
}

func TestDatadogGroupsAreAlerts(t *testing.T) {
	t.Parallel()
	a := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": "host:a, env:prod"}))
	b := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": "env:prod,host:a", "transition": "Recovered"}))
	c := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": "env:prod,host:b"}))
	d := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": "env:prod,host:a", "alert_id": "43"}))
	equal(t, "datadog:42:env:prod,host:a", a.Fingerprint)
	equal(t, a.Fingerprint, b.Fingerprint, "scope order and spaces")
	notEqual(t, a.Fingerprint, c.Fingerprint, "another group")
	notEqual(t, a.Fingerprint, d.Fingerprint, "another monitor")
	// The title's scope is the group when the payload has no scope field.
	e := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": nil, "title": "[Triggered on {host:a, env:prod}] CPU high"}))
	equal(t, a.Fingerprint, e.Fingerprint)
	// A simple (ungrouped) monitor has an empty scope.
	f := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": "", "title": "[Triggered] CPU high"}))
	equal(t, "datadog:42:", f.Fingerprint)
	equal(t, "CPU high", f.Title)
}

func TestDatadogStatusAndSeverity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields map[string]any
		status alert.Status
		sev    alert.Severity
		note   string
	}{
		{"triggered P2", nil, alert.StatusFiring, alert.SeverityHigh, ""},
		{"re-triggered", map[string]any{"transition": "Re-Triggered"}, alert.StatusFiring, alert.SeverityHigh, "Datadog: Re-Triggered"},
		{"renotify", map[string]any{"transition": "Renotify"}, alert.StatusFiring, alert.SeverityHigh, "Datadog: Renotify"},
		{"no data", map[string]any{"transition": "No Data"}, alert.StatusFiring, alert.SeverityHigh, "Datadog: No Data"},
		{"re-no data", map[string]any{"transition": "Re-No Data"}, alert.StatusFiring, alert.SeverityHigh, "Datadog: Re-No Data"},
		{"warn beats P1", map[string]any{"transition": "Warn", "priority": "P1"}, alert.StatusFiring, alert.SeverityWarning, "Datadog: Warn"},
		{"re-warn", map[string]any{"transition": "Re-Warn", "priority": ""}, alert.StatusFiring, alert.SeverityWarning, "Datadog: Re-Warn"},
		{"recovered", map[string]any{"transition": "Recovered", "alert_type": "success"}, alert.StatusResolved, alert.SeverityHigh, ""},
		{"ok", map[string]any{"transition": "OK"}, alert.StatusResolved, alert.SeverityHigh, "Datadog: OK"},
		{"case and spaces", map[string]any{"transition": " recovered "}, alert.StatusResolved, alert.SeverityHigh, ""},
		{"P1", map[string]any{"priority": "P1"}, alert.StatusFiring, alert.SeverityCritical, ""},
		{"P3", map[string]any{"priority": "p3"}, alert.StatusFiring, alert.SeverityWarning, ""},
		{"P4", map[string]any{"priority": "P4"}, alert.StatusFiring, alert.SeverityInfo, ""},
		{"P5", map[string]any{"priority": "P5"}, alert.StatusFiring, alert.SeverityInfo, ""},
		{"title priority", map[string]any{"priority": "", "title": "[P1] [Triggered] x"}, alert.StatusFiring, alert.SeverityCritical, ""},
		{"field priority wins", map[string]any{"priority": "P4", "title": "[P1] [Triggered] x"}, alert.StatusFiring, alert.SeverityInfo, ""},
		{"severity name as priority", map[string]any{"priority": "critical", "title": "x"}, alert.StatusFiring, alert.SeverityCritical, ""},
		{"alert_type error", map[string]any{"priority": "", "title": "x"}, alert.StatusFiring, alert.SeverityHigh, ""},
		{"alert_type warning", map[string]any{"priority": "", "title": "x", "alert_type": "warning"}, alert.StatusFiring, alert.SeverityWarning, ""},
		{"alert_type info", map[string]any{"priority": "", "title": "x", "alert_type": "info"}, alert.StatusFiring, alert.SeverityInfo, ""},
		{"alert_type success", map[string]any{"priority": "", "title": "x", "alert_type": "success"}, alert.StatusFiring, alert.SeverityInfo, ""},
		{"nothing", map[string]any{"priority": "", "title": "x", "alert_type": ""}, alert.StatusFiring, alert.SeverityUnknown, ""},
		{"title status when no transition", map[string]any{"transition": nil, "title": "[Recovered] x"}, alert.StatusResolved, alert.SeverityHigh, ""},
		{"title status when transition empty", map[string]any{"transition": "", "title": "[Warn] x"}, alert.StatusFiring, alert.SeverityWarning, "Datadog: Warn"},
		{"transition wins over title", map[string]any{"transition": "Recovered", "title": "[Triggered] x"}, alert.StatusResolved, alert.SeverityHigh, ""},
		{"unknown transition fires", map[string]any{"transition": "Escalated", "title": "x"}, alert.StatusFiring, alert.SeverityHigh, "Datadog: Escalated"},
		{"unknown transition, known title token", map[string]any{"transition": "Null", "title": "[Recovered] x"}, alert.StatusResolved, alert.SeverityHigh, ""},
		{"no status at all fires", map[string]any{"transition": nil, "title": "Deploy finished"}, alert.StatusFiring, alert.SeverityHigh, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := ddParseOne(t, "datadog", datadogBody(t, c.fields))
			equal(t, c.status, a.Status)
			equal(t, c.sev, a.Severity)
			equal(t, c.note, a.Note)
		})
	}
}

func TestDatadogDefaultTemplateTitles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		title                 string
		status                alert.Status
		sev                   alert.Severity
		wantTitle, wantName   string
		wantFP                string
		wantScope, wantAnnTxn string
	}{
		{"[Triggered] CPU high", alert.StatusFiring, alert.SeverityUnknown, "CPU high", "CPU high", "datadog:title:CPU high", "", "Triggered"},
		{"[P1] [Triggered] CPU   high ", alert.StatusFiring, alert.SeverityCritical, "CPU   high", "CPU   high", "datadog:title:CPU high", "", "Triggered"},
		{"[P2] [Re-Triggered] CPU high", alert.StatusFiring, alert.SeverityHigh, "CPU high", "CPU high", "datadog:title:CPU high", "", "Re-Triggered"},
		{"[Recovered] CPU high", alert.StatusResolved, alert.SeverityUnknown, "CPU high", "CPU high", "datadog:title:CPU high", "", "Recovered"},
		{"[Warn] Disk", alert.StatusFiring, alert.SeverityWarning, "Disk", "Disk", "datadog:title:Disk", "", "Warn"},
		{"[No Data] Heartbeat", alert.StatusFiring, alert.SeverityUnknown, "Heartbeat", "Heartbeat", "datadog:title:Heartbeat", "", "No Data"},
		{"[P3] [Recovered on {role:db, az:b}] Load", alert.StatusResolved, alert.SeverityWarning, "Load on {az:b,role:db}", "Load", "datadog:title:Load on {az:b,role:db}", "az:b,role:db", "Recovered"},
		{"[Triggered on {az:b,role:db}] Load", alert.StatusFiring, alert.SeverityUnknown, "Load on {az:b,role:db}", "Load", "datadog:title:Load on {az:b,role:db}", "az:b,role:db", "Triggered"},
		// A scope holding "]" still ends at "}]".
		{"[Triggered on {path:/a]b}] Odd", alert.StatusFiring, alert.SeverityUnknown, "Odd on {path:/a]b}", "Odd", "datadog:title:Odd on {path:/a]b}", "path:/a]b", "Triggered"},
		// After a priority, any bracketed token is the status, even an unknown one.
		{"[P1] [Escalated] Thing", alert.StatusFiring, alert.SeverityCritical, "Thing", "Thing", "datadog:title:Thing", "", "Escalated"},
		// Without one, brackets that are no status belong to the name.
		{"[prod] Thing", alert.StatusFiring, alert.SeverityUnknown, "[prod] Thing", "[prod] Thing", "datadog:title:[prod] Thing", "", ""},
		{"No brackets at all", alert.StatusFiring, alert.SeverityUnknown, "No brackets at all", "No brackets at all", "datadog:title:No brackets at all", "", ""},
		{"[P4] [Triggered] [] [x] Name", alert.StatusFiring, alert.SeverityInfo, "[x] Name", "[x] Name", "datadog:title:[x] Name", "", "Triggered"},
		{"[Triggered]", alert.StatusFiring, alert.SeverityUnknown, "[Triggered]", "[Triggered]", "datadog:title:[Triggered]", "", "Triggered"},
	}
	for _, c := range cases {
		t.Run(c.title, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(map[string]any{"title": c.title, "body": "%%%\nx\n%%%", "date": "1751007029000", "id": "1", "event_type": "query_alert_monitor"})
			mustNil(t, err)
			a := ddParseOne(t, "datadog", body)
			equal(t, c.status, a.Status)
			equal(t, c.sev, a.Severity)
			equal(t, c.wantTitle, a.Title)
			equal(t, c.wantName, a.Name)
			equal(t, c.wantFP, a.Fingerprint)
			equal(t, c.wantScope, a.Labels["scope"])
			equal(t, c.wantAnnTxn, a.Annotations["transition"])
			equal(t, "x", a.Description)
		})
	}
}

func TestDatadogFields(t *testing.T) {
	t.Parallel()
	a := ddParseOne(t, "datadog", datadogBody(t, map[string]any{
		"tags":     "env:prod, monitor, service:checkout,kube_namespace:pay, team:b,team:a, team:a, url:https://x.example/a:b, :novalue, novalue:",
		"scope":    "host:web-1,service:checkout-canary",
		"hostname": "web-1.internal",
		"link":     "javascript:alert(1)",
		"snapshot": "https://p.datadoghq.com/snapshot/x.png",
		"date":     "1756720680",
		"org":      map[string]any{"id": 7, "name": "$ORG_NAME"},
	}))
	equal(t, map[string]string{
		"env":            "prod",
		"tag_monitor":    "true",
		"service":        "checkout-canary", // the scope's tags win over the monitor's
		"kube_namespace": "pay",
		"team":           "a,b",
		"url":            "https://x.example/a:b",
		"host":           "web-1.internal", // $HOSTNAME wins over the scope's host tag
		"monitor_id":     "42",
		"scope":          "host:web-1,service:checkout-canary",
		"priority":       "P2",
	}, a.Labels)
	equal(t, "checkout-canary", a.Service)
	equal(t, "prod", a.Environment)
	equal(t, "pay", a.Namespace)
	equal(t, "CPU is high", a.Description)
	equal(t, "CPU high", a.Name)
	equal(t, "CPU high on {host:web-1,service:checkout-canary}", a.Title)
	equal(t, []alert.Link{{Text: "snapshot", URL: "https://p.datadoghq.com/snapshot/x.png"}}, a.Links)
	equal(t, time.Date(2025, 9, 1, 9, 58, 0, 0, time.UTC), a.StartsAt, "seconds are read as seconds")
	equal(t, "7", a.Annotations["org_id"])
	_, hasName := a.Annotations["org_name"]
	isTrue(t, !hasName, "an unfilled $ORG_NAME is empty")

	// Numbers and booleans from unquoted variables, alert_status as the
	// description when there is no body, last_updated when there is no date.
	b := ddParseOne(t, "datadog", datadogBody(t, map[string]any{
		"alert_id": json.Number("43"), "body": "%%% %%%", "alert_status": "load > 3", "date": nil,
		"last_updated": json.Number("1756720680000"), "scope": true,
	}))
	equal(t, "datadog:43:true", b.Fingerprint)
	equal(t, "load > 3", b.Description)
	equal(t, time.Date(2025, 9, 1, 9, 58, 0, 0, time.UTC), b.StartsAt)

	// RFC 3339 dates; resolved alerts end at the date.
	c := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"date": "2025-09-01T11:58:00+02:00", "transition": "Recovered"}))
	equal(t, time.Date(2025, 9, 1, 9, 58, 0, 0, time.UTC), c.StartsAt)
	equal(t, time.Date(2025, 9, 1, 9, 58, 0, 0, time.UTC), c.EndsAt)

	// No date at all: now, and a resolved alert ends now.
	d := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"date": "", "transition": "Recovered"}))
	equal(t, now.UTC(), d.StartsAt)
	equal(t, now.UTC(), d.EndsAt)

	// No title: the monitor names the alert.
	e := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"title": nil, "scope": ""}))
	equal(t, "Datadog monitor 42", e.Title)
}

func TestDatadogKeepTemplateAliases(t *testing.T) {
	t.Parallel()
	a := parseFile(t, "datadog", "keep_template_filled.json")[0]
	equal(t, "datadog:4213820:queue:orders", a.Fingerprint)
	equal(t, alert.SeverityCritical, a.Severity)
	equal(t, "Triggered", a.Annotations["transition"])
	equal(t, "https://app.datadoghq.com/event/event?id=7981280000000000005", a.Links[0].URL)
	// The recommended name wins when both are present.
	b := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"monitor_id": "99"}))
	equal(t, "42", b.Labels["monitor_id"])
}

// Templates sent as they are (Datadog's "Test" of an unsaved payload, or a
// copy-paste into curl) are refused with a message that says so, and
// partly filled payloads treat the unfilled variables as empty.
func TestDatadogUnfilledTemplate(t *testing.T) {
	t.Parallel()
	keep, err := os.ReadFile(filepath.Join("testdata", "datadog", "templates", "keep_template.json"))
	mustNil(t, err)
	defaultTemplate := `{"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE",
		"title": "$EVENT_TITLE", "date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "id": "$ID"}`
	recommended, err := os.ReadFile(filepath.Join("testdata", "datadog", "recommended_triggered.json"))
	mustNil(t, err)
	var m map[string]any
	mustNil(t, json.Unmarshal(recommended, &m))
	for k := range m {
		if k != "aurora_template" && k != "org" {
			m[k] = "$" + strings.ToUpper(k) // not all Datadog's names, but of their form
		}
	}
	rawRecommended, err := json.Marshal(m)
	mustNil(t, err)
	for name, body := range map[string][]byte{"keep": keep, "default": []byte(defaultTemplate), "recommended": rawRecommended} {
		_, err := Parse("datadog", body, now)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unfilled Datadog template") {
			t.Errorf("%s template: err = %v, want ErrInvalid about an unfilled Datadog template", name, err)
		}
	}

	a := ddParseOne(t, "datadog", datadogBody(t, map[string]any{
		"priority": "$ALERT_PRIORITY", "scope": "$ALERT_SCOPE", "tags": "$TAGS", "snapshot": "$SNAPSHOT",
		"date": "$DATE", "transition": "$ALERT_TRANSITION", "title": "[P3] [Triggered] x", "hostname": "$TAGS[host]",
	}))
	equal(t, alert.SeverityWarning, a.Severity)
	equal(t, "datadog:42:", a.Fingerprint)
	equal(t, now.UTC(), a.StartsAt)
	equal(t, map[string]string{"monitor_id": "42", "priority": "P3"}, a.Labels)
	equal(t, 0, len(a.Links))
}

func TestDatadogBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       error
		msg        string
	}{
		{"empty", ``, ErrMalformed, "empty body"},
		{"not json", `{"title":`, ErrMalformed, ""},
		{"array", `[{"title":"x"}]`, ErrInvalid, "must be a JSON object"},
		{"no title, no id", `{"body":"x","date":"1"}`, ErrInvalid, "title: required"},
		{"blank title", `{"title":"  ","transition":"Triggered"}`, ErrInvalid, "title: required"},
		{"title object", `{"title":{"a":1}}`, ErrInvalid, "title: must be a string, got object"},
		{"tags array", `{"title":"x","tags":["a"]}`, ErrInvalid, "tags: must be a string, got array"},
		{"org string", `{"title":"x","org":"acme"}`, ErrInvalid, "org: must be an object"},
		{"org.id object", `{"title":"x","org":{"id":{}}}`, ErrInvalid, "org.id: must be a string"},
		{"bad date", `{"title":"x","date":"yesterday"}`, ErrInvalid, `date: must be epoch milliseconds or an RFC 3339 time, got "yesterday"`},
		{"huge date", `{"title":"x","date":"99999999999999999999"}`, ErrInvalid, "date: epoch time"},
		{"far date", `{"title":"x","date":"999999999999999999"}`, ErrInvalid, "out of range"},
		{"bad last_updated", `{"title":"x","last_updated":"-1"}`, ErrInvalid, "last_updated: must be epoch"},
		{"NUL", `{"title":"x\u0000"}`, ErrInvalid, "NUL"},
		{"NUL in org", `{"title":"x","org":{"name":"\u0000"}}`, ErrInvalid, "org.name: must not contain a NUL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("datadog", []byte(c.body), now)
			errIs(t, err, c.want)
			isTrue(t, alerts == nil)
			if err != nil {
				contains(t, err.Error(), c.msg)
			}
		})
	}
}

func TestDatadogLongKeysAreHashed(t *testing.T) {
	t.Parallel()
	var tags []string
	for i := range 40 {
		tags = append(tags, "pod_name:checkout-7d9f8c6b5-"+strings.Repeat("x", 5)+string(rune('a'+i%26))+strings.Repeat("y", i))
	}
	scope := strings.Join(tags, ",")
	a := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": scope}))
	isTrue(t, len(a.Fingerprint) <= MaxKeyBytes, "fingerprint of %d bytes", len(a.Fingerprint))
	isTrue(t, strings.HasPrefix(a.Fingerprint, "datadog:42:sha256:"), a.Fingerprint)
	// Stable, and still one group however the scope is ordered.
	reversed := make([]string, len(tags))
	for i, tg := range tags {
		reversed[len(tags)-1-i] = tg
	}
	b := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"scope": strings.Join(reversed, ", ")}))
	equal(t, a.Fingerprint, b.Fingerprint)

	long := strings.Repeat("t", 600)
	c := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"alert_id": nil, "title": "[Triggered] " + long}))
	isTrue(t, strings.HasPrefix(c.Fingerprint, "datadog:title:sha256:"), c.Fingerprint)
	d := ddParseOne(t, "datadog", datadogBody(t, map[string]any{"alert_id": long}))
	isTrue(t, strings.HasPrefix(d.Fingerprint, "datadog:sha256:"), d.Fingerprint)
	isTrue(t, len(d.Fingerprint) <= MaxKeyBytes)
}

func TestDatadogContentType(t *testing.T) {
	t.Parallel()
	isTrue(t, AcceptsContentType("datadog", "application/json"))
	isTrue(t, !AcceptsContentType("datadog", "application/x-www-form-urlencoded"), "Encode as form is refused")
	isTrue(t, !AcceptsContentType("datadog", "text/plain"))
}

func FuzzDatadog(f *testing.F) {
	fuzzOwnSource(f, "datadog", "datadog:",
		filepath.Join("testdata", "datadog", "templates", "keep_template.json"))
}

// fuzzOwnSource checks that a parser never panics, that every error wraps
// exactly one of ErrMalformed, ErrInvalid and ErrIgnored, and that whatever
// it accepts is an alert storage can key, store and show, keyed under the
// source's prefix. Seeds: the source's test payloads, extra files, and
// small payloads near the validators' edges.
func fuzzOwnSource(f *testing.F, source, prefix string, extra ...string) {
	files := append(payloads(f, source), extra...)
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"title":""}`, `{"title":"[P1] [Triggered on {a:b}]"}`,
		`{"title":"[Triggered on {","alert_id":"1"}`, `{"alert_id":"$ALERT_ID","title":"$EVENT_TITLE"}`,
		`{"title":"x","date":"9999999999999"}`, `{"title":"x","tags":",,:,a:,:b"}`,
		`{"id":"1","state":"ACTIVATED","title":"[\"a\"]","createdAt":"1"}`,
		`{"id":"1","state":"DEACTIVATED"}`, `{"state":"CLOSED","issueUrl":"https://x/issues/"}`,
		`{"id":"1","state":"acknowledged","impactedEntities":[null,1,true],"createdAt":1e3}`,
	} {
		f.Add([]byte(s))
	}
	fuzzNow := time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := Parse(source, body, fuzzNow)
		if err != nil {
			n := 0
			for _, e := range []error{ErrMalformed, ErrInvalid, ErrIgnored} {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error must wrap exactly one of ErrMalformed, ErrInvalid, ErrIgnored: %v", err)
			}
			if alerts != nil {
				t.Fatalf("alerts returned with error %v", err)
			}
			return
		}
		if len(alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(alerts))
		}
		for i, a := range alerts {
			checkAlert(t, source, i, a)
			if !strings.HasPrefix(a.Fingerprint, prefix) {
				t.Fatalf("fingerprint %q lacks the prefix %q", a.Fingerprint, prefix)
			}
			if strings.TrimSpace(a.Title) == "" {
				t.Fatalf("blank title")
			}
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
