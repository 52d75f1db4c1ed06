package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// prepared reports how many statements conn's cache prepared so far.
func prepared(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var n int
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*cachedConn)
		if !ok {
			return fmt.Errorf("connection is %T, not a caching one", dc)
		}
		n = c.prepared
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLiteStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := openSQLiteDB("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	for i := range 5 {
		mustExec(`INSERT INTO t (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
	}
	if got := prepared(t, conn); got != 2 {
		t.Fatalf("prepared %d statements for 1 + 5 executions of 2 texts, want 2", got)
	}

	// The same text queried again while its first rows are open runs
	// alone, and both see every row.
	const q = `SELECT k, v FROM t ORDER BY k`
	outer, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		inner := 0
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			inner++
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if inner != 5 {
			t.Fatalf("nested query saw %d rows, want 5", inner)
		}
		if v != fmt.Sprint("v", k) {
			t.Fatalf("row %d: v = %q", k, v)
		}
		n++
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("outer query saw %d rows, want 5", n)
	}
	before := prepared(t, conn)
	var count int
	for range 3 {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE k >= ?`, 0).Scan(&count); err != nil {
			t.Fatal(err)
		}
	}
	if count != 5 || prepared(t, conn) != before+1 {
		t.Fatalf("count %d, prepared %d more statements for 3 runs of one text, want 5 and 1", count, prepared(t, conn)-before)
	}

	// A statement evicted while its rows are open still reads them all.
	held, err := conn.QueryContext(ctx, `SELECT k FROM t ORDER BY k DESC`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxConnStmts + 10 {
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + count(*) FROM t`, i)).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != i+5 {
			t.Fatalf("query %d: %d", i, count)
		}
	}
	n = 0
	for held.Next() {
		n++
	}
	if err := held.Close(); err != nil || n != 5 {
		t.Fatalf("evicted statement's rows: %d rows, close: %v", n, err)
	}

	// A schema change re-prepares the cached statement (SQLite does it).
	mustExec(`ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'x'`)
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE k >= ?`, 0).Scan(&count); err != nil || count != 5 {
		t.Fatalf("after ALTER TABLE: %d, %v", count, err)
	}
	// A failing execution leaves the statement usable.
	if _, err := conn.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, 1, "dup"); err == nil {
		t.Fatal("duplicate key inserted")
	}
	mustExec(`INSERT INTO t (k, v) VALUES (?, ?)`, 9, "v9")
	// Several statements in one text still all run.
	mustExec(`INSERT INTO t (k, v) VALUES (20, 'a'); INSERT INTO t (k, v) VALUES (21, 'b')`)
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE k >= ?`, 0).Scan(&count); err != nil || count != 8 {
		t.Fatalf("rows at the end: %d, %v; want 8", count, err)
	}
}

// The WAL is copied back into the database file in the background, not
// only when the writer's WAL reaches wal_autocheckpoint.
func TestSQLiteBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ck.db")
	db, err := Open(ctx, Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE blob (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	// 2 MB: well under the writer's own threshold (8,000 pages, 32 MB).
	for range 64 {
		if _, err := db.W.ExecContext(ctx, `INSERT INTO blob VALUES (randomblob(32768))`); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3*checkpointInterval + 5*time.Second)
	for size() < before+2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 2 MB written and %s: the WAL was not checkpointed", size(), 3*checkpointInterval)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
