package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
	"github.com/aurora-oss/aurora/internal/toolconfig"
	"github.com/aurora-oss/aurora/internal/toolset"
)

type toolsetBundle struct {
	*testBundle
	svc *toolconfig.Service
	db  *storage.DB
}

func setupToolsets(t *testing.T, env toolconfig.Env) *toolsetBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, org := storagetest.SQLite(t)
	db := store.DB
	kr, _ := secret.NewKeyring([]secret.Key{{ID: "k1", Bytes: bytes.Repeat([]byte{7}, 32)}})
	secrets := &secret.Store{Keys: kr, Backend: store}
	svc := toolconfig.New(store, secrets, env)
	h := api.New(api.Options{Store: store, Secrets: secrets, Metrics: metric.New(store, nil), Log: log, PublicURL: "http://aurora.test",
		MaxBodyBytes: 64 << 10, Version: "test", Toolsets: svc})
	b := &toolsetBundle{testBundle: &testBundle{store: store, org: org.ID, tokens: map[auth.Role]string{}}, svc: svc, db: db}
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

// fakePrometheus speaks the parts of Prometheus's HTTP API the test uses
// (/api/v1/status/buildinfo, /api/v1/query), as documented, and records the
// headers it was sent.
type fakePrometheus struct {
	mu      sync.Mutex
	headers []http.Header
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/status/buildinfo":
		_, _ = io.WriteString(w, `{"status":"success","data":{"version":"2.45.0","revision":"8ef767e396bf8445f009f945b0162fd71827f445","branch":"HEAD","buildUser":"root@920118f645b7","buildDate":"20230623-15:09:49","goVersion":"go1.20.5"}}`)
	case "/api/v1/query":
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"3"]}]}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"not_found","error":"not found"}`)
	}
}

// fakeKube answers a connection test: the server version and namespaces.
func fakeKube(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"major":"1","minor":"30","gitVersion":"v1.30.2","platform":"linux/amd64"}`)
	})
	mux.HandleFunc("GET /api/v1/namespaces", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer kube-token-123" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"default"}},{"metadata":{"name":"shop"}}]}`)
	})
	// TLS: client-go sends a kubeconfig's credentials only over TLS.
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func kubeconfigFor(server string) string {
	return `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}
- {name: down, cluster: {server: "http://127.0.0.1:1"}}
users:
- {name: u, user: {token: kube-token-123}}
contexts:
- {name: prod, context: {cluster: a, user: u}}
- {name: dead, context: {cluster: down, user: u}}
current-context: prod
`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestToolsetsAPI(t *testing.T) {
	t.Parallel()
	prom := &fakePrometheus{}
	promSrv := httptest.NewServer(prom)
	t.Cleanup(promSrv.Close)
	b := setupToolsets(t, toolconfig.Env{Prometheus: &toolset.PrometheusConfig{URL: "http://env-prometheus:9090"}})
	admin, viewer := b.tokens[auth.Admin], b.tokens[auth.Viewer]
	put := func(name, body string) (int, []byte) {
		return b.do(t, admin, "PUT", "/api/v1/toolsets/"+name, "application/json", []byte(body))
	}

	// Before any setting: kubernetes none, prometheus from the environment.
	code, body := b.do(t, viewer, "GET", "/api/v1/toolsets", "", nil)
	list := decode[struct{ Items []toolconfig.View }](t, body)
	if code != 200 || len(list.Items) != 2 || list.Items[0].Name != "kubernetes" || list.Items[0].Source != "none" ||
		list.Items[0].Status != "not_configured" || list.Items[1].Source != "env" || list.Items[1].Settings["url"] != "http://env-prometheus:9090" {
		t.Fatalf("list: %d %s", code, body)
	}

	// PUT prometheus with credentials: GET never shows them.
	code, body = put("prometheus", `{"url":"`+promSrv.URL+`","bearer_token":"tok-SECRET-1","insecure_skip_verify":true,"headers":{"X-Scope-OrgID":"tenant-SECRET-2"}}`)
	if code != 200 {
		t.Fatalf("put prometheus: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/toolsets/prometheus", "/api/v1/toolsets"} {
		_, got := b.do(t, viewer, "GET", path, "", nil)
		if bytes.Contains(got, []byte("SECRET")) {
			t.Errorf("GET %s leaks a secret: %s", path, got)
		}
	}
	v := decode[toolconfig.View](t, body)
	if v.Source != "org" || v.Status != "configured" || v.Version != 1 || !strings.Contains(v.UpdatedBy, "admin") ||
		!strings.Contains(string(body), `"bearer_token":{"set":true}`) || !strings.Contains(string(body), `"X-Scope-OrgID":{"set":true}`) ||
		!strings.Contains(string(body), `"password":{"set":false}`) {
		t.Errorf("view after PUT: %s", body)
	}
	// The secrets table holds them sealed; the settings row only a reference.
	var settings string
	if err := b.db.W.QueryRow(`SELECT settings FROM toolset_settings WHERE name = 'prometheus'`).Scan(&settings); err != nil || strings.Contains(settings, "SECRET") {
		t.Errorf("settings row %q (%v) holds a secret", settings, err)
	}
	var ct []byte
	if err := b.db.W.QueryRow(`SELECT ciphertext FROM secrets WHERE name = 'toolset:prometheus'`).Scan(&ct); err != nil || bytes.Contains(ct, []byte("SECRET")) {
		t.Errorf("secret not sealed (%v)", err)
	}

	// The test really connects, with the stored credentials and headers.
	code, body = b.do(t, admin, "POST", "/api/v1/toolsets/prometheus/test", "", nil)
	res := decode[toolconfig.LastTest](t, body)
	if code != 200 || !res.OK || res.Source != "org" || res.Message != "Prometheus 2.45.0 (revision 8ef767e396bf); query count(up) = 3 scrape targets" {
		t.Errorf("test: %d %s", code, body)
	}
	prom.mu.Lock()
	if len(prom.headers) < 2 || prom.headers[0].Get("Authorization") != "Bearer tok-SECRET-1" || prom.headers[0].Get("X-Scope-OrgID") != "tenant-SECRET-2" {
		t.Errorf("prometheus saw headers %v", prom.headers)
	}
	prom.mu.Unlock()
	_, body = b.do(t, viewer, "GET", "/api/v1/toolsets/prometheus", "", nil)
	if v := decode[toolconfig.View](t, body); v.LastTest == nil || !v.LastTest.OK {
		t.Errorf("last_test not kept: %s", body)
	}

	// A PUT leaving the token out keeps it; changing to basic auth needs the token removed.
	if code, body = put("prometheus", `{"url":"`+promSrv.URL+`","username":"bob","password":"pw"}`); code != 422 || !strings.Contains(string(body), "bearer_token: set a bearer token or username/password") {
		t.Errorf("token kept + basic auth: %d %s", code, body)
	}
	if code, body = put("prometheus", `{"url":"`+promSrv.URL+`","bearer_token":"","username":"bob","password":"pw"}`); code != 200 ||
		!strings.Contains(string(body), `"bearer_token":{"set":false}`) || !strings.Contains(string(body), `"password":{"set":true}`) || !strings.Contains(string(body), `"version":2`) {
		t.Errorf("switch to basic auth: %d %s", code, body)
	}
	var secrets int
	_ = b.db.W.QueryRow(`SELECT count(*) FROM secrets`).Scan(&secrets)
	if secrets != 1 {
		t.Errorf("%d secrets stored, want 1 (the replaced one deleted)", secrets)
	}

	// Validation: precise 4xx, nothing changed.
	for _, c := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"prometheus", `{"url":"ftp://x"}`, 422, `url: "ftp://x" is not an http(s)`},
		{"prometheus", `{"url":"http://u:p@x"}`, 422, "url: must not hold credentials"},
		{"prometheus", `{}`, 422, "url: required"},
		{"prometheus", `{"url":"http://x","password":"p","bearer_token":""}`, 422, "password: set without username"},
		{"prometheus", `{"url":"http://x","headers":{"Bad Header":"v"}}`, 422, `headers: "Bad Header": not a valid HTTP header name`},
		{"prometheus", `{"url":"http://x","headers":{"Authorization":"v"}}`, 422, `headers: "Authorization": set by the client itself`},
		{"prometheus", `{"url":"http://x","headers":{"X-A":"a\nb"}}`, 422, `holds a line break`},
		{"prometheus", `{"url":"http://x","tls":true}`, 422, `unknown field "tls"`},
		{"prometheus", `[1]`, 422, "must be a JSON object"},
		{"prometheus", `{"url":`, 400, "malformed JSON"},
		{"kubernetes", `{}`, 422, "kubeconfig: required"},
		{"kubernetes", `{"kubeconfig":"not: [yaml"}`, 422, "kubeconfig:"},
		{"kubernetes", `{"kubeconfig":` + strings.TrimSpace(mustJSON(kubeconfigFor("http://x"))) + `,"contexts":["prod","nope"]}`, 422, `no context "nope" (has: dead, prod)`},
		{"kubernetes", `{"kubeconfig":` + mustJSON(kubeconfigFor("http://x")) + `,"contexts":["prod","prod"]}`, 422, `contexts[1]: "prod" is listed twice`},
		{"kubernetes", `{"in_cluster":true,"contexts":["a"]}`, 422, "contexts: in_cluster uses the pod's service account"},
		{"kubernetes", `{"kubeconfig":` + mustJSON(strings.Replace(kubeconfigFor("https://x"), "user: {token: kube-token-123}", "user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}}", 1)) + `}`, 422,
			`kubeconfig: user "u": exec plugins would run a command on the Aurora host`},
		{"grafana", `{}`, 404, `unknown toolset "grafana"`},
	} {
		code, body := put(c.name, c.body)
		if code != c.code || !strings.Contains(decode[api.ErrorBody](t, body).Error.Message, c.msg) {
			t.Errorf("PUT %s %s: %d %s, want %d with %q", c.name, c.body, code, body, c.code, c.msg)
		}
	}
	if code, _ := b.do(t, b.tokens[auth.Editor], "PUT", "/api/v1/toolsets/prometheus", "application/json", []byte(`{"url":"http://x"}`)); code != 403 {
		t.Errorf("editor PUT: %d, want 403", code)
	}
	if code, _ := b.do(t, viewer, "POST", "/api/v1/toolsets/prometheus/test", "", nil); code != 403 {
		t.Errorf("viewer test: %d, want 403", code)
	}
	_, body = b.do(t, viewer, "GET", "/api/v1/toolsets/prometheus", "", nil)
	if v := decode[toolconfig.View](t, body); v.Version != 2 || v.Settings["username"] != "bob" {
		t.Errorf("a rejected PUT changed the setting: %s", body)
	}

	// Kubernetes: several contexts; the test reports each cluster for real.
	code, body = put("kubernetes", `{"kubeconfig":`+mustJSON(kubeconfigFor(fakeKube(t)))+`,"contexts":["prod","dead"]}`)
	if code != 200 || !strings.Contains(string(body), `"kubeconfig":{"set":true}`) || !strings.Contains(string(body), `"clusters":["prod","dead"]`) || strings.Contains(string(body), "kube-token-123") {
		t.Fatalf("put kubernetes: %d %s", code, body)
	}
	code, body = b.do(t, admin, "POST", "/api/v1/toolsets/kubernetes/test", "", nil)
	res = decode[toolconfig.LastTest](t, body)
	if code != 200 || res.OK || len(res.Clusters) != 2 || !res.Clusters[0].OK || res.Clusters[0].Version != "v1.30.2" || res.Clusters[0].Namespaces != 2 ||
		res.Clusters[1].OK || !strings.HasPrefix(res.Message, "prod: Kubernetes v1.30.2, 2 namespaces readable; dead: server version:") {
		t.Errorf("kubernetes test: %d %s", code, body)
	}

	// The resolver: org settings win; a change is seen through the version.
	r, err := b.svc.Resolve(context.Background(), b.org)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sources["kubernetes"] != "org" || r.Sources["prometheus"] != "org" || len(r.Unavailable) != 0 {
		t.Errorf("resolved: %+v", r)
	}
	if got := r.Tools.Clusters("kubernetes.get"); strings.Join(got, ",") != "prod,dead" {
		t.Errorf("clusters %v", got)
	}
	again, _ := b.svc.Resolve(context.Background(), b.org)
	if again != r {
		t.Error("unchanged settings: tools rebuilt instead of cached")
	}

	// DELETE falls back to the environment (prometheus) or to nothing.
	code, body = b.do(t, admin, "DELETE", "/api/v1/toolsets/prometheus", "", nil)
	if v := decode[toolconfig.View](t, body); code != 200 || v.Source != "env" || v.Settings["url"] != "http://env-prometheus:9090" {
		t.Errorf("delete prometheus: %d %s", code, body)
	}
	code, body = b.do(t, admin, "DELETE", "/api/v1/toolsets/kubernetes", "", nil)
	if v := decode[toolconfig.View](t, body); code != 200 || v.Source != "none" {
		t.Errorf("delete kubernetes: %d %s", code, body)
	}
	_ = b.db.W.QueryRow(`SELECT count(*) FROM secrets`).Scan(&secrets)
	if secrets != 0 {
		t.Errorf("%d secrets left after DELETE", secrets)
	}
	if code, body = b.do(t, admin, "POST", "/api/v1/toolsets/kubernetes/test", "", nil); code != 409 || !strings.Contains(string(body), "is not configured") {
		t.Errorf("test unconfigured: %d %s", code, body)
	}
	r2, _ := b.svc.Resolve(context.Background(), b.org)
	if r2 == r || r2.Sources["prometheus"] != "env" || !strings.Contains(r2.Unavailable["kubernetes"], "no Kubernetes cluster is configured") {
		t.Errorf("after DELETE: %+v", r2)
	}
	if _, ok := r2.Tools.Get("kubernetes.get"); ok {
		t.Error("kubernetes tools still resolved after DELETE")
	}
}

// Another replica's change (a version bump it made) is seen without any
// invalidation on this one.
func TestToolsetsResolverSeesOtherReplicas(t *testing.T) {
	t.Parallel()
	b := setupToolsets(t, toolconfig.Env{})
	ctx := context.Background()
	other := toolconfig.New(b.store, b.svc.Secrets, toolconfig.Env{}) // a second replica on the same database
	r1, err := b.svc.Resolve(ctx, b.org)
	if err != nil || r1.Sources["prometheus"] != "none" {
		t.Fatalf("%+v %v", r1, err)
	}
	if _, err := other.Put(ctx, b.org, "prometheus", "someone", json.RawMessage(`{"url":"http://elsewhere:9090"}`)); err != nil {
		t.Fatal(err)
	}
	r2, err := b.svc.Resolve(ctx, b.org)
	if err != nil || r2.Sources["prometheus"] != "org" {
		t.Errorf("this replica kept stale tools: %+v %v", r2, err)
	}
	if _, ok := r2.Tools.Get("prometheus.query"); !ok {
		t.Error("prometheus tools missing")
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
