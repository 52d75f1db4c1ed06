// Package event wakes live-event readers (SSE) when events are committed.
// Events themselves live in the database, which is what lets a client resume
// with Last-Event-ID on any replica; the bus only says "look again". Wake-ups
// cross replicas through PostgreSQL LISTEN/NOTIFY (the NOTIFY is sent in the
// writing transaction) or Redis pub/sub; readers also poll as a fallback, so
// a lost wake-up delays an event but never loses it.
package event

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Channel is the LISTEN/NOTIFY and Redis channel name.
const Channel = "aurora_events"

// Bus fans wake-ups out to local subscribers.
type Bus struct {
	mu    sync.Mutex
	subs  map[string]map[chan struct{}]struct{}
	redis redis.UniversalClient
	log   *slog.Logger
}

// NewBus returns a bus; rdb may be nil.
func NewBus(rdb redis.UniversalClient, log *slog.Logger) *Bus {
	return &Bus{subs: map[string]map[chan struct{}]struct{}{}, redis: rdb, log: log}
}

// Subscribe returns a channel woken when the org may have new events.
func (b *Bus) Subscribe(orgID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.subs[orgID] == nil {
		b.subs[orgID] = map[chan struct{}]struct{}{}
	}
	b.subs[orgID][ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs[orgID], ch)
		b.mu.Unlock()
	}
}

// Subscribers counts local subscribers (for metrics).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

// wake wakes local subscribers of an org ("" wakes all).
func (b *Bus) wake(orgID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for org, m := range b.subs {
		if orgID != "" && org != orgID {
			continue
		}
		for ch := range m {
			select {
			case ch <- struct{}{}:
			default: // already pending
			}
		}
	}
}

// Notify is called after a commit that wrote events: it wakes local readers
// at once and, with Redis, readers on other replicas.
func (b *Bus) Notify(orgID string) {
	b.wake(orgID)
	if b.redis != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := b.redis.Publish(ctx, Channel, orgID).Err(); err != nil {
			b.log.Debug("redis publish failed; replicas fall back to polling", "err", err)
		}
	}
}

// ListenRedis relays Redis wake-ups until ctx ends, resubscribing on error.
func (b *Bus) ListenRedis(ctx context.Context) error {
	for ctx.Err() == nil {
		sub := b.redis.Subscribe(ctx, Channel)
		ch := sub.Channel()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case m, ok := <-ch:
				if !ok {
					break loop
				}
				b.wake(m.Payload)
			}
		}
		sub.Close()
		if ctx.Err() == nil {
			time.Sleep(time.Second)
		}
	}
	return nil
}

// ListenPostgres relays NOTIFYs until ctx ends, reconnecting on error.
func (b *Bus) ListenPostgres(ctx context.Context, dsn string) error {
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, dsn)
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("postgres LISTEN lost; retrying (readers poll meanwhile)", "err", err)
		b.wake("") // something may have been missed
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

func (b *Bus) listenOnce(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		b.wake(n.Payload)
	}
}
