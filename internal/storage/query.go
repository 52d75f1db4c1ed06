package storage

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound is returned when a row does not exist in the caller's org.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with an existing row.
var ErrConflict = errors.New("conflict")

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// NewID returns a new time-ordered id.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Micro converts a time to the stored unit.
func Micro(t time.Time) int64 { return t.UnixMicro() }

// FromMicro converts a stored time back, in UTC.
func FromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicro(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := FromMicro(n.Int64)
	return &t
}

func microPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return Micro(*t)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only our own types reach here
	}
	return string(b)
}

func emptyNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Cursor is an opaque position in a list ordered by (time DESC, id DESC).
type Cursor struct {
	At int64
	ID string
}

// EncodeCursor makes the opaque string clients pass back as ?cursor=.
func EncodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

// DecodeCursor parses a cursor from EncodeCursor.
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid cursor")
	}
	at, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(at, 10, 64)
	// The id goes back to the database as text, which PostgreSQL refuses
	// with a NUL or invalid UTF-8 in it: an error of the request, not the
	// database's.
	if !ok || err != nil || id == "" || !IsText(id) {
		return nil, fmt.Errorf("invalid cursor")
	}
	return &Cursor{At: n, ID: id}, nil
}

// Store runs the domain layer's queries. Reads go to the reader pool, writes
// to the writer.
type Store struct {
	DB   *DB
	kick chan struct{}
	// group queues InTxGrouped's callers on SQLite (see group.go).
	group groupCommit
	// moved counts events this process's sequencer moved since it last
	// vacuumed events_pending (PostgreSQL).
	moved atomic.Int64
}

// NewStore wraps a DB.
func NewStore(db *DB) *Store { return &Store{DB: db, kick: make(chan struct{}, 1)} }

// Tx is a write transaction. Everything an alert changes is written in one.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	// detached: statements run without their context's cancellation
	// (stmtCtx); SQLite's grouped intake.
	detached bool
	// conn holds tx's connection when statements may be pipelined
	// (PostgreSQL, InTx): see pipeline.
	conn *sql.Conn
	// deferred statements wait to be sent with the next one (pipeline).
	deferred []pgStmt
	// pendingUpdates are incidents SaveIncidents updates with the next
	// write (pipelined transactions); updateEvents: that write also writes
	// the transaction's events so far.
	pendingUpdates []*Incident
	updateEvents   bool
	// events are written at the end of the transaction (see flushEvents);
	// the first eventsDone of them were written earlier (see SaveIncidents).
	events     []pendingEvent
	eventsDone int
	// Rows queued by QueueAlert and QueueTimeline, written before the next
	// statement (see batch.go), and the first error writing them.
	pendingAlerts   []*Alert
	pendingTimeline []pendingTimeline
	// Incidents and investigations queued by QueueIncident and
	// QueueInvestigation, written the same way.
	pendingIncidents      []*Incident
	pendingInvestigations []Investigation
	// Re-delivered alerts whose last_received_at and counter QueueTouch
	// updates (PostgreSQL), by id, with how many times each was received,
	// and the time of the latest.
	pendingTouches map[string]int
	touchedAt      time.Time
	// Episodes QueueResolve closes (PostgreSQL).
	pendingResolves []pendingResolve
	pendingErr      error
}

type pendingEvent struct {
	orgID, typ, data string
}

// eventRow is one row of events (events_pending on PostgreSQL): n
// consecutive events of one org and type, their data joined by newlines.
// The row's id is its last event's id; its events are id-n+1 … id.
// A 10-alert delivery wrote eleven event rows (on PostgreSQL twice, to
// events_pending and then events); it now writes two, and on PostgreSQL,
// which compresses such a row, half the WAL per alert.
type eventRow struct {
	orgID, typ, data string
	n                int
}

// maxEventsPerRow bounds a row's events, and so the events in one page of
// rows a reader fetches.
const maxEventsPerRow = 100

