package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgBin finds PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup):
// $PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian's layout).
func pgBin(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PG_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_basebackup")); err == nil {
			return dirs[i]
		}
	}
	missing(t, "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup under /usr/lib/postgresql/*/bin or $PG_BIN)")
	return ""
}

// serviceDir makes a directory owned by the user services run as: initdb,
// postgres and pgbouncer refuse to run as root, so as root they run as
// the `postgres` user and need directories it owns.
func serviceDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "the `postgres` user (to run PostgreSQL or PgBouncer as non-root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// asService returns a command that runs as the `postgres` user when the
// test runs as root, else as the test's own user.
func asService(ctx context.Context, name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		// setpriv execs the service itself (runuser would stay its parent),
		// so stopping the command stops the service.
		return exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=postgres", "--regid=postgres", "--init-groups", "--", name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

func runService(t testing.TB, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := asService(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// PGCluster is a PostgreSQL primary with a streaming replica, both started
// for one test on spare ports and removed when it ends.
type PGCluster struct {
	// PrimaryURL and ReplicaURL reach database "aurora" as user postgres.
	PrimaryURL, ReplicaURL string
	// ReplicaAddr is the replica's host:port.
	ReplicaAddr         string
	bin                 string
	primaryDir, replDir string
	primaryOpt, replOpt string
	t                   testing.TB
}

// PostgresWithReplica starts a primary (initdb) and a streaming replica of
// it (pg_basebackup -R), with database "aurora" created on the primary
// and replicated. It takes a few seconds.
func PostgresWithReplica(t testing.TB) *PGCluster {
	t.Helper()
	bin := pgBin(t)
	root := serviceDir(t, "aurora-pg-")
	c := &PGCluster{bin: bin, t: t, primaryDir: filepath.Join(root, "primary"), replDir: filepath.Join(root, "replica")}
	pAddr, rAddr := FreeAddr(t), FreeAddr(t)
	_, pPort, _ := net.SplitHostPort(pAddr)
	_, rPort, _ := net.SplitHostPort(rAddr)
	c.ReplicaAddr = rAddr
	// fsync off: the data dies with the test anyway. Every statement is
	// logged, so tests can tell which server ran what.
	common := "-c log_statement=all -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=100 -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on"
	c.primaryOpt = fmt.Sprintf("-p %s -k %s %s", pPort, root, common)
	c.replOpt = fmt.Sprintf("-p %s -k %s %s", rPort, root, common)
	runService(t, filepath.Join(bin, "initdb"), "-D", c.primaryDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	c.start(c.primaryDir, c.primaryOpt)
	t.Cleanup(func() { c.stop(c.primaryDir, "immediate") })
	primary := fmt.Sprintf("postgres://postgres@127.0.0.1:%s/", pPort)
	db, err := sql.Open("pgx", primary+"postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE aurora"); err != nil {
		t.Fatalf("create database on the primary: %v", err)
	}
	runService(t, filepath.Join(bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", pPort, "-U", "postgres", "-D", c.replDir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	c.start(c.replDir, c.replOpt)
	t.Cleanup(func() { c.stop(c.replDir, "immediate") })
	c.PrimaryURL = primary + "aurora?sslmode=disable"
	c.ReplicaURL = fmt.Sprintf("postgres://postgres@%s/aurora?sslmode=disable", rAddr)
	return c
}

func (c *PGCluster) start(dir, opts string) {
	c.t.Helper()
	runService(c.t, filepath.Join(c.bin, "pg_ctl"), "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start")
}

func (c *PGCluster) stop(dir, mode string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = asService(ctx, filepath.Join(c.bin, "pg_ctl"), "-D", dir, "-m", mode, "-w", "stop").Run()
}

// StopReplica shuts the replica down (fast mode: sessions are terminated,
// as in a real restart or crash of the standby's host).
func (c *PGCluster) StopReplica() { c.stop(c.replDir, "fast") }

// StartReplica starts the replica again; it catches up by itself.
func (c *PGCluster) StartReplica() { c.start(c.replDir, c.replOpt) }

// ReplicaLog returns the replica's server log; every statement is in it.
func (c *PGCluster) ReplicaLog() string {
	b, _ := os.ReadFile(filepath.Join(c.replDir, "server.log"))
	return string(b)
}

// PrimaryLog returns the primary's server log; every statement is in it.
func (c *PGCluster) PrimaryLog() string {
	b, _ := os.ReadFile(filepath.Join(c.primaryDir, "server.log"))
	return string(b)
}
