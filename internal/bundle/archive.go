package bundle

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Limits on an uploaded bundle archive.
const (
	MaxArchiveFiles = 10_000
	MaxArchiveBytes = 256 << 20 // extracted
)

// ErrArchive marks an archive that is not a valid bundle upload.
var ErrArchive = errors.New("invalid bundle archive")

// Extract unpacks a tar or tar.gz bundle into dir. It refuses absolute
// paths, "..", links and devices, and stops at the size and file limits. A
// single top-level directory is allowed (tar czf b.tgz my-incident/).
//
// Every fault of the archive is an ErrArchive, still wrapping what the
// reader returned (an *http.MaxBytesError stays visible to errors.As) and
// naming entries as the archive does, never by their path on this machine;
// any other error (a full disk) is the caller's to report as its own.
func Extract(r io.Reader, dir string) error {
	br := &peekReader{r: r}
	var tr *tar.Reader
	head, err := br.peek(2)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrArchive, err)
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrArchive, err)
		}
		defer gz.Close()
		tr = tar.NewReader(gz)
	} else {
		tr = tar.NewReader(br)
	}
	var total int64
	files := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrArchive, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("%w: path %q leaves the bundle", ErrArchive, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return fmt.Errorf("%w: %q is not a regular file", ErrArchive, h.Name)
		}
		files++
		total += h.Size
		if files > MaxArchiveFiles || total > MaxArchiveBytes {
			return fmt.Errorf("%w: over %d files or %d bytes", ErrArchive, MaxArchiveFiles, MaxArchiveBytes)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return entryError(h.Name, err)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return entryError(h.Name, err)
		}
		_, err = io.Copy(f, io.LimitReader(tr, h.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("write %q: %w", h.Name, pe.Err) // this machine's fault, not the archive's
		}
		if err != nil {
			return fmt.Errorf("%w: %q: %w", ErrArchive, h.Name, err)
		}
	}
	if files == 0 {
		return fmt.Errorf("%w: no files", ErrArchive)
	}
	return nil
}

// entryError is the error of creating an entry's file or directory: the
// archive's fault when an entry collides with another (a file where a
// directory must go, or the same name twice); this machine's otherwise.
func entryError(name string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, os.ErrExist) || errors.Is(err, syscall.EISDIR) {
		return fmt.Errorf("%w: %q collides with another entry", ErrArchive, name)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("extract %q: %w", name, err)
}

// Root finds the bundle directory inside an extracted archive: dir itself,
// or its only subdirectory.
func Root(dir string) string {
	if exists(filepath.Join(dir, "alert.json")) || exists(filepath.Join(dir, "question.txt")) {
		return dir
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) == 1 && entries[0].IsDir() {
		return filepath.Join(dir, entries[0].Name())
	}
	return dir
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		m, err := p.r.Read(b)
		p.buf = append(p.buf, b[:m]...)
		if err != nil {
			if len(p.buf) >= n {
				break
			}
			return nil, err
		}
	}
	return p.buf[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}
