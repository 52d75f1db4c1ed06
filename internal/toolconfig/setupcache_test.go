package toolconfig_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
	"github.com/aurora-oss/aurora/internal/toolconfig"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// setupCacheStore is a migrated SQLite store, its default org and a
// secrets store.
func setupCacheStore(t *testing.T) (*storage.Store, string, *secret.Store) {
	t.Helper()
	store, org := storagetest.SQLite(t)
	kr, _ := secret.NewKeyring([]secret.Key{{ID: "k1", Bytes: bytes.Repeat([]byte{7}, 32)}})
	return store, org.ID, &secret.Store{Keys: kr, Backend: store}
}

// The set-up cache counts each Resolve as a hit or a miss on the process's
// aurora_cache_requests_total (cache="setup"): a reuse is a hit; the first
// lookup, a setting changed on this or another replica, an expired entry
// and every lookup with the cache disabled are misses.
func TestSetupCacheHitMissMetric(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, org, secrets := setupCacheStore(t)
	m := metric.New(store, nil) // the process's registry, as the binary builds it
	env := toolconfig.Env{Prometheus: &toolset.PrometheusConfig{URL: "http://prometheus.env:9090"}}
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	svc := toolconfig.New(store, secrets, env)
	svc.CacheTTL, svc.Now = time.Minute, clock
	svc.CountLookups(m.CacheRequests)
	hits := m.CacheRequests.WithLabelValues(toolconfig.SetupCacheName, "hit")
	misses := m.CacheRequests.WithLabelValues(toolconfig.SetupCacheName, "miss")

	// Both series exist before any lookup, at 0, on the process registry.
	if n := scraped(t, m.Registry); n != 2 {
		t.Fatalf("%d setup cache series scraped before any lookup, want hit and miss", n)
	}
	want := func(step string, h, ms float64) {
		t.Helper()
		if gh, gm := value(hits), value(misses); gh != h || gm != ms {
			t.Fatalf("%s: hit %v miss %v, want hit %v miss %v", step, gh, gm, h, ms)
		}
	}
	resolve := func() *toolconfig.Resolved {
		t.Helper()
		r, err := svc.Resolve(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := resolve()
	want("first lookup", 0, 1)
	if resolve() != first {
		t.Error("a hit built the tools again")
	}
	resolve()
	want("two reuses", 2, 1)

	// A setting changed on this replica.
	if _, err := svc.Put(ctx, org, toolconfig.Prometheus, "test", json.RawMessage(`{"url":"http://prometheus.org:9090"}`)); err != nil {
		t.Fatal(err)
	}
	if resolve() == first {
		t.Error("a changed setting reused the old tools")
	}
	want("after a change here", 2, 2)
	resolve()
	want("reuse after the change", 3, 2)

	// A setting changed on another replica: its version tells this one.
	other := toolconfig.New(store, secrets, env)
	if _, err := other.Put(ctx, org, toolconfig.Prometheus, "test", json.RawMessage(`{"url":"http://prometheus.other:9090"}`)); err != nil {
		t.Fatal(err)
	}
	resolve()
	want("after a change on another replica", 3, 3)

	// The TTL expires.
	advance(2 * time.Minute)
	resolve()
	want("after the TTL", 3, 4)
	resolve()
	want("reuse after the TTL", 4, 4)

	// AURORA_SETUP_CACHE_ENABLED=false: the binary sets a 1 ns TTL, so
	// every lookup misses.
	off := toolconfig.New(store, secrets, env)
	reg := prometheus.NewRegistry()
	offReqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_cache_requests_total", Help: "test"}, []string{"cache", "result"})
	reg.MustRegister(offReqs)
	off.CacheTTL = time.Nanosecond
	off.CountLookups(offReqs)
	for range 3 {
		if _, err := off.Resolve(ctx, org); err != nil {
			t.Fatal(err)
		}
	}
	if h, ms := value(offReqs.WithLabelValues("setup", "hit")), value(offReqs.WithLabelValues("setup", "miss")); h != 0 || ms != 3 {
		t.Errorf("cache disabled: hit %v miss %v, want 0 and 3", h, ms)
	}
}

// scraped counts the aurora_cache_requests_total series of the setup cache
// that the registry exports.
func scraped(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "aurora_cache_requests_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "cache" && l.GetValue() == toolconfig.SetupCacheName {
					n++
				}
			}
		}
	}
	return n
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
