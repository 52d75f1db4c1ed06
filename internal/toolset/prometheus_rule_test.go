package toolset

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestExprFromGeneratorURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://prom:9090/graph?g0.expr=rate%28http_errors_total%5B5m%5D%29+%3E+0.1&g0.tab=1": "rate(http_errors_total[5m]) > 0.1",
		"https://prom.example/prometheus/graph?g0.expr=up+%3D%3D+0":                           "up == 0",
		"http://prom:9090/graph":       "",
		"http://grafana/alerting/list": "",
		"%zz":                          "",
	} {
		if got := exprFromGeneratorURL(in); got != want {
			t.Errorf("exprFromGeneratorURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAlertRuleArguments(t *testing.T) {
	t.Parallel()
	tools := promTools(t, PrometheusConfig{URL: "http://127.0.0.1:1"})
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, `argument "alertname": give alertname, expr or a generator_url with g0.expr`},
		{map[string]any{"generator_url": "http://prom/graph"}, `argument "alertname"`},
		{map[string]any{"alertname": "X", "starts_at": "yesterday"}, `argument "starts_at"`},
		{map[string]any{"alertname": 3.0}, `argument "alertname": must be a string`},
		{map[string]any{"alertname": "X", "labels": map[string]any{}}, `unknown argument "labels"`},
	} {
		_, err := tools["prometheus.alert_rule"].Call(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

func TestLinkLocalRefused(t *testing.T) {
	t.Parallel()
	_, err := CheckPrometheus(context.Background(), PrometheusConfig{URL: "http://169.254.169.254/", Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "refusing to connect to the link-local address 169.254.169.254") {
		t.Errorf("metadata address: %v", err)
	}
}
