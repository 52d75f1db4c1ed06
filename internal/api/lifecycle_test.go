package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/auth"
)

// Each source's real or schema-true deliveries drive one incident through
// its life, and delivering the last one again changes nothing.
func TestSourceLifecycles(t *testing.T) {
	t.Parallel()
	type step struct {
		file, sig, want string // want: the incident's status afterwards
	}
	cases := []struct {
		source, settings, secret string
		steps                    []step
	}{
		{"pagerduty", `{}`, pdSecret, []step{
			{"pagerduty/incident_triggered.json", "v1=3e3032b45bbe1801c13f182b0e0a7f4f3f530225cef07e3e90cbc57874d01c49", "open"},
			{"pagerduty/incident_acknowledged.json", "v1=91f533c0411d09f3e68622e2b57fdb561e7113ce7635318a2bbf5cde45d3d876", "acknowledged"},
			{"pagerduty/incident_resolved.json", "v1=60a745384fb05b03acfc592b157b05e105e498da2f72f53c437c9d7c8d9aa879", "resolved"},
		}},
		{"opsgenie", `{}`, "", []step{{"opsgenie/create.json", "", "open"}, {"opsgenie/acknowledge.json", "", "acknowledged"}, {"opsgenie/close.json", "", "resolved"}}},
		{"newrelic", `{}`, "", []step{{"newrelic/workflow_activated.json", "", "open"}, {"newrelic/workflow_acknowledged.json", "", "acknowledged"}, {"newrelic/workflow_default_closed.json", "", "resolved"}}},
		{"datadog", `{}`, "", []step{{"datadog/recommended_triggered.json", "", "open"}, {"datadog/recommended_recovered.json", "", "resolved"}}},
		{"cloudwatch", `{"topic_arns":["arn:aws:sns:eu-west-1:1234567890:alerta-test"],"verify_signatures":false}`, "", []step{
			{"cloudwatch/https_notification_alarm.json", "", "open"}, {"cloudwatch/https_ok_resolved.json", "", "resolved"}}},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			body := `{"source":"` + c.source + `","name":"x","settings":` + c.settings
			if c.secret != "" {
				body += `,"signing_secret":"` + strings.ReplaceAll(c.secret, "/", "\\/") + `"`
			}
			tok, _ := b.integration(t, body+"}")
			incID := ""
			var last []byte
			for _, s := range c.steps {
				payload := readFixture(t, s.file)
				last = payload
				h := map[string]string{"X-Aurora-Token": tok, "Content-Type": "application/json"}
				if s.sig != "" {
					h["X-PagerDuty-Signature"] = s.sig
				}
				code, out := b.post(t, "/webhooks/"+c.source, h, payload)
				if code != 202 {
					t.Fatalf("%s: %d %s", s.file, code, out)
				}
				var res struct {
					IncidentIDs []string `json:"incident_ids"`
				}
				_ = json.Unmarshal([]byte(out), &res)
				if len(res.IncidentIDs) != 1 || (incID != "" && res.IncidentIDs[0] != incID) {
					t.Fatalf("%s: incidents %v, want the one incident %s", s.file, res.IncidentIDs, incID)
				}
				incID = res.IncidentIDs[0]
				var inc struct {
					Status string `json:"status"`
				}
				_, raw := b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/incidents/"+incID, "", nil)
				_ = json.Unmarshal(raw, &inc)
				if inc.Status != s.want {
					t.Fatalf("after %s: incident %s, want %s", s.file, inc.Status, s.want)
				}
			}
			// Re-delivery of the last event: idempotent.
			h := map[string]string{"X-Aurora-Token": tok, "Content-Type": "application/json"}
			if sig := c.steps[len(c.steps)-1].sig; sig != "" {
				h["X-PagerDuty-Signature"] = sig
			}
			if code, out := b.post(t, "/webhooks/"+c.source, h, last); code != 202 || !strings.Contains(out, `"accepted":1`) {
				t.Fatalf("re-delivery: %d %s", code, out)
			}
			var alerts struct {
				Items []struct {
					ReceivedCount int `json:"received_count"`
				} `json:"items"`
			}
			_, raw := b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/alerts?source="+c.source, "", nil)
			_ = json.Unmarshal(raw, &alerts)
			if len(alerts.Items) != 1 || alerts.Items[0].ReceivedCount != len(c.steps)+1 {
				t.Fatalf("alerts after the lifecycle: %s", raw)
			}
		})
	}
}
