package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// primaryKey marks a context whose reads must see writes just made.
type primaryKey struct{}

// WithPrimary returns a context whose reads go to the primary: use it where
// a caller reads back its own write (the response to a write, a job that
// reads the incident enqueued with it), since a replica may lag.
func WithPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// PrimaryRequired reports whether ctx was marked by WithPrimary.
func PrimaryRequired(ctx context.Context) bool {
	v, _ := ctx.Value(primaryKey{}).(bool)
	return v
}

// reader is the pool for read-only queries: the replicas' pool, or the
// primary's when ctx requires it.
func (db *DB) reader(ctx context.Context) *sql.DB {
	if PrimaryRequired(ctx) {
		return db.primary()
	}
	return db.R
}

// primary is the pool for reads that must see every committed write: on
// PostgreSQL the primary's, since a replica may lag. On SQLite it is the
// reader pool: there every read sees the last commit (WAL), and the writer
// is one connection that intake's transactions hold, so a read there (a
// webhook's token look-up, a live-event client's poll) would wait for them
// and hold up the next.
func (db *DB) primary() *sql.DB {
	if db.Dialect == SQLite {
		return db.R
	}
	return db.W
}

// ReplicaStatus is one read replica's last health check.
type ReplicaStatus struct {
	Name       string  `json:"name"` // host:port, no credentials
	Healthy    bool    `json:"healthy"`
	LagSeconds float64 `json:"lag_seconds"`
	Error      string  `json:"error,omitempty"`
	// Reads counts the connections opened to it (a cheap "is it used" signal).
	Connections int64 `json:"connections"`
}

// replica is one read replica with its health.
type replica struct {
	name  string
	conn  driver.Connector
	probe *sql.DB

	mu      sync.Mutex
	healthy bool
	lag     float64
	err     string
	opened  atomic.Int64
}

func (r *replica) usable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy
}

func (r *replica) set(healthy bool, lag float64, err string) {
	r.mu.Lock()
	r.healthy, r.lag, r.err = healthy, lag, err
	r.mu.Unlock()
}

func (r *replica) status() ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ReplicaStatus{Name: r.name, Healthy: r.healthy, LagSeconds: r.lag, Error: r.err, Connections: r.opened.Load()}
}

// readerPool is a database/sql connector that opens each reader connection
// on a healthy replica (round robin) and on the primary when none is
// healthy, so a replica that is down or lagging costs latency, never an
// error. Health is checked in the background (replicaMonitor).
type readerPool struct {
	primary  driver.Connector
	replicas []*replica
	next     atomic.Uint32
}

func (p *readerPool) Driver() driver.Driver { return stdlib.GetDefaultDriver() }

func (p *readerPool) Connect(ctx context.Context) (driver.Conn, error) {
	n := uint32(len(p.replicas))
	start := p.next.Add(1)
	for i := range n {
		r := p.replicas[(start+i)%n]
		if !r.usable() {
			continue
		}
		c, err := r.conn.Connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			r.set(false, 0, "connect: "+err.Error())
			continue
		}
		sc, ok := c.(*stdlib.Conn)
		if !ok { // cannot happen with stdlib connectors; keep the conn usable
			return c, nil
		}
		r.opened.Add(1)
		return &replicaConn{Conn: sc, r: r}, nil
	}
	return p.primary.Connect(ctx)
}

// replicaConn is a connection to a replica. It gives itself up
// (driver.ErrBadConn) once its replica is marked unhealthy, and turns a
// lost connection during a query into driver.ErrBadConn so database/sql
// retries the read on another connection — safe because the reader pool
// only reads.
type replicaConn struct {
	*stdlib.Conn
	r *replica
}

func (c *replicaConn) ResetSession(ctx context.Context) error {
	if !c.r.usable() {
		return driver.ErrBadConn
	}
	return c.Conn.ResetSession(ctx)
}

func (c *replicaConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil && ctx.Err() == nil && replicaLost(err) {
		c.r.set(false, 0, "query: "+err.Error())
		return nil, driver.ErrBadConn
	}
	return rows, err
}

