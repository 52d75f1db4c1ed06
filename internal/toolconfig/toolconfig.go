// Package toolconfig holds each org's toolset settings (Kubernetes,
// Prometheus): validating what an admin PUTs, keeping credentials in the
// secrets store, resolving an org's tools (its setting wins over the
// environment's) with a cache every replica keeps coherent, and testing a
// connection for real.
package toolconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
	"github.com/aurora-oss/aurora/internal/toolset/kubernetes"
)

// Names of the toolsets an org can configure.
const (
	Kubernetes = "kubernetes"
	Prometheus = "prometheus"
)

// Names lists the configurable toolsets.
var Names = []string{Kubernetes, Prometheus}

// Sources of a toolset's effective configuration.
const (
	SourceOrg  = "org"  // the org's stored setting
	SourceEnv  = "env"  // the process environment (KUBECONFIG, PROMETHEUS_URL, …)
	SourceNone = "none" // not configured
)

// ErrUnknown is returned for a toolset name that is not configurable.
var ErrUnknown = errors.New("unknown toolset")

// ValidationError is a setting that cannot be stored; its message names
// the field.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, v ...any) error { return &ValidationError{Msg: fmt.Sprintf(format, v...)} }

// Limits of a stored setting.
const (
	maxKubeconfigBytes = 512 << 10
	maxHeaders         = 20
	maxHeaderValue     = 4096
	maxSecretField     = 8192
)

// KubernetesSettings is the non-secret part of an org's Kubernetes
// setting; the kubeconfig itself is a secret.
type KubernetesSettings struct {
	// InCluster uses the service account of the pod Aurora runs in.
	InCluster bool `json:"in_cluster"`
	// Contexts are the kubeconfig contexts to investigate (several
	// clusters); empty: the kubeconfig's current context.
	Contexts []string `json:"contexts"`
}

// PrometheusSettings is the non-secret part of an org's Prometheus
// setting; the bearer token, password and header values are secrets.
type PrometheusSettings struct {
	URL                string   `json:"url"`
	Username           string   `json:"username,omitempty"`
	InsecureSkipVerify bool     `json:"insecure_skip_verify"`
	HeaderNames        []string `json:"header_names,omitempty"`
}

// credentials are sealed together, as one secret per toolset.
type credentials struct {
	Kubeconfig  string            `json:"kubeconfig,omitempty"`
	BearerToken string            `json:"bearer_token,omitempty"`
	Password    string            `json:"password,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
}

// KubernetesInput is the body of PUT /api/v1/toolsets/kubernetes. A secret
// field left out keeps its stored value; "" removes it.
type KubernetesInput struct {
	Kubeconfig *string  `json:"kubeconfig"`
	InCluster  bool     `json:"in_cluster"`
	Contexts   []string `json:"contexts"`
}

// PrometheusInput is the body of PUT /api/v1/toolsets/prometheus. A secret
// field left out keeps its stored value; "" (or {} for headers) removes it.
type PrometheusInput struct {
	URL                string             `json:"url"`
	BearerToken        *string            `json:"bearer_token"`
	Username           string             `json:"username"`
	Password           *string            `json:"password"`
	InsecureSkipVerify bool               `json:"insecure_skip_verify"`
	Headers            *map[string]string `json:"headers"`
}

// Service stores settings and resolves tools.
type Service struct {
	Store   *storage.Store
	Secrets *secret.Store
	// Env is the environment's configuration, used when an org has none.
	Env Env
	// CacheTTL bounds how long resolved tools are reused even when no
	// version changed (default 5 minutes), so credentials rotated outside
	// Aurora (a kubeconfig file, a token) are picked up.
	CacheTTL time.Duration
	Now      func() time.Time

	cache   *cache
	lookups *prometheus.CounterVec // set by CountLookups; nil: not counted
}

// Env is the toolsets the process environment configures (nil: none).
type Env struct {
	Kubernetes *kubernetes.Config
	Prometheus *toolset.PrometheusConfig
}

// LastTest is a connection test's result.
type LastTest struct {
	OK         bool      `json:"ok"`
	Source     string    `json:"source"`
	Message    string    `json:"message"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
	// Clusters are the Kubernetes clusters' answers.
	Clusters []kubernetes.ClusterCheck `json:"clusters,omitempty"`
}

