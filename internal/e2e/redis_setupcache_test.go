package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// setupCacheCount reads aurora_cache_requests_total{cache="setup",result=…}
// from a process's /metrics.
func setupCacheCount(t *testing.T, p *testenv.Process, result string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(metricValue(t, p, fmt.Sprintf(`aurora_cache_requests_total{cache="setup",result=%q}`, result)), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The set-up cache's hits and misses are on the binary's /metrics (with
// Redis configured too: the cache itself stays in process). Each
// investigation resolves its org's tools: with the cache on (the default)
// the second and later ones reuse them, counted as hits; with
// AURORA_SETUP_CACHE_ENABLED=false every lookup is a miss.
func TestRedisSetupCacheMetrics(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{true, false} {
		t.Run(fmt.Sprintf("enabled=%v", enabled), func(t *testing.T) {
			t.Parallel()
			p, _ := startAll(t, postgres, testenv.Env{"REDIS_URL": testenv.Redis(t), "AURORA_SETUP_CACHE_ENABLED": strconv.FormatBool(enabled)})
			p.WaitHealthy(60 * time.Second)
			hits0, misses0 := setupCacheCount(t, p, "hit"), setupCacheCount(t, p, "miss")
			ids, errs := sendAlerts(t, p, fmt.Sprintf("SetupCache%v", enabled), 3, 0)
			if len(ids) != 3 {
				t.Fatalf("alerts: %v", errs)
			}
			for _, id := range ids {
				testenv.Eventually(t, 60*time.Second, "investigation of "+id+" to finish", func() bool {
					s := investigationOf(t, p, id).Status
					return s == "completed" || s == "failed"
				})
			}
			hits, misses := setupCacheCount(t, p, "hit")-hits0, setupCacheCount(t, p, "miss")-misses0
			t.Logf("3 investigations: %v hits, %v misses", hits, misses)
			if hits+misses < 3 {
				t.Errorf("3 investigations counted %v set-up cache lookups", hits+misses)
			}
			if enabled && hits < 2 {
				t.Errorf("cache on: %v hits for 3 investigations, want the tools reused at least twice", hits)
			}
			if !enabled && hits != 0 {
				t.Errorf("cache off: %v hits", hits)
			}
		})
	}
}
