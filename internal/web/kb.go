package web

import (
	"net/http"

	"github.com/aurora-oss/aurora/internal/storage"
)

type kbData struct {
	Documents []storage.KBDocument
}

// knowledgeBase renders the knowledge base page: the list is server-side;
// upload, delete and search go through the REST API from kb.js.
func (h *Handler) knowledgeBase(w http.ResponseWriter, r *http.Request, s *session) {
	docs, err := h.o.Store.ListKBDocuments(r.Context(), s.OrgID, 500)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "kb", page{Title: "Knowledge base", Nav: "kb", Session: s, Data: kbData{Documents: docs}})
}
