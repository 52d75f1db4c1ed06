package chat

import (
	"context"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestRateLimiterSlides: the per-user limit counts the last minute, not the
// calendar minute, in Redis and in the database alike: three questions at
// :50 and :55 leave no room at :10 of the next minute, and room again once
// the first is a minute old.
func TestRateLimiterSlides(t *testing.T) {
	t.Parallel()
	for _, withRedis := range []bool{false, true} {
		name := "database"
		if withRedis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, org := storagetest.SQLite(t)
			l := &rateLimiter{store: st, perMinute: 3}
			if withRedis {
				opt, err := redis.ParseURL(testenv.Redis(t))
				if err != nil {
					t.Fatal(err)
				}
				l.redis = redis.NewClient(opt)
				t.Cleanup(func() { l.redis.Close() })
			}
			user := "u-" + time.Now().Format("150405.000000000") // Redis is shared between tests
			w := time.Date(2026, 1, 1, 10, 0, 50, 0, time.UTC)
			for i, at := range []time.Time{w, w.Add(5 * time.Second), w.Add(5 * time.Second)} {
				if ok, _, err := l.allow(ctx, org.ID, user, at); err != nil || !ok {
					t.Fatalf("question %d refused: %v", i+1, err)
				}
			}
			ok, retry, err := l.allow(ctx, org.ID, user, w.Add(20*time.Second))
			if err != nil || ok || retry != 40 {
				t.Fatalf("4th question across the minute boundary: allowed %v, retry_after %d, %v", ok, retry, err)
			}
			if ok, _, _ := l.allow(ctx, org.ID, user, w.Add(61*time.Second)); !ok {
				t.Fatal("a minute after the first question there is no room again (did the refused one count?)")
			}
			if ok, _, _ := l.allow(ctx, org.ID, user, w.Add(62*time.Second)); ok {
				t.Fatal("the questions at +5s, +5s and +61s fill the window, yet a 4th was allowed")
			}
		})
	}
}
