package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PgBouncer starts Debian's pgbouncer in transaction pooling mode in front
// of the PostgreSQL database at dbURL (trust authentication, as the test
// server uses) and returns the same URL pointing at the pooler.
func PgBouncer(t testing.TB, dbURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		missing(t, "pgbouncer (Debian package pgbouncer)")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgbouncer target: %v", err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Hostname(), "5432"
	}
	user := u.User.Username()
	dir := serviceDir(t, "aurora-pgbouncer-")
	addr := FreeAddr(t)
	_, lport, _ := net.SplitHostPort(addr)
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = trust
auth_file = %s/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = %s/pgbouncer.log
pidfile = %s/pgbouncer.pid
`, host, port, lport, dir, dir, dir)
	for name, body := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": fmt.Sprintf("%q \"\"\n", user)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := asService(ctx, bin, filepath.Join(dir, "pgbouncer.ini"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not listen on %s: %v\n%s\n%s", addr, err, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pu := *u
	pu.Host = addr
	return pu.String()
}
