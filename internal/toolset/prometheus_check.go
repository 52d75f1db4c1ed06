package toolset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// CheckPrometheus connects to the server cfg names and says what answered:
// its build info (when it serves /api/v1/status/buildinfo, as Prometheus
// does) and the number of scrape targets from a real query, count(up). An
// error says why the server could not be used.
func CheckPrometheus(ctx context.Context, cfg PrometheusConfig) (string, error) {
	p, err := newPrometheusClient(cfg)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var parts []string
	bi, err := p.api.Buildinfo(ctx)
	var pe *promv1.Error
	switch {
	case err == nil:
		rev := bi.Revision
		if len(rev) == 40 && strings.Trim(rev, "0123456789abcdef") == "" {
			rev = rev[:12] // a git commit
		}
		parts = append(parts, fmt.Sprintf("Prometheus %s (revision %s)", bi.Version, rev))
	case errors.As(err, &pe) || strings.Contains(err.Error(), "404"):
		// Thanos, Mimir, VictoriaMetrics…: no build info; the query decides.
		parts = append(parts, "build info not served")
	default:
		return "", apiError("prometheus", err)
	}
	v, _, _, err := p.api.Query(ctx, "count(up)", time.Now(), promv1.WithTimeout(p.timeout))
	if err != nil {
		return "", apiError("prometheus: query count(up)", err)
	}
	n := 0.0
	if vec, ok := v.(model.Vector); ok && len(vec) > 0 {
		n = float64(vec[0].Value)
	}
	parts = append(parts, fmt.Sprintf("query count(up) = %g scrape targets", n))
	return strings.Join(parts, "; "), nil
}
