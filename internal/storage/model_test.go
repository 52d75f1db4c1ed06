package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// An alert.received event holds exactly what encoding the alert would,
// whether its labels were encoded ahead or not.
func TestAlertEventJSONMatchesMarshal(t *testing.T) {
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
