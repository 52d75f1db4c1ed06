// Package e2e runs the real aurora binary (and, where it matters, a real
// Prometheus Alertmanager) against real SQLite, PostgreSQL and Redis, and
// checks behaviour only visible from outside: HTTP answers, the live event
// stream, exit codes and logs.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestMain raises the default -parallel: these tests mostly wait on child
// processes, so running only GOMAXPROCS of them at once (2 on a small CI
// machine) would serialise the package for no benefit. An explicit
// -parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit {
		if f := flag.Lookup("test.parallel"); f != nil {
			if n, _ := strconv.Atoi(f.Value.String()); n < 8 {
				_ = f.Value.Set("8")
			}
		}
	}
	os.Exit(m.Run())
}

// adminPassword is a valid AURORA_ADMIN_PASSWORD (12+ characters).
const adminPassword = "e2e-correct-horse-battery"

// baseEnv is what every Aurora process of a test gets.
func baseEnv(t *testing.T) testenv.Env {
	return testenv.Env{
		"AURORA_ADMIN_TOKEN":    testenv.AdminToken,
		"AURORA_SECRET_KEY":     testenv.SecretKey,
		"AURORA_ADMIN_PASSWORD": adminPassword,
		"AURORA_DATA_DIR":       t.TempDir(),
	}
}

// merge returns a copy of base with extra laid over it.
func merge(base testenv.Env, extra testenv.Env) testenv.Env {
	out := testenv.Env{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// backend is a database choice for tests run on both.
type backend struct {
	name string
	env  func(t *testing.T) testenv.Env // extra variables selecting it
}

var (
	embedded = backend{"embedded", func(*testing.T) testenv.Env { return testenv.Env{} }}
	postgres = backend{"postgres", func(t *testing.T) testenv.Env { return testenv.Env{"DATABASE_URL": testenv.Postgres(t)} }}
)

// startAll runs `aurora` (all roles in one process) on a backend and waits
// until it is healthy.
func startAll(t *testing.T, b backend, extra testenv.Env) (*testenv.Process, testenv.Env) {
	t.Helper()
	env := merge(merge(baseEnv(t), b.env(t)), extra)
	if env["AURORA_HTTP_ADDR"] == "" {
		env["AURORA_HTTP_ADDR"] = testenv.FreeAddr(t)
	}
	return testenv.Start(t, "aurora-"+b.name, env), env
}

// runAurora runs a short-lived aurora command with a clean environment plus
// env, and returns its output and exit code.
func runAurora(t *testing.T, env testenv.Env, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), args...)
	full := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		full = append(full, k+"="+v)
	}
	cmd.Env = full
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("aurora %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}

// ---------------------------------------------------------------- HTTP

// rawDo sends a request with exactly these headers and body and returns the
// status and body. A nil body sends none; an io.Reader that is not a
// bytes.Reader makes the client stream it chunked (no Content-Length).
func rawDo(t *testing.T, method, url string, hdr map[string]string, body io.Reader) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// get GETs a path with the admin token, wants 200 and returns the raw body.
func get(t *testing.T, p *testenv.Process, path string, out any) []byte {
	t.Helper()
	code, body := rawDo(t, http.MethodGet, p.URL+path, map[string]string{"Authorization": "Bearer " + testenv.AdminToken}, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: decode %s: %v", path, body, err)
		}
	}
	return body
}

// checkErrorBody checks that body is exactly {"error":{"code","message"}}
// with the wanted code and a non-empty message.
func checkErrorBody(t *testing.T, what string, body []byte, wantCode string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Errorf("%s: error body is not a JSON object: %q", what, body)
		return
	}
	if len(top) != 1 || top["error"] == nil {
		t.Errorf("%s: error body must have exactly the key \"error\": %s", what, body)
		return
	}
	var e map[string]any
	if err := json.Unmarshal(top["error"], &e); err != nil {
		t.Errorf("%s: \"error\" is not an object: %s", what, body)
		return
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if code != wantCode {
		t.Errorf("%s: error.code = %q, want %q (body %s)", what, code, wantCode, body)
	}
	if strings.TrimSpace(msg) == "" {
		t.Errorf("%s: error.message is empty: %s", what, body)
	}
	if len(e) != 2 {
		t.Errorf("%s: error must have exactly code and message: %s", what, body)
	}
}

// ---------------------------------------------------------------- API shapes

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type investigationRef struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type incident struct {
	ID            string            `json:"id"`
	OrgID         string            `json:"org_id"`
	Status        string            `json:"status"`
	Severity      string            `json:"severity"`
	Title         string            `json:"title"`
	Service       string            `json:"service"`
	AlertCount    int               `json:"alert_count"`
	FiringCount   int               `json:"firing_count"`
	Investigation *investigationRef `json:"investigation"`
	ResolvedAt    *time.Time        `json:"resolved_at"`
}

type timelineEntry struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type incidentDetail struct {
	incident
	Alerts   []alertRec      `json:"alerts"`
	Timeline []timelineEntry `json:"timeline"`
}