// eventRows merges consecutive events of one org and type into rows. An
// event whose data holds a newline (none of Aurora's encoders writes one;
// an SSE data line could not carry it either) keeps a row of its own.
func eventRows(evs []pendingEvent) []eventRow {
	rows := make([]eventRow, 0, len(evs))
	var parts []string // the data of the last row, while it may grow
	flush := func() {
		if len(parts) > 1 {
			rows[len(rows)-1].data = strings.Join(parts, "\n")
		}
		parts = parts[:0]
	}
	for _, e := range evs {
		single := strings.IndexByte(e.data, '\n') >= 0
		if k := len(rows) - 1; k >= 0 && len(parts) > 0 && !single && rows[k].orgID == e.orgID && rows[k].typ == e.typ && rows[k].n < maxEventsPerRow {
			parts = append(parts, e.data)
			rows[k].n++
			continue
		}
		flush()
		rows = append(rows, eventRow{orgID: e.orgID, typ: e.typ, data: e.data, n: 1})
		if !single {
			parts = append(parts, e.data)
		}
	}
	flush()
	return rows
}

// SQL returns the underlying transaction, for River's transactional enqueue.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Dialect of the transaction.
func (t *Tx) Dialect() Dialect { return t.dialect }

// InTx runs fn in a write transaction, committing when it returns nil. It
// reports whether an event was written (so listeners should be woken).
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) (wroteEvents bool, err error) {
	return s.inTx(ctx, fn, false)
}

