package cli

import (
	"net/http"

	"github.com/aurora-oss/aurora/internal/chat"
	"github.com/aurora-oss/aurora/internal/jobs"
)

// chatRunner answers chat turns on workers. Without a language model the
// deterministic engine answers (and says so).
func (a *app) chatRunner() *chat.Runner {
	return &chat.Runner{Store: a.store, Notify: a.bus.Notify, Log: a.log.With("component", "chat"), ConfirmTimeout: a.cfg.Chat.ConfirmTimeout,
		Engine: &chat.Deterministic{Store: a.store, Incidents: a.incidents, Investigator: a.runner}}
}

// chatServer is the /ws handler of the chatbot role.
func (a *app) chatServer() *chat.Server {
	c := a.cfg.Chat
	return chat.NewServer(chat.Options{Store: a.store, Keys: a.secrets.Keys, Bus: a.bus, Jobs: a.queue, Redis: a.redis,
		Log: a.log.With("component", "chat"), Metrics: chat.NewMetrics(a.metrics.Registry),
		Limits: chat.Limits{MaxMessageBytes: int64(c.MaxMessageBytes), PerMinute: c.RateLimit, IdleTimeout: c.IdleTimeout}})
}

// withChat serves /ws with the chat server and everything else with h.
func withChat(h http.Handler, cs *chat.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /ws", cs)
	mux.Handle("/", h)
	return mux
}

var _ chat.Enqueuer = (*jobs.Queue)(nil)
