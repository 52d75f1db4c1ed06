package blob

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"kb/o1/a", "kb/o1/b", "kb/o2/a", "other"} {
		if err := s.Put(ctx, k, strings.NewReader("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "kb/o1/a", strings.NewReader("replaced")); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "kb/o1/a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "replaced" {
		t.Fatalf("Get = %q", b)
	}
	keys, err := s.List(ctx, "kb/o1/")
	if err != nil || !slices.Equal(keys, []string{"kb/o1/a", "kb/o1/b"}) {
		t.Fatalf("List = %v %v", keys, err)
	}
	if err := s.Delete(ctx, "kb/o1/a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "kb/o1/a"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := s.Get(ctx, "kb/o1/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "/abs", "../x", "a/../../x", "a//b", "a/./b", "a\\b", ".tmp-1", "a/"} {
		if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Errorf("Put accepted key %q", bad)
		}
	}
}
