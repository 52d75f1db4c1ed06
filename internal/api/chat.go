package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/aurora-oss/aurora/internal/chat"
	"github.com/aurora-oss/aurora/internal/storage"
)

// chatToken issues a short-lived, single-use token for one chat WebSocket
// connection, bound to the caller (whatever credential authorize accepted:
// an API token or the web UI's session).
func (s *Server) chatToken(w http.ResponseWriter, r *http.Request) {
	if s.Secrets == nil || s.Secrets.Keys == nil {
		writeError(w, CodeUnavailable, "chat is not available on this process")
		return
	}
	p := principal(r)
	tok, exp, err := chat.IssueToken(s.Secrets.Keys, p.OrgID, p.Name, p.Role, time.Now())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires_at": exp, "url": s.chatURL()})
}

// chatURL is where clients open the socket: AURORA_CHAT_URL's /ws, or the
// API's own origin.
func (s *Server) chatURL() string {
	base := s.ChatURL
	if base == "" {
		base = s.PublicURL
	}
	if len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	switch {
	case len(base) >= 8 && base[:8] == "https://":
		base = "wss://" + base[8:]
	case len(base) >= 7 && base[:7] == "http://":
		base = "ws://" + base[7:]
	}
	if len(base) < 3 || base[len(base)-3:] != "/ws" {
		base += "/ws"
	}
	return base
}

func (s *Server) listChatSessions(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeError(w, CodeBadRequest, "limit must be an integer from 1 to 200")
			return
		}
		limit = n
	}
	list, err := s.Store.ListChatSessions(r.Context(), p.OrgID, p.Name, r.URL.Query().Get("incident_id"), limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// ownSession loads a session of the caller; another user's is not found.
func (s *Server) ownSession(w http.ResponseWriter, r *http.Request) (storage.ChatSession, bool) {
	p := principal(r)
	sess, err := s.Store.GetChatSession(r.Context(), p.OrgID, r.PathValue("id"))
	if err == nil && sess.UserID != p.Name {
		err = storage.ErrNotFound
	}
	if err != nil {
		s.storeError(w, r, err, "chat session")
		return sess, false
	}
	return sess, true
}

func (s *Server) getChatSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.ownSession(w, r)
	if !ok {
		return
	}
	msgs, err := s.Store.ChatMessages(r.Context(), sess.OrgID, sess.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	type message struct {
		Seq    int64           `json:"seq"`
		TurnID string          `json:"turn_id"`
		At     time.Time       `json:"created_at"`
		Data   storage.RawJSON `json:"message"`
	}
	out := make([]message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, message{Seq: m.Seq, TurnID: m.TurnID, At: m.CreatedAt, Data: m.Data})
	}
	writeJSON(w, http.StatusOK, map[string]any{"session": sess, "messages": out})
}

func (s *Server) listChatFrames(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.ownSession(w, r)
	if !ok {
		return
	}
	var after int64
	if v := r.URL.Query().Get("after_seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, CodeBadRequest, "after_seq must be an integer ≥ 0")
			return
		}
		after = n
	}
	frames, err := s.Store.ChatFramesAfter(r.Context(), sess.OrgID, sess.ID, after, 1000)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"frames":[`))
	for i, fr := range frames {
		if i > 0 {
			_, _ = w.Write([]byte(","))
		}
		_, _ = w.Write(chat.WireFrame(fr))
	}
	_, _ = w.Write([]byte("]}\n"))
}
