package cli

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, err string
	}{
		{"2m:10,5m:50,10m:100,2m:0", "2m0s:10 5m0s:50 10m0s:100 2m0s:0", ""},
		{"30s:1.5", "30s:1.5", ""},
		{"2m", "", "want DURATION:USERS"},
		{"0s:10", "", "duration must be positive"},
		{"1m:-1", "", "users must be a number"},
		{"1m:x", "", "users must be a number"},
	} {
		got, err := parseStages(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseStages(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		var parts []string
		for _, s := range got {
			parts = append(parts, s.Duration.String()+":"+strconv.FormatFloat(s.Target, 'g', -1, 64))
		}
		if err != nil || strings.Join(parts, " ") != tc.want {
			t.Errorf("parseStages(%q) = %v, %v; want %s", tc.in, parts, err, tc.want)
		}
	}
}

// TestStagePacer: the pacer sends the integral of the ramp (k6's users as
// a request rate), and waits rather than bursting.
func TestStagePacer(t *testing.T) {
	t.Parallel()
	p := stagePacer{stages: []loadStage{{2 * time.Second, 10}, {2 * time.Second, 10}, {time.Second, 0}}, floor: 1}
	for _, tc := range []struct {
		at   time.Duration
		rate float64
		hits float64
	}{
		{0, 1, 0},
		{time.Second, 5, 2.5},
		{2 * time.Second, 10, 10},
		{3 * time.Second, 10, 20},
		{4*time.Second + 500*time.Millisecond, 5, 33.75},
	} {
		if r := p.Rate(tc.at); math.Abs(r-tc.rate) > 1e-9 {
			t.Errorf("Rate(%s) = %g, want %g", tc.at, r, tc.rate)
		}
		if h := p.hits(tc.at); math.Abs(h-tc.hits) > 0.3 {
			t.Errorf("hits(%s) = %g, want %g", tc.at, h, tc.hits)
		}
	}
	// Behind schedule: no wait. Ahead: wait until the next hit is due.
	if w, stop := p.Pace(time.Second, 0); w != 0 || stop {
		t.Errorf("behind: wait %s stop %v", w, stop)
	}
	if w, _ := p.Pace(2*time.Second, 10); w < 90*time.Millisecond || w > 110*time.Millisecond {
		t.Errorf("at 10/s, on schedule: wait %s, want ~100ms", w)
	}
	if _, stop := p.Pace(5*time.Second, 40); !stop {
		t.Error("no stop after the last stage")
	}
	// Simulate: the number of hits sent over the run matches the integral.
	var hits uint64
	for el := time.Duration(0); ; {
		w, stop := p.Pace(el, hits)
		if stop {
			break
		}
		if w == 0 {
			hits++
			continue
		}
		el += w
	}
	if want := p.hits(p.total()); math.Abs(float64(hits)-want) > 2 {
		t.Errorf("simulated run sent %d hits, want ~%g", hits, want)
	}
}
