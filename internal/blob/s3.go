package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says how to reach an S3-compatible bucket (STORAGE_*).
type S3Config struct {
	Bucket string
	// EndpointURL is http(s)://host[:port] of an S3-compatible service;
	// empty means AWS S3. Its scheme decides TLS; without it UseSSL does.
	EndpointURL string
	AccessKey   string
	SecretKey   string
	// Region defaults to us-east-1, which also spares a bucket-location
	// request on every start.
	Region     string
	UseSSL     bool
	HTTPClient *http.Client
}

// S3 is a Store in an S3-compatible bucket (AWS S3, MinIO, R2, GCS
// interoperability), signed with SigV4. Keys map to object names as is.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 returns the Store for cfg's bucket. It does not contact the service.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	host, secure := "s3.amazonaws.com", cfg.UseSSL
	if cfg.EndpointURL != "" {
		u, err := url.Parse(cfg.EndpointURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("s3: endpoint %q is not an http(s) URL", cfg.EndpointURL)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := &minio.Options{Secure: secure, Region: region}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts.Creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		// No keys: the usual AWS chain (environment, web identity, instance role).
		opts.Creds = credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, &credentials.IAM{}})
	}
	if cfg.HTTPClient != nil {
		opts.Transport = cfg.HTTPClient.Transport
	}
	c, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &S3{client: c, bucket: cfg.Bucket}, nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Put implements Store. S3 replaces an object atomically.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	if !ValidKey(key) {
		return fmt.Errorf("invalid blob key %q", key)
	}
	// Spool to a temporary file first: with a known size the client sends
	// one signed PUT (multipart only above 16 MiB) instead of buffering
	// 16 MiB parts in memory for a stream of unknown length.
	f, err := os.CreateTemp("", "aurora-blob-*")
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	defer os.Remove(f.Name()) //nolint:errcheck // a temporary file
	defer f.Close()
	size, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, f, size, minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("invalid blob key %q", key)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy: Stat makes the request, so a missing key is
		// reported here rather than on the first Read.
		_, err = obj.Stat()
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	return obj, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("invalid blob key %q", key)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// List implements Store (ListObjectsV2, every page).
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list blobs %s: %w", prefix, o.Err)
		}
		if strings.HasPrefix(o.Key, prefix) {
			keys = append(keys, o.Key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
