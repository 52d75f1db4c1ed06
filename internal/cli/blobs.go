package cli

import (
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aurora-oss/aurora/internal/blob"
	"github.com/aurora-oss/aurora/internal/cache"
)

// blobStore is where files (knowledge-base uploads) go: the S3-compatible
// bucket STORAGE_BUCKET names, with its listings cached
// (STORAGE_CACHE_ENABLED/TTL; in Redis when configured), else
// $AURORA_DATA_DIR/blobs.
func (a *app) blobStore() (blob.Store, error) {
	cfg := a.cfg
	o := cfg.ObjectStorage
	if o.Bucket == "" {
		return blob.NewLocal(filepath.Join(cfg.Server.DataDir, "blobs"))
	}
	s, err := blob.NewS3(blob.S3Config{Bucket: o.Bucket, EndpointURL: o.EndpointURL, AccessKey: o.AccessKey, SecretKey: o.SecretKey, Region: o.Region, UseSSL: o.UseSSL})
	if err != nil {
		return nil, fmt.Errorf("STORAGE_BUCKET / STORAGE_ENDPOINT_URL: %w", err)
	}
	if !o.CacheEnabled || o.CacheTTL <= 0 {
		return s, nil
	}
	var reqs *prometheus.CounterVec
	if a.metrics != nil {
		reqs = a.metrics.CacheRequests
	}
	return &blob.Cached{Store: s, Cache: cache.New("storage", o.CacheTTL, a.redis, 1024, reqs)}, nil
}
