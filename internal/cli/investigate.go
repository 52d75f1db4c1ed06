package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/investigate"
)

// investigateMain runs `aurora investigate --bundle DIR`.
func investigateMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("investigate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("bundle", "", "evidence bundle directory (alert.json or question.txt, evidence/*.txt)")
	format := fs.String("format", "markdown", "json or markdown")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || (*format != "json" && *format != "markdown") {
		fmt.Fprintln(stderr, "usage: aurora investigate --bundle DIR [--format json|markdown]")
		return 2
	}
	b, err := bundle.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "aurora investigate:", err)
		return 1
	}
	rep := investigate.Bundle(b)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(rep)
		return 0
	}
	fmt.Fprint(stdout, investigate.Markdown(rep))
	return 0
}

// Expectation is a scenario's expected.json.
type Expectation struct {
	Category string   `json:"category"`
	Object   string   `json:"object"`
	Keywords []string `json:"keywords"`
	Verdict  string   `json:"verdict,omitempty"`
}

// evalMain runs `aurora eval DIR…`: every bundle with an expected.json under
// the given directories, scored against its expectation.
func evalMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: aurora eval DIR…  (each DIR a bundle or a directory of bundles with expected.json)")
		return 2
	}
	var dirs []string
	for _, a := range args {
		err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == "expected.json" {
				dirs = append(dirs, filepath.Dir(p))
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "aurora eval:", err)
			return 1
		}
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "aurora eval: no bundle with expected.json found")
		return 1
	}
	type tally struct{ pass, total int }
	byCat := map[string]*tally{}
	failed := 0
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RESULT\tSCENARIO\tEXPECTED\tGOT\tTIME\tWHY")
	for _, d := range dirs {
		var exp Expectation
		raw, err := os.ReadFile(filepath.Join(d, "expected.json"))
		if err == nil {
			err = json.Unmarshal(raw, &exp)
		}
		why, got := "", ""
		start := time.Now()
		if err == nil {
			var b *bundle.Bundle
			if b, err = bundle.Load(d); err == nil {
				rep := investigate.Bundle(b)
				got, why = judge(exp, rep)
			}
		}
		took := time.Since(start)
		if err != nil {
			why = err.Error()
		}
		t := byCat[exp.Category]
		if t == nil {
			t = &tally{}
			byCat[exp.Category] = t
		}
		t.total++
		res := "PASS"
		if why != "" {
			res = "FAIL"
			failed++
		} else {
			t.pass++
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%s\n", res, filepath.Base(d), exp.Category, exp.Object, got, took.Round(time.Microsecond), why)
	}
	w.Flush()
	cats := slices.Sorted(maps.Keys(byCat))
	fmt.Fprintln(stdout, "\nper category:")
	for _, c := range cats {
		t := byCat[c]
		fmt.Fprintf(stdout, "  %-18s %d/%d\n", c, t.pass, t.total)
	}
	fmt.Fprintf(stdout, "\noverall: %d/%d passed (%.1f%%)\n", len(dirs)-failed, len(dirs), 100*float64(len(dirs)-failed)/float64(len(dirs)))
	if failed > 0 {
		return 1
	}
	return 0
}

// judge compares a report with an expectation; why is "" when it matches.
func judge(exp Expectation, rep investigate.Report) (got, why string) {
	if rep.RootCause != nil {
		got = rep.Verdict + " " + rep.RootCause.Category + " " + rep.RootCause.Object
	} else {
		got = rep.Verdict
	}
	if exp.Verdict != "" && rep.Verdict != exp.Verdict {
		return got, "verdict " + rep.Verdict + ", want " + exp.Verdict
	}
	if exp.Verdict == "INCONCLUSIVE" {
		return got, ""
	}
	if rep.RootCause == nil {
		return got, "no root cause"
	}
	if rep.RootCause.Category != exp.Category {
		return got, "category " + rep.RootCause.Category
	}
	if exp.Object != "" && rep.RootCause.Object != exp.Object {
		return got, "object " + rep.RootCause.Object
	}
	text := strings.ToLower(rep.RootCause.Summary + " " + rep.Summary)
	for _, k := range exp.Keywords {
		if !strings.Contains(text, strings.ToLower(k)) {
			return got, "summary lacks " + fmt.Sprintf("%q", k)
		}
	}
	return got, ""
}
