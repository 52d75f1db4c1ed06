// Package api serves Aurora's HTTP surface: webhooks, the REST API, the live
// event stream, health, readiness and metrics.
package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Error codes of the JSON error body {"error":{"code","message"}}.
const (
	CodeBadRequest       = "bad_request"
	CodeMalformedJSON    = "malformed_json"
	CodeInvalidPayload   = "invalid_payload"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeUnknownSource    = "unknown_source"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

var codeStatus = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeMalformedJSON:    http.StatusBadRequest,
	CodeInvalidPayload:   http.StatusUnprocessableEntity,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeUnknownSource:    http.StatusNotFound,
	CodeConflict:         http.StatusConflict,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
	CodeInternal:         http.StatusInternalServerError,
	CodeUnavailable:      http.StatusServiceUnavailable,
}

// ErrorBody is the shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code, msg string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	if code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="aurora"`)
	}
	writeJSON(w, codeStatus[code], b)
}

// internalError logs the cause and answers without leaking it.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, CodeInternal, "internal error; the request was not stored, retry later")
}

// storeError maps domain errors to responses.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, CodeNotFound, what+" not found")
	case errors.Is(err, storage.ErrConflict):
		writeError(w, CodeConflict, err.Error())
	default:
		s.internalError(w, r, err)
	}
}

// readJSON decodes a size-limited JSON request body, answering errors itself.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONType(ct) {
		writeError(w, CodeUnsupportedMedia, "Content-Type must be application/json, got "+ct)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, CodeTooLarge, "request body too large")
		case errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			writeError(w, CodeMalformedJSON, "malformed JSON: "+err.Error())
		case errors.As(err, &typ):
			writeError(w, CodeInvalidPayload, "field "+typ.Field+": must be "+typ.Type.String())
		default:
			writeError(w, CodeInvalidPayload, "invalid request: "+err.Error())
		}
		return false
	}
	if field, bad := nulField(reflect.ValueOf(v), ""); bad {
		if field == "" || strings.HasPrefix(field, "[") {
			field = "the body" + field
		}
		writeError(w, CodeInvalidPayload, field+": must not contain a NUL character")
		return false
	}
	return true
}
