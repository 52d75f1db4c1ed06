package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// alertmanagerGroup is an Alertmanager webhook (version 4) notification of
// two alerts of one group, firing or resolved.
func alertmanagerGroup(status string, startsAt, endsAt time.Time) []byte {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = endsAt.UTC().Format(time.RFC3339Nano)
	}
	starts := startsAt.UTC().Format(time.RFC3339Nano)
	return []byte(fmt.Sprintf(`{
  "version": "4",
  "groupKey": "{}:{alertname=\"CheckoutErrorRate\"}",
  "truncatedAlerts": 0,
  "status": %[1]q,
  "receiver": "aurora",
  "groupLabels": {"alertname": "CheckoutErrorRate"},
  "commonLabels": {"alertname": "CheckoutErrorRate", "service": "checkout", "namespace": "shop"},
  "commonAnnotations": {"runbook_url": "https://runbooks.example.com/checkout-errors"},
  "externalURL": "http://alertmanager.example.com:9093",
  "alerts": [
    {
      "status": %[1]q,
      "labels": {"alertname": "CheckoutErrorRate", "severity": "critical", "service": "checkout", "namespace": "shop", "pod": "checkout-7d9f-abcde"},
      "annotations": {
        "summary": "Checkout error rate above 5%%",
        "description": "5xx ratio of checkout is 7.3%% over 5m",
        "runbook_url": "https://runbooks.example.com/checkout-errors"
      },
      "startsAt": %[2]q,
      "endsAt": %[3]q,
      "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=checkout_5xx_ratio",
      "fingerprint": "c0ffee0000000001"
    },
    {
      "status": %[1]q,
      "labels": {"alertname": "CheckoutErrorRate", "severity": "warning", "service": "checkout", "namespace": "shop", "pod": "checkout-7d9f-fghij"},
      "annotations": {
        "summary": "Checkout error rate above 5%%",
        "description": "5xx ratio of checkout is 5.9%% over 5m",
        "runbook_url": "https://runbooks.example.com/checkout-errors"
      },
      "startsAt": %[2]q,
      "endsAt": %[3]q,
      "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=checkout_5xx_ratio",
      "fingerprint": "c0ffee0000000002"
    }
  ]
}`, status, starts, ends))
}

func TestLifecycleEmbedded(t *testing.T) {
	t.Parallel()
	testLifecycle(t, embedded)
}

func TestLifecyclePostgres(t *testing.T) {
	t.Parallel()
	testLifecycle(t, postgres)
}

