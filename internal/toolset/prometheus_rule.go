package toolset

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Bounds of prometheus.alert_rule: what it queries and prints.
const (
	// alertWindowBefore and alertWindowAfter frame the range query around
	// the alert's start: the build-up and what followed.
	alertWindowBefore = 30 * time.Minute
	alertWindowAfter  = 30 * time.Minute
	// alertRangePoints is the resolution of that range query.
	alertRangePoints = 120
	// maxRuleExprs bounds how many rules of one alert name are queried.
	maxRuleExprs = 3
	// maxBreachSeries bounds the series printed per query.
	maxBreachSeries = 20
	// maxJobTargets bounds the targets printed for the alert's job.
	maxJobTargets = 20
)

// ruleTools are the rule-health tools: prometheus.rules and
// prometheus.alert_rule.
func (p *prometheus) ruleTools(tool func(name, desc, params string, fn func(context.Context, args) (string, error)) Tool) []Tool {
	return []Tool{
		tool("prometheus.rules",
			"List Prometheus's alerting rules with their health (ok/err/unknown), state, last error and expression; "+
				"optionally only those of one alert name.",
			`{"type":"object","properties":{`+
				`"alertname":{"type":"string","description":"only rules of this alert name"}},`+
				`"additionalProperties":false}`,
			p.rules),
		tool("prometheus.alert_rule",
			"Evidence for one Prometheus alert: its rule (expression, health, last error), the expression evaluated "+
				"now and over the hour around the alert's start (the series that breach, and when each first did), "+
				"and the health of the scrape targets of the alert's job. The expression comes from the alert's "+
				"generatorURL (g0.expr) or else from the rule found by alertname.",
			`{"type":"object","properties":{`+
				`"alertname":{"type":"string","description":"the alert's name (its alertname label)"},`+
				`"generator_url":{"type":"string","description":"the alert's generatorURL, whose g0.expr is the expression"},`+
				`"expr":{"type":"string","description":"the expression itself, when known"},`+
				`"starts_at":{"type":"string","format":"date-time","description":"when the alert started, RFC3339 (default: the window is the last hour)"},`+
				`"job":{"type":"string","description":"the alert's job label: that job's targets are checked"}},`+
				`"additionalProperties":false}`,
			p.alertRule),
	}
}

// alertingRules returns the alerting rules (of alertname, when set) with
// their group.
func (p *prometheus) alertingRules(ctx context.Context, alertname string) ([]promv1.AlertingRule, []string, error) {
	res, err := p.api.Rules(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	var rules []promv1.AlertingRule
	var groups []string
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			ar, ok := r.(promv1.AlertingRule)
			if !ok || alertname != "" && ar.Name != alertname {
				continue
			}
			rules, groups = append(rules, ar), append(groups, g.Name)
		}
	}
	return rules, groups, nil
}

func writeRule(b *strings.Builder, r promv1.AlertingRule, group string) {
	fmt.Fprintf(b, "rule %s (group %s) health=%s state=%s", r.Name, group, r.Health, r.State)
	if r.Duration > 0 {
		fmt.Fprintf(b, " for=%s", model.Duration(time.Duration(r.Duration*float64(time.Second))))
	}
	if !r.LastEvaluation.IsZero() {
		fmt.Fprintf(b, " lastEvaluation=%s", r.LastEvaluation.UTC().Format(time.RFC3339))
	}
	b.WriteByte('\n')
	fmt.Fprintf(b, "  expr: %s\n", oneLine(r.Query))
	if r.LastError != "" {
		fmt.Fprintf(b, "  lastError: %s\n", oneLine(r.LastError))
	}
	if n := len(r.Alerts); n > 0 {
		fmt.Fprintf(b, "  active alerts: %d\n", n)
	}
}

