// Package storage holds Aurora's database: connection set-up for SQLite
// (embedded) and PostgreSQL, migrations for both, and every query of the
// domain layer. The SQL is written once where both dialects agree and per
// dialect where they do not; the same conformance tests run on both.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", pure Go
)

//go:embed migrations
var migrationsFS embed.FS

// Dialect names the SQL flavour behind a DB.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options say which database to open.
type Options struct {
	// PostgresURL selects PostgreSQL when non-empty; otherwise SQLite in DataDir.
	PostgresURL string
	// ReadReplicaURLs, when set, serve read-only queries (list, get,
	// search); a replica that is down or lags more than ReplicaMaxLag is
	// skipped and its reads go to another replica or the primary.
	ReadReplicaURLs []string
	// ReplicaMaxLag bounds how stale a replica may be and still serve reads
	// (0: no bound).
	ReplicaMaxLag time.Duration
	// ReplicaCheckInterval is how often replicas' health and lag are
	// checked (default 2s).
	ReplicaCheckInterval time.Duration
	// DirectURL reaches PostgreSQL without a transaction-pooling proxy
	// (PgBouncer): migrations' advisory lock and LISTEN use it. When it
	// differs from PostgresURL the pools stop caching prepared statements.
	DirectURL string
	// Log reports replica health changes; may be nil.
	Log     *slog.Logger
	DataDir string
	PoolMin int
	PoolMax int
	// PoolMaxIdle bounds the unused connections kept open (0: PoolMax).
	PoolMaxIdle int
	// SQLitePath overrides the SQLite file (tests); ":memory:" is not supported
	// because the reader and writer pools must share one database.
	SQLitePath string
}

// DB is the database with a writer pool and a reader pool. On SQLite the
// writer is a single connection (SQLite allows one writer; River recommends
// it) and the reader a small pool in WAL mode; on PostgreSQL both are pgx
// pools, the reader pointing at a replica when one is configured.
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB
	path    string
	// directURL is where session state (advisory locks, LISTEN) must go.
	directURL string
	// pipelined: W's connections are writerConns, so InTx can send several
	// statements in one round trip (pgwriter.go).
	pipelined   bool
	replicas    []*replica
	maxLag      time.Duration
	stopMonitor context.CancelFunc
	stopKeeper  context.CancelFunc
	// stopCheckpointer ends the SQLite checkpointer and waits for it.
	stopCheckpointer func()
	log              *slog.Logger
}

// maxIdle is how many unused connections a pool keeps: DB_POOL_MAX_IDLE,
// else all of them, and never fewer than DB_POOL_MIN.
func maxIdle(o Options, poolMax int) int {
	n := poolMax
	if o.PoolMaxIdle > 0 {
		n = min(o.PoolMaxIdle, poolMax)
	}
	return max(n, o.PoolMin, 1)
}

// poolIdleTime closes PostgreSQL connections unused this long (down to
// DB_POOL_MIN): under a stream of alerts a connection is reused within
// milliseconds, while the connections a burst opened go back within
// seconds to the budget (max_connections) that every process shares.
const poolIdleTime = 10 * time.Second

// keepWarm holds n connections of db open while ctx lasts: database/sql
// keeps no minimum, so every poolIdleTime/2 it takes n connections at once
// (opening what is missing) and hands them back, which also restarts their
// idle clocks.
func keepWarm(ctx context.Context, db *sql.DB, n int) {
	hold := func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conns := make([]*sql.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range n {
			c, err := db.Conn(cctx)
			if err != nil {
				return // the database is away; the next round tries again
			}
			conns = append(conns, c)
		}
	}
	hold()
	every(ctx, poolIdleTime/2, hold)
}

// every runs fn every d until ctx ends (the first time after d).
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// Open connects to the configured database. It does not migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.PostgresURL != "" {
		return openPostgres(ctx, o)
	}
	return openSQLite(ctx, o)
}