// testLifecycle follows one incident from a firing Alertmanager group to its
// investigation report, a re-delivery and the resolve.
func testLifecycle(t *testing.T, b backend) {
	p, _ := startAll(t, b, nil)

	// An integration, whose token is used for later deliveries.
	var integ struct {
		ID           string `json:"id"`
		Source       string `json:"source"`
		Token        string `json:"token"`
		WebhookURL   string `json:"webhook_url"`
		URLWithToken string `json:"webhook_url_with_token"`
	}
	if code := p.Do(http.MethodPost, "/api/v1/integrations", map[string]string{"source": "alertmanager", "name": "am"}, &integ); code != http.StatusCreated {
		t.Fatalf("create integration: %d", code)
	}
	if integ.Token == "" || integ.ID == "" {
		t.Fatalf("integration without id or token: %+v", integ)
	}
	if want := p.URL + "/webhooks/alertmanager"; integ.WebhookURL != want {
		t.Errorf("webhook_url = %q, want %q", integ.WebhookURL, want)
	}
	if !strings.HasPrefix(integ.URLWithToken, integ.WebhookURL+"?token=") {
		t.Errorf("webhook_url_with_token = %q", integ.URLWithToken)
	}

	startsAt := time.Now().Add(-3 * time.Minute).Truncate(time.Second)
	firing := alertmanagerGroup("firing", startsAt, time.Time{})

	// 1. The first delivery (admin token) opens one incident of two alerts.
	res := postAlerts(t, p.URL, testenv.AdminToken, "alertmanager", firing)
	if res.Accepted != 2 || len(res.AlertIDs) != 2 || len(res.IncidentIDs) != 1 {
		t.Fatalf("first delivery: %+v, want 2 alerts accepted into 1 incident", res)
	}
	incID := res.IncidentIDs[0]

	var incs page[incident]
	get(t, p, "/api/v1/incidents", &incs)
	if len(incs.Items) != 1 {
		t.Fatalf("incidents: %d, want 1", len(incs.Items))
	}
	if inc := incs.Items[0]; inc.ID != incID || inc.Status != "open" || inc.AlertCount != 2 || inc.FiringCount != 2 || inc.Severity != "critical" {
		t.Errorf("incident = %+v, want %s open with 2 firing alerts, severity critical", inc, incID)
	}

	// 2. Its investigation completes with an honest report.
	var inv investigation
	testenv.Eventually(t, 60*time.Second, "investigation to complete", func() bool {
		var d incidentDetail
		get(t, p, "/api/v1/incidents/"+incID, &d)
		if d.Investigation == nil {
			return false
		}
		if d.Investigation.Status == "failed" || d.Investigation.Status == "cancelled" {
			t.Fatalf("investigation %s", d.Investigation.Status)
		}
		if d.Investigation.Status != "completed" {
			return false
		}
		get(t, p, "/api/v1/investigations/"+d.Investigation.ID, &inv)
		return true
	})
	if inv.Status != "completed" || inv.IncidentID != incID {
		t.Errorf("investigation = %s of %s, want completed of %s", inv.Status, inv.IncidentID, incID)
	}
	if len(inv.Steps) < 2 {
		t.Errorf("investigation has %d steps, want ≥ 2", len(inv.Steps))
	}
	for _, s := range inv.Steps {
		if s.Status != "completed" || s.FinishedAt == nil {
			t.Errorf("step %d (%s) is %s, want completed", s.Seq, s.Tool, s.Status)
		}
	}
	if inv.Report == nil {
		t.Fatal("completed investigation has no report")
	}
	if inv.Report.Verdict != "INCONCLUSIVE" {
		t.Errorf("report verdict = %q, want INCONCLUSIVE", inv.Report.Verdict)
	}
	if len(inv.Report.NotChecked) == 0 {
		t.Error("report.not_checked is empty")
	}
	if inv.Report.Summary == "" {
		t.Error("report.summary is empty")
	}

	// 3. The same firing group again (integration token, as Bearer) is a
	// duplicate: same alerts, counted twice, no new rows.
	var before page[alertRec]
	get(t, p, "/api/v1/alerts?limit=500", &before)
	if len(before.Items) != 2 {
		t.Fatalf("alerts: %d, want 2", len(before.Items))
	}
	res2 := postAlerts(t, p.URL, integ.Token, "alertmanager", firing)
	if res2.Accepted != 2 || len(res2.IncidentIDs) != 1 || res2.IncidentIDs[0] != incID {
		t.Errorf("re-delivery: %+v, want 2 accepted into %s", res2, incID)
	}
	if !sameSet(res2.AlertIDs, res.AlertIDs) {
		t.Errorf("re-delivery alert ids %v, want the first delivery's %v", res2.AlertIDs, res.AlertIDs)
	}
	get(t, p, "/api/v1/incidents", &incs)
	if len(incs.Items) != 1 || incs.Items[0].AlertCount != 2 {
		t.Errorf("after re-delivery: %d incidents (%+v), want 1 with 2 alerts", len(incs.Items), incs.Items)
	}
	var after page[alertRec]
	get(t, p, "/api/v1/alerts?limit=500", &after)
	if len(after.Items) != len(before.Items) {
		t.Errorf("alerts after re-delivery: %d, want %d", len(after.Items), len(before.Items))
	}
	for _, a := range after.Items {
		if a.ReceivedCount != 2 {
			t.Errorf("alert %s received_count = %d, want 2", a.Fingerprint, a.ReceivedCount)
		}
		if a.Status != "firing" || a.IncidentID != incID {
			t.Errorf("alert %s: %s in %s, want firing in %s", a.Fingerprint, a.Status, a.IncidentID, incID)
		}
	}

	// 4. The resolved group (integration token in ?token=, no header)
	// resolves the incident.
	endsAt := time.Now().Truncate(time.Second)
	code, body := rawDo(t, http.MethodPost, p.URL+"/webhooks/alertmanager?token="+url.QueryEscape(integ.Token),
		map[string]string{"Content-Type": "application/json"}, strings.NewReader(string(alertmanagerGroup("resolved", startsAt, endsAt))))
	if code != http.StatusAccepted {
		t.Fatalf("resolved delivery: %d %s", code, body)
	}
	var d incidentDetail
	get(t, p, "/api/v1/incidents/"+incID, &d)
	if d.Status != "resolved" || d.FiringCount != 0 || d.ResolvedAt == nil {
		t.Errorf("incident after resolve: status %s, firing %d, resolved_at %v; want resolved, 0, set", d.Status, d.FiringCount, d.ResolvedAt)
	}
	kinds := []string{}
	for _, e := range d.Timeline {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, "resolved") {
		t.Errorf("timeline kinds %v lack \"resolved\"", kinds)
	}
	if !slices.Contains(kinds, "created") {
		t.Errorf("timeline kinds %v lack \"created\"", kinds)
	}
	for _, a := range d.Alerts {
		if a.Status != "resolved" || a.EndsAt == nil || !a.EndsAt.Equal(endsAt) {
			t.Errorf("alert %s after resolve: %s ends %v, want resolved ending %v", a.Fingerprint, a.Status, a.EndsAt, endsAt)
		}
	}
	get(t, p, "/api/v1/alerts?limit=500", &after)
	if len(after.Items) != 2 {
		t.Errorf("alerts after resolve: %d, want 2", len(after.Items))
	}
	get(t, p, "/api/v1/incidents?status=resolved", &incs)
	if len(incs.Items) != 1 || incs.Items[0].ID != incID {
		t.Errorf("resolved incidents: %+v, want just %s", incs.Items, incID)
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
