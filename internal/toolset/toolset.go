// Package toolset holds the tools an investigation calls to gather evidence
// (prometheus.query, kubernetes.describe, …). A tool takes JSON-like
// arguments and prints text meant for both a human reading a report and the
// deterministic analyzers (package analyze), which see it as an Item's
// Output under the tool's Name and the same Args.
package toolset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Tool is one evidence-gathering operation.
type Tool interface {
	// Name is the tool's dotted name, e.g. "prometheus.query"; evidence
	// bundles and analyzers refer to tools by it.
	Name() string
	// Description says in a sentence or two what the tool returns and when
	// to use it.
	Description() string
	// Parameters is the JSON schema (an object schema) of Call's args.
	Parameters() json.RawMessage
	// ReadOnly is true when calling the tool changes nothing anywhere.
	ReadOnly() bool
	// Timeout bounds one call; callers should apply it to ctx (Registry.Call
	// does).
	Timeout() time.Duration
	// Call runs the tool. Invalid args give an error naming the argument.
	Call(ctx context.Context, args map[string]any) (Result, error)
}

// Result is what a tool printed.
type Result struct {
	Output string
	// Truncated is true when Output was cut to the output limit; Output then
	// ends with a line saying how much was cut.
	Truncated bool
}

// DefaultOutputLimit is the most output a tool returns, in bytes (before
// the truncation notice).
const DefaultOutputLimit = 64 << 10

// CapOutput returns s cut to at most limit bytes (DefaultOutputLimit when
// limit <= 0). A cut output ends at a line boundary when one is near (never
// inside a UTF-8 sequence) and is followed by a line like
// "… [truncated: 12,345 more bytes]".
func CapOutput(s string, limit int) Result {
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	if len(s) <= limit {
		return Result{Output: s}
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	// Prefer whole lines when that loses at most a quarter of the budget.
	if nl := strings.LastIndexByte(s[:cut], '\n'); nl >= 0 && nl+1 >= limit-limit/4 {
		cut = nl + 1
	}
	kept := s[:cut]
	if !strings.HasSuffix(kept, "\n") {
		kept += "\n"
	}
	return Result{
		Output:    kept + fmt.Sprintf("… [truncated: %s more bytes]", groupThousands(len(s)-cut)),
		Truncated: true,
	}
}

// groupThousands formats n as 12,345.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Registry holds tools by name. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	tools map[string]Tool
}

// NewRegistry returns a registry holding tools (see Register).
func NewRegistry(tools ...Tool) (*Registry, error) {
	r := &Registry{tools: map[string]Tool{}}
	if err := r.Register(tools...); err != nil {
		return nil, err
	}
	return r, nil
}

// Register adds tools. A nil tool, an empty name or a name already
// registered is an error, and then none of tools is added.
func (r *Registry) Register(tools ...Tool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tools == nil {
		r.tools = map[string]Tool{}
	}
	seen := map[string]bool{}
	for _, t := range tools {
		if t == nil {
			return errors.New("toolset: register: nil tool")
		}
		name := t.Name()
		if name == "" {
			return errors.New("toolset: register: tool with an empty name")
		}
		if _, dup := r.tools[name]; dup || seen[name] {
			return fmt.Errorf("toolset: register: tool %q is already registered", name)
		}
		seen[name] = true
	}
	for _, t := range tools {
		r.tools[t.Name()] = t
	}
	return nil
}

// Get returns the tool called name.
func (r *Registry) Get(name string) (Tool, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tools[name]
	return t, ok
}

// List returns the tools sorted by name.
func (r *Registry) List() []Tool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Tool, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Names returns the tools' names, sorted.
func (r *Registry) Names() []string {
	tools := r.List()
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name()
	}
	return out
}

// Call runs the tool called name with its Timeout applied to ctx and its
// output capped at DefaultOutputLimit.
func (r *Registry) Call(ctx context.Context, name string, args map[string]any) (Result, error) {
	t, ok := r.Get(name)
	if !ok {
		return Result{}, fmt.Errorf("toolset: unknown tool %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	if d := t.Timeout(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	res, err := t.Call(ctx, args)
	if err != nil {
		return res, err
	}
	if len(res.Output) > DefaultOutputLimit {
		capped := CapOutput(res.Output, DefaultOutputLimit)
		capped.Truncated = true
		res = capped
	}
	return res, nil
}

// Func is a read-only tool backed by one function. Its Call refuses
// arguments the schema does not list, applies the timeout and caps the
// output, so a toolset writes only what its tools do.
type Func struct {
	ToolName string
	Desc     string
	// Params is the JSON schema of the arguments: an object with properties.
	Params string
	Limit  time.Duration
	// Backend names who answers, for timeout errors ("Prometheus").
	Backend string
	Fn      func(ctx context.Context, args map[string]any) (string, error)
}

// Name implements Tool.
func (f *Func) Name() string { return f.ToolName }

// Description implements Tool.
func (f *Func) Description() string { return f.Desc }

// Parameters implements Tool.
func (f *Func) Parameters() json.RawMessage { return json.RawMessage(f.Params) }

// ReadOnly implements Tool: Func tools only read.
func (f *Func) ReadOnly() bool { return true }

// Timeout implements Tool.
func (f *Func) Timeout() time.Duration { return f.Limit }

// Call implements Tool.
func (f *Func) Call(ctx context.Context, raw map[string]any) (Result, error) {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(f.Params), &schema); err != nil {
		return Result{}, fmt.Errorf("%s: bad schema: %w", f.ToolName, err)
	}
	for k := range raw {
		if _, ok := schema.Properties[k]; !ok {
			known := slices.Sorted(maps.Keys(schema.Properties))
			if len(known) == 0 {
				return Result{}, fmt.Errorf("%s: unknown argument %q (the tool takes no arguments)", f.ToolName, k)
			}
			return Result{}, fmt.Errorf("%s: unknown argument %q (known: %s)", f.ToolName, k, strings.Join(known, ", "))
		}
	}
	if f.Limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Limit)
		defer cancel()
	}
	out, err := f.Fn(ctx, raw)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return Result{}, fmt.Errorf("%s: no answer from %s within %s: %w", f.ToolName, f.Backend, f.Limit, err)
		}
		return Result{}, err
	}
	return CapOutput(out, DefaultOutputLimit), nil
}

// JSONType names the JSON type of a decoded value, for argument errors.
func JSONType(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case float64, float32, int, int64, int32, json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// Risk levels of a writing tool's call, as next_steps print them.
const (
	RiskSafe   = "safe" // reads only
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Proposal is what a writing tool would do, shown to the human who must
// approve it (chat) or offered as a next step (background investigations,
// which never write).
type Proposal struct {
	// Command is the equivalent command line, e.g.
	// "kubectl -n shop scale deployment/web --replicas=5".
	Command string `json:"command"`
	// Risk is RiskLow, RiskMedium or RiskHigh.
	Risk string `json:"risk"`
	// Undo says how to reverse the call from the state read when proposing
	// (e.g. "kubectl -n shop scale deployment/web --replicas=3"), or why none
	// is needed.
	Undo string `json:"undo"`
}

// Writer is a tool that changes something: its ReadOnly is false, and it
// may only be called after a human approved its Proposal.
type Writer interface {
	Tool
	// Propose checks args and reads (never writes) the current state to
	// describe the call and its undo.
	Propose(ctx context.Context, args map[string]any) (Proposal, error)
}
