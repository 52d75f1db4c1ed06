package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/testenv"
)

func TestBadInputLeavesDatabaseUnchanged(t *testing.T) {
	t.Parallel()
	testBadInput(t, embedded)
}

func TestBadInputLeavesDatabaseUnchangedPostgres(t *testing.T) {
	t.Parallel()
	testBadInput(t, postgres)
}

// testBadInput sends one good alert, then a table of bad requests, each of
// which must be refused with its status and error code, and store nothing.
func testBadInput(t *testing.T, b backend) {
	// No automatic investigations: nothing may change in the background
	// between the two snapshots.
	p, _ := startAll(t, b, testenv.Env{"AURORA_MAX_BODY_BYTES": "64KiB", "AURORA_INVESTIGATE_SEVERITIES": "none"})

	postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Disk almost full", "DiskFull", "db"))

	var viewer struct {
		Token string `json:"token"`
		Role  string `json:"role"`
	}
	if code := p.Do(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "v", "role": "viewer"}, &viewer); code != http.StatusCreated || viewer.Token == "" || viewer.Role != "viewer" {
		t.Fatalf("create viewer token: %d %+v", code, viewer)
	}
	var amInteg struct {
		Token string `json:"token"`
	}
	if code := p.Do(http.MethodPost, "/api/v1/integrations", map[string]string{"source": "alertmanager", "name": "am"}, &amInteg); code != http.StatusCreated || amInteg.Token == "" {
		t.Fatalf("create integration: %d", code)
	}

	incidentsBefore := get(t, p, "/api/v1/incidents?limit=500", nil)
	alertsBefore := get(t, p, "/api/v1/alerts?limit=500", nil)
	var alerts page[alertRec]
	if err := json.Unmarshal(alertsBefore, &alerts); err != nil || len(alerts.Items) != 1 {
		t.Fatalf("alerts before the table: %s", alertsBefore)
	}

	// A valid generic alert over 64KiB.
	big, _ := json.Marshal(map[string]any{"title": "Huge alert", "severity": "critical", "description": strings.Repeat("x", 70*1024)})
	if len(big) <= 64*1024 {
		t.Fatal("test body is not over the limit")
	}
	admin := "Bearer " + testenv.AdminToken
	jsonHdr := func(auth string) map[string]string {
		h := map[string]string{"Content-Type": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		return h
	}
	good := string(genericAlert("Another alert", "Other", "api"))

	cases := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   func() io.Reader
		status int
		code   string
	}{
		{"oversize body with Content-Length", "POST", "/webhooks/generic", jsonHdr(admin),
			func() io.Reader { return bytes.NewReader(big) }, 413, "payload_too_large"},
		{"oversize body, chunked", "POST", "/webhooks/generic", jsonHdr(admin),
			func() io.Reader { return io.MultiReader(bytes.NewReader(big)) }, 413, "payload_too_large"},
		{"oversize alertmanager body", "POST", "/webhooks/alertmanager", jsonHdr(admin),
			func() io.Reader { return bytes.NewReader(big) }, 413, "payload_too_large"},
		{"malformed JSON", "POST", "/webhooks/generic", jsonHdr(admin),
			func() io.Reader { return strings.NewReader(`{"title": "x", `) }, 400, "malformed_json"},
		{"malformed JSON (alertmanager)", "POST", "/webhooks/alertmanager", jsonHdr(admin),
			func() io.Reader { return strings.NewReader(`{"version":"4","alerts":[{]}`) }, 400, "malformed_json"},
		{"wrong token", "POST", "/webhooks/generic", jsonHdr("Bearer aur_not_a_real_token"),
			func() io.Reader { return strings.NewReader(good) }, 401, "unauthorized"},
		{"missing token", "POST", "/webhooks/generic", jsonHdr(""),
			func() io.Reader { return strings.NewReader(good) }, 401, "unauthorized"},
		{"wrong token in ?token=", "POST", "/webhooks/generic?token=aur_not_a_real_token", jsonHdr(""),
			func() io.Reader { return strings.NewReader(good) }, 401, "unauthorized"},
		{"form content type", "POST", "/webhooks/generic", map[string]string{"Authorization": admin, "Content-Type": "application/x-www-form-urlencoded"},
			func() io.Reader { return strings.NewReader("title=Form+alert&severity=critical") }, 415, "unsupported_media_type"},
		{"unknown source", "POST", "/webhooks/nagios", jsonHdr(admin),
			func() io.Reader { return strings.NewReader(good) }, 404, "unknown_source"},
		{"empty alerts (generic)", "POST", "/webhooks/generic", jsonHdr(admin),
			func() io.Reader { return strings.NewReader(`{"alerts":[]}`) }, 422, "invalid_payload"},
		{"empty alerts (alertmanager)", "POST", "/webhooks/alertmanager", jsonHdr(admin),
			func() io.Reader { return strings.NewReader(`{"alerts":[]}`) }, 422, "invalid_payload"},
		{"empty alerts (alertmanager, full envelope)", "POST", "/webhooks/alertmanager", jsonHdr(admin),
			func() io.Reader {
				return strings.NewReader(`{"version":"4","status":"firing","receiver":"aurora","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","alerts":[]}`)
			}, 422, "invalid_payload"},
		{"viewer token sends alerts", "POST", "/webhooks/generic", jsonHdr("Bearer " + viewer.Token),
			func() io.Reader { return strings.NewReader(good) }, 403, "forbidden"},
		{"alertmanager integration token on generic", "POST", "/webhooks/generic", jsonHdr("Bearer " + amInteg.Token),
			func() io.Reader { return strings.NewReader(good) }, 403, "forbidden"},
		{"viewer token creates an integration", "POST", "/api/v1/integrations", jsonHdr("Bearer " + viewer.Token),
			func() io.Reader { return strings.NewReader(`{"source":"generic","name":"x"}`) }, 403, "forbidden"},
		{"viewer token resolves an incident", "PATCH", "/api/v1/incidents/" + alerts.Items[0].IncidentID, jsonHdr("Bearer " + viewer.Token),
			func() io.Reader { return strings.NewReader(`{"status":"resolved"}`) }, 403, "forbidden"},
		{"REST without token", "GET", "/api/v1/incidents", nil, nil, 401, "unauthorized"},
		{"REST with an integration token", "GET", "/api/v1/incidents", map[string]string{"Authorization": "Bearer " + amInteg.Token}, nil, 401, "unauthorized"},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != nil {
			body = c.body()
		}
		status, resp := rawDo(t, c.method, p.URL+c.path, c.hdr, body)
		if status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, status, c.status, resp)
		}
		checkErrorBody(t, c.name, resp, c.code)
	}

	// The viewer may still read.
	if code := testenv.DoToken(t, p.URL, viewer.Token, http.MethodGet, "/api/v1/incidents", nil, nil); code != http.StatusOK {
		t.Errorf("viewer GET /api/v1/incidents: %d, want 200", code)
	}
	if after := get(t, p, "/api/v1/incidents?limit=500", nil); !bytes.Equal(after, incidentsBefore) {
		t.Errorf("incidents changed by refused requests:\nbefore %s\nafter  %s", incidentsBefore, after)
	}
	if after := get(t, p, "/api/v1/alerts?limit=500", nil); !bytes.Equal(after, alertsBefore) {
		t.Errorf("alerts changed by refused requests:\nbefore %s\nafter  %s", alertsBefore, after)
	}
}
