package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":     h.asset,
		"age":       func(t time.Time) string { return age(h.now().Sub(t)) },
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"clock":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"short":     func(t time.Time) string { return t.UTC().Format("Jan 2 15:04:05") },
		"since":     func(a time.Time, b *time.Time) string { return duration(a, b, h.now()) },
		"pretty":    prettyJSON,
		"stepText":  stepText,
		"add":       func(a, b int) int { return a + b },
		"lower":     strings.ToLower,
		"upper":     strings.ToUpper,
		"hasPrefix": strings.HasPrefix,
	}
}

// age renders a duration the way incident lists do: "42s", "5m", "3h 12m",
// "4d 2h".
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// duration is how long a step took, or has been running.
func duration(start time.Time, end *time.Time, now time.Time) string {
	e := now
	if end != nil {
		e = *end
	}
	d := e.Sub(start)
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

// prettyJSON indents stored JSON for display; it stays text, escaped by the
// template like any other.
// Stored JSON escapes <, > and & as \u003c…; they are decoded here so
// people read "<nil>" rather than "\u003cnil\u003e" (the template still
// escapes them for HTML).
func prettyJSON(raw storage.RawJSON) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers exactly as stored
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// stepText is a step's output as people read it: the tool's text when the
// output is an evidence record ({"text", "error"}), else indented JSON.
func stepText(raw storage.RawJSON) string {
	var ev struct {
		Text  *string `json:"text"`
		Error string  `json:"error"`
	}
	if json.Unmarshal(raw, &ev) == nil && ev.Text != nil {
		if ev.Error != "" {
			return "error: " + ev.Error + "\n" + *ev.Text
		}
		return *ev.Text
	}
	return prettyJSON(raw)
}

// segment is a piece of report text: plain text, or a citation [N] that
// links to the step holding its evidence.
type segment struct {
	Text    string
	N       int
	StepSeq int
	Tool    string
}

// A citation is written as the report numbers it: no leading zero, so that
// "[01]" in quoted log text stays text rather than turning into "[1]".
var citeRE = regexp.MustCompile(`\[([1-9]\d{0,3})\]`)

// cite splits text at its [n] markers. Known citations become links to their
// step; unknown numbers stay text. Extra citations the text does not mention
// are appended, so every cited piece of evidence is one click away. No HTML
// is built here: the template renders each segment, escaped.
func cite(text string, extra []int, cites map[int]citation) []segment {
	var out []segment
	seen := map[int]bool{}
	last := 0
	for _, m := range citeRE.FindAllStringSubmatchIndex(text, -1) {
		n, _ := strconv.Atoi(text[m[2]:m[3]])
		c, ok := cites[n]
		if !ok {
			continue
		}
		if m[0] > last {
			out = append(out, segment{Text: text[last:m[0]]})
		}
		out = append(out, segment{N: n, StepSeq: c.StepSeq, Tool: c.Tool})
		seen[n] = true
		last = m[1]
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	for _, n := range extra {
		if c, ok := cites[n]; ok && !seen[n] {
			out = append(out, segment{Text: " "}, segment{N: n, StepSeq: c.StepSeq, Tool: c.Tool})
			seen[n] = true
		}
	}
	return out
}
