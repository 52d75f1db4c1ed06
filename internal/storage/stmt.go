package storage

import (
	"context"
	"database/sql"
)

// exec, query and queryRow run a statement of the transaction after writing
// the rows queued before it. Statements are kept prepared per connection by
// the drivers (pgx's statement cache; cachedConn on SQLite).
func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	t.flushBefore(ctx)
	return t.execNow(ctx, q, args...)
}

// execNow is exec without writing queued rows first.
func (t *Tx) execNow(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.stmtCtx(ctx), q, args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	t.flushBefore(ctx)
	return t.tx.QueryContext(t.stmtCtx(ctx), q, args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	t.flushBefore(ctx)
	return t.tx.QueryRowContext(t.stmtCtx(ctx), q, args...)
}

// stmtCtx is the context a statement runs with. A detached transaction's
// statements ignore their context's end: the SQLite driver watches a
// cancellable context with a goroutine and a progress handler per
// statement, several per alert on the single writer, for statements that
// take microseconds. The transaction still ends with its context (see
// commitGroup).
func (t *Tx) stmtCtx(ctx context.Context) context.Context {
	if t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}