func (s *Store) inTx(ctx context.Context, fn func(*Tx) error, detached bool) (wroteEvents bool, err error) {
	tx := &Tx{dialect: s.DB.Dialect, detached: detached}
	if s.DB.pipelined {
		conn, err := s.DB.W.Conn(ctx)
		if err != nil {
			return false, fmt.Errorf("begin: %w", err)
		}
		tx.conn = conn
		tx.tx, err = conn.BeginTx(ctx, nil)
		if err != nil {
			conn.Close()
			return false, fmt.Errorf("begin: %w", err)
		}
		// Close waits for the transaction to end: end it first, even if fn
		// panics (a no-op after Commit or Rollback).
		defer func() {
			_ = tx.tx.Rollback()
			conn.Close()
		}()
	} else {
		tx.tx, err = s.DB.W.BeginTx(ctx, nil)
		if err != nil {
			return false, fmt.Errorf("begin: %w", err)
		}
	}
	sqlTx := tx.tx
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		if tx.pendingErr != nil && !errors.Is(err, tx.pendingErr) {
			// A queued write failed and fn then failed on a statement of
			// the (on PostgreSQL, aborted) transaction: report the cause.
			err = errors.Join(tx.pendingErr, err)
		}
		return false, err
	}
	if tx.conn != nil {
		// The last writes and the events travel with COMMIT.
		if err := tx.pipelineCommit(ctx); err != nil {
			_ = sqlTx.Rollback()
			return false, err
		}
	} else {
		if err := tx.FlushPending(ctx); err != nil {
			_ = sqlTx.Rollback()
			return false, err
		}
		if err := tx.flushEvents(ctx); err != nil {
			_ = sqlTx.Rollback()
			return false, err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	if len(tx.events) > 0 && tx.dialect == Postgres {
		s.KickSequencer()
	}
	return len(tx.events) > 0, nil
}

// eventsLockKey serialises the event sequencer on PostgreSQL.
const eventsLockKey = 7_300_911_043

// flushEvents writes the transaction's events as its last statements. Event
// ids must grow in commit order, or a reader that has passed id 11 never
// sees an id 10 committed later. SQLite has a single writer, so rows written
// straight to events are in commit order. On PostgreSQL transactions commit
// in any order, so they write to events_pending, and SequenceEvents moves
// committed rows to events under one lock: ids follow the order in which
// rows became visible, and ingest commits never wait on each other for it.
func (t *Tx) flushEvents(ctx context.Context) error {
	var last int64
	if t.dialect == SQLite && t.eventsDone < len(t.events) {
		// A row takes as many ids as it holds events: explicit ids, after
		// the largest one ever given (AUTOINCREMENT keeps it).
		err := t.tx.QueryRowContext(t.stmtCtx(ctx), `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`).Scan(&last)
		if err != nil {
			return fmt.Errorf("store events: last id: %w", err)
		}
	}
	for _, st := range t.eventStatements(last) {
		if _, err := t.execNow(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// eventStatements are the statements that write the events not written
// yet, in rows (eventRows): multi-row inserts, in chunks that stay under
// either dialect's limit on bound parameters. On SQLite rows get explicit
// ids after last, the largest id given so far; on PostgreSQL they go to
// events_pending, and SequenceEvents numbers them.
func (t *Tx) eventStatements(last int64) []pgStmt {
	events := t.events[t.eventsDone:]
	if len(events) == 0 {
		return nil
	}
	t.eventsDone = len(t.events)
	rows := eventRows(events)
	head, k := `INSERT INTO events (id, org_id, type, data, n, created_at) VALUES `, 5
	if t.dialect == Postgres {
		head, k = `INSERT INTO events_pending (org_id, type, data, n, created_at) VALUES `, 4
	}
	now := Micro(time.Now())
	const chunk = 200
	var out []pgStmt
	for start := 0; start < len(rows); start += chunk {
		batch := rows[start:min(start+chunk, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(batch)*k+1)
		args = append(args, now)
		for i, r := range batch {
			if i > 0 {
				b.WriteByte(',')
			}
			n := len(args)
			if t.dialect == Postgres {
				fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$1)", n+1, n+2, n+3, n+4)
				args = append(args, r.orgID, r.typ, r.data, r.n)
				continue
			}
			last += int64(r.n)
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$1)", n+1, n+2, n+3, n+4, n+5)
			args = append(args, last, r.orgID, r.typ, r.data, r.n)
		}
		out = append(out, pgStmt{sql: b.String(), args: args, what: "store events"})
	}
	return out
}

// vacuumAfter is how many events a sequencer moves before it vacuums
// events_pending. Every row of that table is deleted within milliseconds of
// its insert, so it is almost all dead rows; without VACUUM (autovacuum
// off, or behind under an alert storm) it grew by a megabyte per thousand
// alerts, every byte of it new file blocks for the kernel to write back.
// Vacuumed, its space is reused and it stays a few pages long.
const vacuumAfter = 5000

// vacuumPending reclaims the space of sequenced events (a VACUUM already
// running elsewhere is not waited for). The emptied pages are kept for the
// next events rather than cut off the end of the file: cutting needs an
// exclusive lock that deliveries, inserting all the time, rarely leave free;
// VACUUM retries it every 50 ms (for up to five seconds), and meanwhile this
// sequencer moves no event.
func (s *Store) vacuumPending(ctx context.Context) error {
	if _, err := s.DB.W.ExecContext(ctx, `VACUUM (SKIP_LOCKED, TRUNCATE false) events_pending`); err != nil {
		return fmt.Errorf("vacuum events_pending: %w", err)
	}
	return nil
}

// sequencePause is the least time between two runs of the sequencer.
const sequencePause = 25 * time.Millisecond

// sequenceBatch bounds the events one statement of SequenceEvents moves.
const sequenceBatch = 5000

// SequenceEvents moves committed pending events to the event stream, in the
// order they committed, and NOTIFYs their orgs (delivered at commit). It
// returns the orgs that got events. Every process that writes events runs
// it after its own commits (RunSequencer); running it anywhere is safe.
// SQLite needs none: it returns nothing.
func (s *Store) SequenceEvents(ctx context.Context) ([]string, error) {
	if s.DB.Dialect != Postgres {
		return nil, nil
	}
	tx, err := s.DB.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sequence events: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, eventsLockKey); err != nil {
		return nil, fmt.Errorf("sequence events: lock: %w", err)
	}
	// Read after taking the lock: every row committed before now is seen,
	// and moved before anything committed later. The rows are found
	// through the primary key, in batches: a scan of the table would read
	// every row deleted since the last VACUUM, and this table is all
	// deleted rows (under intake load, with autovacuum off or behind, that
	// scan was a quarter of PostgreSQL's CPU time); the index skips them
	// once a scan has marked them dead.
	// The orgs that got events are notified by the same statement
	// (delivered at commit), one round trip fewer per run.
	orgs := map[string]bool{}
	for {
		// A row takes as many ids as it holds events (eventRow): the run
		// reserves them from the sequence at once (only the sequencer, under
		// its lock, inserts events) and gives each row its last one.
		rows, err := tx.QueryContext(ctx, `WITH moved AS (DELETE FROM events_pending WHERE id IN (SELECT id FROM events_pending ORDER BY id LIMIT $1)
  RETURNING id, org_id, type, data, n, created_at),
numbered AS (SELECT id, org_id, type, data, n, created_at, sum(n) OVER (ORDER BY id) AS upto, sum(n) OVER () AS total FROM moved),
base AS (SELECT CASE WHEN count(*) = 0 THEN 0
  ELSE setval(pg_get_serial_sequence('events', 'id'), nextval(pg_get_serial_sequence('events', 'id')) + max(total) - 1) - max(total) END AS b FROM numbered),
ins AS (INSERT INTO events (id, org_id, type, data, n, created_at) SELECT base.b + numbered.upto, org_id, type, data, n, created_at FROM numbered, base
  ORDER BY numbered.id RETURNING org_id),
n AS (SELECT org_id, count(*) AS c FROM ins GROUP BY org_id)
SELECT org_id, c, pg_notify('aurora_events', org_id) FROM n`, sequenceBatch)
		if err != nil {
			return nil, fmt.Errorf("sequence events: %w", err)
		}
		n := 0
		for rows.Next() {
			var org string
			var c int
			var notified any
			if err := rows.Scan(&org, &c, &notified); err != nil {
				rows.Close()
				return nil, err
			}
			orgs[org] = true
			n += c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sequence events: %w", err)
		}
		s.moved.Add(int64(n))
		if n < sequenceBatch {
			break
		}
	}
	out := make([]string, 0, len(orgs))
	for org := range orgs {
		out = append(out, org)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sequence events: commit: %w", err)
	}
	return out, nil
}

// KickSequencer asks RunSequencer to run soon (coalesced; never blocks).
func (s *Store) KickSequencer() {
	if s.kick != nil {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// RunSequencer sequences events after each kick (a commit that wrote
// events) and every second, so rows left by a process that died between
// its commit and its sequencing are moved too. onEvents is told which orgs
// got events (to wake readers). It returns when ctx ends.
func (s *Store) RunSequencer(ctx context.Context, log *slog.Logger, onEvents func(orgID string)) {
	noVacuum := false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick.C:
		}
		orgs, err := s.SequenceEvents(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("event sequencer", "err", err)
			}
			continue
		}
		for _, org := range orgs {
			onEvents(org)
		}
		if s.moved.Load() >= vacuumAfter && !noVacuum {
			s.moved.Store(0)
			if err := s.vacuumPending(ctx); err != nil && ctx.Err() == nil {
				// Not the table's owner, say: autovacuum is left to it.
				log.Info("event sequencer: cannot vacuum events_pending; leaving it to autovacuum", "err", err)
				noVacuum = true
			}
		}
		// Each run is a transaction of its own with a commit to flush;
		// under a stream of deliveries, a pause lets one run move the
		// events of several (at most sequencePause later to readers).
		select {
		case <-ctx.Done():
			return
		case <-time.After(sequencePause):
		}
	}
}

// IsUniqueViolation reports whether err is a unique-constraint violation in
// either dialect, so callers can retry a racing insert.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "UNIQUE constraint failed") ||
		strings.Contains(s, "SQLSTATE 40001") || strings.Contains(s, "SQLSTATE 40P01")
}