func (p *prometheus) rules(ctx context.Context, a args) (string, error) {
	name, _, err := a.str("alertname", false)
	if err != nil {
		return "", err
	}
	rules, groups, err := p.alertingRules(ctx, name)
	if err != nil {
		return "", apiError(a.tool, err)
	}
	if len(rules) == 0 {
		if name != "" {
			return fmt.Sprintf("no alerting rule named %s\n", name), nil
		}
		return "no alerting rules\n", nil
	}
	var b strings.Builder
	bad := 0
	for _, r := range rules {
		if r.Health != promv1.RuleHealthGood {
			bad++
		}
	}
	fmt.Fprintf(&b, "%d alerting rules (%d not healthy)\n", len(rules), bad)
	for i, r := range rules {
		writeRule(&b, r, groups[i])
	}
	return b.String(), nil
}

// exprFromGeneratorURL returns the g0.expr of a Prometheus graph URL (as
// alerts carry in generatorURL), "" when it has none.
func exprFromGeneratorURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(u.Query().Get("g0.expr"))
}

func (p *prometheus) alertRule(ctx context.Context, a args) (string, error) {
	name, _, err := a.str("alertname", false)
	if err != nil {
		return "", err
	}
	gen, _, err := a.str("generator_url", false)
	if err != nil {
		return "", err
	}
	expr, _, err := a.str("expr", false)
	if err != nil {
		return "", err
	}
	start, err := a.time("starts_at", false)
	if err != nil {
		return "", err
	}
	job, _, err := a.str("job", false)
	if err != nil {
		return "", err
	}
	if expr == "" && gen != "" {
		expr = exprFromGeneratorURL(gen)
	}
	if name == "" && expr == "" {
		return "", a.errorf("alertname", "give alertname, expr or a generator_url with g0.expr")
	}
	var b strings.Builder
	// The rule: its health says whether the alert itself can be trusted
	// (a rule failing to evaluate is a monitoring problem, not the app's).
	var exprs []string
	if name != "" {
		rules, groups, err := p.alertingRules(ctx, name)
		switch {
		case err != nil:
			fmt.Fprintf(&b, "rules: not available: %v\n", apiError(a.tool, err))
		case len(rules) == 0:
			fmt.Fprintf(&b, "no alerting rule named %s in this Prometheus\n", name)
		default:
			for i, r := range rules {
				writeRule(&b, r, groups[i])
				if !containsString(exprs, r.Query) {
					exprs = append(exprs, r.Query)
				}
			}
		}
	}
	if expr != "" {
		src := "generatorURL g0.expr"
		if gen == "" {
			src = "the expr argument"
		}
		fmt.Fprintf(&b, "expression (from %s): %s\n", src, oneLine(expr))
		exprs = []string{expr}
	} else if len(exprs) > 0 {
		fmt.Fprintf(&b, "expression (from the rule found by alertname): %s\n", oneLine(exprs[0]))
	}
	if len(exprs) > maxRuleExprs {
		exprs = exprs[:maxRuleExprs]
	}
	now := time.Now()
	if start.IsZero() {
		start = now.Add(-time.Hour + alertWindowBefore)
	}
	from, to := start.Add(-alertWindowBefore), start.Add(alertWindowAfter)
	if to.After(now) {
		to = now
	}
	if !to.After(from) {
		to = from.Add(time.Minute)
	}
	step := to.Sub(from) / alertRangePoints
	if step < time.Second {
		step = time.Second
	}
	step = step.Round(time.Second)
	// Evaluate at the window's end exactly (not up to a step before it), so
	// the latest samples count.
	n := (to.Sub(from) + step - 1) / step
	from = to.Add(-n * step)
	for _, e := range exprs {
		p.writeBreaches(ctx, &b, e, now, promv1.Range{Start: from, End: to, Step: step})
	}
	if job != "" {
		p.writeJobTargets(ctx, &b, job)
	}
	return b.String(), nil
}

