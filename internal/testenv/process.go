package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a running aurora binary.
type Process struct {
	t    testing.TB
	Name string
	URL  string // base URL when it serves HTTP
	addr string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Env is the environment of a test process: a clean one plus these.
type Env map[string]string

// Start runs `aurora args...` with env. When env has AURORA_HTTP_ADDR the
// process's URL is set and Start waits for /health. The process is killed at
// cleanup if still running; its output is logged when the test failed.
func Start(t testing.TB, name string, env Env, args ...string) *Process {
	t.Helper()
	// DB_POOL_*: the processes of tests running in parallel (two dozen at
	// times) share one PostgreSQL, max_connections 100 in CI, with the
	// in-process tests of other packages: each keeps one connection open
	// and at most two unused.
	full := Env{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "AURORA_LOG_LEVEL": "debug", "DB_POOL_MIN": "1", "DB_POOL_MAX_IDLE": "2"}
	for k, v := range env {
		full[k] = v
	}
	p := &Process{t: t, Name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(Binary(t), args...)
	p.cmd.Env = envList(full)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("----- output of %s -----\n%s", name, trimLog(p.out.String()))
		}
	})
	if addr := full["AURORA_HTTP_ADDR"]; addr != "" {
		p.URL = "http://" + addr
		p.addr = addr
		p.WaitHealthy(30 * time.Second)
	}
	return p
}

func envList(m Env) []string { return env(m) }

// Output is everything the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// WaitHealthy waits until this process says it listens and /health answers
// 200. The log line matters: without it a 200 could come from another
// process that holds the port this one failed to bind.
func (p *Process) WaitHealthy(d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before becoming healthy: %v\n%s", p.Name, p.err, trimLog(p.out.String()))
		default:
		}
		if !strings.Contains(p.out.String(), "msg=listening addr="+p.addr) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		resp, err := http.Get(p.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	why := ""
	if !strings.Contains(p.out.String(), "msg=listening addr="+p.addr) {
		why = " (no \"msg=listening addr=" + p.addr + "\" log line yet; AURORA_LOG_LEVEL above info hides it)"
	}
	p.t.Fatalf("%s not healthy after %s%s\n%s", p.Name, d, why, trimLog(p.out.String()))
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(40 * time.Second):
		p.Kill()
		return fmt.Errorf("%s did not stop within 40s of SIGTERM", p.Name)
	}
}

// Kill sends SIGKILL (kill -9) and waits.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Do sends a request with the admin token and decodes a JSON answer into out
// (when non-nil). It returns the status code.
func (p *Process) Do(method, path string, body any, out any) int {
	p.t.Helper()
	return DoToken(p.t, p.URL, AdminToken, method, path, body, out)
}

// DoToken is Do with a chosen token ("" sends none).
func DoToken(t testing.TB, base, token, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// Eventually polls cond until it is true or d passes.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}
