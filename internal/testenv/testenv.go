// Package testenv gives tests real services: an isolated PostgreSQL database
// per test, Redis, the built aurora binary, and a harness that runs it.
//
// PostgreSQL and Redis come from TEST_DATABASE_URL and TEST_REDIS_URL (set by
// scripts/test.sh). Without them a test skips loudly — except under CI=true,
// where it fails: CI must never pass by skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
)

// CI reports whether tests run under CI, where missing services fail tests.
func CI() bool { return os.Getenv("CI") == "true" }

// missing skips (locally) or fails (CI) a test whose service is absent.
func missing(t testing.TB, what string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI=true but is not available", what)
	}
	t.Skipf("!!! SKIPPED: %s is not available (run the tests with `bash scripts/test.sh`, or export it) !!!", what)
}

// PostgresAdminURL is the server tests create their databases on.
func PostgresAdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		missing(t, "PostgreSQL (TEST_DATABASE_URL)")
	}
	return u
}

// Postgres returns the URL of a new, empty database that is dropped when the
// test ends, so tests never see each other's rows.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL(t)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("open %s: %v", admin, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if CI() {
			t.Fatalf("PostgreSQL at TEST_DATABASE_URL is unreachable: %v", err)
		}
		t.Skipf("!!! SKIPPED: PostgreSQL at TEST_DATABASE_URL is unreachable: %v !!!", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "aurora_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Redis returns TEST_REDIS_URL after checking it answers.
func Redis(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		missing(t, "Redis (TEST_REDIS_URL)")
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, 3*time.Second)
	if err != nil {
		if CI() {
			t.Fatalf("Redis at TEST_REDIS_URL is unreachable: %v", err)
		}
		t.Skipf("!!! SKIPPED: Redis at TEST_REDIS_URL is unreachable: %v !!!", err)
	}
	c.Close()
	return u
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns the aurora binary: AURORA_TEST_BINARY when set (the test
// script builds it once), else one built now for this test process.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AURORA_TEST_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "aurora-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "aurora")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/aurora")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

var (
	portsMu sync.Mutex
	ports   = map[string]bool{}
)

// FreeAddr returns a loopback address with a free port, never the same one
// twice in a test process: the kernel may hand a just-closed port out again,
// and two servers told to share one would answer each other's tests.
func FreeAddr(t testing.TB) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !ports[addr] {
			ports[addr] = true
			return addr
		}
	}
	t.Fatal("no unused loopback port found")
	return ""
}

// SecretKey is a fixed AURORA_SECRET_KEY for tests (base64 of 32 bytes).
const SecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// AdminToken is the AURORA_ADMIN_TOKEN tests run with.
const AdminToken = "aur_test_admin_token_0123456789abcdef"

// env renders a map as KEY=VALUE lines, sorted by nothing in particular.
func env(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// Alertmanager returns the path of Debian's prometheus-alertmanager binary.
func Alertmanager(t testing.TB) string {
	t.Helper()
	p := os.Getenv("AURORA_TEST_ALERTMANAGER")
	if p == "" {
		if _, err := os.Stat("/usr/bin/prometheus-alertmanager"); err == nil {
			p = "/usr/bin/prometheus-alertmanager"
		}
	}
	if p == "" {
		if CI() {
			t.Fatal("prometheus-alertmanager is required under CI=true (scripts/test.sh installs it)")
		}
		t.Skip("!!! SKIPPED: prometheus-alertmanager is not installed (scripts/test.sh installs it as root) !!!")
	}
	return p
}

func trimLog(s string) string {
	if len(s) > 8000 {
		return "…" + s[len(s)-8000:]
	}
	return strings.TrimSpace(s)
}
