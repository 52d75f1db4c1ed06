package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestGracefulShutdown stops `aurora` with SIGTERM and starts it again on
// the same data dir: it exits 0, says so, and nothing is lost.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	p, env := startAll(t, embedded, nil)
	// An open live-event stream must not hold the shutdown up.
	stream := openSSE(t, "stream", p.URL, "")
	res := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Cache hit ratio low", "CacheHitRatio", "cache"))
	incID := res.IncidentIDs[0]
	stream.waitFor(t, 30*time.Second, "incident.created", "id", incID)

	stopAt := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatalf("aurora after SIGTERM: %v (want exit status 0)\n%s", err, p.Output())
	}
	t.Logf("stopped %s after SIGTERM", time.Since(stopAt).Round(10*time.Millisecond))
	if !strings.Contains(p.Output(), "aurora stopped") {
		t.Errorf("log lacks \"aurora stopped\":\n%s", p.Output())
	}
	if strings.Contains(p.Output(), "level=ERROR") {
		t.Errorf("errors logged during a clean shutdown:\n%s", p.Output())
	}

	// Same data dir and admin token (the generated secret key file is reused).
	env2 := merge(env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)})
	p2 := testenv.Start(t, "aurora-restarted", env2)
	var d incidentDetail
	get(t, p2, "/api/v1/incidents/"+incID, &d)
	if d.ID != incID || d.Status != "open" || d.AlertCount != 1 || len(d.Alerts) != 1 || d.Alerts[0].ID != res.AlertIDs[0] {
		t.Errorf("after restart: %+v", d.incident)
	}
	// The investigation (finished before the stop or interrupted by it)
	// completes.
	testenv.Eventually(t, 60*time.Second, "the investigation to complete after the restart", func() bool {
		get(t, p2, "/api/v1/incidents/"+incID, &d)
		return d.Investigation != nil && d.Investigation.Status == "completed"
	})
	var incs page[incident]
	get(t, p2, "/api/v1/incidents", &incs)
	if len(incs.Items) != 1 {
		t.Errorf("%d incidents after restart, want 1", len(incs.Items))
	}
	if strings.Contains(p2.Output(), "First start") {
		t.Error("the restarted process ran first-start set-up again")
	}
}

// TestSingleRoleRefusedOnSQLite: role processes need PostgreSQL.
func TestSingleRoleRefusedOnSQLite(t *testing.T) {
	t.Parallel()
	for _, role := range []string{"server", "worker", "scheduler"} {
		env := baseEnv(t)
		env["AURORA_HTTP_ADDR"] = testenv.FreeAddr(t)
		stdout, stderr, code := runAurora(t, env, role)
		if code != 2 {
			t.Errorf("aurora %s on SQLite: exit %d, want 2\n%s%s", role, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "SQLite is single-process") || !strings.Contains(stderr, "PostgreSQL") {
			t.Errorf("aurora %s on SQLite: stderr does not explain that SQLite is single-process:\n%s", role, stderr)
		}
	}
}

// TestConfigRedacts: `aurora config` shows secrets as <redacted>, never
// their values, including a password inside DATABASE_URL.
func TestConfigRedacts(t *testing.T) {
	t.Parallel()
	const token, pgPassword, urlPassword = "aur_e2e_token_must_not_leak_7f3a", "pg-pass-must-not-leak-9c1d", "url-pass-must-not-leak-4b2e"
	cases := []testenv.Env{
		{"AURORA_ADMIN_TOKEN": token, "POSTGRES_HOST": "db.example.com", "POSTGRES_PASSWORD": pgPassword, "AURORA_SECRET_KEY": testenv.SecretKey},
		{"AURORA_ADMIN_TOKEN": token, "POSTGRES_PASSWORD": pgPassword, "AURORA_SECRET_KEY": testenv.SecretKey,
			"DATABASE_URL": "postgres://aurora:" + urlPassword + "@db.example.com:5432/aurora?sslmode=disable"},
	}
	for _, env := range cases {
		stdout, stderr, code := runAurora(t, env, "config")
		if code != 0 {
			t.Fatalf("aurora config: exit %d\n%s", code, stderr)
		}
		for _, secret := range []string{token, pgPassword, urlPassword, testenv.SecretKey} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("aurora config printed the secret %q:\n%s", secret, stdout)
			}
		}
		for _, name := range []string{"AURORA_ADMIN_TOKEN", "POSTGRES_PASSWORD", "AURORA_SECRET_KEY"} {
			if v := configValue(stdout, name); v != "<redacted>" {
				t.Errorf("%s shows %q, want <redacted>", name, v)
			}
		}
		if u := env["DATABASE_URL"]; u != "" {
			if v := configValue(stdout, "DATABASE_URL"); !strings.Contains(v, "db.example.com:5432/aurora") {
				t.Errorf("DATABASE_URL shows %q, want the host and database kept visible", v)
			}
		}
	}
}

// configValue is a variable's value in `aurora config` output.
func configValue(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return strings.TrimSpace(strings.TrimPrefix(line, name))
		}
	}
	return ""
}

// TestInvalidConfigNamesVariable: a bad value stops the process with exit 2
// and an error naming every bad variable, without echoing secrets.
func TestInvalidConfigNamesVariable(t *testing.T) {
	t.Parallel()
	const badKey = "not-a-valid-key-but-secret-5e7a"
	env := baseEnv(t)
	env["DB_POOL_MAX"] = "x"
	env["AURORA_HTTP_ADDR"] = "8080"
	env["AURORA_SECRET_KEY"] = badKey
	for _, args := range [][]string{nil, {"config"}, {"migrate"}} {
		stdout, stderr, code := runAurora(t, env, args...)
		if code != 2 {
			t.Errorf("aurora %v: exit %d, want 2\n%s%s", args, code, stdout, stderr)
		}
		for _, name := range []string{"DB_POOL_MAX", "AURORA_HTTP_ADDR", "AURORA_SECRET_KEY"} {
			if !strings.Contains(stderr, name) {
				t.Errorf("aurora %v: stderr does not name %s:\n%s", args, name, stderr)
			}
		}
		if strings.Contains(stdout+stderr, badKey) {
			t.Errorf("aurora %v: the secret value was echoed:\n%s", args, stderr)
		}
	}
	// One bad variable alone.
	stdout, stderr, code := runAurora(t, testenv.Env{"DB_POOL_MAX": "x"}, "config")
	if code != 2 || !strings.Contains(stderr, "DB_POOL_MAX") || strings.Contains(stderr, "AURORA_HTTP_ADDR") {
		t.Errorf("DB_POOL_MAX=x: exit %d, stderr %q (stdout %q)", code, stderr, stdout)
	}
}
