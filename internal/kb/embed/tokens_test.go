package embed

import (
	"slices"
	"testing"
)

func TestSplitIdentifiers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"KubePodCrashLooping checkout": {"kubepodcrashlooping", "kube", "pod", "crash", "looping", "checkout"},
		"HTTPServerErrors":             {"httpservererrors", "http", "server", "errors"},
		"OOMKilled exit 137":           {"oomkilled", "oom", "killed", "exit", "137"},
		"node-exporter disk":           {"node", "exporter", "disk"},
		"CPUThrottlingHigh":            {"cputhrottlinghigh", "cpu", "throttling", "high"},
		"Http5xxHigh":                  {"http5xxhigh", "http5xx", "high"},
		"plain lower case, no idents!": {"plain", "lower", "case", "no", "idents"},
		"":                             nil,
	} {
		if got := SplitIdentifiers(in); !slices.Equal(got, want) {
			t.Errorf("SplitIdentifiers(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStem(t *testing.T) {
	t.Parallel()
	// Inflections of one word share a stem; short and non-ASCII words are
	// left alone.
	for _, group := range [][]string{
		{"crash", "crashes", "crashed", "crashing"},
		{"stop", "stops", "stopped", "stopping"},
		{"expire", "expires", "expired"},
		{"node", "nodes"},
		{"restart", "restarts", "restarted", "restarting"},
	} {
		for _, w := range group[1:] {
			if Stem(w) != Stem(group[0]) {
				t.Errorf("Stem(%q) = %q, Stem(%q) = %q: want one stem", w, Stem(w), group[0], Stem(group[0]))
			}
		}
	}
	for _, w := range []string{"dns", "pod", "5xx", "straße", "status", "redis"} {
		if Stem(w) != w && len(w) <= 3 {
			t.Errorf("Stem(%q) = %q: short words stay", w, Stem(w))
		}
	}
	if Stem("status") != "status" || Stem("redis") != "redis" {
		t.Errorf("Stem(status) = %q, Stem(redis) = %q: -us and -is are not plurals", Stem("status"), Stem("redis"))
	}
}
