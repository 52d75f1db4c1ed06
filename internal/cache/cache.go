// Package cache keeps short-lived copies of slow lookups (object storage
// listings): in Redis when REDIS_URL is configured, so every replica shares
// them and a write on one invalidates them for all, else in a small
// in-process LRU with TTL. A cache that fails (Redis down) counts as a
// miss: callers fall back to the source, never to an error.
package cache

import (
	"container/list"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Cache is one named cache.
type Cache struct {
	name string
	ttl  time.Duration
	b    backend
	reqs *prometheus.CounterVec // labels cache, result; may be nil
}

type backend interface {
	get(ctx context.Context, key string) ([]byte, bool, error)
	set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	del(ctx context.Context, key string) error
	incr(ctx context.Context, key string) (int64, error)
	gen(ctx context.Context, key string) (int64, error)
}

// New returns the cache called name (a metric label and key prefix) whose
// entries live ttl: in rdb when not nil, else in process (at most size
// entries). requests counts hits and misses (aurora_cache_requests_total).
func New(name string, ttl time.Duration, rdb redis.UniversalClient, size int, requests *prometheus.CounterVec) *Cache {
	c := &Cache{name: name, ttl: ttl, reqs: requests}
	if rdb != nil {
		c.b = &redisBackend{rdb: rdb, prefix: "aurora:cache:" + name + ":"}
	} else {
		c.b = newLRU(size)
	}
	return c
}

func (c *Cache) count(result string) {
	if c.reqs != nil {
		c.reqs.WithLabelValues(c.name, result).Inc()
	}
}

// Get returns key's value when cached.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	v, ok, err := c.b.get(ctx, key)
	switch {
	case err != nil:
		c.count("error")
		return nil, false
	case ok:
		c.count("hit")
	default:
		c.count("miss")
	}
	return v, ok
}

// Set caches val under key for the cache's TTL; a failure only means the
// next Get misses.
func (c *Cache) Set(ctx context.Context, key string, val []byte) {
	_ = c.b.set(ctx, key, val, c.ttl)
}

// Delete drops key.
func (c *Cache) Delete(ctx context.Context, key string) error { return c.b.del(ctx, key) }

// Generation returns namespace ns's current generation; keys built with it
// are invalidated all at once by Bump.
func (c *Cache) Generation(ctx context.Context, ns string) (string, error) {
	g, err := c.b.gen(ctx, "gen:"+ns)
	return strconv.FormatInt(g, 10), err
}

// Bump invalidates every key built with ns's generation.
func (c *Cache) Bump(ctx context.Context, ns string) error {
	_, err := c.b.incr(ctx, "gen:"+ns)
	return err
}

type redisBackend struct {
	rdb    redis.UniversalClient
	prefix string
}

func (r *redisBackend) get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.rdb.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (r *redisBackend) set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return r.rdb.Set(ctx, r.prefix+key, val, ttl).Err()
}

func (r *redisBackend) del(ctx context.Context, key string) error {
	return r.rdb.Del(ctx, r.prefix+key).Err()
}

func (r *redisBackend) incr(ctx context.Context, key string) (int64, error) {
	return r.rdb.Incr(ctx, r.prefix+key).Result()
}

func (r *redisBackend) gen(ctx context.Context, key string) (int64, error) {
	g, err := r.rdb.Get(ctx, r.prefix+key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return g, err
}

// lru is the in-process backend: least recently used entries go first
// beyond size; expired ones are dropped when met.
type lru struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recent
	items map[string]*list.Element
	gens  map[string]int64
	now   func() time.Time
}

type entry struct {
	key     string
	val     []byte
	expires time.Time
}

func newLRU(size int) *lru {
	if size <= 0 {
		size = 1024
	}
	return &lru{size: size, order: list.New(), items: map[string]*list.Element{}, gens: map[string]int64{}, now: time.Now}
}

func (l *lru) get(_ context.Context, key string) ([]byte, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[key]
	if !ok {
		return nil, false, nil
	}
	e := el.Value.(*entry)
	if !l.now().Before(e.expires) {
		l.order.Remove(el)
		delete(l.items, key)
		return nil, false, nil
	}
	l.order.MoveToFront(el)
	return e.val, true, nil
}

func (l *lru) set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.items[key]; ok {
		el.Value = &entry{key, val, l.now().Add(ttl)}
		l.order.MoveToFront(el)
		return nil
	}
	l.items[key] = l.order.PushFront(&entry{key, val, l.now().Add(ttl)})
	for l.order.Len() > l.size {
		old := l.order.Back()
		l.order.Remove(old)
		delete(l.items, old.Value.(*entry).key)
	}
	return nil
}

func (l *lru) del(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.items[key]; ok {
		l.order.Remove(el)
		delete(l.items, key)
	}
	return nil
}

func (l *lru) incr(_ context.Context, key string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gens[key]++
	return l.gens[key], nil
}

func (l *lru) gen(_ context.Context, key string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gens[key], nil
}
