package toolset

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCapOutput(t *testing.T) {
	t.Parallel()
	if r := CapOutput("short", 10); r.Output != "short" || r.Truncated {
		t.Fatalf("short output changed: %+v", r)
	}
	if r := CapOutput(strings.Repeat("x", DefaultOutputLimit), 0); r.Truncated {
		t.Fatal("output of exactly the default limit was truncated")
	}

	// Cut at a line boundary near the limit.
	lines := strings.Repeat("0123456789\n", 100) // 1,100 bytes
	r := CapOutput(lines, 105)
	if !r.Truncated {
		t.Fatal("not truncated")
	}
	want := strings.Repeat("0123456789\n", 9) + "… [truncated: 1,001 more bytes]"
	if r.Output != want {
		t.Fatalf("got %q\nwant %q", r.Output, want)
	}

	// A big single line: cut exactly at the limit, counted with thousands separators.
	big := strings.Repeat("a", 100_000)
	r = CapOutput(big, DefaultOutputLimit)
	if !strings.HasSuffix(r.Output, "\n… [truncated: 34,464 more bytes]") {
		t.Fatalf("bad notice: %q", r.Output[len(r.Output)-60:])
	}
	if got := strings.Index(r.Output, "\n…"); got != DefaultOutputLimit {
		t.Fatalf("kept %d bytes, want %d", got, DefaultOutputLimit)
	}

	// Never split a UTF-8 sequence.
	r = CapOutput(strings.Repeat("é", 10), 5) // 2 bytes each
	if !utf8.ValidString(r.Output) || !strings.HasPrefix(r.Output, "éé\n") {
		t.Fatalf("bad UTF-8 cut: %q", r.Output)
	}
	if !strings.HasSuffix(r.Output, "[truncated: 16 more bytes]") {
		t.Fatalf("bad count: %q", r.Output)
	}
}

func TestGroupThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", n, got, want)
		}
	}
}

type fakeTool struct {
	name    string
	out     string
	timeout time.Duration
	sawDL   bool
}

func (f *fakeTool) Name() string                { return f.name }
func (f *fakeTool) Description() string         { return "fake" }
func (f *fakeTool) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (f *fakeTool) ReadOnly() bool              { return true }
func (f *fakeTool) Timeout() time.Duration      { return f.timeout }
func (f *fakeTool) Call(ctx context.Context, _ map[string]any) (Result, error) {
	_, f.sawDL = ctx.Deadline()
	return Result{Output: f.out}, nil
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	b := &fakeTool{name: "b.tool", out: strings.Repeat("x", DefaultOutputLimit+10), timeout: time.Minute}
	a := &fakeTool{name: "a.tool", out: "hello"}
	r, err := NewRegistry(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), " "); got != "a.tool b.tool" {
		t.Fatalf("Names() = %q", got)
	}
	if l := r.List(); len(l) != 2 || l[0] != a || l[1] != b {
		t.Fatalf("List() not sorted: %v", l)
	}
	if tool, ok := r.Get("a.tool"); !ok || tool != a {
		t.Fatal("Get(a.tool) failed")
	}
	if _, ok := r.Get("nope"); ok {
		t.Fatal("Get(nope) found something")
	}
	if err := r.Register(&fakeTool{name: "c.tool"}, &fakeTool{name: "a.tool"}); err == nil || !strings.Contains(err.Error(), `"a.tool" is already registered`) {
		t.Fatalf("duplicate: err = %v", err)
	}
	if _, ok := r.Get("c.tool"); ok {
		t.Fatal("a failed Register added some tools")
	}
	if err := r.Register(&fakeTool{name: ""}); err == nil {
		t.Fatal("empty name accepted")
	}
	if err := r.Register(nil); err == nil {
		t.Fatal("nil tool accepted")
	}

	res, err := r.Call(context.Background(), "b.tool", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || !strings.HasSuffix(res.Output, "[truncated: 10 more bytes]") {
		t.Fatalf("registry did not cap output: truncated=%v tail=%q", res.Truncated, res.Output[len(res.Output)-40:])
	}
	if !b.sawDL {
		t.Fatal("registry did not apply the tool's timeout")
	}
	if _, err := r.Call(context.Background(), "nope", nil); err == nil || !strings.Contains(err.Error(), "a.tool, b.tool") {
		t.Fatalf("unknown tool: err = %v", err)
	}
	var zero Registry // the zero value works too
	if err := zero.Register(a); err != nil {
		t.Fatal(err)
	}
	if _, err := zero.Call(context.Background(), "a.tool", nil); err != nil || errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
