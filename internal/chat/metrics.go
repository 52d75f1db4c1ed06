package chat

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the chat service.
type Metrics struct {
	Connections prometheus.Gauge
	Frames      *prometheus.CounterVec
	Dropped     prometheus.Counter
}

// NewMetrics registers the chat metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "aurora_chat_connections", Help: "Open chat WebSocket connections on this process."}),
		Frames:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_chat_frames_sent_total", Help: "Frames sent to chat clients, by type."}, []string{"type"}),
		Dropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "aurora_chat_dropped_connections_total", Help: "Chat connections dropped because the client did not read (send queue full)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Connections, m.Frames, m.Dropped)
	}
	return m
}
