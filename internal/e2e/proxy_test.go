package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// rrProxy stands in for the ingress of a scaled-out deployment
// (deploy/helm/aurora/templates/ingress.yaml): one address, /ws to the
// chatbots and everything else to the servers, each request to the next
// backend in turn, with no affinity. WebSocket upgrades and SSE streams
// pass through (net/http/httputil handles both). A backend that refuses
// the connection — a killed pod its endpoints still list — is skipped for
// the next one, as nginx's proxy_next_upstream does: nothing reached it,
// so trying another is safe for any request.
type rrProxy struct {
	URL      string
	servers  *backendPool
	chatbots *backendPool

	mu     sync.Mutex
	errors []string // what the proxy could not forward, for the failure log
}

// backendPool is one set of interchangeable backends.
type backendPool struct {
	mu     sync.Mutex
	hosts  []string
	next   int
	served map[string]int // successful forwards by backend host
	last   string         // backend of the latest successful forward
}

// set replaces the pool's backends (host:port).
func (p *backendPool) set(hosts ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hosts = append([]string(nil), hosts...)
}

// order is every backend, starting with the next in turn.
func (p *backendPool) order() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.hosts)
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, p.hosts[(p.next+i)%n])
	}
	if n > 0 {
		p.next = (p.next + 1) % n
	}
	return out
}

func (p *backendPool) record(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.served[host]++
	p.last = host
}

// Served is how many requests each backend was forwarded.
func (p *backendPool) Served() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.served {
		out[k] = v
	}
	return out
}

// Last is the backend that took the latest request.
func (p *backendPool) Last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// startProxy listens on a fresh loopback port and serves until the test
// ends. Its pools start empty (503) so its URL can be given to the
// processes (AURORA_PUBLIC_URL) before they start; fill them with set.
func startProxy(t testing.TB) *rrProxy {
	t.Helper()
	addr := testenv.FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen %s: %v", addr, err)
	}
	px := &rrProxy{
		URL:      "http://" + addr,
		servers:  &backendPool{served: map[string]int{}},
		chatbots: &backendPool{served: map[string]int{}},
	}
	base := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The backend is picked per attempt in RoundTrip; the Host
			// header stays the client's, as an ingress passes it on.
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "backend"
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport:     &rrTransport{px: px, base: base},
		FlushInterval: -1, // stream everything at once (SSE, chat)
		ErrorLog:      log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				px.mu.Lock()
				px.errors = append(px.errors, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
				px.mu.Unlock()
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		srv.Close() // hijacked WebSockets and open streams
		base.CloseIdleConnections()
		if t.Failed() {
			px.mu.Lock()
			t.Logf("proxy: %d forwarding errors %v; servers %v, chatbots %v", len(px.errors), px.errors, px.servers.Served(), px.chatbots.Served())
			px.mu.Unlock()
		}
	})
	return px
}

// hostOf is a process's host:port.
func hostOf(p *testenv.Process) string { return strings.TrimPrefix(p.URL, "http://") }

// rrTransport forwards to the pool the path belongs to, trying the
// backends in round-robin order while they refuse connections.
type rrTransport struct {
	px   *rrProxy
	base *http.Transport
}

func (rt *rrTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pool := rt.px.servers
	if req.URL.Path == "/ws" {
		pool = rt.px.chatbots
	}
	hosts := pool.order()
	if len(hosts) == 0 {
		return nil, errors.New("no backends")
	}
	// The base transport closes a request's body even when it never
	// connected; keep it open for the next backend. (The incoming
	// request's body is closed by the proxy's server when its handler
	// returns.)
	body := req.Body
	var lastErr error
	for _, h := range hosts {
		out := req.Clone(req.Context())
		out.URL.Host = h
		if body != nil && body != http.NoBody {
			out.Body = io.NopCloser(body)
		}
		resp, err := rt.base.RoundTrip(out)
		if err == nil {
			pool.record(h)
			return resp, nil
		}
		if !refused(err) {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("every backend refused: %w", lastErr)
}

// refused reports whether err means the backend could not be reached at
// all (so the request was not sent).
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}
