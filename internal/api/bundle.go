package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/investigate"
)

// maxBundleUpload bounds an uploaded bundle archive (compressed).
const maxBundleUpload = 32 << 20

// uploadBundle runs an uploaded evidence bundle (tar or tar.gz, as the body
// or as the multipart field "bundle") like any investigation.
func (s *Server) uploadBundle(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxBundleUpload)
	switch mt {
	case "application/gzip", "application/x-gzip", "application/x-tar", "application/octet-stream":
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, maxBundleUpload)
		f, _, err := r.FormFile("bundle")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, CodeTooLarge, "bundle archive over 32 MiB")
			return
		}
		if err != nil {
			writeError(w, CodeInvalidPayload, "multipart upload needs a file field named bundle")
			return
		}
		defer f.Close()
		body = f
	default:
		writeError(w, CodeUnsupportedMedia, "send the bundle as application/gzip (tar.gz), application/x-tar, or multipart/form-data with a field named bundle")
		return
	}
	dir, err := os.MkdirTemp("", "aurora-bundle-")
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	defer os.RemoveAll(dir)
	if err := bundle.Extract(body, dir); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, CodeTooLarge, "bundle archive over 32 MiB")
		case errors.Is(err, bundle.ErrArchive):
			writeError(w, CodeInvalidPayload, err.Error())
		default:
			s.internalError(w, r, err)
		}
		return
	}
	root := bundle.Root(dir)
	b, err := bundle.Load(root)
	if err != nil {
		// Load names the directory it read, here a temporary one of
		// this server's: the sender knows it as its archive.
		msg := strings.TrimPrefix(err.Error(), "bundle "+root+": ")
		writeError(w, CodeInvalidPayload, strings.ReplaceAll(msg, root+string(filepath.Separator), ""))
		return
	}
	p := principal(r)
	incID, v, err := investigate.RecordBundle(r.Context(), s.Incidents, p.OrgID, b)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"incident_id": incID, "investigation": v})
}
