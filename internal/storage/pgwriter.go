package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The writer pool's connections send BEGIN with the transaction's first
// statement instead of on its own. On a machine where the database shares
// the CPU with its clients every round trip costs two context switches and
// a wait for the scheduler, and an intake transaction is only a few
// statements long (docs/benchmarks.md, round 6). pgx's own Batch.BeginTx does
// the same; database/sql cannot, so the driver connection does it.
//
// Transactions of storage.Store.InTx go further: statements whose results
// they do not need wait and travel with the next one, and the last writes
// travel with COMMIT (see Tx.pipeline). Every statement still runs in order,
// each with its own snapshot, exactly as if sent one by one.

// writerConnector opens writer connections.
type writerConnector struct{ driver.Connector }

func (c writerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok { // cannot happen with stdlib connectors
		return dc, nil
	}
	return &writerConn{Conn: sc}, nil
}

// writerConn is a stdlib connection whose BEGIN waits for the first
// statement of its transaction.
type writerConn struct {
	*stdlib.Conn
	// beginPending: a transaction was begun and BEGIN is not sent yet.
	beginPending bool
	// inTx: a transaction begun here has not ended through writerTx.
	inTx bool
}

// ended reports a transaction that ended (a COMMIT sent with its last
// statements, or a failure before its BEGIN ran) while database/sql still
// holds it open: a statement sent now would run, and commit, on its own.
func (c *writerConn) ended() bool {
	return c.inTx && !c.beginPending && c.Conn.Conn().PgConn().TxStatus() == 'I'
}

func (c *writerConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *writerConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Isolation != driver.IsolationLevel(0) || opts.ReadOnly {
		return c.Conn.BeginTx(ctx, opts)
	}
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	if c.beginPending || c.Conn.Conn().PgConn().TxStatus() != 'I' {
		return nil, errors.New("begin: a transaction is already open on this connection")
	}
	c.beginPending, c.inTx = true, true
	return &writerTx{c: c, ctx: ctx}, nil
}

// sendBegin sends a pending BEGIN on its own, before a statement that cannot
// travel with it.
func (c *writerConn) sendBegin(ctx context.Context) error {
	if c.ended() {
		return errTxEnded
	}
	if !c.beginPending {
		return nil
	}
	c.beginPending = false
	if _, err := c.Conn.Conn().Exec(ctx, "begin"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return nil
}

// ExecContext sends a pending BEGIN in the same round trip as the statement.
func (c *writerConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.ended() {
		return nil, errTxEnded
	}
	if !c.beginPending {
		return c.Conn.ExecContext(ctx, query, args)
	}
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	c.beginPending = false
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(query, vals...)
	br := c.Conn.Conn().SendBatch(ctx, b)
	_, err := br.Exec()
	var n int64
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		n = tag.RowsAffected()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(n), nil
}

func (c *writerConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, query, args)
}

func (c *writerConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, query)
}

func (c *writerConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// writerTx ends a transaction of a writerConn; one whose BEGIN was never
// sent ends without a round trip, and one already ended by a COMMIT sent
// with its last statements (Tx.pipeline) has nothing left to do.
type writerTx struct {
	c   *writerConn
	ctx context.Context
}

// end marks the transaction ended and returns its connection, or nil if
// its BEGIN was never sent.
func (tx *writerTx) end() *pgx.Conn {
	c := tx.c
	c.inTx = false
	if c.beginPending {
		c.beginPending = false
		return nil
	}
	return c.Conn.Conn()
}

func (tx *writerTx) Commit() error {
	pc := tx.end()
	if pc == nil || pc.PgConn().TxStatus() == 'I' {
		return nil
	}
	tag, err := pc.Exec(tx.ctx, "commit")
	if err != nil {
		if pc.PgConn().TxStatus() != 'I' {
			_ = pc.Close(context.Background())
		}
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

func (tx *writerTx) Rollback() error {
	pc := tx.end()
	if pc == nil || pc.IsClosed() || pc.PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := pc.Exec(tx.ctx, "rollback"); err != nil {
		// The connection's state is unknown: never reuse it.
		_ = pc.Close(context.Background())
		return err
	}
	return nil
}

// pgStmt is a statement, its arguments, and what it does (for errors); a
// query's rows are read by scan.
type pgStmt struct {
	sql  string
	args []any
	what string
	scan func(rowScanner) error
}

// rowScanner is what both *sql.Rows and pgx.Rows offer.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// errTxEnded is returned for a statement of a transaction that has ended:
// sent on its own it would run, and commit, outside of it.
var errTxEnded = errors.New("the transaction is no longer open")

// queued takes the statements waiting to be sent, in order: the deferred
// ones, then the write of the queued rows (with the events so far when
// events, or when SaveIncidents asked for them).
func (t *Tx) queued(events bool) []pgStmt {
	out := t.deferred
	t.deferred = nil
	update, withEvents := t.pendingUpdates, t.updateEvents || events
	t.pendingUpdates, t.updateEvents = nil, false
	if st, ok := t.pgWrite(update, withEvents); ok {
		out = append(out, st)
	}
	if events {
		out = append(out, t.eventStatements(0)...)
	}
	return out
}

// pipeline sends, in one round trip, BEGIN if it is still pending, the
// queued statements, then the queries qs, then COMMIT if commit. A failure
// is remembered like a failed queued write (see FlushPending): the
// transaction cannot commit.
func (t *Tx) pipeline(ctx context.Context, qs []pgStmt, commit bool) error {
	if commit && len(qs) > 0 {
		// A query's rows are read before COMMIT's reply: failing to read
		// them must not leave a committed transaction reported as failed.
		return errors.New("pipeline: a query cannot travel with COMMIT")
	}
	if t.pendingErr != nil {
		return t.pendingErr
	}
	stmts := t.queued(commit)
	if len(stmts) == 0 && len(qs) == 0 && !commit {
		return nil
	}
	err := t.conn.Raw(func(dc any) error {
		wc, ok := dc.(*writerConn)
		if !ok {
			return errors.New("pipeline: not a writer connection")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pc := wc.Conn.Conn()
		b := &pgx.Batch{}
		begin := wc.beginPending
		if begin {
			b.Queue("begin")
			wc.beginPending = false
		} else if pc.PgConn().TxStatus() == 'I' {
			return errTxEnded
		}
		for _, st := range stmts {
			b.Queue(st.sql, st.args...)
		}
		for _, q := range qs {
			b.Queue(q.sql, q.args...)
		}
		if commit {
			b.Queue("commit")
		}
		br := pc.SendBatch(ctx, b)
		err := readPipeline(br, begin, stmts, qs, commit)
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		return err
	})
	if err != nil && t.pendingErr == nil {
		t.pendingErr = err
	}
	return err
}

// readPipeline reads the replies of pipeline's statements in order.
func readPipeline(br pgx.BatchResults, begin bool, stmts []pgStmt, qs []pgStmt, commit bool) error {
	if begin {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	}
	for _, st := range stmts {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	for _, q := range qs {
		rows, err := br.Query()
		if err == nil {
			err = q.scan(rows)
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", q.what, err)
		}
	}
	if commit {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if tag.String() == "ROLLBACK" {
			return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
		}
	}
	return nil
}

// pipelineCommit sends what waits to be written, the events, and COMMIT in
// one round trip; with nothing to write the transaction just commits.
func (t *Tx) pipelineCommit(ctx context.Context) error {
	if t.pendingErr != nil {
		return t.pendingErr
	}
	if !t.hasPending() && t.eventsDone == len(t.events) {
		return nil // Commit does it
	}
	return t.pipeline(ctx, nil, true)
}
