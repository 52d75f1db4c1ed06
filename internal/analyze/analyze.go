// Package analyze holds Aurora's deterministic analyzers: pure functions
// over evidence (tool outputs, structured or as text) that name what is
// wrong, where, and which evidence shows it. They never claim what the
// evidence does not show: a finding cites the items it rests on, and only a
// finding marked Direct may become a CONFIRMED verdict.
package analyze

// Categories of root cause (a closed list, documented in
// docs/root-cause-categories.md).
const (
	CategoryCrashloop      = "crashloop"
	CategoryOOM            = "oom"
	CategoryImagePull      = "image_pull"
	CategoryMissingConfig  = "missing_config"
	CategoryScheduling     = "scheduling"
	CategoryStorage        = "storage"
	CategoryProbe          = "probe"
	CategoryRollout        = "rollout"
	CategoryJobFailure     = "job_failure"
	CategoryAutoscaling    = "autoscaling"
	CategoryServiceRouting = "service_routing"
	CategoryNetworkPolicy  = "network_policy"
	CategoryDNS            = "dns"
	CategoryNode           = "node"
	CategoryQuota          = "quota"
	CategoryDependency     = "dependency"
	CategoryCertificate    = "certificate"
	CategoryAuth           = "auth"
	CategoryApplicationErr = "application_error"
	CategorySaturation     = "saturation"
	CategoryLatency        = "latency"
	CategoryUnknown        = "unknown"
)

// Item is one piece of evidence: what a tool printed for some arguments.
// Tool names and argument keys are those of the toolsets, e.g.
// {"tool":"kubernetes.describe","args":{"kind":"pod","name":"x","namespace":"y"}}.
type Item struct {
	// ID is the evidence's citation number [n] (the investigation step).
	ID     int            `json:"id"`
	Tool   string         `json:"tool"`
	Args   map[string]any `json:"args,omitempty"`
	Output string         `json:"output"`
}

// Arg returns a string argument ("" when absent).
func (it Item) Arg(key string) string {
	s, _ := it.Args[key].(string)
	return s
}

// Finding is one analyzer's conclusion.
type Finding struct {
	Analyzer string `json:"analyzer"`
	Category string `json:"category"`
	// Object is kind/namespace/name (kind/name when cluster-scoped), with
	// kind lower-case singular: "pod/shop/cart-7d9f-x2", "node/worker-3".
	Object string `json:"object"`
	// Summary says in plain words what is wrong and why, naming the culprit
	// quoted from the evidence (variable, image, host:port, selector, …).
	Summary string `json:"summary"`
	// Culprit is the exact thing to blame, quoted from the evidence.
	Culprit string `json:"culprit,omitempty"`
	// Evidence lists the Item IDs the finding rests on; never empty.
	Evidence []int `json:"evidence"`
	// Direct is true when the evidence shows the cause itself (e.g. a
	// container's last state says OOMKilled), not merely a symptom.
	Direct bool `json:"direct"`
	// Score ranks candidates (0–1): how strongly the evidence points here.
	Score float64 `json:"score"`
	// Related names other objects the chain leads to (a dependency a log
	// names, the node a pod runs on), for the correlator to follow.
	Related []string `json:"related,omitempty"`
}

// Input is what analyzers read.
type Input struct {
	Items []Item
}

// Analyzer inspects evidence and returns findings (none when nothing is
// wrong in what it understands). Analyzers must be pure and fast: no I/O.
type Analyzer interface {
	Name() string
	Analyze(in *Input) []Finding
}
