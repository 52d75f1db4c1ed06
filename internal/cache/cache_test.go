package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/testenv"
)

func counter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_cache_requests_total", Help: "h"}, []string{"cache", "result"})
}

// backends returns a constructor per backend; two caches made by one
// constructor share state the way two replicas do.
func backends(t *testing.T) map[string]func(name string, ttl time.Duration, reqs *prometheus.CounterVec) *Cache {
	rdb := redis.NewClient(mustParse(t, testenv.Redis(t)))
	t.Cleanup(func() { _ = rdb.Close() })
	local := newLRU(3)
	return map[string]func(string, time.Duration, *prometheus.CounterVec) *Cache{
		"redis": func(name string, ttl time.Duration, reqs *prometheus.CounterVec) *Cache {
			return New(name, ttl, rdb, 0, reqs)
		},
		"memory": func(name string, ttl time.Duration, reqs *prometheus.CounterVec) *Cache {
			c := New(name, ttl, nil, 3, reqs)
			c.b = local // shared, as one process's caches would be
			return c
		},
	}
}

func mustParse(t *testing.T, u string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCache(t *testing.T) {
	t.Parallel()
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			reqs := counter()
			cname := fmt.Sprintf("test-%s-%d", name, time.Now().UnixNano())
			a, b := mk(cname, time.Minute, reqs), mk(cname, time.Minute, reqs)
			if _, ok := a.Get(ctx, "k"); ok {
				t.Fatal("hit on an empty cache")
			}
			a.Set(ctx, "k", []byte("v"))
			if v, ok := b.Get(ctx, "k"); !ok || string(v) != "v" {
				t.Fatalf("second handle: %q %v", v, ok)
			}
			if err := b.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if _, ok := a.Get(ctx, "k"); ok {
				t.Error("hit after delete")
			}
			g1, _ := a.Generation(ctx, "list")
			if err := b.Bump(ctx, "list"); err != nil {
				t.Fatal(err)
			}
			if g2, _ := a.Generation(ctx, "list"); g2 == g1 {
				t.Error("bump did not change the generation seen by the other handle")
			}
			if hit, miss := value(reqs.WithLabelValues(cname, "hit")), value(reqs.WithLabelValues(cname, "miss")); hit != 1 || miss != 2 {
				t.Errorf("hits %v misses %v, want 1 and 2", hit, miss)
			}
			short := mk(cname+"-ttl", 50*time.Millisecond, nil)
			short.Set(ctx, "t", []byte("x"))
			time.Sleep(120 * time.Millisecond)
			if _, ok := short.Get(ctx, "t"); ok {
				t.Error("hit after the TTL")
			}
		})
	}
}

func TestLRUEvicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := New("lru", time.Minute, nil, 2, nil)
	c.Set(ctx, "a", []byte("1"))
	c.Set(ctx, "b", []byte("2"))
	c.Get(ctx, "a") // a is now the most recent
	c.Set(ctx, "c", []byte("3"))
	if _, ok := c.Get(ctx, "b"); ok {
		t.Error("least recently used entry kept")
	}
	if _, ok := c.Get(ctx, "a"); !ok {
		t.Error("recently used entry evicted")
	}
}

func TestRedisDownIsAMiss(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	reqs := counter()
	c := New("down", time.Minute, rdb, 0, reqs)
	c.Set(context.Background(), "k", []byte("v"))
	if _, ok := c.Get(context.Background(), "k"); ok {
		t.Fatal("hit with Redis down")
	}
	if n := value(reqs.WithLabelValues("down", "error")); n != 1 {
		t.Errorf("error count %v", n)
	}
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
