// Package metric defines Aurora's Prometheus metrics on a registry owned by
// the process (no global state), plus collectors read at scrape time.
package metric

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Metrics holds every metric Aurora exports.
type Metrics struct {
	Registry *prometheus.Registry

	Requests              *prometheus.CounterVec
	RequestDuration       *prometheus.HistogramVec
	AlertsReceived        *prometheus.CounterVec
	IncidentsCreated      prometheus.Counter
	Investigations        *prometheus.CounterVec
	InvestigationDuration *prometheus.HistogramVec
	SchedulerLeader       prometheus.Gauge
	SSEClients            prometheus.GaugeFunc
	// Language model and agent (package agent).
	LLMTokens         *prometheus.CounterVec
	LLMCost           *prometheus.CounterVec
	LLMRequests       *prometheus.CounterVec
	AgentStepDuration *prometheus.HistogramVec
	// CacheRequests counts cache lookups by cache and result (hit, miss,
	// error; package cache).
	CacheRequests *prometheus.CounterVec
}

// New registers the metrics. sseClients may be nil.
func New(store *storage.Store, sseClients func() float64) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Registry: r}
	m.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_http_requests_total", Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.RequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "aurora_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"})
	m.AlertsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_alerts_received_total", Help: "Alerts received by source and outcome (new, duplicate, resolved, reopened, resolved_unknown, rejected)."}, []string{"source", "outcome"})
	m.IncidentsCreated = prometheus.NewCounter(prometheus.CounterOpts{Name: "aurora_incidents_created_total", Help: "Incidents created."})
	m.Investigations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_investigations_total", Help: "Investigation job runs by outcome (completed, failed, retried)."}, []string{"outcome"})
	m.InvestigationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "aurora_investigation_duration_seconds", Help: "Duration of investigation job runs by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.01, 3, 12)}, []string{"outcome"})
	m.SchedulerLeader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "aurora_scheduler_leader", Help: "1 when this process holds the scheduler lease."})
	m.LLMTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_llm_tokens_total", Help: "Language-model tokens by model, kind (input, output) and purpose (rca, chat)."}, []string{"model", "kind", "purpose"})
	m.LLMCost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_llm_cost_usd_total", Help: "Language-model spend in US dollars by model and purpose, from the configured prices."}, []string{"model", "purpose"})
	m.LLMRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_llm_requests_total", Help: "Language-model calls by model and outcome (ok, error), after the provider's retries."}, []string{"model", "outcome"})
	m.AgentStepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "aurora_agent_step_duration_seconds", Help: "Duration of agent steps by kind (llm, tool).",
		Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"kind"})
	r.MustRegister(m.LLMTokens, m.LLMCost, m.LLMRequests, m.AgentStepDuration)
	m.CacheRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aurora_cache_requests_total", Help: "Cache lookups by cache (storage, setup) and result (hit, miss, error)."}, []string{"cache", "result"})
	r.MustRegister(m.CacheRequests)
	r.MustRegister(m.Requests, m.RequestDuration, m.AlertsReceived, m.IncidentsCreated, m.Investigations, m.InvestigationDuration, m.SchedulerLeader,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sseClients != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aurora_sse_clients", Help: "Connected live-event (SSE) clients on this process."}, sseClients))
	}
	if store != nil {
		pools := &poolCollector{names: []string{"writer"}, dbs: []*sql.DB{store.DB.W}}
		if store.DB.R != store.DB.W {
			pools.names, pools.dbs = append(pools.names, "reader"), append(pools.dbs, store.DB.R)
		}
		r.MustRegister(&queueCollector{store: store}, pools)
		if len(store.DB.Replicas()) > 0 {
			r.MustRegister(&replicaCollector{db: store.DB})
		}
	}
	return m
}

// RegisterRedis exports whether Redis answers (up reports the last command's
// outcome; commands fail fast while it is down).
func (m *Metrics) RegisterRedis(up func() bool) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aurora_redis_up",
		Help: "1 when the last Redis command reached Redis; 0 while Aurora runs degraded without it (rate limits in the database, wake-ups by PostgreSQL and polling)."},
		func() float64 {
			if up() {
				return 1
			}
			return 0
		}))
}

var (
	replicaUp  = prometheus.NewDesc("aurora_db_replica_up", "1 when the read replica serves reads; 0 when it is skipped (down or lagging beyond POSTGRES_READ_REPLICA_MAX_LAG).", []string{"replica"}, nil)
	replicaLag = prometheus.NewDesc("aurora_db_replica_lag_seconds", "Replication lag of the read replica at its last check.", []string{"replica"}, nil)
	replicaCon = prometheus.NewDesc("aurora_db_replica_connections_opened_total", "Reader connections opened on the replica.", []string{"replica"}, nil)
)

type replicaCollector struct{ db *storage.DB }

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- replicaUp
	ch <- replicaLag
	ch <- replicaCon
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.db.Replicas() {
		up := 0.0
		if st.Healthy {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, up, st.Name)
		ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, st.LagSeconds, st.Name)
		ch <- prometheus.MustNewConstMetric(replicaCon, prometheus.CounterValue, float64(st.Connections), st.Name)
	}
}

var queueDesc = prometheus.NewDesc("aurora_queue_jobs", "Jobs in the queue by queue and state (the autoscaling signal: available = waiting for a worker).", []string{"queue", "state"}, nil)

// River's job states, reported even at zero so dashboards and HPAs see them.
var jobStates = []string{"available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled", "pending"}

type queueCollector struct{ store *storage.Store }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.QueueCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	seen := map[[2]string]bool{}
	for _, q := range counts {
		seen[[2]string{q.Queue, q.State}] = true
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(q.Count), q.Queue, q.State)
	}
	for _, q := range []string{"investigations", "maintenance"} {
		for _, s := range jobStates {
			if !seen[[2]string{q, s}] {
				ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, 0, q, s)
			}
		}
	}
}

var (
	poolOpen  = prometheus.NewDesc("aurora_db_pool_connections", "Database pool connections by pool and state (in_use, idle).", []string{"pool", "state"}, nil)
	poolMax   = prometheus.NewDesc("aurora_db_pool_max_connections", "Maximum open connections of the pool.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("aurora_db_pool_wait_total", "Times a query waited for a free connection.", []string{"pool"}, nil)
)

type poolCollector struct {
	names []string
	dbs   []*sql.DB
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolMax
	ch <- poolWaits
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for i, db := range c.dbs {
		s, name := db.Stats(), c.names[i]
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.InUse), name, "in_use")
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxOpenConnections), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), name)
	}
}
