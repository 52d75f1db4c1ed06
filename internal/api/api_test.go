package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/sns"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
)

type testBundle struct {
	srv     *httptest.Server
	store   *storage.Store
	org     string
	tokens  map[auth.Role]string
	snsHost atomic.Value // a test server's host:port the SNS verifier accepts
}

// snsAllow lets the SNS verifier reach a local TLS server as if it were an
// SNS endpoint (tests only; production keeps the AWS host check).
func (b *testBundle) snsAllow(ts *httptest.Server) { b.snsHost.Store(ts.Listener.Addr().String()) }

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, org := storagetest.SQLite(t)
	db := store.DB
	kr, _ := secret.NewKeyring([]secret.Key{{ID: "k1", Bytes: bytes.Repeat([]byte{7}, 32)}})
	bus := event.NewBus(nil, log)
	svc := &incident.Service{Store: store, Now: time.Now, Notify: bus.Notify, Cfg: incident.Config{Rules: incident.DefaultRules(30 * time.Minute), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityCritical: true}}}
	q, err := jobs.New(db, jobs.Options{ProcessID: "t", Log: log, Store: store, Incidents: svc, Runner: &investigate.Runner{Store: store, Now: time.Now}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Jobs = q
	b := &testBundle{store: store, org: org.ID, tokens: map[auth.Role]string{}}
	verifier := &sns.Verifier{
		// The local servers have self-signed certificates.
		Client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}, //nolint:gosec // test only
		AllowHost: func(host string) bool {
			h, _ := b.snsHost.Load().(string)
			return (h != "" && host == h) || sns.IsSNSHost(host)
		},
	}
	h := api.New(api.Options{Store: store, Incidents: svc, Secrets: &secret.Store{Keys: kr, Backend: store}, SNS: verifier, Bus: bus, Metrics: metric.New(store, nil),
		Log: log, PublicURL: "http://aurora.test", MaxBodyBytes: 64 << 10, Version: "test"})
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	for _, r := range []auth.Role{auth.Viewer, auth.Editor, auth.Admin} {
		tok := auth.NewToken(auth.APITokenPrefix)
		if _, err := store.CreateAPIToken(ctx, org.ID, string(r), string(r), auth.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		b.tokens[r] = tok
	}
	return b
}

func (b *testBundle) do(t *testing.T, token, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func TestRolesAreEnforced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.do(t, b.tokens[auth.Editor], "POST", "/webhooks/generic", "application/json", []byte(`{"title":"x","severity":"critical"}`))
	if code != 202 {
		t.Fatalf("editor webhook: %d %s", code, body)
	}
	var res struct {
		IncidentIDs []string `json:"incident_ids"`
	}
	_ = json.Unmarshal(body, &res)
	id := res.IncidentIDs[0]
	cases := []struct {
		role   auth.Role
		method string
		path   string
		body   string
		want   int
	}{
		{auth.Viewer, "GET", "/api/v1/incidents", "", 200},
		{auth.Viewer, "GET", "/api/v1/incidents/" + id, "", 200},
		{auth.Viewer, "PATCH", "/api/v1/incidents/" + id, `{"status":"acknowledged"}`, 403},
		{auth.Viewer, "POST", "/api/v1/incidents/" + id + "/investigations", "", 403},
		{auth.Viewer, "POST", "/api/v1/integrations", `{"source":"generic","name":"x"}`, 403},
		{auth.Viewer, "POST", "/webhooks/generic", `{"title":"y"}`, 403},
		{auth.Editor, "PATCH", "/api/v1/incidents/" + id, `{"status":"acknowledged"}`, 200},
		{auth.Editor, "PATCH", "/api/v1/incidents/" + id, `{"status":"bogus"}`, 422},
		{auth.Editor, "PATCH", "/api/v1/incidents/nope", `{"status":"resolved"}`, 404},
		{auth.Editor, "POST", "/api/v1/integrations", `{"source":"generic","name":"x"}`, 403},
		{auth.Editor, "GET", "/api/v1/tokens", "", 403},
		{auth.Admin, "POST", "/api/v1/integrations", `{"source":"generic","name":"x"}`, 201},
		{auth.Admin, "POST", "/api/v1/integrations", `{"source":"generic","name":"x"}`, 409},
		{auth.Admin, "POST", "/api/v1/integrations", `{"source":"nagios","name":"y"}`, 422},
		{auth.Admin, "POST", "/api/v1/integrations", `{"source":"generic","name":"y","bogus":1}`, 422},
		{auth.Admin, "POST", "/api/v1/tokens", `{"name":"t","role":"root"}`, 422},
		{auth.Admin, "GET", "/api/v1/incidents?limit=0", "", 400},
		{auth.Admin, "GET", "/api/v1/incidents?limit=501", "", 400},
		{auth.Admin, "GET", "/api/v1/incidents?cursor=garbage!", "", 400},
		{auth.Admin, "GET", "/api/v1/incidents?status=sleeping", "", 400},
		{auth.Admin, "GET", "/api/v1/incidents?since=yesterday", "", 400},
		{auth.Admin, "GET", "/api/v1/incidents?colour=red", "", 400},
		{"", "GET", "/api/v1/incidents", "", 401},
		{auth.Admin, "GET", "/api/v1/nothing", "", 404},
	}
	for _, c := range cases {
		ct := ""
		if c.body != "" {
			ct = "application/json"
		}
		code, body := b.do(t, b.tokens[c.role], c.method, c.path, ct, []byte(c.body))
		if code != c.want {
			t.Errorf("%s %s %s as %s: got %d %s, want %d", c.method, c.path, c.body, c.role, code, body, c.want)
			continue
		}
		if code >= 400 {
			var e api.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Errorf("%s %s: error body %s is not {error:{code,message}}", c.method, c.path, body)
			}
		}
	}
	if code, _ := b.do(t, "not-a-token", "GET", "/api/v1/incidents", "", nil); code != 401 {
		t.Errorf("bad token: %d", code)
	}
}

func TestIntegrationTokenOnlyForItsSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.do(t, b.tokens[auth.Admin], "POST", "/api/v1/integrations", "application/json", []byte(`{"source":"grafana","name":"g"}`))
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	var in struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(body, &in)
	if !strings.HasPrefix(in.Token, auth.IntegrationTokenPrefix) {
		t.Fatalf("token %q", in.Token)
	}
	if code, body := b.do(t, in.Token, "POST", "/webhooks/alertmanager", "application/json", []byte(`{"alerts":[{"labels":{"alertname":"x"}}]}`)); code != 403 {
		t.Fatalf("grafana token on alertmanager: %d %s", code, body)
	}
	if code, body := b.do(t, "", "POST", "/webhooks/grafana?token="+in.Token, "application/json", []byte(`{"alerts":[{"status":"firing","labels":{"alertname":"x"}}]}`)); code != 202 {
		t.Fatalf("grafana token via ?token=: %d %s", code, body)
	}
	// Listing never shows the token again.
	_, body = b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/integrations", "", nil)
	if strings.Contains(string(body), in.Token) || strings.Contains(string(body), `"token"`) {
		t.Fatalf("integration list leaks the token: %s", body)
	}
}

func TestSSEDeliversAndResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+b.tokens[auth.Viewer])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	if code, body := b.do(t, b.tokens[auth.Editor], "POST", "/webhooks/generic", "application/json", []byte(`{"title":"disk full","severity":"info"}`)); code != 202 {
		t.Fatalf("%d %s", code, body)
	}
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for !bytes.Contains(buf, []byte("event: incident.created")) {
		n, err := resp.Body.Read(tmp)
		if err != nil {
			t.Fatalf("stream ended: %v (%s)", err, buf)
		}
		buf = append(buf, tmp[:n]...)
	}
	if !bytes.Contains(buf, []byte("event: alert.received")) {
		t.Errorf("no alert.received before incident.created: %s", buf)
	}
	first := regexp.MustCompile(`id: (\d+)`).FindSubmatch(buf)
	if first == nil {
		t.Fatalf("no event id in %s", buf)
	}
	// Resume after the first event: the rest arrives.
	req2, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+"/api/v1/events?access_token="+b.tokens[auth.Viewer], nil)
	req2.Header.Set("Last-Event-ID", string(first[1]))
	resp2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	buf2 := []byte{}
	for !bytes.Contains(buf2, []byte("event: incident.created")) {
		n, err := resp2.Body.Read(tmp)
		if err != nil {
			t.Fatalf("resumed stream ended: %v (%s)", err, buf2)
		}
		buf2 = append(buf2, tmp[:n]...)
	}
	if bytes.Contains(buf2, []byte("id: "+string(first[1])+"\n")) {
		t.Errorf("resumed stream repeated event %s", first[1])
	}
}

// The OpenAPI document must describe exactly the routes the server has.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.do(t, "", "GET", "/api/v1/openapi.json", "", nil)
	if code != 200 {
		t.Fatal(code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for _, r := range api.Routes() {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("openapi.json documents %s, which the server does not serve", r)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if code, _ := b.do(t, "", "GET", "/health", "", nil); code != 200 {
		t.Errorf("health %d", code)
	}
	if code, body := b.do(t, "", "GET", "/ready", "", nil); code != 200 {
		t.Errorf("ready %d %s", code, body)
	}
	b.do(t, b.tokens[auth.Editor], "POST", "/webhooks/generic", "application/json", []byte(`{"title":"x"}`))
	b.do(t, "", "POST", "/webhooks/generic", "application/json", []byte(`{"title":"x"}`))
	_, body := b.do(t, "", "GET", "/metrics", "", nil)
	for _, want := range []string{
		`aurora_http_requests_total{code="202",method="POST",route="POST /webhooks/{source}"} 1`,
		`aurora_http_request_duration_seconds_bucket{method="POST",route="POST /webhooks/{source}"`,
		`aurora_alerts_received_total{outcome="new",source="generic"} 1`,
		`aurora_alerts_received_total{outcome="rejected_unauthorized",source="generic"} 1`,
		`aurora_incidents_created_total 1`,
		`aurora_queue_jobs{queue="investigations",state="available"}`,
		`aurora_db_pool_connections{pool="writer",state="in_use"}`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
