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
	return t.tx.ExecContext(ctx, q, args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	t.flushBefore(ctx)
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	t.flushBefore(ctx)
	return t.tx.QueryRowContext(ctx, q, args...)
}