// Set marks a secret field in a view: its value is never returned.
type Set struct {
	Set bool `json:"set"`
}

// View is a toolset as GET shows it: never a secret's value.
type View struct {
	Name string `json:"name"`
	// Source is where the effective configuration comes from: org, env or none.
	Source string `json:"source"`
	// Status is configured, not_configured or invalid (Error says why).
	Status    string         `json:"status"`
	Error     string         `json:"error,omitempty"`
	Settings  map[string]any `json:"settings,omitempty"`
	Version   int64          `json:"version,omitempty"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
	UpdatedBy string         `json:"updated_by,omitempty"`
	LastTest  *LastTest      `json:"last_test"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func known(name string) error {
	if !slices.Contains(Names, name) {
		return fmt.Errorf("%w %q (configurable: %s)", ErrUnknown, name, strings.Join(Names, ", "))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Validation

func validateKubernetes(in KubernetesInput, stored credentials) (KubernetesSettings, credentials, error) {
	set := KubernetesSettings{InCluster: in.InCluster}
	creds := credentials{Kubeconfig: stored.Kubeconfig}
	if in.Kubeconfig != nil {
		creds.Kubeconfig = *in.Kubeconfig
	}
	if len(creds.Kubeconfig) > maxKubeconfigBytes {
		return set, creds, invalid("kubeconfig: %d bytes, at most %d", len(creds.Kubeconfig), maxKubeconfigBytes)
	}
	seen := map[string]bool{}
	for i, c := range in.Contexts {
		c = strings.TrimSpace(c)
		if c == "" {
			return set, creds, invalid("contexts[%d]: empty context name", i)
		}
		if seen[c] {
			return set, creds, invalid("contexts[%d]: %q is listed twice", i, c)
		}
		seen[c] = true
		set.Contexts = append(set.Contexts, c)
	}
	if len(set.Contexts) > kubernetes.MaxClusters {
		return set, creds, invalid("contexts: %d listed, at most %d", len(set.Contexts), kubernetes.MaxClusters)
	}
	if in.InCluster {
		if in.Kubeconfig != nil && *in.Kubeconfig != "" {
			return set, creds, invalid("kubeconfig: give a kubeconfig or in_cluster=true, not both")
		}
		if len(set.Contexts) > 0 {
			return set, creds, invalid("contexts: in_cluster uses the pod's service account, which has no contexts")
		}
		return set, credentials{}, nil
	}
	if strings.TrimSpace(creds.Kubeconfig) == "" {
		return set, creds, invalid("kubeconfig: required (the kubeconfig file's content), unless in_cluster is true")
	}
	// The kubeconfig must parse and name the contexts; connecting is the
	// test's job (POST /api/v1/toolsets/kubernetes/test).
	if _, err := kubernetes.Clusters(kubernetes.Config{KubeconfigData: []byte(creds.Kubeconfig), Contexts: set.Contexts}); err != nil {
		return set, creds, invalid("kubeconfig: %s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "kubernetes: "), "kubeconfig: "))
	}
	return set, creds, nil
}

func validatePrometheus(in PrometheusInput, stored credentials) (PrometheusSettings, credentials, error) {
	set := PrometheusSettings{URL: strings.TrimSpace(in.URL), Username: strings.TrimSpace(in.Username), InsecureSkipVerify: in.InsecureSkipVerify}
	creds := credentials{BearerToken: stored.BearerToken, Password: stored.Password, Headers: stored.Headers}
	if set.URL == "" {
		return set, creds, invalid("url: required, e.g. http://prometheus:9090")
	}
	u, err := url.Parse(set.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return set, creds, invalid("url: %q is not an http(s)://host[:port][/path] URL", set.URL)
	}
	if u.User != nil {
		return set, creds, invalid("url: must not hold credentials; use username/password or bearer_token")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return set, creds, invalid("url: must not have a query or fragment")
	}
	if in.BearerToken != nil {
		creds.BearerToken = *in.BearerToken
	}
	if in.Password != nil {
		creds.Password = *in.Password
	}
	if set.Username == "" && in.Password == nil {
		creds.Password = "" // a password kept from basic auth that was turned off
	}
	if in.Headers != nil {
		creds.Headers = *in.Headers
	}
	if len(creds.BearerToken) > maxSecretField || len(creds.Password) > maxSecretField || len(set.Username) > 256 {
		return set, creds, invalid("bearer_token, username or password: too long")
	}
	if creds.BearerToken != "" && set.Username != "" {
		return set, creds, invalid("bearer_token: set a bearer token or username/password (basic auth), not both")
	}
	if creds.Password != "" && set.Username == "" {
		return set, creds, invalid("password: set without username")
	}
	if len(creds.Headers) > maxHeaders {
		return set, creds, invalid("headers: %d given, at most %d", len(creds.Headers), maxHeaders)
	}
	for k, v := range creds.Headers {
		if err := toolset.CheckHeaderName(k); err != nil {
			return set, creds, invalid("headers: %q: %v", k, err)
		}
		if len(v) > maxHeaderValue || strings.ContainsAny(v, "\r\n\x00") {
			return set, creds, invalid("headers: %q: value too long or holds a line break", k)
		}
		set.HeaderNames = append(set.HeaderNames, k)
	}
	slices.Sort(set.HeaderNames)
	return set, creds, nil
}

// ---------------------------------------------------------------------------
// Stored settings

// stored is an org's row decoded, credentials opened.
type stored struct {
	row   storage.ToolsetSetting
	creds credentials
}

func (s *Service) load(ctx context.Context, orgID, name string) (*stored, error) {
	row, err := s.Store.GetToolsetSetting(ctx, orgID, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := &stored{row: row}
	if row.SecretRef != "" {
		b, err := s.Secrets.Get(ctx, orgID, row.SecretRef)
		if err != nil {
			return nil, fmt.Errorf("open the %s credentials: %w", name, err)
		}
		if err := json.Unmarshal(b, &st.creds); err != nil {
			return nil, fmt.Errorf("decode the %s credentials: %w", name, err)
		}
	}
	return st, nil
}

// Put validates and stores an org's setting of toolset name; body is the
// JSON of KubernetesInput or PrometheusInput. A *ValidationError says what
// is wrong with it; nothing is stored then.
func (s *Service) Put(ctx context.Context, orgID, name, by string, body json.RawMessage) (View, error) {
	if err := known(name); err != nil {
		return View{}, err
	}
	prev, err := s.load(ctx, orgID, name)
	if err != nil {
		return View{}, err
	}
	var old credentials
	if prev != nil && prev.row.Settings != nil {
		old = prev.creds
	}
	var settings any
	var creds credentials
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(body)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return invalid("invalid %s settings: %v", name, err)
		}
		return nil
	}
	switch name {
	case Kubernetes:
		var in KubernetesInput
		if err := dec(&in); err != nil {
			return View{}, err
		}
		settings, creds, err = validateKubernetes(in, old)
	case Prometheus:
		var in PrometheusInput
		if err := dec(&in); err != nil {
			return View{}, err
		}
		settings, creds, err = validatePrometheus(in, old)
	}
	if err != nil {
		return View{}, err
	}
	ref := ""
	if creds.Kubeconfig != "" || creds.BearerToken != "" || creds.Password != "" || len(creds.Headers) > 0 {
		b, _ := json.Marshal(creds)
		if ref, err = s.Secrets.Put(ctx, orgID, "toolset:"+name, b); err != nil {
			return View{}, fmt.Errorf("store the %s credentials: %w", name, err)
		}
	}
	sb, _ := json.Marshal(settings)
	oldRef, _, err := s.Store.PutToolsetSetting(ctx, storage.ToolsetSetting{OrgID: orgID, Name: name, Settings: sb, SecretRef: ref, UpdatedBy: by})
	if err != nil {
		if ref != "" {
			_ = s.Secrets.Delete(context.WithoutCancel(ctx), orgID, ref)
		}
		return View{}, err
	}
	if oldRef != "" && oldRef != ref {
		_ = s.Secrets.Delete(ctx, orgID, oldRef)
	}
	s.Invalidate(orgID)
	return s.Get(ctx, orgID, name)
}

// Delete removes an org's setting of toolset name: the environment's
// configuration applies again. Deleting what is not set is no error.
func (s *Service) Delete(ctx context.Context, orgID, name, by string) (View, error) {
	if err := known(name); err != nil {
		return View{}, err
	}
	oldRef, _, err := s.Store.PutToolsetSetting(ctx, storage.ToolsetSetting{OrgID: orgID, Name: name, UpdatedBy: by})
	if err != nil {
		return View{}, err
	}
	if oldRef != "" {
		_ = s.Secrets.Delete(ctx, orgID, oldRef)
	}
	s.Invalidate(orgID)
	return s.Get(ctx, orgID, name)
}

// List returns every configurable toolset's view for the org.
func (s *Service) List(ctx context.Context, orgID string) ([]View, error) {
	out := make([]View, 0, len(Names))
	for _, n := range Names {
		v, err := s.Get(ctx, orgID, n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns the toolset's view for the org: where its configuration
// comes from, whether it can be used, the settings with secrets shown only
// as {"set": true|false}, and the last test.
func (s *Service) Get(ctx context.Context, orgID, name string) (View, error) {
	if err := known(name); err != nil {
		return View{}, err
	}
	st, err := s.load(ctx, orgID, name)
	if err != nil {
		return View{}, err
	}
	v := View{Name: name}
	if st != nil && len(st.row.LastTest) > 0 {
		var lt LastTest
		if json.Unmarshal(st.row.LastTest, &lt) == nil {
			v.LastTest = &lt
		}
	}
	if st != nil && st.row.Version > 0 {
		v.Version, v.UpdatedBy = st.row.Version, st.row.UpdatedBy
		at := st.row.UpdatedAt
		v.UpdatedAt = &at
	}
	eff, err := s.effective(st, name)
	v.Source = eff.source
	switch {
	case eff.source == SourceNone:
		v.Status = "not_configured"
	case err != nil:
		v.Status, v.Error = "invalid", err.Error()
	default:
		v.Status = "configured"
	}
	v.Settings = eff.view()
	return v, nil
}

// effective is a toolset's configuration in force for an org.
type effective struct {
	name   string
	source string
	kube   *kubernetes.Config
	prom   *toolset.PrometheusConfig
	// for views
	kubeSet *KubernetesSettings
	promSet *PrometheusSettings
	creds   credentials
	envPath string
}

// effective picks the org's setting over the environment's.
func (s *Service) effective(st *stored, name string) (effective, error) {
	e := effective{name: name, source: SourceNone}
	if st != nil && len(st.row.Settings) > 0 && string(st.row.Settings) != "null" {
		e.source, e.creds = SourceOrg, st.creds
		switch name {
		case Kubernetes:
			var ks KubernetesSettings
			if err := json.Unmarshal(st.row.Settings, &ks); err != nil {
				return e, fmt.Errorf("decode kubernetes settings: %w", err)
			}
			e.kubeSet = &ks
			e.kube = &kubernetes.Config{InCluster: ks.InCluster, Contexts: ks.Contexts}
			if !ks.InCluster {
				e.kube.KubeconfigData = []byte(st.creds.Kubeconfig)
			}
			_, err := kubernetes.Clusters(*e.kube)
			return e, err
		case Prometheus:
			var ps PrometheusSettings
			if err := json.Unmarshal(st.row.Settings, &ps); err != nil {
				return e, fmt.Errorf("decode prometheus settings: %w", err)
			}
			e.promSet = &ps
			e.prom = &toolset.PrometheusConfig{URL: ps.URL, Username: ps.Username, Password: st.creds.Password,
				BearerToken: st.creds.BearerToken, InsecureSkipVerify: ps.InsecureSkipVerify, Headers: st.creds.Headers}
			return e, nil
		}
	}
	switch name {
	case Kubernetes:
		if s.Env.Kubernetes != nil {
			c := *s.Env.Kubernetes
			e.source, e.kube, e.envPath = SourceEnv, &c, c.Kubeconfig
		}
	case Prometheus:
		if s.Env.Prometheus != nil {
			c := *s.Env.Prometheus
			e.source, e.prom = SourceEnv, &c
		}
	}
	return e, nil
}

// view shows the settings without secret values.
func (e effective) view() map[string]any {
	switch {
	case e.kube != nil:
		m := map[string]any{"in_cluster": e.kube.InCluster, "contexts": e.kube.Contexts}
		if e.kube.Contexts == nil {
			m["contexts"] = []string{}
			if e.kube.Context != "" {
				m["contexts"] = []string{e.kube.Context}
			}
		}
		if e.source == SourceOrg {
			m["kubeconfig"] = Set{Set: e.creds.Kubeconfig != ""}
		} else {
			m["kubeconfig_path"] = e.envPath
		}
		if names, err := kubernetes.Clusters(*e.kube); err == nil {
			m["clusters"] = names
		}
		return m
	case e.prom != nil:
		m := map[string]any{"url": e.prom.URL, "username": e.prom.Username, "insecure_skip_verify": e.prom.InsecureSkipVerify,
			"bearer_token": Set{Set: e.prom.BearerToken != ""}, "password": Set{Set: e.prom.Password != ""}}
		h := map[string]Set{}
		for k := range e.prom.Headers {
			h[k] = Set{Set: true}
		}
		m["headers"] = h
		return m
	}
	return nil
}

// ---------------------------------------------------------------------------
// Test

// ErrNotConfigured is returned when testing a toolset nothing configures.
var ErrNotConfigured = errors.New("not configured")

// Test connects with the org's effective configuration of toolset name,
// records the result as its last test and returns it. A toolset that
// cannot be reached is a result with OK false, not an error.
func (s *Service) Test(ctx context.Context, orgID, name string) (LastTest, error) {
	if err := known(name); err != nil {
		return LastTest{}, err
	}
	st, err := s.load(ctx, orgID, name)
	if err != nil {
		return LastTest{}, err
	}
	eff, cfgErr := s.effective(st, name)
	if eff.source == SourceNone {
		return LastTest{}, fmt.Errorf("toolset %s is %w: PUT /api/v1/toolsets/%s or set it in the environment", name, ErrNotConfigured, name)
	}
	start := s.now()
	res := LastTest{Source: eff.source, At: start.UTC()}
	switch {
	case cfgErr != nil:
		res.Message = cfgErr.Error()
	case name == Kubernetes:
		checks, err := kubernetes.Check(ctx, *eff.kube)
		if err != nil {
			res.Message = err.Error()
			break
		}
		res.Clusters, res.OK = checks, true
		var parts []string
		for _, c := range checks {
			if c.OK {
				more := ""
				if c.More {
					more = "+"
				}
				parts = append(parts, fmt.Sprintf("%s: Kubernetes %s, %d%s namespaces readable", c.Cluster, c.Version, c.Namespaces, more))
			} else {
				res.OK = false
				parts = append(parts, fmt.Sprintf("%s: %s", c.Cluster, c.Error))
			}
		}
		res.Message = strings.Join(parts, "; ")
	case name == Prometheus:
		msg, err := toolset.CheckPrometheus(ctx, *eff.prom)
		if err != nil {
			res.Message = err.Error()
		} else {
			res.OK, res.Message = true, msg
		}
	}
	res.DurationMS = s.now().Sub(start).Milliseconds()
	b, _ := json.Marshal(res)
	if err := s.Store.SetToolsetTest(ctx, orgID, name, b); err != nil {
		return res, err
	}
	return res, nil
}
