package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// entry is one tar entry; typ 0 is a regular file.
type entry struct {
	name string
	typ  byte
	body string
}

func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Size: int64(len(e.body))}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeSymlink {
			h.Linkname, h.Size = "/etc/passwd", 0
		}
		if h.Typeflag == tar.TypeDir {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, _ = gz.Write(b)
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtract(t *testing.T) {
	t.Parallel()
	good := tarOf(t, entry{name: "inc/", typ: tar.TypeDir}, entry{name: "inc/alert.json", body: "{}"}, entry{name: "inc/evidence/1.txt", body: "x"})
	for _, c := range []struct {
		name    string
		archive []byte
		want    string // "" = extracted; else in the ErrArchive's message
		files   []string
	}{
		{"tar", good, "", []string{"inc/alert.json", "inc/evidence/1.txt"}},
		{"tar.gz", gzipped(t, good), "", []string{"inc/alert.json", "inc/evidence/1.txt"}},
		{"leading ./", tarOf(t, entry{name: "./alert.json", body: "{}"}), "", []string{"alert.json"}},
		{"parent path", tarOf(t, entry{name: "../x", body: "x"}), `path "../x" leaves the bundle`, nil},
		{"absolute path", tarOf(t, entry{name: "/etc/x", body: "x"}), `path "/etc/x" leaves the bundle`, nil},
		{"symlink", tarOf(t, entry{name: "l", typ: tar.TypeSymlink}), `"l" is not a regular file`, nil},
		{"file then a file inside it", tarOf(t, entry{name: "a", body: "x"}, entry{name: "a/b", body: "y"}), `"a/b" collides with another entry`, nil},
		{"same name twice", tarOf(t, entry{name: "a", body: "x"}, entry{name: "a", body: "y"}), `"a" collides with another entry`, nil},
		{"file where a directory is", tarOf(t, entry{name: "a/b", body: "x"}, entry{name: "a", body: "y"}), `"a" collides with another entry`, nil},
		{"no files", tarOf(t, entry{name: "d/", typ: tar.TypeDir}), "no files", nil},
		{"truncated", good[:600], "unexpected EOF", nil},
		{"not an archive", []byte("hello, this is not a tar file at all, but it is long enough to be read as one... " + strings.Repeat(".", 600)), "invalid bundle archive", nil},
		{"empty", nil, "EOF", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			err := Extract(bytes.NewReader(c.archive), dir)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Extract: %v", err)
				}
				for _, f := range c.files {
					if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
						t.Errorf("%s not extracted: %v", f, err)
					}
				}
				return
			}
			if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Extract = %v, want an ErrArchive containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), dir) {
				t.Errorf("the error names this machine's directory: %v", err)
			}
		})
	}
}

// A body over the server's limit stays recognisable, so the API answers
// 413 rather than 422.
func TestExtractKeepsReaderError(t *testing.T) {
	t.Parallel()
	big := tarOf(t, entry{name: "alert.json", body: strings.Repeat("x", 4096)})
	limit := &http.MaxBytesError{Limit: 1024}
	r := io.MultiReader(bytes.NewReader(big[:2048]), errReader{limit})
	err := Extract(r, t.TempDir())
	var tooBig *http.MaxBytesError
	if !errors.Is(err, ErrArchive) || !errors.As(err, &tooBig) {
		t.Fatalf("Extract = %v, want ErrArchive wrapping *http.MaxBytesError", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// Creating an entry fails for the archive's reasons (a name taken) or for
// this machine's (a full disk): only the first is an ErrArchive (a 422; the
// other a 500), and neither names the path on this machine.
func TestEntryError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err     error
		archive bool
	}{
		{syscall.ENOTDIR, true},
		{syscall.EEXIST, true},
		{syscall.EISDIR, true},
		{syscall.ENOSPC, false},
		{syscall.EACCES, false},
	} {
		err := entryError("inc/a", &fs.PathError{Op: "open", Path: "/tmp/aurora-bundle-1/inc/a", Err: c.err})
		if errors.Is(err, ErrArchive) != c.archive || !errors.Is(err, c.err) && !c.archive {
			t.Errorf("entryError(%v) = %v, want archive's fault %v", c.err, err, c.archive)
		}
		if strings.Contains(err.Error(), "/tmp/") {
			t.Errorf("entryError(%v) = %v names this machine's path", c.err, err)
		}
	}
}

// FuzzExtract feeds arbitrary bytes as an uploaded archive: Extract never
// panics, never writes outside its directory, and every error it returns
// for bytes alone is an ErrArchive (a 422, not a 500).
func FuzzExtract(f *testing.F) {
	good := tarOf(f, entry{name: "inc/alert.json", body: "{}"}, entry{name: "inc/evidence/1.txt", body: `{"tool":"x"}` + "\nout"})
	f.Add(good)
	f.Add(gzipped(f, good))
	f.Add(tarOf(f, entry{name: "a", body: "x"}, entry{name: "a/b", body: "y"}))
	f.Add(tarOf(f, entry{name: "../x", body: "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		outer := t.TempDir()
		dir := filepath.Join(outer, "bundle")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := Extract(bytes.NewReader(data), dir); err != nil && !errors.Is(err, ErrArchive) {
			t.Fatalf("Extract = %v, not an ErrArchive", err)
		}
		entries, err := os.ReadDir(outer)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("Extract wrote beside its directory: %v", entries)
		}
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !d.Type().IsRegular() {
				t.Errorf("Extract made %s, not a regular file", p)
			}
			return nil
		})
	})
}
