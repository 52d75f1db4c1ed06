package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// An alert.received event holds exactly what encoding the alert would,
// whether its labels were encoded ahead or not.
func TestAlertJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	cases := map[string]Alert{
		"empty": {Labels: map[string]string{}, Annotations: map[string]string{}, Links: []alert.Link{}},
		"full": {ID: "a1", OrgID: "o", Source: "alertmanager", IntegrationID: "i", Fingerprint: "fp", Status: "firing", Severity: "critical",
			Name: "HighErrorRate", Title: "5xx <50%> & rising", Description: "line\nbreak \"quoted\" \u2028 ünïcode", Service: "checkout",
			Environment: "prod", Namespace: "shop", Labels: map[string]string{"z": "1", "a": "<b>", "m": "é"},
			Annotations: map[string]string{"runbook_url": "https://x/y?a=1&b=2"}, Links: []alert.Link{{URL: "https://g", Text: "graph"}},
			StartsAt: end.Add(-time.Hour), EndsAt: &end, FirstReceivedAt: end, LastReceivedAt: end, ReceivedCount: 3, IncidentID: "inc",
			RawPayloadID: "raw", CorrelationRule: "default", CorrelationReason: "same alertname"},
		"escapes": {ID: "a\x00\x01\x1f\x7f", Title: "bad \xff\xfe utf8 \xe2\x80", Description: "\b\f\n\r\t\\ \"q\" \u2029 <script>&amp;</script> 😀",
			Labels: map[string]string{"<k>": "\u2028", "": "empty key", "ü": "\xc3"}, Annotations: map[string]string{"a": ""},
			Links: []alert.Link{{URL: "u"}, {Text: "t&t", URL: "https://x/?a=<1>"}}, StartsAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			FirstReceivedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 3600)), ReceivedCount: -1},
	}
	for name, a := range cases {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.eventJSON(); got != string(want) {
			t.Errorf("%s, encoded on the spot:\n got %s\nwant %s", name, got, want)
		}
		b := a
		b.SetEncoded(EncodeAlertFields(a.Labels, a.Annotations, a.Links))
		if got := b.eventJSON(); got != string(want) {
			t.Errorf("%s, encoded ahead:\n got %s\nwant %s", name, got, want)
		}
	}
	// Missing labels are stored and sent as {} and [], never null.
	f := EncodeAlertFields(nil, nil, nil)
	if f.Labels != "{}" || f.Annotations != "{}" || f.Links != "[]" {
		t.Errorf("nil fields encode as %+v", f)
	}
}

// FuzzAlertJSON checks the hand-written encoders against encoding/json on
// arbitrary strings (invalid UTF-8, control and HTML characters) and times.
func FuzzAlertJSON(f *testing.F) {
	f.Add("HighErrorRate", "checkout", "summary", "<b>&\u2028\xff", int64(1_790_000_000_123_456_789), int64(60))
	f.Add("", "", "", "\x00\x1f\"\\", int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, name, key, value, text string, nanos, offset int64) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", int(offset%86400)))
		end := at.Add(time.Duration(offset))
		a := Alert{ID: name, Source: key, Fingerprint: value, Status: text, Title: text + name, Description: value,
			Labels: map[string]string{key: value, name: text}, Annotations: map[string]string{text: key},
			Links: []alert.Link{{Text: name, URL: value}, {URL: text}}, StartsAt: at, EndsAt: &end, FirstReceivedAt: end, LastReceivedAt: at,
			ReceivedCount: int(offset), IncidentID: key, CorrelationReason: text}
		if _, err := json.Marshal(a.StartsAt); err != nil {
			return // a time encoding/json refuses: eventJSON falls back to it
		}
		if _, err := json.Marshal(end); err != nil {
			return
		}
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.eventJSON(); got != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// Timeline data is encoded as encoding/json would, by hand or not.
func TestDataJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]map[string]any{
		"nil":     nil,
		"empty":   {},
		"strings": {"alert_id": "a1", "rule": "default", "reason": "same <alertname> & \u2028", "actor": ""},
		"scalars": {"investigation_id": "v", "rate_limited": true, "other": false, "gone": nil, "bad": "\xff"},
		"numbers": {"n": 3, "f": 1.5, "s": "x"},                      // through encoding/json
		"nested":  {"labels": map[string]string{"a": "b"}, "s": "x"}, // through encoding/json
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := dataJSON(m); got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
