package blob

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// s3Server is an S3 test double written from the published REST API
// (https://docs.aws.amazon.com/AmazonS3/latest/API/): path-style
// PutObject, GetObject/HeadObject, DeleteObject and ListObjectsV2 (with
// max-keys paging), SigV4 Authorization headers required (the access key is
// checked), aws-chunked streaming bodies decoded.
type s3Server struct {
	*httptest.Server
	bucket, accessKey string
	maxKeys           int

	mu      sync.Mutex
	objects map[string][]byte
	lists   int
}

func newS3Server(t *testing.T, bucket, accessKey string) *s3Server {
	t.Helper()
	s := &s3Server{bucket: bucket, accessKey: accessKey, maxKeys: 2, objects: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

// decodeChunked reads an aws-chunked body: "<hex size>;chunk-signature=…\r\n<data>\r\n" … "0;…".
func decodeChunked(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		hexSize, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(hexSize, 16, 64)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, err
		}
		if _, err := br.Discard(2); err != nil {
			return nil, err
		}
	}
}

func (s *s3Server) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+s.accessKey+"/") || !strings.Contains(auth, "Signature=") {
		s3Error(w, http.StatusForbidden, "InvalidAccessKeyId")
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != s.bucket {
		s3Error(w, http.StatusNotFound, "NoSuchBucket")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case key == "" && r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		s.lists++
		s.list(w, r)
	case key != "" && r.Method == http.MethodPut:
		var body []byte
		var err error
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			body, err = decodeChunked(r.Body)
		} else {
			body, err = io.ReadAll(r.Body)
		}
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody")
			return
		}
		s.objects[key] = body
		w.Header().Set("ETag", `"etag"`)
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		b, ok := s.objects[key]
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"etag"`)
		w.Header().Set("Last-Modified", "Fri, 27 Nov 2026 09:00:00 GMT")
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	case key != "" && r.Method == http.MethodDelete:
		delete(s.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented "+r.Method+" "+r.URL.String())
	}
}

func (s *s3Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	type content struct {
		Key          string
		LastModified string
		ETag         string
		Size         int
		StorageClass string
	}
	res := struct {
		XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name                  string
		Prefix                string
		KeyCount              int
		MaxKeys               int
		IsTruncated           bool
		NextContinuationToken string `xml:",omitempty"`
		Contents              []content
	}{Name: s.bucket, Prefix: prefix, MaxKeys: s.maxKeys}
	if len(keys) > s.maxKeys {
		keys, res.IsTruncated = keys[:s.maxKeys], true
		res.NextContinuationToken = keys[len(keys)-1]
	}
	for _, k := range keys {
		res.Contents = append(res.Contents, content{Key: k, LastModified: "2026-11-27T09:00:00.000Z", ETag: `"etag"`, Size: len(s.objects[k]), StorageClass: "STANDARD"})
	}
	res.KeyCount = len(res.Contents)
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(res)
}

// storeConformance is what every Store must do.
func storeConformance(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	objects := map[string][]byte{
		"kb/org1/a":     []byte("alpha"),
		"kb/org1/b/c":   bytes.Repeat([]byte("β"), 100_000),
		"kb/org2/a":     {},
		"kb/org1/d.txt": []byte("delta"),
	}
	for k, v := range objects {
		if err := s.Put(ctx, k, bytes.NewReader(v)); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	for k, v := range objects {
		rc, err := s.Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("get %s: %d bytes, %v; want %d", k, len(got), err, len(v))
		}
	}
	if err := s.Put(ctx, "kb/org1/a", strings.NewReader("replaced")); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "kb/org1/a")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(rc); string(got) != "replaced" {
		t.Errorf("after replace: %q", got)
	}
	rc.Close()
	keys, err := s.List(ctx, "kb/org1/")
	if want := []string{"kb/org1/a", "kb/org1/b/c", "kb/org1/d.txt"}; err != nil || strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("list = %v %v, want %v", keys, err, want)
	}
	if keys, _ := s.List(ctx, "nothing/"); len(keys) != 0 {
		t.Errorf("list of an empty prefix = %v", keys)
	}
	if err := s.Delete(ctx, "kb/org1/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "kb/org1/a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, "kb/org1/a"); err != nil {
		t.Errorf("delete of a missing key: %v", err)
	}
	for _, bad := range []string{"", "../x", "/abs", "a//b", "a/./b"} {
		if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Errorf("put %q accepted", bad)
		}
	}
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		l, err := NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		storeConformance(t, l)
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		srv := newS3Server(t, "aurora-kb", "AKIATEST")
		s, err := NewS3(S3Config{Bucket: "aurora-kb", EndpointURL: srv.URL, AccessKey: "AKIATEST", SecretKey: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		storeConformance(t, s)
		if srv.lists < 2 {
			t.Errorf("%d list requests: paging (2 keys a page) not exercised", srv.lists)
		}
	})
}

func TestS3Refusals(t *testing.T) {
	t.Parallel()
	srv := newS3Server(t, "aurora-b", "AKIAGOOD")
	s, err := NewS3(S3Config{Bucket: "aurora-b", EndpointURL: srv.URL, AccessKey: "AKIABAD", SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "k", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
		t.Errorf("put with a refused key: %v", err)
	}
	if _, err := s.Get(context.Background(), "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("get with a refused key: %v (must not look like a missing object)", err)
	}
	for _, c := range []S3Config{{}, {Bucket: "b", EndpointURL: "ftp://x"}} {
		if _, err := NewS3(c); err == nil {
			t.Errorf("NewS3(%+v) accepted", c)
		}
	}
}
