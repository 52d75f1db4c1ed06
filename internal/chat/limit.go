package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/storage"
)

// rateLimiter counts queries per user per minute across every replica: in
// Redis when configured, else in the database. Losing Redis degrades to
// the database, never to refusing (or allowing) everything.
type rateLimiter struct {
	store     *storage.Store
	redis     redis.UniversalClient
	perMinute int
}

// allow counts one query of the user and reports whether it is within the
// limit; when not, also how many seconds until the window ends.
func (l *rateLimiter) allow(ctx context.Context, orgID, userID string, now time.Time) (bool, int, error) {
	if l.perMinute <= 0 {
		return true, 0, nil
	}
	window := now.Truncate(time.Minute)
	retry := int(window.Add(time.Minute).Sub(now).Seconds()) + 1
	key := fmt.Sprintf("%s/%s", orgID, userID)
	if l.redis != nil {
		rk := fmt.Sprintf("aurora:chat:rate:%s:%d", key, window.Unix())
		n, err := l.redis.Incr(ctx, rk).Result()
		if err == nil {
			if n == 1 {
				l.redis.Expire(ctx, rk, 2*time.Minute)
			}
			return n <= int64(l.perMinute), retry, nil
		}
	}
	n, err := l.store.ChatRateHit(ctx, key, window)
	if err != nil {
		return false, 0, err
	}
	return n <= l.perMinute, retry, nil
}
