// Package blob keeps files (knowledge-base uploads, attachments) in object
// storage: a local directory in the embedded default, S3-compatible storage
// when scaled out. Keys are slash-separated paths such as
// "kb/<org>/<document>"; callers scope them by org.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotFound is returned by Get and Delete for a key that holds nothing.
var ErrNotFound = errors.New("blob not found")

// Store is object storage.
type Store interface {
	// Put stores r's bytes under key, replacing what was there; readers
	// see the old or the new object, never part of one.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens key's object; ErrNotFound when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Local is a Store in a directory. Put writes a temporary file and renames
// it, so a crash never leaves half an object under a key.
type Local struct{ dir string }

// NewLocal returns a Store in dir, creating it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create blob directory %s: %w", dir, err)
	}
	return &Local{dir: dir}, nil
}

// ValidKey reports whether key is a clean relative slash path: no empty,
// "." or ".." element, no backslash or NUL.
func ValidKey(key string) bool {
	if key == "" || strings.ContainsAny(key, "\\\x00") || path.Clean(key) != key || strings.HasPrefix(key, "/") {
		return false
	}
	for _, e := range strings.Split(key, "/") {
		if e == "" || e == "." || e == ".." || strings.HasPrefix(e, ".tmp-") {
			return false
		}
	}
	return true
}

func (l *Local) file(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) error {
	p, err := l.file(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	defer os.Remove(f.Name()) //nolint:errcheck // gone after the rename
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

// Get implements Store.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.file(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	return f, nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.file(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (l *Local) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs %s: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
