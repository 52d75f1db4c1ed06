package chat

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/storage"
)

// rateWindow is the span the per-user question limit counts over.
const rateWindow = time.Minute

// rateLimiter counts queries per user over the last minute (a sliding
// window: a fixed calendar minute would let twice the limit through around
// its boundary) across every replica: in Redis when configured, else in
// the database. Losing Redis degrades to the database, never to refusing
// (or allowing) everything.
type rateLimiter struct {
	store     *storage.Store
	redis     redis.UniversalClient
	perMinute int
}

// slidingLog keeps one member per accepted query, scored by its time in
// milliseconds; it is one key, so it runs atomically on Redis Cluster too.
var slidingLog = redis.NewScript(`
local key, now, win, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)
if redis.call('ZCARD', key) >= limit then
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) + win - now}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, win)
return {1, 0}
`)

// allow counts one query of the user and reports whether it is within the
// limit; when not, also how many seconds until it would be.
func (l *rateLimiter) allow(ctx context.Context, orgID, userID string, now time.Time) (bool, int, error) {
	if l.perMinute <= 0 {
		return true, 0, nil
	}
	key := fmt.Sprintf("%s/%s", orgID, userID)
	if l.redis != nil {
		res, err := slidingLog.Run(ctx, l.redis, []string{"aurora:chat:rate:" + key},
			now.UnixMilli(), rateWindow.Milliseconds(), l.perMinute, fmt.Sprintf("%d-%s", now.UnixNano(), rand.Text()[:8])).Int64Slice()
		if err == nil && len(res) == 2 {
			return res[0] == 1, retrySeconds(time.Duration(res[1]) * time.Millisecond), nil
		}
	}
	ok, wait, err := l.store.ChatRateTake(ctx, key, now, rateWindow, l.perMinute)
	if err != nil {
		return false, 0, err
	}
	return ok, retrySeconds(wait), nil
}

func retrySeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
