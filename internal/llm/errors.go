package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// httpError builds the *Error for an HTTP failure answer. code and typ are
// the vendor's machine-readable fields (OpenAI's error.code/type,
// Anthropic's error.type, Gemini's error.status), msg its human message.
func httpError(provider string, status int, code, typ, msg string, h http.Header, cause error) *Error {
	e := &Error{Provider: provider, Status: status, Message: msg, Err: cause, RetryAfter: retryAfter(h, time.Now())}
	e.Kind = classify(status, code, typ, msg)
	switch {
	case e.Kind == ErrAuth && (code == "insufficient_quota" || typ == "insufficient_quota"):
		e.Message = "the account has no quota left (billing): " + msg
	case e.Kind == ErrUnknownModel && msg == "":
		e.Message = "unknown model"
	case status == http.StatusNotFound && e.Kind == ErrBadRequest:
		// A 404 that does not name a model is almost always a base URL
		// without the API's path (e.g. Ollama without /v1).
		e.Message = "endpoint not found, check the provider's base URL"
		if msg != "" {
			e.Message += ": " + msg
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if v, ok := keyVars[provider]; ok && e.Kind == ErrAuth {
		e.Message += " (check " + v + ")"
	}
	return e
}

// keyVars name the variable holding each provider's key, for auth errors.
var keyVars = map[string]string{
	ProviderOpenAI: "OPENAI_API_KEY", ProviderOpenRouter: "OPENROUTER_API_KEY",
	ProviderAnthropic: "ANTHROPIC_API_KEY", ProviderGemini: "GOOGLE_AI_API_KEY",
}

// classify maps an HTTP failure to a kind. Vendors disagree on how an
// unknown model is reported (OpenAI 404 model_not_found, OpenRouter 400
// "not a valid model ID", Ollama 404 "model … not found", Anthropic 404
// not_found_error "model: …", Gemini 404 NOT_FOUND "models/… is not found"),
// so the message is consulted as well as the status.
func classify(status int, code, typ, msg string) ErrorKind {
	lmsg := strings.ToLower(msg)
	mentionsModel := strings.Contains(lmsg, "model")
	switch {
	case code == "model_not_found" || typ == "model_not_found":
		return ErrUnknownModel
	case code == "insufficient_quota" || typ == "insufficient_quota":
		// Retrying cannot help an account without credit.
		return ErrAuth
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusPaymentRequired:
		return ErrAuth
	case status == http.StatusNotFound && mentionsModel:
		return ErrUnknownModel
	case status == http.StatusBadRequest && mentionsModel && (strings.Contains(lmsg, "not a valid model") ||
		strings.Contains(lmsg, "does not exist") || strings.Contains(lmsg, "not found") ||
		strings.Contains(lmsg, "unknown model") || strings.Contains(lmsg, "invalid model")):
		return ErrUnknownModel
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return ErrTimeout
	case status == http.StatusTooManyRequests:
		return ErrRateLimit
	case status >= 500 || status == http.StatusConflict:
		// 529 (Anthropic "overloaded") is a 5xx too.
		return ErrServer
	}
	return ErrBadRequest
}

// transportError classifies an error that carries no HTTP answer. When
// ctx was cancelled the caller gave up: err is returned wrapped, not as a
// provider failure. A passed deadline is ErrTimeout.
func transportError(provider string, ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s: %w", provider, err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	kind := ErrNetwork
	msg := err.Error()
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind, msg = ErrTimeout, "no answer within the call timeout"
	case errors.As(err, &ne) && ne.Timeout():
		kind = ErrTimeout
	}
	return &Error{Provider: provider, Kind: kind, Message: msg, Err: err}
}

// retryAfter reads Retry-After (seconds or an HTTP date) and OpenAI's
// retry-after-ms; 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