type alertRec struct {
	ID            string            `json:"id"`
	Source        string            `json:"source"`
	IntegrationID string            `json:"integration_id"`
	Fingerprint   string            `json:"fingerprint"`
	Status        string            `json:"status"`
	Severity      string            `json:"severity"`
	Name          string            `json:"name"`
	Labels        map[string]string `json:"labels"`
	EndsAt        *time.Time        `json:"ends_at"`
	ReceivedCount int               `json:"received_count"`
	IncidentID    string            `json:"incident_id"`
}

type step struct {
	Seq        int     `json:"seq"`
	Kind       string  `json:"kind"`
	Tool       string  `json:"tool"`
	Status     string  `json:"status"`
	FinishedAt *string `json:"finished_at"`
}

type report struct {
	Verdict    string `json:"verdict"`
	Summary    string `json:"summary"`
	NotChecked []struct {
		Source string `json:"source"`
		Reason string `json:"reason"`
	} `json:"not_checked"`
}

type investigation struct {
	ID         string  `json:"id"`
	IncidentID string  `json:"incident_id"`
	Status     string  `json:"status"`
	Attempts   int     `json:"attempts"`
	Error      string  `json:"error"`
	Report     *report `json:"report"`
	Steps      []step  `json:"steps"`
}

type ingestResult struct {
	Accepted    int      `json:"accepted"`
	AlertIDs    []string `json:"alert_ids"`
	IncidentIDs []string `json:"incident_ids"`
}

type jobRun struct {
	Kind   string `json:"kind"`
	Period string `json:"period"`
	RanBy  string `json:"ran_by"`
}

// postAlerts POSTs a webhook body with a token (Bearer) and wants 202.
func postAlerts(t *testing.T, base, token, source string, body []byte) ingestResult {
	t.Helper()
	var res ingestResult
	if code := testenv.DoToken(t, base, token, http.MethodPost, "/webhooks/"+source, body, &res); code != http.StatusAccepted {
		t.Fatalf("POST /webhooks/%s: status %d, want 202 (%+v)", source, code, res)
	}
	return res
}

// genericAlert is a one-alert body of Aurora's own webhook format.
func genericAlert(title, alertname, service string) []byte {
	b, _ := json.Marshal(map[string]any{
		"title": title, "severity": "critical", "service": service,
		"labels": map[string]string{"alertname": alertname, "team": "e2e"},
	})
	return b
}

// investigationOf waits for an incident to have an investigation and returns it.
func investigationOf(t *testing.T, p *testenv.Process, incidentID string) investigation {
	t.Helper()
	var inv investigation
	testenv.Eventually(t, 30*time.Second, "incident "+incidentID+" to have an investigation", func() bool {
		var d incidentDetail
		get(t, p, "/api/v1/incidents/"+incidentID, &d)
		if d.Investigation == nil {
			return false
		}
		get(t, p, "/api/v1/investigations/"+d.Investigation.ID, &inv)
		return true
	})
	return inv
}

// ---------------------------------------------------------------- SSE

type sseEvent struct {
	ID   int64
	Type string
	Data string
}

// sseStream reads GET /api/v1/events in a goroutine.
type sseStream struct {
	name   string
	mu     sync.Mutex
	events []sseEvent
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// openSSE connects to a server's event stream and returns once the server
// answered (so every event committed from now on will be delivered).
func openSSE(t *testing.T, name, base, lastEventID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testenv.AdminToken)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("%s: GET /api/v1/events: %v", name, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("%s: GET /api/v1/events: %d %s %s", name, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sseStream{name: name, cancel: cancel, done: make(chan struct{})}
	go s.read(resp.Body)
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *sseStream) read(body io.ReadCloser) {
	defer close(s.done)
	defer body.Close()
	r := bufio.NewReader(body)
	var cur sseEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if cur.Type != "" || len(data) > 0 {
				cur.Data = strings.Join(data, "\n")
				s.mu.Lock()
				s.events = append(s.events, cur)
				s.mu.Unlock()
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			// comment (connected, keepalive)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				cur.ID, _ = strconv.ParseInt(value, 10, 64)
			case "event":
				cur.Type = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// Events is a copy of what arrived so far.
func (s *sseStream) Events() []sseEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sseEvent(nil), s.events...)
}

// waitFor waits for an event of type typ whose data has every field ==
// value given as field, value pairs.
func (s *sseStream) waitFor(t *testing.T, d time.Duration, typ string, fieldValues ...string) sseEvent {
	t.Helper()
	var got sseEvent
	testenv.Eventually(t, d, fmt.Sprintf("%s: event %s with %v", s.name, typ, fieldValues), func() bool {
		for _, e := range s.Events() {
			if e.Type != typ {
				continue
			}
			var m map[string]any
			if json.Unmarshal([]byte(e.Data), &m) != nil {
				continue
			}
			ok := true
			for i := 0; i+1 < len(fieldValues); i += 2 {
				if fmt.Sprint(m[fieldValues[i]]) != fieldValues[i+1] {
					ok = false
				}
			}
			if ok {
				got = e
				return true
			}
		}
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("%s: stream ended: %v", s.name, err)
		}
		return false
	})
	return got
}

// checkOrdered fails unless event ids strictly increase.
func checkOrdered(t *testing.T, name string, evs []sseEvent) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Errorf("%s: event ids out of order: %d then %d", name, evs[i-1].ID, evs[i].ID)
		}
	}
}

func ids(evs []sseEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
