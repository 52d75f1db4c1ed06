package cli

import (
	"context"
	"net/http"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/chat"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// chatRunner answers chat turns on workers.
func (a *app) chatRunner() *chat.Runner {
	return &chat.Runner{Store: a.store, Notify: a.bus.Notify, Log: a.log.With("component", "chat"), ConfirmTimeout: a.cfg.Chat.ConfirmTimeout,
		Engine: a.chatEngine()}
}

// chatEngine is the language-model agent when a chat model is configured
// (MAIN_MODEL or a provider key; see docs/llm.md), else the deterministic
// engine, which says that no model is configured.
func (a *app) chatEngine() chat.Engine {
	det := &chat.Deterministic{Store: a.store, Incidents: a.incidents, Investigator: a.runner}
	if a.llm == nil {
		return det
	}
	model, ok := a.llm.Model(llm.PurposeChat)
	if !ok {
		return det
	}
	c := a.cfg.LLM
	ag := agent.New(agent.Config{Model: model, Purpose: "chat", Limit: c.AgentRecursionLimit, TokenBudget: c.RCATokenBudget,
		CostBudgetUSD: c.RCACostBudgetUSD, DailyBudgetUSD: c.DailyBudgetUSD, Redact: a.redact, Categories: investigate.Categories, Metrics: a.metrics})
	a.log.Info("chat answers with the language-model agent", "model", model.Ref)
	return &chat.AgentEngine{Agent: ag, Store: a.store, Incidents: a.incidents,
		ToolsFor: func(ctx context.Context, orgID string) (*toolset.Registry, error) {
			reg, _, err := a.toolsFor(ctx, orgID)
			return reg, err
		}}
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
