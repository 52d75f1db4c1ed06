package llm

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// reply is one canned answer of a fake vendor server. Bodies come from
// testdata/<vendor>/, written after the vendors' API reference examples.
type reply struct {
	status int
	file   string // testdata path; .sse files are served as event streams
	body   string // used when file is empty
	header map[string]string
	delay  time.Duration
}

// seen is one request the fake server received.
type seen struct {
	method, path, query string
	header              http.Header
	body                string
}

// fakeVendor serves replies in order (the last one repeats) and records
// every request, so tests drive the real SDK clients over real HTTP.
type fakeVendor struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	replies []reply
	reqs    []seen
}

func newFakeVendor(t testing.TB, replies ...reply) *fakeVendor {
	t.Helper()
	f := &fakeVendor{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVendor) URL() string { return f.srv.URL }

func (f *fakeVendor) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeVendor) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, seen{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: string(b)})
	rp := f.replies[min(n, len(f.replies)-1)]
	f.mu.Unlock()
	if rp.delay > 0 {
		select {
		case <-time.After(rp.delay):
		case <-r.Context().Done():
			return
		}
	}
	body := rp.body
	if rp.file != "" {
		raw, err := os.ReadFile(filepath.Join("testdata", rp.file))
		if err != nil {
			f.t.Errorf("fake vendor: %v", err)
			http.Error(w, err.Error(), 500)
			return
		}
		body = string(raw)
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	status := rp.status
	if status == 0 {
		status = http.StatusOK
	}
	if strings.HasSuffix(rp.file, ".sse") {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(status)
		// Event by event with flushes, as a vendor streams.
		fl, _ := w.(http.Flusher)
		for ev := range strings.SplitSeq(body, "\n\n") {
			if strings.TrimSpace(ev) == "" {
				continue
			}
			io.WriteString(w, ev+"\n\n")
			if fl != nil {
				fl.Flush()
			}
		}
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// noSleep makes retries immediate and records the waits asked for.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) sleep(_ context.Context, d time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.waits = append(n.waits, d)
	return nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