// replicaLost tells a failure of the replica (connection gone, server
// shutting down, recovery conflict) from an error of the query itself.
func replicaLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P: operator intervention (shutdown);
		// 40001 on a standby: cancelled by a recovery conflict.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "40001"
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// lagQuery measures how far a standby is behind. A standby that has replayed
// everything it received is current (an idle primary sends nothing, so the
// age of the last replayed transaction would overstate the lag); one whose
// WAL receiver is not streaming is as old as its last replayed transaction.
const lagQuery = `SELECT pg_is_in_recovery(),
	CASE WHEN NOT pg_is_in_recovery() THEN 0
	     WHEN COALESCE((SELECT status FROM pg_stat_wal_receiver), '') = 'streaming'
	          AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
	     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 END`

// checkReplica probes one replica and records whether reads may use it.
func checkReplica(ctx context.Context, r *replica, maxLag time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var standby bool
	var lag float64
	if err := r.probe.QueryRowContext(ctx, lagQuery).Scan(&standby, &lag); err != nil {
		r.set(false, 0, err.Error())
		return
	}
	if maxLag > 0 && lag > maxLag.Seconds() {
		r.set(false, lag, fmt.Sprintf("lag %.1fs exceeds POSTGRES_READ_REPLICA_MAX_LAG %s", lag, maxLag))
		return
	}
	r.set(true, lag, "")
}

// monitorReplicas re-checks every replica until ctx ends.
func (db *DB) monitorReplicas(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		for _, r := range db.replicas {
			was := r.usable()
			checkReplica(ctx, r, db.maxLag)
			if st := r.status(); st.Healthy != was && db.log != nil {
				if st.Healthy {
					db.log.Info("read replica back in use", "replica", st.Name, "lag_seconds", st.LagSeconds)
				} else {
					db.log.Warn("read replica skipped; reads go to other replicas or the primary", "replica", st.Name, "reason", st.Error)
				}
			}
		}
	})
}

// Replicas reports each configured read replica's health (empty without
// replicas).
func (db *DB) Replicas() []ReplicaStatus {
	out := make([]ReplicaStatus, len(db.replicas))
	for i, r := range db.replicas {
		out[i] = r.status()
	}
	return out
}

// ReplicaCheck is a /ready check: it fails, naming them, when replicas are
// skipped. Reads then go to the primary, so callers treat it as degraded,
// not as unready.
func (db *DB) ReplicaCheck(context.Context) error {
	var bad []string
	for _, st := range db.Replicas() {
		if !st.Healthy {
			bad = append(bad, st.Name+": "+st.Error)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("reads avoid %d of %d replicas (%s)", len(bad), len(db.replicas), strings.Join(bad, "; "))
	}
	return nil
}

// openReaders builds the reader pool over the replica URLs.
func (db *DB) openReaders(ctx context.Context, o Options, primary *pgx.ConnConfig) error {
	pool := &readerPool{primary: stdlib.GetConnector(*primary)}
	for _, u := range o.ReadReplicaURLs {
		cc, err := pgxConfig(u, primary.DefaultQueryExecMode)
		if err != nil {
			return fmt.Errorf("read replica: %w", err)
		}
		name := fmt.Sprintf("%s:%d", cc.Host, cc.Port)
		probe := sql.OpenDB(stdlib.GetConnector(*cc))
		probe.SetMaxOpenConns(1)
		pool.replicas = append(pool.replicas, &replica{name: name, conn: stdlib.GetConnector(*cc), probe: probe})
	}
	db.replicas = pool.replicas
	db.maxLag = o.ReplicaMaxLag
	// Check once now so reads use the replicas from the first request.
	for _, r := range pool.replicas {
		checkReplica(ctx, r, db.maxLag)
		if st := r.status(); !st.Healthy && db.log != nil {
			db.log.Warn("read replica not usable at start; reads go to other replicas or the primary", "replica", st.Name, "reason", st.Error)
		}
	}
	r := sql.OpenDB(pool)
	r.SetMaxOpenConns(max(o.PoolMax, 1))
	r.SetMaxIdleConns(maxIdle(o, max(o.PoolMax, 1)))
	// Connections are re-placed now and then, so a replica that recovers
	// takes reads again and a new one gets its share.
	r.SetConnMaxLifetime(time.Minute)
	db.R = r
	every := o.ReplicaCheckInterval
	if every <= 0 {
		every = 2 * time.Second
	}
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	db.stopMonitor = cancel
	go db.monitorReplicas(mctx, every)
	return nil
}

// pgxConfig parses a URL; mode applies unless the URL names its own
// default_query_exec_mode.
func pgxConfig(url string, mode pgx.QueryExecMode) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "default_query_exec_mode") {
		cc.DefaultQueryExecMode = mode
	}
	return cc, nil
}
