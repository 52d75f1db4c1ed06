package alert

import "testing"

func TestFingerprintMatchesAlertmanager(t *testing.T) {
	t.Parallel()
	// Labels and fingerprints as a real Alertmanager sent them.
	cases := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"job": "node", "group": "production", "instance": "localhost:8081", "severity": "critical", "alertname": "InstanceDown"}, "f404ecabc8dd5cd7"},
		{map[string]string{"job": "node", "group": "canary", "instance": "localhost:8082", "severity": "critical", "alertname": "InstanceDown"}, "f8f08d4e32c61a9d"},
	}
	for _, c := range cases {
		if got := Fingerprint(c.labels); got != c.want {
			t.Errorf("Fingerprint(%v) = %s, want %s", c.labels, got, c.want)
		}
	}
}
