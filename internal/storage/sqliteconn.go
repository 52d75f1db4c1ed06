package storage

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// The SQLite driver parses and plans every statement it is given afresh
// (sqlite3_prepare_v2), even the same text a thousand times a second; under
// load that was a tenth of Aurora's CPU time: investigations' reads, River's
// queue statements and intake's writes all paid it. PostgreSQL's driver
// (pgx) keeps statements prepared per connection; cachedConn does the same
// for SQLite, below database/sql, so every caller of the pool gains without
// knowing: a statement's text finds its prepared statement on that
// connection, which is reset and reused.

// maxConnStmts bounds the prepared statements kept per connection (least
// recently used dropped first): queries built at run time, such as IN lists
// of varying length, stay bounded.
const maxConnStmts = 256

// openSQLiteDB opens a pool whose connections keep their statements
// prepared.
func openSQLiteDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

type cachingConnector struct{ driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	// Every connection of the driver implements these (its documentation
	// asks wrappers to forward them); without one, fall back to the plain
	// connection rather than hide it.
	full, ok := conn.(sqliteConn)
	if !ok {
		return conn, nil
	}
	return &cachedConn{sqliteConn: full, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what the driver's connections implement and database/sql
// uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	query string
	st    driver.Stmt
	// busy: rows of this statement are open; a second query of the same
	// text meanwhile runs as a one-off statement.
	busy bool
	// evicted while busy: closed when its rows close.
	evicted bool
}

// cachedConn is used by one goroutine at a time (database/sql holds a
// connection's lock around every call into it), so it needs no lock.
type cachedConn struct {
	sqliteConn
	stmts map[string]*list.Element
	lru   *list.List // of *cachedStmt, most recent first
	// prepared counts statements prepared for the cache (tests read it).
	prepared int
}

// Unwrap returns the driver's connection (sqlite.Limit and the like look
// through wrappers this way).
func (c *cachedConn) Unwrap() driver.Conn { return c.sqliteConn }

// get returns the prepared statement for query, preparing it if needed; nil
// when it is in use (the caller runs the query unprepared).
func (c *cachedConn) get(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.stmts[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.prepared++
	cs := &cachedStmt{query: query, st: st}
	c.stmts[query] = c.lru.PushFront(cs)
	for c.lru.Len() > maxConnStmts {
		old := c.lru.Back()
		c.drop(old)
	}
	return cs, nil
}

// drop forgets a cached statement, closing it unless rows still use it.
func (c *cachedConn) drop(e *list.Element) {
	cs := c.lru.Remove(e).(*cachedStmt)
	delete(c.stmts, cs.query)
	if cs.busy {
		cs.evicted = true
		return
	}
	_ = cs.st.Close()
}

func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil && isMisuse(err) {
		// Never expected; a statement in an unknown state is not kept.
		c.drop(c.stmts[query])
	}
	return res, err
}

func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if isMisuse(err) {
			c.drop(c.stmts[query])
		}
		return nil, err
	}
	fr, ok := rows.(fullRows)
	if !ok { // not this driver's rows: nothing to hand back
		return rows, nil
	}
	cs.busy = true
	return &cachedRows{fullRows: fr, cs: cs}, nil
}

// Close closes every cached statement, then the connection.
func (c *cachedConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		if err := e.Value.(*cachedStmt).st.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.stmts, c.lru = nil, list.New()
	errs = append(errs, c.sqliteConn.Close())
	return errors.Join(errs...)
}

// isMisuse reports SQLITE_MISUSE (21), which a statement reused in a bad
// state would answer.
func isMisuse(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 21
}

// fullRows is what the driver's rows implement and database/sql uses.
type fullRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows hands its statement back when closed (the driver resets it).
type cachedRows struct {
	fullRows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.fullRows.Close()
	if r.cs != nil {
		r.cs.busy = false
		if r.cs.evicted {
			if cerr := r.cs.st.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close evicted statement: %w", cerr)
			}
		}
		r.cs = nil
	}
	return err
}
