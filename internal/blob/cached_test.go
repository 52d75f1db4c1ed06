package blob

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/cache"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestCached runs the conformance suite through the listing cache on both
// cache backends, then checks that a write through one replica's store is
// seen by another's cached listing at once, and that listings are served
// from the cache (S3 not asked again).
func TestCached(t *testing.T) {
	t.Parallel()
	opt, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	for _, backend := range []string{"redis", "memory"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := newS3Server(t, "aurora-b", "AK")
			s3, err := NewS3(S3Config{Bucket: "aurora-b", EndpointURL: srv.URL, AccessKey: "AK", SecretKey: "sk"})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("storage-test-%d", time.Now().UnixNano())
			var c1, c2 *cache.Cache
			if backend == "redis" {
				c1, c2 = cache.New(name, time.Minute, rdb, 0, nil), cache.New(name, time.Minute, rdb, 0, nil)
			} else {
				c1 = cache.New(name, time.Minute, nil, 100, nil)
				c2 = c1
			}
			r1, r2 := &Cached{Store: s3, Cache: c1}, &Cached{Store: s3, Cache: c2}
			storeConformance(t, r1)
			keys, _ := r2.List(ctx, "kb/")
			before := srv.lists
			again, _ := r2.List(ctx, "kb/")
			if srv.lists != before || strings.Join(again, ",") != strings.Join(keys, ",") {
				t.Errorf("second listing asked S3 again (%d → %d lists)", before, srv.lists)
			}
			if err := r1.Put(ctx, "kb/new", strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
			after, _ := r2.List(ctx, "kb/")
			if len(after) != len(keys)+1 {
				t.Errorf("listing after a write on the other replica: %v (was %v)", after, keys)
			}
		})
	}
}