// ---------------------------------------------------------------- orgs

// EnsureDefaultOrg returns the default org, creating it on first start.
func (s *Store) EnsureDefaultOrg(ctx context.Context) (Org, error) {
	var o Org
	var created int64
	row := s.DB.primary().QueryRowContext(ctx, `SELECT id, name, created_at FROM orgs WHERE is_default = $1`, true)
	err := row.Scan(&o.ID, &o.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		o = Org{ID: NewID(), Name: "default", CreatedAt: time.Now().UTC()}
		_, err = s.DB.W.ExecContext(ctx, `INSERT INTO orgs (id, org_id, name, is_default, created_at) VALUES ($1, $1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			o.ID, o.Name, true, Micro(o.CreatedAt))
		if err != nil {
			return Org{}, fmt.Errorf("create default org: %w", err)
		}
		return s.EnsureDefaultOrg(ctx) // another replica may have won the race
	}
	if err != nil {
		return Org{}, fmt.Errorf("load default org: %w", err)
	}
	o.CreatedAt = FromMicro(created)
	return o, nil
}

// ListOrgIDs returns every org id (periodic jobs walk them).
func (s *Store) ListOrgIDs(ctx context.Context) ([]string, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT id FROM orgs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ---------------------------------------------------------------- users

// CreateUser stores a user; ErrConflict when the email exists in the org.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	u.ID = NewID()
	u.CreatedAt = time.Now().UTC()
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO users (id, org_id, email, password_hash, role, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		u.ID, u.OrgID, u.Email, u.PasswordHash, u.Role, Micro(u.CreatedAt))
	if IsUniqueViolation(err) {
		return User{}, fmt.Errorf("user %s: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email within an org.
func (s *Store) UserByEmail(ctx context.Context, orgID, email string) (User, error) {
	var u User
	var created int64
	err := s.DB.reader(ctx).QueryRowContext(ctx, `SELECT id, org_id, email, password_hash, role, created_at FROM users WHERE org_id = $1 AND lower(email) = lower($2) AND disabled_at IS NULL`,
		orgID, email).Scan(&u.ID, &u.OrgID, &u.Email, &u.PasswordHash, &u.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("load user: %w", err)
	}
	u.CreatedAt = FromMicro(created)
	return u, nil
}

// ListUsers lists an org's users.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]User, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT id, org_id, email, role, created_at FROM users WHERE org_id = $1 AND disabled_at IS NULL ORDER BY email`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.OrgID, &u.Email, &u.Role, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = FromMicro(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// ---------------------------------------------------------------- tokens

// CreateAPIToken stores a token by its hash.
func (s *Store) CreateAPIToken(ctx context.Context, orgID, name, role, hash string) (APIToken, error) {
	t := APIToken{ID: NewID(), OrgID: orgID, Name: name, Role: role, CreatedAt: time.Now().UTC()}
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO api_tokens (id, org_id, name, role, token_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		t.ID, orgID, name, role, hash, Micro(t.CreatedAt))
	if IsUniqueViolation(err) {
		return APIToken{}, fmt.Errorf("token: %w", ErrConflict)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// APITokenByHash finds a live token. It reads the writer so a token created a
// moment ago on another replica's primary is seen even with a lagging replica.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	var created int64
	err := s.DB.primary().QueryRowContext(ctx, `SELECT id, org_id, name, role, created_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&t.ID, &t.OrgID, &t.Name, &t.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, ErrNotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("load token: %w", err)
	}
	t.CreatedAt = FromMicro(created)
	return t, nil
}

// ListAPITokens lists an org's tokens (never their values).
func (s *Store) ListAPITokens(ctx context.Context, orgID string) ([]APIToken, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT id, org_id, name, role, created_at, revoked_at FROM api_tokens WHERE org_id = $1 ORDER BY created_at DESC, id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.OrgID, &t.Name, &t.Role, &created, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.RevokedAt = FromMicro(created), nullMicro(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes a token of the org.
func (s *Store) RevokeAPIToken(ctx context.Context, orgID, id string) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL`, Micro(time.Now()), orgID, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ---------------------------------------------------------------- secrets

// PutSecret stores an encrypted value and returns its reference (the row id).
func (s *Store) PutSecret(ctx context.Context, orgID, name, keyID string, ciphertext []byte) (string, error) {
	id := NewID()
	now := Micro(time.Now())
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO secrets (id, org_id, name, key_id, ciphertext, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$6)`,
		id, orgID, name, keyID, ciphertext, now)
	if err != nil {
		return "", fmt.Errorf("store secret: %w", err)
	}
	return id, nil
}

// GetSecret loads an encrypted value by reference.
func (s *Store) GetSecret(ctx context.Context, orgID, ref string) (keyID string, ciphertext []byte, err error) {
	err = s.DB.primary().QueryRowContext(ctx, `SELECT key_id, ciphertext FROM secrets WHERE org_id = $1 AND id = $2`, orgID, ref).Scan(&keyID, &ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("load secret: %w", err)
	}
	return keyID, ciphertext, nil
}

// DeleteSecret removes a stored value.
func (s *Store) DeleteSecret(ctx context.Context, orgID, ref string) error {
	_, err := s.DB.W.ExecContext(ctx, `DELETE FROM secrets WHERE org_id = $1 AND id = $2`, orgID, ref)
	return err
}

// ---------------------------------------------------------------- integrations

const integrationCols = `id, org_id, source, name, secret_ref, settings, created_at, updated_at, disabled_at`

func scanIntegration(sc scanner) (Integration, error) {
	var in Integration
	var ref sql.NullString
	var settings []byte
	var created, updated int64
	var disabled sql.NullInt64
	if err := sc.Scan(&in.ID, &in.OrgID, &in.Source, &in.Name, &ref, &settings, &created, &updated, &disabled); err != nil {
		return Integration{}, err
	}
	in.SecretRef = ref.String
	in.CreatedAt, in.UpdatedAt, in.DisabledAt = FromMicro(created), FromMicro(updated), nullMicro(disabled)
	if err := json.Unmarshal(settings, &in.Settings); err != nil {
		return Integration{}, fmt.Errorf("decode integration settings: %w", err)
	}
	if in.Settings == nil {
		in.Settings = map[string]any{}
	}
	return in, nil
}

// CreateIntegration stores an integration with its token hash.
func (s *Store) CreateIntegration(ctx context.Context, in Integration, tokenHash string) (Integration, error) {
	in.ID = NewID()
	in.CreatedAt = time.Now().UTC()
	in.UpdatedAt = in.CreatedAt
	if in.Settings == nil {
		in.Settings = map[string]any{}
	}
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO integrations (id, org_id, source, name, token_hash, secret_ref, settings, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8)`,
		in.ID, in.OrgID, in.Source, in.Name, tokenHash, emptyNull(in.SecretRef), mustJSON(in.Settings), Micro(in.CreatedAt))
	if IsUniqueViolation(err) {
		return Integration{}, fmt.Errorf("integration %s/%s: %w", in.Source, in.Name, ErrConflict)
	}
	if err != nil {
		return Integration{}, fmt.Errorf("create integration: %w", err)
	}
	return in, nil
}

// IntegrationByTokenHash finds an enabled integration by its token hash.
func (s *Store) IntegrationByTokenHash(ctx context.Context, hash string) (Integration, error) {
	in, err := scanIntegration(s.DB.primary().QueryRowContext(ctx, `SELECT `+integrationCols+` FROM integrations WHERE token_hash = $1 AND disabled_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, ErrNotFound
	}
	return in, err
}

// GetIntegration loads one integration of the org.
func (s *Store) GetIntegration(ctx context.Context, orgID, id string) (Integration, error) {
	in, err := scanIntegration(s.DB.reader(ctx).QueryRowContext(ctx, `SELECT `+integrationCols+` FROM integrations WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, ErrNotFound
	}
	return in, err
}

// ListIntegrations lists the org's integrations.
func (s *Store) ListIntegrations(ctx context.Context, orgID string) ([]Integration, error) {
	rows, err := s.DB.reader(ctx).QueryContext(ctx, `SELECT `+integrationCols+` FROM integrations WHERE org_id = $1 AND disabled_at IS NULL ORDER BY source, name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return collect(rows, scanIntegration)
}

// UpdateIntegration changes name, settings and the signing-secret reference.
func (s *Store) UpdateIntegration(ctx context.Context, in Integration) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE integrations SET name = $1, settings = $2, secret_ref = $3, updated_at = $4 WHERE org_id = $5 AND id = $6 AND disabled_at IS NULL`,
		in.Name, mustJSON(in.Settings), emptyNull(in.SecretRef), Micro(time.Now()), in.OrgID, in.ID)
	if IsUniqueViolation(err) {
		return fmt.Errorf("integration name: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RotateIntegrationToken replaces an integration's token hash.
func (s *Store) RotateIntegrationToken(ctx context.Context, orgID, id, hash string) error {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE integrations SET token_hash = $1, updated_at = $2 WHERE org_id = $3 AND id = $4 AND disabled_at IS NULL`, hash, Micro(time.Now()), orgID, id)
	if err != nil {
		return fmt.Errorf("rotate integration token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DisableIntegration stops an integration's token from working; its alerts stay.
func (s *Store) DisableIntegration(ctx context.Context, orgID, id string) error {
	// The name is freed for reuse by suffixing the id.
	res, err := s.DB.W.ExecContext(ctx, `UPDATE integrations SET disabled_at = $1, name = name || ' (deleted ' || id || ')' WHERE org_id = $2 AND id = $3 AND disabled_at IS NULL`, Micro(time.Now()), orgID, id)
	if err != nil {
		return fmt.Errorf("delete integration: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
