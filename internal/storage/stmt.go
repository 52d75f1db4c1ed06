package storage

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the prepared statements kept per database; queries
// built at run time (a variable number of placeholders) stay bounded too.
const maxCachedStmts = 256

// stmtCache keeps the writer's statements prepared on SQLite. The SQLite
// driver prepares (parses and plans) every statement it is given afresh,
// which cost about a quarter of the CPU time of alert intake; PostgreSQL's
// driver (pgx) already caches prepared statements per connection, so the
// cache is used on SQLite only.
//
// Statements are prepared lazily but never inside a transaction: the SQLite
// writer is a single connection, and preparing through the pool while a
// transaction holds it would wait for itself. A transaction notes the
// statements it ran unprepared; the next write transaction prepares them
// before it begins (see InTx).
type stmtCache struct {
	mu    sync.RWMutex
	ready map[string]*sql.Stmt
	want  map[string]struct{}
}

// get returns the prepared statement for q, or nil after noting that q
// should be prepared.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.RLock()
	st := c.ready[q]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	if c.want == nil {
		c.want = map[string]struct{}{}
	}
	if len(c.ready)+len(c.want) < maxCachedStmts {
		c.want[q] = struct{}{}
	}
	c.mu.Unlock()
	return nil
}

// prepareWanted prepares on w the statements noted since the last call. The
// caller must hold no connection of w. A statement that fails to prepare is
// left to run unprepared (and is not retried, so a failing one costs nothing
// later): the cache only ever saves time.
func (c *stmtCache) prepareWanted(ctx context.Context, w *sql.DB) {
	c.mu.Lock()
	want := c.want
	c.want = nil
	if c.ready == nil {
		c.ready = map[string]*sql.Stmt{}
	}
	c.mu.Unlock()
	for q := range want {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			st = nil
		}
		c.mu.Lock()
		if _, dup := c.ready[q]; dup || st == nil {
			if st != nil {
				st.Close()
			}
			if !dup {
				c.ready[q] = nil // never prepared; run unprepared
			}
		} else {
			c.ready[q] = st
		}
		c.mu.Unlock()
	}
}

// pending reports whether statements wait to be prepared.
func (c *stmtCache) pending() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.want) > 0
}

// close closes every prepared statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.ready {
		if st != nil {
			st.Close()
		}
	}
	c.ready, c.want = nil, nil
}

// stmt returns q prepared for this transaction, or nil to run it unprepared.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if st, ok := t.bound[q]; ok {
		return st
	}
	st := t.stmts.get(q)
	if st == nil {
		return nil
	}
	ts := t.tx.StmtContext(ctx, st)
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[q] = ts
	return ts
}

// exec, query and queryRow run a statement of the transaction, prepared when
// the dialect benefits from it, after writing the rows queued before it.
func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	t.flushBefore(ctx)
	return t.execNow(ctx, q, args...)
}

// execNow is exec without writing queued rows first.
func (t *Tx) execNow(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	t.flushBefore(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	t.flushBefore(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}
