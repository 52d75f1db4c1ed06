package api

import (
	"net/http"

	"github.com/aurora-oss/aurora/internal/storage"
)

// readPrimaryCookie keeps a browser's reads on the primary for a short while
// after it wrote, so the page it is sent to after a form shows the change
// even when read replicas lag.
const (
	readPrimaryCookie = "aurora_read_primary"
	readPrimaryHeader = "X-Aurora-Read-Primary"
	// readPrimaryFor exceeds the default POSTGRES_READ_REPLICA_MAX_LAG (10s),
	// beyond which replicas are not used anyway.
	readPrimaryFor = 15
)

// readConsistency routes a request's reads: a write (any method but GET and
// HEAD) reads its own changes back from the primary, as does a request
// sent with the X-Aurora-Read-Primary header (API clients that read right
// after writing) or from a browser that wrote moments ago. Everything else
// may be served by a read replica.
func readConsistency(w http.ResponseWriter, r *http.Request) *http.Request {
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.SetCookie(w, &http.Cookie{Name: readPrimaryCookie, Value: "1", Path: "/", MaxAge: readPrimaryFor, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	case r.Header.Get(readPrimaryHeader) != "":
	default:
		if _, err := r.Cookie(readPrimaryCookie); err != nil {
			return r
		}
	}
	return r.WithContext(storage.WithPrimary(r.Context()))
}
