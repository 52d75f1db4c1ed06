package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/storage"
)

// PostgreSQL text cannot hold U+0000 or invalid UTF-8. Requests carrying
// them in a URL, a cursor or a JSON body are refused with a 4xx naming the
// place, before any query (on PostgreSQL each of these was a 500: the
// database refused the text). The same on every backend: these run on
// SQLite.
func TestNULAndInvalidUTF8Refused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.tokens[auth.Admin]
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"NUL in a path id", "GET", "/api/v1/incidents/%00", "", 400, "bad_request", "the path holds a NUL character or invalid UTF-8"},
		{"invalid UTF-8 in a path id", "GET", "/api/v1/investigations/%FF", "", 400, "bad_request", "the path"},
		{"NUL in a filter", "GET", "/api/v1/alerts?service=%00", "", 400, "bad_request", `query parameter "service"`},
		{"invalid UTF-8 in a filter", "GET", "/api/v1/incidents?service=%FF", "", 400, "bad_request", `query parameter "service"`},
		{"NUL beside a malformed escape", "GET", "/api/v1/incidents?service=%00&x=%zz", "", 400, "bad_request", `query parameter "service"`},
		{"NUL in a cursor", "GET", "/api/v1/incidents?cursor=" + storage.EncodeCursor(1, "a\x00"), "", 400, "bad_request", "cursor is not one this API returned"},
		{"invalid UTF-8 in a cursor", "GET", "/api/v1/alerts?cursor=" + storage.EncodeCursor(1, "\xff"), "", 400, "bad_request", "cursor is not one this API returned"},
		{"NUL in a web page's path", "GET", "/incidents/%00", "", 400, "bad_request", "the path"},
		{"NUL in a name", "POST", "/api/v1/integrations", `{"source":"generic","name":"a\u0000"}`, 422, "invalid_payload", "name: must not contain a NUL character"},
		{"NUL in a token name", "POST", "/api/v1/tokens", `{"role":"viewer","name":"\u0000"}`, 422, "invalid_payload", "name: must not contain a NUL character"},
		{"NUL in an email", "POST", "/api/v1/users", `{"email":"a\u0000@example.com","role":"viewer","password":"correct horse battery"}`, 422, "invalid_payload", "email: must not contain a NUL character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctype := ""
			if c.body != "" {
				ctype = "application/json"
			}
			code, raw := b.do(t, admin, c.method, c.path, ctype, []byte(c.body))
			var e api.ErrorBody
			_ = json.Unmarshal(raw, &e)
			if code != c.status || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.msg) {
				t.Fatalf("%s %s = %d %s, want %d %s %q", c.method, c.path, code, raw, c.status, c.code, c.msg)
			}
		})
	}
	// The same characters escaped stay allowed where they are text.
	if code, raw := b.do(t, admin, "POST", "/api/v1/integrations", "application/json", []byte(`{"source":"generic","name":"a\\u0000 é"}`)); code != 201 {
		t.Fatalf("a name holding the text \\u0000: %d %s", code, raw)
	}
}
