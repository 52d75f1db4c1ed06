package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// Connections stay open between bursts of work (reopening them cost
// PostgreSQL a backend fork and every statement's preparation), and
// DB_POOL_MIN of them stay open while nothing happens.
func TestPostgresPoolKeepsConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{PostgresURL: testenv.Postgres(t), PoolMin: 3, PoolMax: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for db.W.Stats().OpenConnections < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open while idle, want DB_POOL_MIN = 3", db.W.Stats().OpenConnections)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Two bursts of 6 concurrent queries: the second opens nothing new.
	burst := func() {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 6 {
			wg.Go(func() {
				<-start
				if _, err := db.W.ExecContext(ctx, "SELECT pg_sleep(0.05)"); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	burst()
	opened := db.W.Stats().OpenConnections
	closedBefore := db.W.Stats().MaxIdleClosed
	burst()
	st := db.W.Stats()
	if st.MaxIdleClosed != closedBefore || st.OpenConnections != opened {
		t.Fatalf("after a second burst: %d open (was %d), %d closed for lack of idle room (was %d): connections are not kept",
			st.OpenConnections, opened, st.MaxIdleClosed, closedBefore)
	}
	if opened > 6 {
		t.Fatalf("%d connections open, DB_POOL_MAX is 6", opened)
	}
}
