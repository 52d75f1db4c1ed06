package cli

import (
	"fmt"
	"path/filepath"

	"github.com/aurora-oss/aurora/internal/blob"
	"github.com/aurora-oss/aurora/internal/config"
)

// blobStore is where files (knowledge-base uploads) go: the S3-compatible
// bucket STORAGE_BUCKET names, else $AURORA_DATA_DIR/blobs.
func blobStore(cfg *config.Config) (blob.Store, error) {
	o := cfg.ObjectStorage
	if o.Bucket == "" {
		return blob.NewLocal(filepath.Join(cfg.Server.DataDir, "blobs"))
	}
	s, err := blob.NewS3(blob.S3Config{Bucket: o.Bucket, EndpointURL: o.EndpointURL, AccessKey: o.AccessKey, SecretKey: o.SecretKey, Region: o.Region, UseSSL: o.UseSSL})
	if err != nil {
		return nil, fmt.Errorf("STORAGE_BUCKET / STORAGE_ENDPOINT_URL: %w", err)
	}
	return s, nil
}
