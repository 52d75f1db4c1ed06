package blob

import (
	"context"
	"encoding/json"
	"io"

	"github.com/aurora-oss/aurora/internal/cache"
)

// Cached is a Store whose listings are cached (STORAGE_CACHE_ENABLED/TTL):
// a Put or Delete through any replica bumps the listings' generation, so
// no replica serves a listing older than the last write it could see.
// Object bodies are not cached.
type Cached struct {
	Store
	Cache *cache.Cache
}

const listNS = "list"

// Put implements Store and invalidates listings.
func (c *Cached) Put(ctx context.Context, key string, r io.Reader) error {
	err := c.Store.Put(ctx, key, r)
	_ = c.Cache.Bump(ctx, listNS)
	return err
}

// Delete implements Store and invalidates listings.
func (c *Cached) Delete(ctx context.Context, key string) error {
	err := c.Store.Delete(ctx, key)
	_ = c.Cache.Bump(ctx, listNS)
	return err
}

// List implements Store from the cache when it can.
func (c *Cached) List(ctx context.Context, prefix string) ([]string, error) {
	gen, err := c.Cache.Generation(ctx, listNS)
	if err != nil {
		return c.Store.List(ctx, prefix)
	}
	key := "list:" + gen + ":" + prefix
	if b, ok := c.Cache.Get(ctx, key); ok {
		var keys []string
		if json.Unmarshal(b, &keys) == nil {
			return keys, nil
		}
	}
	keys, err := c.Store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(keys); err == nil {
		c.Cache.Set(ctx, key, b)
	}
	return keys, nil
}