func openPostgres(ctx context.Context, o Options) (*DB, error) {
	direct := o.DirectURL
	if direct == "" {
		direct = o.PostgresURL
	}
	// Behind a transaction-pooling proxy consecutive statements may run on
	// different server connections, so a statement prepared on one is
	// unknown on the next: execute each with the unnamed statement in one
	// round trip instead of caching prepared statements.
	mode := pgx.QueryExecModeCacheStatement
	if direct != o.PostgresURL {
		mode = pgx.QueryExecModeExec
	}
	cc, err := pgxConfig(o.PostgresURL, mode)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	w := sql.OpenDB(writerConnector{stdlib.GetConnector(*cc)})
	poolMax := max(o.PoolMax, 1)
	// Connections stay open between uses (up to DB_POOL_MAX), and are
	// closed after poolIdleTime unused, down to DB_POOL_MIN (keepWarm). With
	// fewer idle connections kept than requests in flight, every burst
	// closed and reopened connections: PostgreSQL forks a backend per
	// connection and every statement is prepared again on it, which under
	// intake load took half of PostgreSQL's CPU time (docs/benchmarks.md).
	w.SetMaxOpenConns(poolMax)
	w.SetMaxIdleConns(maxIdle(o, poolMax))
	w.SetConnMaxIdleTime(poolIdleTime)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.PingContext(pctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	db := &DB{Dialect: Postgres, W: w, R: w, directURL: direct, log: o.Log, pipelined: true}
	if o.PoolMin > 0 {
		kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		db.stopKeeper = stop
		go keepWarm(kctx, w, min(o.PoolMin, poolMax))
	}
	if len(o.ReadReplicaURLs) > 0 {
		if err := db.openReaders(ctx, o, cc); err != nil {
			w.Close()
			return nil, err
		}
	}
	return db, nil
}

func openSQLite(ctx context.Context, o Options) (*DB, error) {
	path := o.SQLitePath
	if path == "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir %s: %w", o.DataDir, err)
		}
		path = filepath.Join(o.DataDir, "aurora.db")
	}
	// busy_timeout lets a second process (e.g. `aurora users create` while the
	// server runs) wait for the writer instead of failing at once.
	// wal_autocheckpoint: the checkpointer (checkpointLoop) copies the WAL
	// back into the database every checkpointInterval from a connection of
	// its own; the writer checkpoints itself, inside a commit every delivery
	// waits for, only past 65536 pages (256 MiB), a backstop. At SQLite's
	// 1000 pages, or the 8000 this was, an alert storm filled that much WAL
	// in a fraction of a second and the writer checkpointed (and waited for
	// the disk's fsync) itself (docs/benchmarks.md, round 5).
	// journal_size_limit: the WAL file is cut back to 64 MiB when it restarts,
	// so a burst does not leave a 256 MiB file behind.
	pragmas := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=wal_autocheckpoint(65536)&_pragma=journal_size_limit(67108864)&_txlock=immediate"
	w, err := openSQLiteDB("file:" + path + pragmas)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Readers map the file (up to 256 MiB) instead of copying each page in
	// with a read system call: investigations and the API read many rows,
	// and that copying was a sixth of the CPU time under load.
	r, err := openSQLiteDB("file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=mmap_size(268435456)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite reader %s: %w", path, err)
	}
	// Idle readers stay open: each keeps its prepared statements.
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	ck, err := openSQLiteDB("file:" + path + "?_pragma=busy_timeout(10000)")
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite checkpointer %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	db := &DB{Dialect: SQLite, W: w, R: r, path: path}
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	db.stopCheckpointer = func() {
		stop()
		<-done
		ck.Close()
	}
	go func() {
		defer close(done)
		checkpointLoop(cctx, ck)
	}()
	return db, nil
}

// checkpointInterval is how often the checkpointer copies the WAL back into
// the database file: often enough that, under an alert storm writing
// 100-200 MB a second (WAL and checkpoints), the writer's own backstop is
// not reached.
const checkpointInterval = 500 * time.Millisecond

// checkpointLoop checkpoints the WAL from a connection of its own, beside
// the writer. Left to the writer (wal_autocheckpoint), every checkpoint ran
// inside the commit of whichever transaction crossed the threshold, on the
// single writer every delivery waits for; here it runs on the other core
// while the writer goes on. PASSIVE never waits for the writer or readers:
// what it cannot copy now, the next round does. The writer's own
// wal_autocheckpoint stays as the backstop.
func checkpointLoop(ctx context.Context, ck *sql.DB) {
	every(ctx, checkpointInterval, func() {
		var busy, logFrames, done int
		_ = ck.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
	})
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.stopMonitor != nil {
		db.stopMonitor()
	}
	if db.stopKeeper != nil {
		db.stopKeeper()
	}
	if db.stopCheckpointer != nil {
		db.stopCheckpointer()
	}
	for _, r := range db.replicas {
		r.probe.Close()
	}
	err := db.W.Close()
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// DirectURL is the PostgreSQL URL for session state (LISTEN, session
// advisory locks): POSTGRES_DIRECT_URL, else the main URL; "" on SQLite.
func (db *DB) DirectURL() string { return db.directURL }

// Path is the SQLite file, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// migrateLockKey serialises migrations across replicas on PostgreSQL.
const migrateLockKey = 7_300_911_042

// Migrate applies Aurora's and River's migrations. On PostgreSQL a session
// advisory lock makes concurrent starts of several replicas safe; the
// migrations themselves are idempotent.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	w := db.W
	if db.Dialect == Postgres {
		// The lock is a session lock: through a transaction pooler its
		// unlock could reach another server connection, so it and the
		// migrations it guards use the direct connection.
		if db.directURL != "" {
			d, err := sql.Open("pgx", db.directURL)
			if err != nil {
				return fmt.Errorf("migrate: open POSTGRES_DIRECT_URL: %w", err)
			}
			defer d.Close()
			d.SetMaxOpenConns(2)
			w = d
		}
		conn, err := w.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("migrate: take lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey) //nolint:errcheck
	}
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(db.Dialect))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, w, sub, goose.WithTableName("aurora_schema_migrations"))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate aurora schema: %w", err)
	}
	for _, r := range res {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err := db.migrateRiver(ctx, w); err != nil {
		return fmt.Errorf("migrate job queue schema: %w", err)
	}
	return nil
}

func (db *DB) migrateRiver(ctx context.Context, w *sql.DB) error {
	var err error
	if db.Dialect == Postgres {
		var m *rivermigrate.Migrator[*sql.Tx]
		m, err = rivermigrate.New(riverdatabasesql.New(w), nil)
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	} else {
		var m *rivermigrate.Migrator[*sql.Tx]
		m, err = rivermigrate.New(riversqlite.New(db.W), nil)
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	return err
}

// Ping checks the primary. Replicas are not checked here: one that is down
// only moves reads to the primary (see ReplicaCheck).
func (db *DB) Ping(ctx context.Context) error {
	return db.W.PingContext(ctx)
}
