package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/alert"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*.golden.json from the parsers' output")

// now is fixed so goldens of payloads that lack times are stable; it is not
// UTC so the tests also see that Parse normalises it.
var now = time.Date(2025, 9, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))

// payloads lists the test payloads of a source (not the goldens).
func payloads(t testing.TB, source string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", source, "*.json"))
	mustNil(t, err)
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, source := range Sources() {
		files := payloads(t, source)
		if len(files) == 0 {
			t.Fatalf("no test payloads for source %s", source)
		}
		for _, file := range files {
			t.Run(file, func(t *testing.T) {
				t.Parallel()
				body, err := os.ReadFile(file)
				mustNil(t, err)
				alerts, err := Parse(source, body, now)
				mustNil(t, err)
				// Unescaped so that URLs in goldens read as sent (& not \u0026).
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				mustNil(t, enc.Encode(alerts))
				got := buf.Bytes()
				golden := strings.TrimSuffix(file, ".json") + ".golden.json"
				if *update {
					mustNil(t, os.WriteFile(golden, got, 0o644))
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create the golden file)", err)
				}
				if !bytes.Equal(want, got) {
					t.Errorf("differs from %s at line %d (run with -update and review the diff):\n%s", golden, firstDiffLine(want, got), got)
				}
			})
		}
	}
}

// Every Alertmanager test payload either carries Alertmanager's fingerprint
// or none; either way the result must be Alertmanager's algorithm.
func TestAlertmanagerFingerprints(t *testing.T) {
	t.Parallel()
	for _, file := range payloads(t, "alertmanager") {
		body, err := os.ReadFile(file)
		mustNil(t, err)
		alerts, err := Parse("alertmanager", body, now)
		mustNil(t, err)
		for i, a := range alerts {
			equal(t, alert.Fingerprint(a.Labels), a.Fingerprint, "%s alert %d", file, i)
		}
	}
}

func TestAlertmanagerOldAndNewSenderAgree(t *testing.T) {
	t.Parallel()
	// The first alert of the 2-alert example in Alertmanager's own docs, with
	// and without the fingerprint the newer sender adds.
	withFP := `{"status":"firing","alerts":[{"labels":{"job":"node","group":"production","instance":"localhost:8081","severity":"critical","alertname":"InstanceDown"},"fingerprint":"f404ecabc8dd5cd7"}]}`
	withoutFP := `{"status":"firing","alerts":[{"labels":{"job":"node","group":"production","instance":"localhost:8081","severity":"critical","alertname":"InstanceDown"}}]}`
	a, err := Parse("alertmanager", []byte(withFP), now)
	mustNil(t, err)
	b, err := Parse("alertmanager", []byte(withoutFP), now)
	mustNil(t, err)
	equal(t, "f404ecabc8dd5cd7", b[0].Fingerprint)
	equal(t, a[0].Fingerprint, b[0].Fingerprint)
}

func TestLifecycleKeepsFingerprint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		source, firing, resolved string
	}{
		{"alertmanager", "firing_single.json", "resolved_single.json"},
		{"generic", "minimal.json", "resolved.json"},
		{"generic", "single_full.json", "resolved.json"},
	}
	for _, c := range cases {
		fire := parseFile(t, c.source, c.firing)
		res := parseFile(t, c.source, c.resolved)
		fps := map[string]bool{}
		for _, a := range res {
			equal(t, alert.StatusResolved, a.Status)
			fps[a.Fingerprint] = true
		}
		for _, a := range fire {
			equal(t, alert.StatusFiring, a.Status)
			isTrue(t, fps[a.Fingerprint], "%s/%s: %s has no resolution in %s", c.source, c.firing, a.Fingerprint, c.resolved)
		}
	}
}

func parseFile(t *testing.T, source, name string) []alert.Alert {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", source, name))
	mustNil(t, err)
	alerts, err := Parse(source, body, now)
	mustNil(t, err)
	return alerts
}

func TestStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		source string
		body   string
		want   []alert.Status
	}{
		{"alert status wins over group", "alertmanager", `{"status":"firing","alerts":[{"status":"resolved","labels":{"a":"1"}},{"status":"firing","labels":{"a":"2"}}]}`, []alert.Status{"resolved", "firing"}},
		{"group status is the default", "alertmanager", `{"status":"resolved","alerts":[{"labels":{"a":"1"}},{"status":"","labels":{"a":"2"}},{"status":"firing","labels":{"a":"3"}}]}`, []alert.Status{"resolved", "resolved", "firing"}},
		{"grafana state ok is not a status", "grafana", `{"status":"firing","state":"ok","alerts":[{"status":"resolved","labels":{"a":"1"}}]}`, []alert.Status{"resolved"}},
		{"case forgiven", "alertmanager", `{"alerts":[{"status":" Resolved ","labels":{"a":"1"}}]}`, []alert.Status{"resolved"}},
		{"generic default firing", "generic", `{"title":"x"}`, []alert.Status{"firing"}},
		{"generic null status is firing", "generic", `{"title":"x","status":null}`, []alert.Status{"firing"}},
		{"generic upper case", "generic", `{"alerts":[{"title":"x","status":"RESOLVED"},{"title":"y","status":"Firing"}]}`, []alert.Status{"resolved", "firing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse(c.source, []byte(c.body), now)
			mustNil(t, err)
			var got []alert.Status
			for _, a := range alerts {
				got = append(got, a.Status)
			}
			equal(t, c.want, got)
		})
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	utcNow := now.UTC()
	start := time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)
	end := time.Date(2025, 1, 2, 4, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		source     string
		body       string
		start, end time.Time
	}{
		{"firing ignores a future endsAt", "alertmanager", `{"alerts":[{"status":"firing","labels":{"a":"1"},"startsAt":"2025-01-02T04:04:05.0000006+01:00","endsAt":"2099-01-01T00:00:00Z"}]}`, start, time.Time{}},
		{"resolved keeps endsAt", "alertmanager", `{"alerts":[{"status":"resolved","labels":{"a":"1"},"startsAt":"2025-01-02T03:04:05.0000006Z","endsAt":"2025-01-02T04:00:00Z"}]}`, start, end},
		{"resolved without endsAt ends now", "alertmanager", `{"alerts":[{"status":"resolved","labels":{"a":"1"},"startsAt":"2025-01-02T03:04:05.0000006Z","endsAt":"0001-01-01T00:00:00Z"}]}`, start, utcNow},
		{"zero startsAt starts now", "grafana", `{"alerts":[{"status":"firing","labels":{"a":"1"},"startsAt":"0001-01-01T00:00:00Z"}]}`, utcNow, time.Time{}},
		{"missing startsAt starts now", "alertmanager", `{"alerts":[{"status":"firing","labels":{"a":"1"}}]}`, utcNow, time.Time{}},
		{"generic times", "generic", `{"title":"x","status":"resolved","starts_at":"2025-01-02T03:04:05.0000006Z","ends_at":"2025-01-02T05:00:00+01:00"}`, start, end},
		{"generic empty times", "generic", `{"title":"x","status":"resolved","starts_at":"","ends_at":null}`, utcNow, utcNow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse(c.source, []byte(c.body), now)
			mustNil(t, err)
			mustLen(t, alerts, 1)
			a := alerts[0]
			isTrue(t, c.start.Equal(a.StartsAt), "starts %v, want %v", a.StartsAt, c.start)
			equal(t, time.UTC, a.StartsAt.Location())
			isTrue(t, c.end.Equal(a.EndsAt), "ends %v, want %v", a.EndsAt, c.end)
			if !a.EndsAt.IsZero() {
				equal(t, time.UTC, a.EndsAt.Location())
			}
		})
	}
}

func TestDerivedFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		source string
		body   string
		check  func(t *testing.T, a alert.Alert)
	}{
		{"severity falls back to priority", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"A","severity":"whatever","priority":"P1"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityCritical, a.Severity)
		}},
		{"severity falls back to annotation", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{"severity":"warn"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityWarning, a.Severity)
		}},
		{"no severity is unknown", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"A"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityUnknown, a.Severity)
		}},
		{"title from alertname", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"DiskFull"},"annotations":{"message":"m"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "DiskFull", a.Title)
			equal(t, "DiskFull", a.Name)
			equal(t, "m", a.Description)
		}},
		{"title from annotation title", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"DiskFull"},"annotations":{"title":"Disk full"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "Disk full", a.Title)
		}},
		{"title falls back to fingerprint", "alertmanager", `{"alerts":[{"status":"firing","labels":{"job":"node"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "alert "+alert.Fingerprint(map[string]string{"job": "node"}), a.Title)
			equal(t, a.Title, a.Name)
			equal(t, "node", a.Service)
		}},
		{"environment from environment label", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"A","environment":"prod","namespace":"ns"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "prod", a.Environment)
			equal(t, "ns", a.Namespace)
		}},
		{"empty label values dropped", "alertmanager", `{"alerts":[{"status":"firing","labels":{"alertname":"A","instance":""}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, map[string]string{"alertname": "A"}, a.Labels)
			equal(t, alert.Fingerprint(map[string]string{"alertname": "A"}), a.Fingerprint)
		}},
		{"unsafe links dropped", "grafana", `{"alerts":[{"status":"firing","labels":{"alertname":"A"},"generatorURL":"javascript:alert(1)","silenceURL":"/relative","panelURL":"ftp://x/y","dashboardURL":"https://g.example.com/d/1","annotations":{"runbook_url":"https://g.example.com/d/1"}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, []alert.Link{{Text: "runbook", URL: "https://g.example.com/d/1"}}, a.Links)
		}},
		{"grafana values when no description", "grafana", `{"alerts":[{"status":"firing","labels":{"alertname":"A"},"values":{"B":1.5,"A":null}}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "Values: A=null, B=1.5", a.Description)
		}},
		{"grafana description wins over value", "grafana", `{"alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{"description":"d"},"valueString":"[ var='B' value=1 ]"}]}`, func(t *testing.T, a alert.Alert) {
			equal(t, "d", a.Description)
		}},
		{"generic explicit fields win over labels", "generic", `{"title":"t","service":"svc","environment":"env","namespace":"ns","severity":"low","labels":{"service":"other","env":"e2","namespace":"n2","severity":"critical"}}`, func(t *testing.T, a alert.Alert) {
			equal(t, "svc", a.Service)
			equal(t, "env", a.Environment)
			equal(t, "ns", a.Namespace)
			equal(t, alert.SeverityInfo, a.Severity)
		}},
		{"generic falls back to labels", "generic", `{"title":"t","severity":"nonsense","labels":{"app":"web","environment":"prod","namespace":"n","severity":"sev2"}}`, func(t *testing.T, a alert.Alert) {
			equal(t, "web", a.Service)
			equal(t, "prod", a.Environment)
			equal(t, "n", a.Namespace)
			equal(t, alert.SeverityHigh, a.Severity)
			equal(t, "t", a.Name)
		}},
		{"generic scalar labels", "generic", `{"title":"t","labels":{"port":8080,"big":1420452193166002000,"tls":true,"gone":null}}`, func(t *testing.T, a alert.Alert) {
			equal(t, map[string]string{"port": "8080", "big": "1420452193166002000", "tls": "true"}, a.Labels)
		}},
		{"bom tolerated", "generic", "\xef\xbb\xbf{\"title\":\"t\"}", func(t *testing.T, a alert.Alert) {
			equal(t, "t", a.Title)
		}},
		{"unknown fields ignored", "generic", `{"title":"t","whatever":{"x":[1,2]}}`, func(t *testing.T, a alert.Alert) {
			equal(t, "t", a.Title)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse(c.source, []byte(c.body), now)
			mustNil(t, err)
			mustLen(t, alerts, 1)
			c.check(t, alerts[0])
		})
	}
}

