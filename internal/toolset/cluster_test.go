package toolset

import (
	"reflect"
	"testing"
	"time"
)

func TestAlertRuleArgs(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 6, 3, 10, 0, 0, 0, time.FixedZone("x", 3600))
	gen := "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
	for _, c := range []struct {
		source, name string
		labels       map[string]string
		links        []string
		want         map[string]any
	}{
		{"alertmanager", "TargetDown", map[string]string{"alertname": "TargetDown", "job": "api"}, []string{"http://runbook", gen},
			map[string]any{"alertname": "TargetDown", "generator_url": gen, "starts_at": "2024-06-03T09:00:00Z", "job": "api"}},
		{"alertmanager", "X", nil, nil, map[string]any{"alertname": "X", "starts_at": "2024-06-03T09:00:00Z"}},
		{"generic", "Y", nil, []string{gen}, map[string]any{"alertname": "Y", "generator_url": gen, "starts_at": "2024-06-03T09:00:00Z"}},
		{"pagerduty", "Z", map[string]string{"job": "api"}, []string{"http://pd/incident"}, nil},
	} {
		got, ok := AlertRuleArgs(c.source, c.name, c.labels, c.links, start)
		if ok != (c.want != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: %v %v, want %v", c.source, c.name, got, ok, c.want)
		}
	}
}
