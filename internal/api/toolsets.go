package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aurora-oss/aurora/internal/toolconfig"
)

// toolsetBodyLimit bounds a PUT body: a kubeconfig with embedded
// certificates is the largest setting.
const toolsetBodyLimit = 1 << 20

// toolsetsReady answers 503 when the server was built without toolset
// settings (tests of other features).
func (s *Server) toolsetsReady(w http.ResponseWriter) bool {
	if s.Toolsets == nil {
		writeError(w, CodeUnavailable, "toolset settings are not available on this server")
		return false
	}
	return true
}

// toolsetError maps the settings service's errors to responses.
func (s *Server) toolsetError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *toolconfig.ValidationError
	switch {
	case errors.Is(err, toolconfig.ErrUnknown):
		writeError(w, CodeNotFound, err.Error())
	case errors.As(err, &ve):
		writeError(w, CodeInvalidPayload, ve.Msg)
	case errors.Is(err, toolconfig.ErrNotConfigured):
		writeError(w, CodeConflict, err.Error())
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) listToolsets(w http.ResponseWriter, r *http.Request) {
	if !s.toolsetsReady(w) {
		return
	}
	list, err := s.Toolsets.List(r.Context(), principal(r).OrgID)
	if err != nil {
		s.toolsetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(list, ""))
}

func (s *Server) getToolset(w http.ResponseWriter, r *http.Request) {
	if !s.toolsetsReady(w) {
		return
	}
	v, err := s.Toolsets.Get(r.Context(), principal(r).OrgID, r.PathValue("name"))
	if err != nil {
		s.toolsetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) putToolset(w http.ResponseWriter, r *http.Request) {
	if !s.toolsetsReady(w) {
		return
	}
	var body json.RawMessage
	if !readJSON(w, r, toolsetBodyLimit, &body) {
		return
	}
	if len(body) == 0 || body[0] != '{' {
		writeError(w, CodeInvalidPayload, "the body must be a JSON object of the toolset's settings")
		return
	}
	p := principal(r)
	v, err := s.Toolsets.Put(r.Context(), p.OrgID, r.PathValue("name"), p.Name, body)
	if err != nil {
		s.toolsetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) deleteToolset(w http.ResponseWriter, r *http.Request) {
	if !s.toolsetsReady(w) {
		return
	}
	p := principal(r)
	v, err := s.Toolsets.Delete(r.Context(), p.OrgID, r.PathValue("name"), p.Name)
	if err != nil {
		s.toolsetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) testToolset(w http.ResponseWriter, r *http.Request) {
	if !s.toolsetsReady(w) {
		return
	}
	res, err := s.Toolsets.Test(r.Context(), principal(r).OrgID, r.PathValue("name"))
	if err != nil {
		s.toolsetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