func TestGenericFingerprint(t *testing.T) {
	t.Parallel()
	fp := func(body string) string {
		t.Helper()
		alerts, err := Parse("generic", []byte(body), now)
		mustNil(t, err)
		return alerts[0].Fingerprint
	}
	notEqual(t, fp(`{"title":"disk full"}`), fp(`{"title":"CPU high"}`), "titles without labels must not collide")
	equal(t, fp(`{"title":"disk full"}`), fp(`{"title":" disk full ","status":"resolved"}`))
	notEqual(t, fp(`{"title":"disk full","service":"a"}`), fp(`{"title":"disk full","service":"b"}`), "services must not collide")
	equal(t,
		fp(`{"title":"CPU at 91%","labels":{"alertname":"CPUHigh","host":"h1"}}`),
		fp(`{"title":"CPU at 97%","labels":{"alertname":"CPUHigh","host":"h1"}}`),
		"with an alertname the title may change")
	equal(t, alert.Fingerprint(map[string]string{"alertname": "CPUHigh", "host": "h1"}),
		fp(`{"title":"x","labels":{"alertname":"CPUHigh","host":"h1"}}`), "alertname labels key like Alertmanager")
	equal(t, "given", fp(`{"title":"x","fingerprint":" given "}`))
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	tooMany := func(source string, item string) string {
		items := strings.Repeat(item+",", MaxAlerts) + item
		if source == "grafana" || source == "alertmanager" {
			return `{"status":"firing","alerts":[` + items + `]}`
		}
		return `{"alerts":[` + items + `]}`
	}
	long := strings.Repeat("x", MaxValueBytes+1)
	longKey := strings.Repeat("k", MaxKeyBytes+1)
	cases := []struct {
		name    string
		source  string
		body    string
		wantErr error
		wantMsg string
	}{
		{"empty body", "alertmanager", ``, ErrMalformed, "empty body"},
		{"whitespace body", "generic", "  \n", ErrMalformed, "empty body"},
		{"truncated", "alertmanager", `{"alerts":[`, ErrMalformed, "unexpected EOF"},
		{"not json", "grafana", `alertname=Foo`, ErrMalformed, "invalid character"},
		{"trailing data", "generic", `{"title":"a"} {"title":"b"}`, ErrMalformed, "after the top-level"},
		{"trailing garbage", "generic", `{"title":"a"}x`, ErrMalformed, "malformed JSON"},
		{"array body", "alertmanager", `[]`, ErrInvalid, "body: must be a JSON object, got array"},
		{"null body", "generic", `null`, ErrInvalid, "body: must be a JSON object, got null"},
		{"am empty object", "alertmanager", `{}`, ErrInvalid, "alerts: must be a non-empty array"},
		{"am empty alerts", "alertmanager", `{"alerts":[]}`, ErrInvalid, "alerts: must be a non-empty array"},
		{"am alerts not array", "alertmanager", `{"alerts":{}}`, ErrInvalid, "alerts: must be an array, got object"},
		{"am alert not object", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"}},"x"]}`, ErrInvalid, "alerts[1]: must be an object, got string"},
		{"am bad status", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"}},{"labels":{"a":"b"}},{"status":"foo","labels":{"a":"b"}}]}`, ErrInvalid, `alerts[2].status: must be firing or resolved, got "foo"`},
		{"am status not string", "alertmanager", `{"alerts":[{"status":1,"labels":{"a":"b"}}]}`, ErrInvalid, "alerts[0].status: must be a string, got number"},
		{"am bad group status", "alertmanager", `{"status":"pending","alerts":[{"status":"firing","labels":{"a":"b"}}]}`, ErrInvalid, `status: must be firing or resolved, got "pending"`},
		{"am no status anywhere", "alertmanager", `{"alerts":[{"labels":{"a":"b"}}]}`, ErrInvalid, "alerts[0].status: required"},
		{"am missing labels", "alertmanager", `{"status":"firing","alerts":[{"annotations":{}}]}`, ErrInvalid, "alerts[0].labels: must hold at least one"},
		{"am only empty labels", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":""}}]}`, ErrInvalid, "alerts[0].labels: must hold at least one"},
		{"am labels not object", "alertmanager", `{"status":"firing","alerts":[{"labels":["a"]}]}`, ErrInvalid, "alerts[0].labels: must be an object, got array"},
		{"am label not string", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":1}}]}`, ErrInvalid, `alerts[0].labels["a"]: must be a string, got number`},
		{"am label empty name", "alertmanager", `{"status":"firing","alerts":[{"labels":{"":"x","a":"b"}}]}`, ErrInvalid, `alerts[0].labels[""]: name must not be empty`},
		{"am label name too long", "alertmanager", `{"status":"firing","alerts":[{"labels":{"` + longKey + `":"x"}}]}`, ErrInvalid, "name is 257 bytes, at most 256"},
		{"am label value too long", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"` + long + `"}}]}`, ErrInvalid, `alerts[0].labels["a"]: value is 16385 bytes, at most 16384`},
		{"am annotation too long", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"annotations":{"description":"` + long + `"}}]}`, ErrInvalid, `alerts[0].annotations["description"]: value is 16385 bytes`},
		{"am bad startsAt", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"startsAt":"yesterday"}]}`, ErrInvalid, `alerts[0].startsAt: must be an RFC 3339 time, got "yesterday"`},
		{"am bad endsAt while firing", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"endsAt":"2025-13-01T00:00:00Z"}]}`, ErrInvalid, "alerts[0].endsAt: must be an RFC 3339 time"},
		{"am startsAt out of range", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"startsAt":"0000-01-01T00:00:00+01:00"}]}`, ErrInvalid, "alerts[0].startsAt: time \"0000-01-01T00:00:00+01:00\" is out of range"},
		{"am startsAt number", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"startsAt":1700000000}]}`, ErrInvalid, "alerts[0].startsAt: must be a string, got number"},
		{"am fingerprint too long", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"fingerprint":"` + longKey + `"}]}`, ErrInvalid, "alerts[0].fingerprint: is 257 bytes"},
		{"am generatorURL not string", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b"},"generatorURL":false}]}`, ErrInvalid, "alerts[0].generatorURL: must be a string, got boolean"},
		{"am too many alerts", "alertmanager", tooMany("alertmanager", `{"labels":{"a":"b"}}`), ErrInvalid, "alerts: 1001 alerts, at most 1000 per payload"},
		{"grafana empty object", "grafana", `{}`, ErrInvalid, "alerts: must be a non-empty array"},
		{"grafana values not object", "grafana", `{"status":"firing","alerts":[{"labels":{"a":"b"},"values":[1]}]}`, ErrInvalid, "alerts[0].values: must be an object, got array"},
		{"grafana value nested", "grafana", `{"status":"firing","alerts":[{"labels":{"a":"b"},"values":{"B":{}}}]}`, ErrInvalid, `alerts[0].values["B"]: must be a number, got object`},
		{"grafana silenceURL not string", "grafana", `{"status":"firing","alerts":[{"labels":{"a":"b"},"silenceURL":{}}]}`, ErrInvalid, "alerts[0].silenceURL: must be a string, got object"},
		{"grafana too many alerts", "grafana", tooMany("grafana", `{"labels":{"a":"b"}}`), ErrInvalid, "at most 1000 per payload"},
		{"generic empty object", "generic", `{}`, ErrInvalid, "title: required"},
		{"generic empty alerts", "generic", `{"alerts":[]}`, ErrInvalid, "alerts: must be a non-empty array"},
		{"generic null alerts", "generic", `{"alerts":null,"title":"x"}`, ErrInvalid, "alerts: must be a non-empty array"},
		{"generic blank title", "generic", `{"title":"  "}`, ErrInvalid, "title: required"},
		{"generic title not string", "generic", `{"title":42}`, ErrInvalid, "title: must be a string, got number"},
		{"generic missing title in batch", "generic", `{"alerts":[{"title":"a"},{"status":"firing"}]}`, ErrInvalid, "alerts[1].title: required"},
		{"generic bad status", "generic", `{"title":"a","status":"acknowledged"}`, ErrInvalid, `status: must be firing or resolved, got "acknowledged"`},
		{"generic bad starts_at", "generic", `{"title":"a","starts_at":"2025-01-01 10:00"}`, ErrInvalid, `starts_at: must be an RFC 3339 time, got "2025-01-01 10:00"`},
		{"generic bad ends_at", "generic", `{"alerts":[{"title":"a","ends_at":"tomorrow"}]}`, ErrInvalid, "alerts[0].ends_at: must be an RFC 3339 time"},
		{"generic labels not object", "generic", `{"title":"a","labels":"env=prod"}`, ErrInvalid, "labels: must be an object, got string"},
		{"generic label nested", "generic", `{"title":"a","labels":{"x":{"y":"z"}}}`, ErrInvalid, `labels["x"]: must be a string, got object`},
		{"generic annotations not object", "generic", `{"title":"a","annotations":[]}`, ErrInvalid, "annotations: must be an object, got array"},
		{"generic severity not string", "generic", `{"title":"a","severity":1}`, ErrInvalid, "severity: must be a string, got number"},
		{"generic service not string", "generic", `{"alerts":[{"title":"a","service":["x"]}]}`, ErrInvalid, "alerts[0].service: must be a string, got array"},
		{"generic links not array", "generic", `{"title":"a","links":"https://x.example"}`, ErrInvalid, "links: must be an array, got string"},
		{"generic link bad type", "generic", `{"title":"a","links":[1]}`, ErrInvalid, "links[0]: must be a URL string or an object with url, got number"},
		{"generic link bad scheme", "generic", `{"title":"a","links":["https://ok.example","javascript:alert(1)"]}`, ErrInvalid, `links[1]: must be an absolute http or https URL of at most 16384 bytes, got "javascript:alert(1)"`},
		{"generic link object without url", "generic", `{"title":"a","links":[{"text":"x"}]}`, ErrInvalid, `links[0].url: must be an absolute http or https URL`},
		{"generic link text not string", "generic", `{"title":"a","links":[{"text":1,"url":"https://x.example"}]}`, ErrInvalid, `links[0].text: must be a string, got number`},
		{"generic alert not object", "generic", `{"alerts":[null]}`, ErrInvalid, "alerts[0]: must be an object, got null"},
		{"generic too many alerts", "generic", tooMany("generic", `{"title":"a"}`), ErrInvalid, "alerts: 1001 alerts, at most 1000 per payload"},
		{"NUL in label value", "alertmanager", `{"status":"firing","alerts":[{"labels":{"a":"b\u0000"}}]}`, ErrInvalid, `alerts[0].labels["a"]: must not contain a NUL character`},
		{"NUL in label name", "generic", `{"title":"t","labels":{"a\u0000":"b"}}`, ErrInvalid, `labels["a\x00"]: must not contain a NUL character`},
		{"NUL in title", "generic", `{"title":"t\u0000"}`, ErrInvalid, "title: must not contain a NUL character"},
		{"NUL in grafana value", "grafana", `{"status":"firing","alerts":[{"labels":{"a":"b"},"values":{"A":"\u0000"}}]}`, ErrInvalid, `alerts[0].values["A"]: must not contain a NUL character`},
		{"generic service too long", "generic", `{"title":"t","service":"` + long + `"}`, ErrInvalid, "service: is 16385 bytes, at most 16384"},
		{"long quoted value is shortened", "generic", `{"title":"a","status":"` + long + `"}`, ErrInvalid, `status: must be firing or resolved, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse(c.source, []byte(c.body), now)
			if err == nil {
				t.Fatalf("Parse succeeded, want %v", c.wantErr)
			}
			if alerts != nil {
				t.Errorf("alerts = %v, want nil on error", alerts)
			}
			errIs(t, err, c.wantErr)
			other := ErrInvalid
			if c.wantErr == ErrInvalid {
				other = ErrMalformed
			}
			if errors.Is(err, other) {
				t.Errorf("%v also wraps %v", err, other)
			}
			contains(t, err.Error(), c.wantMsg)
		})
	}
}

func TestUnknownSource(t *testing.T) {
	t.Parallel()
	_, err := Parse("nagios", []byte(`{}`), now)
	if !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("err = %v, want ErrUnknownSource", err)
	}
	contains(t, err.Error(), `"nagios"`)
	// Source names are exact: the API routes by them.
	_, err = Parse("Alertmanager", []byte(`{}`), now)
	errIs(t, err, ErrUnknownSource)
}

func TestSources(t *testing.T) {
	t.Parallel()
	equal(t, []string{"alertmanager", "cloudwatch", "datadog", "generic", "grafana", "newrelic", "opsgenie", "pagerduty"}, Sources())
	s := Sources()
	s[0] = "mutated"
	equal(t, "alertmanager", Sources()[0], "Sources must return a copy")
}

func TestTruncation(t *testing.T) {
	t.Parallel()
	title := strings.Repeat("é", MaxTitleRunes+10)
	desc := strings.Repeat("€", MaxDescriptionBytes) // 3 bytes each: must be cut on a rune boundary
	body, err := json.Marshal(map[string]any{"title": title, "description": desc})
	mustNil(t, err)
	alerts, err := Parse("generic", body, now)
	mustNil(t, err)
	a := alerts[0]
	equal(t, MaxTitleRunes, utf8.RuneCountInString(a.Title))
	isTrue(t, strings.HasSuffix(a.Title, "…"))
	isTrue(t, len(a.Description) <= MaxDescriptionBytes, "description is %d bytes", len(a.Description))
	isTrue(t, utf8.ValidString(a.Description))
	isTrue(t, strings.HasSuffix(a.Description, "€…"))
	// The identity uses the whole title, so two long titles that differ only
	// past the cut stay two alerts.
	other, err := json.Marshal(map[string]any{"title": title + "!"})
	mustNil(t, err)
	alerts2, err := Parse("generic", other, now)
	mustNil(t, err)
	equal(t, a.Title, alerts2[0].Title)
	notEqual(t, a.Fingerprint, alerts2[0].Fingerprint)
}

func TestMaxAlertsAccepted(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString(`{"status":"firing","alerts":[`)
	for i := range MaxAlerts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"A","i":"%d"}}`, i)
	}
	b.WriteString(`]}`)
	alerts, err := Parse("alertmanager", b.Bytes(), now)
	mustNil(t, err)
	mustLen(t, alerts, MaxAlerts)
}

