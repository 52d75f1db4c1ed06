package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/alert"
)

func FuzzAlertmanager(f *testing.F) { fuzzSource(f, "alertmanager") }

func FuzzGrafana(f *testing.F) { fuzzSource(f, "grafana") }

func FuzzGeneric(f *testing.F) { fuzzSource(f, "generic") }

// fuzzSource checks that a parser never panics and that whatever it accepts
// is an alert storage can key, store and show.
func fuzzSource(f *testing.F, source string) {
	for _, file := range payloads(f, source) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	// Small seeds near the edges the validators care about.
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"alerts":[]}`, `{"alerts":[{}]}`,
		`{"status":"resolved","alerts":[{"labels":{"a":""}}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"9999-12-31T23:59:59-01:00"}]}`,
		`{"title":"t","labels":{"n":1e400},"links":[{"url":"https://x"}]}`,
		`{"title":"t\u0000","service":"s"}`,
	} {
		f.Add([]byte(s))
	}
	fuzzNow := time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := Parse(source, body, fuzzNow)
		if err != nil {
			if errors.Is(err, ErrMalformed) == errors.Is(err, ErrInvalid) {
				t.Fatalf("error must wrap exactly one of ErrMalformed, ErrInvalid: %v", err)
			}
			if alerts != nil {
				t.Fatalf("alerts returned with error %v", err)
			}
			return
		}
		if len(alerts) == 0 || len(alerts) > MaxAlerts {
			t.Fatalf("%d alerts", len(alerts))
		}
		for i, a := range alerts {
			checkAlert(t, source, i, a)
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

func checkAlert(t *testing.T, source string, i int, a alert.Alert) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("alert %d: "+format, append([]any{i}, args...)...)
	}
	if a.Source != source {
		fail("source %q", a.Source)
	}
	if a.Fingerprint == "" || len(a.Fingerprint) > MaxKeyBytes {
		fail("fingerprint %q", a.Fingerprint)
	}
	if a.Title == "" || utf8.RuneCountInString(a.Title) > MaxTitleRunes || !utf8.ValidString(a.Title) {
		fail("title %q", a.Title)
	}
	if a.Name == "" || utf8.RuneCountInString(a.Name) > MaxTitleRunes {
		fail("name %q", a.Name)
	}
	if len(a.Description) > MaxDescriptionBytes || !utf8.ValidString(a.Description) {
		fail("description of %d bytes", len(a.Description))
	}
	if a.Status != alert.StatusFiring && a.Status != alert.StatusResolved {
		fail("status %q", a.Status)
	}
	if !a.Severity.Valid() {
		fail("severity %q", a.Severity)
	}
	if a.StartsAt.IsZero() || a.StartsAt.Location() != time.UTC {
		fail("starts_at %v", a.StartsAt)
	}
	if (a.Status == alert.StatusFiring) != a.EndsAt.IsZero() {
		fail("status %s with ends_at %v", a.Status, a.EndsAt)
	}
	if !a.EndsAt.IsZero() && a.EndsAt.Location() != time.UTC {
		fail("ends_at %v", a.EndsAt)
	}
	for _, m := range []map[string]string{a.Labels, a.Annotations} {
		for k, v := range m {
			if k == "" || len(k) > MaxKeyBytes || v == "" || len(v) > MaxValueBytes {
				fail("label or annotation %q=%q", k, v)
			}
		}
	}
	for _, l := range a.Links {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("link %q", l.URL)
		}
	}
}