// writeBreaches evaluates an alert expression now and over r. An alert
// expression returns only the series that meet its condition, so every
// series in the result breaches.
func (p *prometheus) writeBreaches(ctx context.Context, b *strings.Builder, expr string, now time.Time, r promv1.Range) {
	v, warnings, _, err := p.api.Query(ctx, expr, now, promv1.WithTimeout(p.timeout))
	switch {
	case err != nil:
		fmt.Fprintf(b, "instant query at %s failed: %v\n", now.UTC().Format(time.RFC3339), apiError("query", err))
	default:
		vec, _ := v.(model.Vector)
		sort.Slice(vec, func(i, j int) bool { return vec[i].Metric.String() < vec[j].Metric.String() })
		if len(vec) == 0 {
			fmt.Fprintf(b, "breaching now (%s): none: the condition does not hold at this instant\n", now.UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintf(b, "breaching now (%s): %d series\n", now.UTC().Format(time.RFC3339), len(vec))
		}
		for i, s := range vec {
			if i == maxBreachSeries {
				fmt.Fprintf(b, "  … %d more\n", len(vec)-i)
				break
			}
			fmt.Fprintf(b, "  %s %s\n", s.Metric, s.Value)
		}
		writeWarnings(b, warnings)
	}
	m, warnings, _, err := p.api.QueryRange(ctx, expr, r, promv1.WithTimeout(p.timeout))
	if err != nil {
		fmt.Fprintf(b, "range query failed: %v\n", apiError("query_range", err))
		return
	}
	mat, _ := m.(model.Matrix)
	fmt.Fprintf(b, "breaching from %s to %s (step %s): %d series\n", r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Step, len(mat))
	sort.Slice(mat, func(i, j int) bool {
		if len(mat[i].Values) == 0 || len(mat[j].Values) == 0 {
			return len(mat[i].Values) > len(mat[j].Values)
		}
		if !mat[i].Values[0].Timestamp.Equal(mat[j].Values[0].Timestamp) {
			return mat[i].Values[0].Timestamp.Before(mat[j].Values[0].Timestamp)
		}
		return mat[i].Metric.String() < mat[j].Metric.String()
	})
	for i, s := range mat {
		if i == maxBreachSeries {
			fmt.Fprintf(b, "  … %d more\n", len(mat)-i)
			break
		}
		if len(s.Values) == 0 {
			continue
		}
		lo, hi := s.Values[0].Value, s.Values[0].Value
		for _, v := range s.Values {
			lo, hi = min(lo, v.Value), max(hi, v.Value)
		}
		last := s.Values[len(s.Values)-1]
		fmt.Fprintf(b, "  %s first=%s last=%s points=%d min=%s max=%s lastValue=%s\n", s.Metric,
			formatTime(s.Values[0].Timestamp), formatTime(last.Timestamp), len(s.Values), lo, hi, last.Value)
	}
	writeWarnings(b, warnings)
}

// writeJobTargets prints the scrape health of a job's targets: a down
// target is often why an alert on its metrics fired (or went quiet).
func (p *prometheus) writeJobTargets(ctx context.Context, b *strings.Builder, job string) {
	res, err := p.api.Targets(ctx)
	if err != nil {
		fmt.Fprintf(b, "targets of job %s: not available: %v\n", job, apiError("targets", err))
		return
	}
	var ts []promv1.ActiveTarget
	for _, t := range res.Active {
		if string(t.Labels["job"]) == job || t.ScrapePool == job {
			ts = append(ts, t)
		}
	}
	counts := map[promv1.HealthStatus]int{}
	for _, t := range ts {
		counts[t.Health]++
	}
	fmt.Fprintf(b, "targets of job %s: %d (%d up, %d down, %d unknown)\n", job, len(ts),
		counts[promv1.HealthGood], counts[promv1.HealthBad], counts[promv1.HealthUnknown])
	sort.SliceStable(ts, func(i, j int) bool {
		if (ts[i].Health == promv1.HealthBad) != (ts[j].Health == promv1.HealthBad) {
			return ts[i].Health == promv1.HealthBad
		}
		return ts[i].ScrapeURL < ts[j].ScrapeURL
	})
	for i, t := range ts {
		if i == maxJobTargets {
			fmt.Fprintf(b, "  … %d more\n", len(ts)-i)
			break
		}
		fmt.Fprintf(b, "  %s %s lastScrape=%s", t.Health, t.ScrapeURL, t.LastScrape.UTC().Format(time.RFC3339))
		if t.LastError != "" {
			fmt.Fprintf(b, " lastError=%s", oneLine(t.LastError))
		}
		b.WriteByte('\n')
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
