package llm

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a provider call is retried. The SDKs' own retries
// are switched off so that attempts are counted in one place.
type RetryPolicy struct {
	// MaxRetries is how many times a failed call is tried again (0: never).
	MaxRetries int
	// BaseDelay is the first backoff; it doubles per retry up to MaxDelay,
	// with full jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Timeout bounds each attempt (0: only the caller's context).
	Timeout time.Duration
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Default retry settings.
const (
	DefaultMaxRetries = 3
	DefaultTimeout    = 2 * time.Minute
	defaultBaseDelay  = 500 * time.Millisecond
	defaultMaxDelay   = 30 * time.Second
	// maxRetryAfter caps a server's Retry-After: a provider asking for
	// minutes is treated as failing rather than stalling an investigation.
	maxRetryAfter = 60 * time.Second
)

// WithRetry wraps p so that rate limits, server errors, timeouts and
// network failures are retried with exponential backoff and jitter,
// honouring Retry-After. Auth, unknown-model and bad-request errors are
// returned at once. A streamed call is retried only while nothing has been
// passed to onDelta yet: text already shown cannot be taken back.
func WithRetry(p Provider, pol RetryPolicy) Provider {
	if pol.BaseDelay <= 0 {
		pol.BaseDelay = defaultBaseDelay
	}
	if pol.MaxDelay <= 0 {
		pol.MaxDelay = defaultMaxDelay
	}
	if pol.sleep == nil {
		pol.sleep = sleepCtx
	}
	return &retrying{p: p, pol: pol}
}

type retrying struct {
	p   Provider
	pol RetryPolicy
}

func (r *retrying) Name() string { return r.p.Name() }

// Unwrap returns the provider without retries.
func (r *retrying) Unwrap() Provider { return r.p }

func (r *retrying) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	streamed := false
	var deltas func(string)
	if onDelta != nil {
		deltas = func(s string) {
			streamed = true
			onDelta(s)
		}
	}
	for attempt := 0; ; attempt++ {
		resp, err := r.once(ctx, req, deltas)
		if err == nil {
			return resp, nil
		}
		var e *Error
		if attempt >= r.pol.MaxRetries || streamed || ctx.Err() != nil || !errors.As(err, &e) || !e.Retryable() {
			return resp, err
		}
		d := r.backoff(attempt, e.RetryAfter)
		if e.RetryAfter > maxRetryAfter {
			return resp, err
		}
		if serr := r.pol.sleep(ctx, d); serr != nil {
			return resp, err
		}
	}
}

func (r *retrying) once(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	if r.pol.Timeout <= 0 {
		return r.p.Chat(ctx, req, onDelta)
	}
	actx, cancel := context.WithTimeout(ctx, r.pol.Timeout)
	defer cancel()
	return r.p.Chat(actx, req, onDelta)
}

// backoff is the wait before retry number attempt+1: the server's
// Retry-After when given, else full jitter over an exponential ceiling.
func (r *retrying) backoff(attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return after
	}
	ceiling := r.pol.BaseDelay << attempt
	if ceiling <= 0 || ceiling > r.pol.MaxDelay {
		ceiling = r.pol.MaxDelay
	}
	// Half fixed, half random: spreads clients apart without ever
	// retrying immediately.
	return ceiling/2 + rand.N(ceiling/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
