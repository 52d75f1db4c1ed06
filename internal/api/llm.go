package api

import (
	"net/http"

	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/redact"
)

// llmConfig is GET /api/v1/llm: which model serves each purpose, its
// provider and price, never a key. Without a model, investigations are
// deterministic and configured is false.
func (s *Server) llmConfig(w http.ResponseWriter, _ *http.Request) {
	models := s.LLM.Describe()
	if models == nil {
		models = []llm.ModelInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"configured": len(models) > 0,
		"mode":       s.LLM.Mode(),
		"models":     models,
	})
}

// llmTest is POST /api/v1/llm/test: a tiny real request to each configured
// model, reporting per model whether it answered, the error kind and the
// latency — the UI's "test connection".
func (s *Server) llmTest(w http.ResponseWriter, r *http.Request) {
	if len(s.LLM.Describe()) == 0 {
		writeError(w, CodeConflict, "no language model is configured: set a provider key or base URL (see docs/llm.md)")
		return
	}
	results := s.LLM.Test(r.Context())
	ok := true
	for i := range results {
		// Vendors sometimes echo part of a key in their messages.
		results[i].Message = redact.Redact(results[i].Message)
		ok = ok && results[i].OK
	}
	s.log.Info("llm connection test", "ok", ok, "models", len(results))
	writeJSON(w, http.StatusOK, map[string]any{"ok": ok, "results": results})
}
