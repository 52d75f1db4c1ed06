package storage

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"testing"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// Every form of the delivery write statement (one per set of clauses) is
// valid SQL whose parameters are numbered 1…n without gaps, in the order
// writePG appends its arguments; PostgreSQL runs each with empty columns.
func TestPostgresWriteStatementForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, Options{PostgresURL: testenv.Postgres(t), PoolMin: 1, PoolMax: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	empty := func(n int) []any { // n empty text columns
		out := make([]any, n)
		for i := range out {
			out[i] = []string{}
		}
		return out
	}
	// Arguments of each clause, as writePG passes them (empty arrays bind
	// to any array type).
	partArgs := [pgParts][]any{
		empty(18), empty(9), empty(25), empty(7),
		{"org", "no-such-incident", "open", "warning", "t", int32(1), int32(1), nil, int64(1), int64(1), nil, nil},
		empty(12),
		{[]string{}, []int32{}, int64(1)},
		empty(3),
		append(empty(3), []int32{}, int64(1)),
	}
	ref := regexp.MustCompile(`\$(\d+)`)
	forms := 0
	for parts := 1; parts < 1<<pgParts; parts++ {
		if parts&pgPartSaveOne != 0 && parts&pgPartSaveMany != 0 {
			continue // writePG never asks for both
		}
		forms++
		var args []any
		for i := range pgParts {
			if parts&(1<<i) != 0 {
				args = append(args, partArgs[i]...)
			}
		}
		q := pgWriteStatement(parts)
		seen := map[int]bool{}
		for _, m := range ref.FindAllStringSubmatch(q, -1) {
			k, _ := strconv.Atoi(m[1])
			seen[k] = true
		}
		if len(seen) != len(args) {
			t.Fatalf("parts %09b: statement uses %d distinct parameters, writePG passes %d", parts, len(seen), len(args))
		}
		for k := 1; k <= len(args); k++ {
			if !seen[k] {
				t.Fatalf("parts %09b: parameter $%d unused", parts, k)
			}
		}
		if _, err := db.W.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("parts %09b: %v\n%s", parts, err, q)
		}
	}
	if forms != 383 {
		t.Errorf("%d forms, want 383", forms)
	}
}
