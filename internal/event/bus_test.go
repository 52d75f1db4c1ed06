package event_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func waitWake(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("no wake-up from %s", what)
	}
}

// A NOTIFY sent by one replica's transaction wakes another replica's readers.
func TestPostgresWakeup(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := storage.Open(ctx, storage.Options{PostgresURL: dsn, PoolMax: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)

	listener := event.NewBus(nil, quiet)
	ch, unsub := listener.Subscribe(org.ID)
	defer unsub()
	go listener.ListenPostgres(ctx, dsn) //nolint:errcheck
	// LISTEN is asynchronous: keep writing until one wake-up arrives.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := store.InTx(ctx, func(tx *storage.Tx) error {
			err := tx.InsertEvent(ctx, org.ID, "test", map[string]int{"n": 1})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// Pending events reach the stream (and NOTIFY) when sequenced.
		if _, err := store.SequenceEvents(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("no wake-up from LISTEN/NOTIFY")
}

// Notify on one replica's bus wakes another's through Redis pub/sub, and
// only for the org concerned.
func TestRedisWakeup(t *testing.T) {
	t.Parallel()
	opt, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ra, rb := redis.NewClient(opt), redis.NewClient(opt)
	defer ra.Close()
	defer rb.Close()
	a, b := event.NewBus(ra, quiet), event.NewBus(rb, quiet)
	mine, unsub := a.Subscribe("org-redis-test")
	defer unsub()
	other, unsub2 := a.Subscribe("org-other")
	defer unsub2()
	go a.ListenRedis(ctx) //nolint:errcheck
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b.Notify("org-redis-test")
		select {
		case <-mine:
			select {
			case <-other:
				t.Fatal("another org's subscriber was woken")
			default:
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("no wake-up through Redis")
}

func TestLocalWakeup(t *testing.T) {
	t.Parallel()
	b := event.NewBus(nil, quiet)
	ch, unsub := b.Subscribe("o")
	b.Notify("o")
	waitWake(t, ch, "local notify")
	if b.Subscribers() != 1 {
		t.Fatalf("subscribers = %d", b.Subscribers())
	}
	unsub()
	if b.Subscribers() != 0 {
		t.Fatalf("subscribers after unsubscribe = %d", b.Subscribers())
	}
}
