package toolconfig

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
	"github.com/aurora-oss/aurora/internal/toolset/kubernetes"
)

// DefaultCacheTTL is how long resolved tools are reused at most.
const DefaultCacheTTL = 5 * time.Minute

// New returns the service over store and secrets with the environment's
// configuration env.
func New(store *storage.Store, secrets *secret.Store, env Env) *Service {
	return &Service{Store: store, Secrets: secrets, Env: env, cache: &cache{orgs: map[string]*cacheEntry{}, env: map[string]envTools{}}}
}

// Resolved is an org's tools for one investigation.
type Resolved struct {
	Tools *toolset.Registry
	// Unavailable says, per toolset that gives no tools, why: not
	// configured, or its configuration cannot be used.
	Unavailable map[string]string
	// Sources says where each toolset's configuration came from.
	Sources map[string]string
}

// cache keeps each org's resolved tools, keyed by the versions of its
// toolset rows: a PUT or DELETE through any replica bumps a version, and
// the next Resolve anywhere sees it (one small query) and rebuilds.
type cache struct {
	mu   sync.Mutex
	orgs map[string]*cacheEntry
	// env holds the environment's tools, built once: they are the same
	// for every org that has no setting of its own.
	env map[string]envTools
}

type cacheEntry struct {
	versions map[string]int64
	built    time.Time
	res      *Resolved
}

type envTools struct {
	tools []toolset.Tool
	err   error
}

// SetupCacheName is the cache label of the set-up cache's lookups in
// aurora_cache_requests_total.
const SetupCacheName = "setup"

// CountLookups counts each Resolve as a hit or a miss of the set-up cache
// on requests (aurora_cache_requests_total, labels cache and result). Both
// series are created at once, so a dashboard's hit ratio exists before the
// first investigation.
func (s *Service) CountLookups(requests *prometheus.CounterVec) {
	s.lookups = requests
	for _, r := range []string{"hit", "miss"} {
		requests.WithLabelValues(SetupCacheName, r)
	}
}

func (s *Service) count(result string) {
	if s.lookups != nil {
		s.lookups.WithLabelValues(SetupCacheName, result).Inc()
	}
}

// Invalidate forgets the org's resolved tools (after a change on this
// replica; others notice the version).
func (s *Service) Invalidate(orgID string) {
	s.cache.mu.Lock()
	delete(s.cache.orgs, orgID)
	s.cache.mu.Unlock()
}

// Resolve returns the org's tools: per toolset its own setting when it has
// one, else the environment's; toolsets with neither are Unavailable.
func (s *Service) Resolve(ctx context.Context, orgID string) (*Resolved, error) {
	versions, err := s.Store.ToolsetVersions(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ttl := s.CacheTTL
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	now := s.now()
	s.cache.mu.Lock()
	e := s.cache.orgs[orgID]
	s.cache.mu.Unlock()
	if e != nil && maps.Equal(e.versions, versions) && now.Sub(e.built) < ttl {
		s.count("hit")
		return e.res, nil
	}
	// A miss: nothing cached, a setting changed (on any replica) or the
	// entry outlived AURORA_SETUP_CACHE_TTL (always, when the cache is off).
	s.count("miss")
	res, err := s.build(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	s.cache.orgs[orgID] = &cacheEntry{versions: versions, built: now, res: res}
	s.cache.mu.Unlock()
	return res, nil
}

func (s *Service) build(ctx context.Context, orgID string) (*Resolved, error) {
	reg, _ := toolset.NewRegistry()
	res := &Resolved{Tools: reg, Unavailable: map[string]string{}, Sources: map[string]string{}}
	for _, name := range Names {
		st, err := s.load(ctx, orgID, name)
		if err != nil {
			return nil, err
		}
		eff, err := s.effective(st, name)
		res.Sources[name] = eff.source
		if eff.source == SourceNone {
			res.Unavailable[name] = notConfigured[name]
			continue
		}
		if err != nil {
			res.Unavailable[name] = fmt.Sprintf("the org's %s settings cannot be used: %v", name, err)
			continue
		}
		var tools []toolset.Tool
		if eff.source == SourceEnv {
			tools, err = s.envTools(eff)
		} else {
			tools, err = eff.tools()
		}
		if err == nil {
			err = reg.Register(tools...)
		}
		if err != nil {
			res.Unavailable[name] = fmt.Sprintf("the %s configuration (%s) cannot be used: %v", name, eff.source, err)
		}
	}
	return res, nil
}

// notConfigured is the reason a report gives for a toolset nothing
// configures.
var notConfigured = map[string]string{
	Kubernetes: "no Kubernetes cluster is configured (PUT /api/v1/toolsets/kubernetes, KUBECONFIG, or run in a cluster)",
	Prometheus: "no Prometheus is configured (PUT /api/v1/toolsets/prometheus or PROMETHEUS_URL)",
}

func (e effective) tools() ([]toolset.Tool, error) {
	switch {
	case e.kube != nil:
		return kubernetes.New(*e.kube)
	case e.prom != nil:
		return toolset.NewPrometheus(*e.prom)
	}
	return nil, nil
}

func (s *Service) envTools(e effective) ([]toolset.Tool, error) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if t, ok := s.cache.env[e.name]; ok {
		return t.tools, t.err
	}
	tools, err := e.tools()
	s.cache.env[e.name] = envTools{tools, err}
	return tools, err
}
