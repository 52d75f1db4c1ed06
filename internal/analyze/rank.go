package analyze

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Verdicts.
const (
	VerdictConfirmed    = "CONFIRMED"
	VerdictLikely       = "LIKELY"
	VerdictInconclusive = "INCONCLUSIVE"
)

// Focus is what the alert points at; findings about it rank higher.
type Focus struct {
	Namespace string
	// Names are object names the alert's labels mention (pod, deployment,
	// service, container, job…).
	Names []string
}

// Conclusion is the ranked outcome of the analyzers.
type Conclusion struct {
	Verdict  string    `json:"verdict"`
	Root     *Finding  `json:"root,omitempty"`
	Findings []Finding `json:"findings"`
	// Symptoms maps an object to the deeper object its finding leads to.
	Symptoms map[string]string `json:"symptoms,omitempty"`
}

// Run runs analyzers over the input and ranks what they find.
func Run(analyzers []Analyzer, in *Input, focus Focus) Conclusion {
	var all []Finding
	for _, a := range analyzers {
		for _, f := range a.Analyze(in) {
			if len(f.Evidence) == 0 {
				continue // a claim without evidence is never made
			}
			if f.Analyzer == "" {
				f.Analyzer = a.Name()
			}
			all = append(all, f)
		}
	}
	return Rank(all, focus)
}

// Rank orders findings as an SRE would: a finding whose evidence names
// another object that is itself broken (a crash-looping pod whose log names
// a database with no endpoints) is a symptom, and the deeper finding is the
// candidate cause. Findings about what the alert points at come first among
// equals. Only a direct finding can be CONFIRMED.
func Rank(findings []Finding, focus Focus) Conclusion {
	c := Conclusion{Verdict: VerdictInconclusive, Findings: []Finding{}, Symptoms: map[string]string{}}
	if len(findings) == 0 {
		return c
	}
	fs := append([]Finding(nil), findings...)
	byObject := map[string][]int{}
	for i := range fs {
		byObject[fs[i].Object] = append(byObject[fs[i].Object], i)
	}
	// On one object, a restart loop or failing probe is the symptom of a
	// more specific cause found there (the log's missing variable, the
	// OOM kill, the command not found).
	symptom := func(f Finding) bool { return f.Category == CategoryCrashloop || f.Category == CategoryProbe }
	for i := range fs {
		if !symptom(fs[i]) {
			continue
		}
		for _, j := range byObject[fs[i].Object] {
			if j != i && !symptom(fs[j]) && fs[j].Score >= 0.4 {
				fs[j].Score += 0.1
				fs[i].Score -= 0.1
				break // one specific cause explains the symptom
			}
		}
	}
	// Follow each chain one hop at a time, up to a few hops.
	for hop := 0; hop < 3; hop++ {
		for i := range fs {
			for _, rel := range fs[i].Related {
				for _, j := range byObject[rel] {
					if j == i || c.Symptoms[fs[j].Object] == fs[i].Object {
						continue
					}
					if _, done := c.Symptoms[fs[i].Object]; !done {
						c.Symptoms[fs[i].Object] = fs[j].Object
						fs[j].Score += 0.15
						fs[i].Score -= 0.05
					}
				}
			}
		}
	}
	for i := range fs {
		if focused(fs[i].Object, focus) {
			fs[i].Score += 0.05
		}
		fs[i].Score = min(max(fs[i].Score, 0), 1)
	}
	// A symptom is never a better root cause than what it leads to: the
	// findings that carry the link (and the restart loop or failing probe
	// on the same object) rank below a real finding on the deeper object.
	linked := slices.Sorted(maps.Keys(c.Symptoms))
	for hop := 0; hop < 3; hop++ {
		for _, obj := range linked {
			deeper := c.Symptoms[obj]
			best := -1.0
			for _, j := range byObject[deeper] {
				best = max(best, fs[j].Score)
			}
			if best < 0.4 {
				continue // too weak a finding to blame instead
			}
			for _, i := range byObject[obj] {
				if (symptom(fs[i]) || relates(fs[i], deeper)) && fs[i].Score >= best {
					fs[i].Score = max(best-0.05, 0)
				}
			}
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Score != fs[j].Score {
			return fs[i].Score > fs[j].Score
		}
		if fs[i].Direct != fs[j].Direct {
			return fs[i].Direct
		}
		return fs[i].Object < fs[j].Object
	})
	c.Findings = fs
	root := fs[0]
	c.Root = &root
	switch {
	case !inFocus(fs, root.Object, focus):
		// The alert points elsewhere and nothing found there leads here:
		// a problem somewhere else is not this alert's cause.
		c.Verdict = VerdictInconclusive
		c.Root = nil
	case root.Direct && root.Score >= 0.7:
		c.Verdict = VerdictConfirmed
	case root.Score >= 0.4:
		c.Verdict = VerdictLikely
	default:
		c.Verdict = VerdictInconclusive
		c.Root = nil
	}
	return c
}

func focused(object string, f Focus) bool {
	parts := strings.Split(object, "/")
	if len(parts) == 3 && f.Namespace != "" && parts[1] != f.Namespace {
		return false
	}
	name := parts[len(parts)-1]
	for _, n := range f.Names {
		if n != "" && (name == n || strings.HasPrefix(name, n+"-")) {
			return true
		}
	}
	return len(f.Names) == 0 && f.Namespace != "" && len(parts) == 3
}

func relates(f Finding, object string) bool {
	for _, r := range f.Related {
		if r == object {
			return true
		}
	}
	return false
}

// inFocus reports whether object is what the alert points at (its
// namespace, or for cluster-scoped objects its names), or is reached by a
// chain of Related links from a finding that is. An empty focus (a
// question, not an alert) takes in everything.
func inFocus(fs []Finding, object string, f Focus) bool {
	if f.Namespace == "" && len(f.Names) == 0 {
		return true
	}
	direct := func(o string) bool {
		parts := strings.Split(o, "/")
		if len(parts) == 3 && f.Namespace != "" {
			return parts[1] == f.Namespace
		}
		return focused(o, f) && len(f.Names) > 0
	}
	reached := map[string]bool{}
	var queue []string
	for _, x := range fs {
		if !reached[x.Object] && direct(x.Object) {
			reached[x.Object] = true
			queue = append(queue, x.Object)
		}
	}
	for len(queue) > 0 {
		o := queue[0]
		queue = queue[1:]
		if o == object {
			return true
		}
		for _, x := range fs {
			if x.Object != o {
				continue
			}
			for _, r := range x.Related {
				if !reached[r] {
					reached[r] = true
					queue = append(queue, r)
				}
			}
		}
	}
	return reached[object]
}