func TestAcceptsContentType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		contentType string
		want        map[string]bool // by source; a missing source means false
	}{
		{"", map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "pagerduty": true, "opsgenie": true, "datadog": true, "newrelic": true, "cloudwatch": true}},
		{"application/json", map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "pagerduty": true, "opsgenie": true, "datadog": true, "newrelic": true, "cloudwatch": true}},
		{"application/json; charset=utf-8", map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "pagerduty": true, "opsgenie": true, "datadog": true, "newrelic": true, "cloudwatch": true}},
		{"Application/JSON;Charset=UTF-8", map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "pagerduty": true, "opsgenie": true, "datadog": true, "newrelic": true, "cloudwatch": true}},
		{"application/vnd.aurora.alert+json", map[string]bool{"alertmanager": true, "grafana": true, "generic": true, "pagerduty": true, "opsgenie": true, "datadog": true, "newrelic": true, "cloudwatch": true}},
		{"text/plain", map[string]bool{"generic": true, "cloudwatch": true}},
		{"text/plain; charset=UTF-8", map[string]bool{"generic": true, "cloudwatch": true}},
		{"application/x-www-form-urlencoded", nil},
		{"multipart/form-data; boundary=xyz", nil},
		{"text/html", nil},
		{"application/xml", nil},
		{"text/json", nil},
		{"application/jsonx", nil},
		{"+json", nil},
		{"application/json; charset", nil}, // unparsable parameter
		{"json", nil},
	}
	for _, c := range cases {
		for _, source := range append(Sources(), "nagios") {
			t.Run(source+" "+c.contentType, func(t *testing.T) {
				t.Parallel()
				equal(t, c.want[source], AcceptsContentType(source, c.contentType))
			})
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	errs := []error{ErrMalformed, ErrInvalid, ErrUnknownSource}
	for i, a := range errs {
		for j, b := range errs {
			equal(t, i == j, errors.Is(a, b))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
