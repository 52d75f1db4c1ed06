package llm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	t.Parallel()
	ok := reply{file: "openai/chat_text.json"}
	tests := []struct {
		name     string
		replies  []reply
		retries  int
		stream   bool
		wantErr  ErrorKind // "" = success
		requests int
		waits    []time.Duration // nil: not checked; checked exactly otherwise
	}{
		{name: "rate limit then ok honours Retry-After", retries: 3, requests: 2, waits: []time.Duration{2 * time.Second},
			replies: []reply{{status: 429, file: "openai/error_429.json", header: map[string]string{"Retry-After": "2"}}, ok}},
		{name: "server errors then ok", retries: 3, requests: 3,
			replies: []reply{{status: 500, file: "openai/error_500.json"}, {status: 502, body: "bad gateway"}, ok}},
		{name: "gives up after max retries", retries: 2, requests: 3, wantErr: ErrServer,
			replies: []reply{{status: 503, body: "unavailable"}}},
		{name: "never retries a bad key", retries: 3, requests: 1, wantErr: ErrAuth,
			replies: []reply{{status: 401, file: "openai/error_401.json"}, ok}},
		{name: "never retries an unknown model", retries: 3, requests: 1, wantErr: ErrUnknownModel,
			replies: []reply{{status: 404, file: "openai/error_404_model.json"}, ok}},
		{name: "never retries a bad request", retries: 3, requests: 1, wantErr: ErrBadRequest,
			replies: []reply{{status: 400, file: "openai/error_400_context.json"}, ok}},
		{name: "no retries configured", retries: 0, requests: 1, wantErr: ErrRateLimit,
			replies: []reply{{status: 429, file: "openai/error_429.json"}, ok}},
		{name: "Retry-After too long is not waited for", retries: 3, requests: 1, wantErr: ErrRateLimit, waits: []time.Duration{},
			replies: []reply{{status: 429, file: "openai/error_429.json", header: map[string]string{"Retry-After": "3600"}}, ok}},
		{name: "timeout per attempt then ok", retries: 2, requests: 2,
			replies: []reply{{file: "openai/chat_text.json", delay: 2 * time.Second}, ok}},
		{name: "stream retried before any text", retries: 2, requests: 2, stream: true,
			replies: []reply{{status: 429, file: "openai/error_429.json"}, {file: "openai/stream_text.sse"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, tc.replies...)
			ns := &noSleep{}
			p := WithRetry(NewOpenAI(OpenAIOptions{BaseURL: f.URL(), APIKey: "k"}), RetryPolicy{MaxRetries: tc.retries, Timeout: 300 * time.Millisecond, sleep: ns.sleep})
			var onDelta func(string)
			if tc.stream {
				onDelta = func(string) {}
			}
			_, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tc.wantErr {
					t.Fatalf("error %v, want kind %s", err, tc.wantErr)
				}
			}
			if n := len(f.requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.waits != nil && len(ns.waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %v", ns.waits, tc.waits)
			}
			for i := range tc.waits {
				if ns.waits[i] != tc.waits[i] {
					t.Errorf("wait %d = %v, want %v", i, ns.waits[i], tc.waits[i])
				}
			}
		})
	}
}

// A stream that already showed text must not be retried: the text would
// be shown twice.
func TestRetryNotAfterStreamedText(t *testing.T) {
	t.Parallel()
	calls := 0
	p := WithRetry(providerFunc(func(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
		calls++
		onDelta("partial")
		return Response{}, &Error{Provider: "x", Kind: ErrNetwork, Message: "connection reset"}
	}), RetryPolicy{MaxRetries: 3, sleep: (&noSleep{}).sleep})
	_, err := p.Chat(context.Background(), Request{}, func(string) {})
	if !IsRetryable(err) || calls != 1 {
		t.Fatalf("calls %d, err %v", calls, err)
	}
}

func TestRetryStopsWhenCallerGivesUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := WithRetry(providerFunc(func(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
		calls++
		cancel()
		return Response{}, &Error{Provider: "x", Kind: ErrServer, Status: 500}
	}), RetryPolicy{MaxRetries: 3})
	if _, err := p.Chat(ctx, Request{}, nil); err == nil || calls != 1 {
		t.Fatalf("calls %d, err %v", calls, err)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	r := &retrying{pol: RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
	for attempt, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceiling *= time.Millisecond
		for range 50 {
			d := r.backoff(attempt, 0)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, ceiling/2, ceiling)
			}
		}
	}
	if d := r.backoff(0, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After ignored: %v", d)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"5"}}, 5 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{}, 0},
		{nil, 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

type providerFunc func(ctx context.Context, req Request, onDelta func(string)) (Response, error)

func (f providerFunc) Name() string { return "func" }
func (f providerFunc) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	return f(ctx, req, onDelta)
}

// BenchmarkProviders measures what a model call costs Aurora itself, the
// model's own time excluded: request building, the SDK, HTTP on loopback
// and response assembly, for each provider, whole and streamed.
func BenchmarkProviders(b *testing.B) {
	cases := []struct {
		name string
		file string
		mk   func(url string) Provider
	}{
		{"openai", "openai/chat_tools.json", func(u string) Provider { return NewOpenAI(OpenAIOptions{BaseURL: u, APIKey: "k"}) }},
		{"openai-stream", "openai/stream_parallel_tools.sse", func(u string) Provider { return NewOpenAI(OpenAIOptions{BaseURL: u, APIKey: "k"}) }},
		{"anthropic", "anthropic/message_tools.json", func(u string) Provider { return NewAnthropic(AnthropicOptions{APIKey: "k", BaseURL: u}) }},
		{"anthropic-stream", "anthropic/stream_tools.sse", func(u string) Provider { return NewAnthropic(AnthropicOptions{APIKey: "k", BaseURL: u}) }},
		{"gemini", "gemini/generate_tools.json", func(u string) Provider {
			g, _ := NewGemini(context.Background(), GeminiOptions{APIKey: "k", BaseURL: u})
			return g
		}},
		{"gemini-stream", "gemini/stream_tools.sse", func(u string) Provider {
			g, _ := NewGemini(context.Background(), GeminiOptions{APIKey: "k", BaseURL: u})
			return g
		}},
	}
	req := conversation()
	req.Model = "m"
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFakeVendor(b, reply{file: c.file})
			p := WithRetry(c.mk(f.URL()), RetryPolicy{MaxRetries: 3, Timeout: time.Minute})
			var onDelta func(string)
			if strings.HasSuffix(c.name, "-stream") {
				onDelta = func(string) {}
			}
			for b.Loop() {
				if _, err := p.Chat(context.Background(), req, onDelta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
