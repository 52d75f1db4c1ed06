package kb

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/kb/parse"
)

// TestSplitProperties checks, over generated documents and several sizes:
// every passage is the document's text at its offsets; no non-space byte of
// any section is lost; consecutive passages of a section overlap by at most
// the overlap; passages stay within one section and carry its heading path.
func TestSplitProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"pod", "restart", "the", "database", "pool", "é", "日本語", "connection-refused", "\n\n", "\n", ". ", "x" + strings.Repeat("y", 300)}
	for iter := range 300 {
		var md strings.Builder
		for s := range 1 + rng.IntN(6) {
			md.WriteString(strings.Repeat("#", 1+rng.IntN(3)) + " Heading " + string(rune('A'+s)) + "\n")
			for range rng.IntN(900) {
				md.WriteString(words[rng.IntN(len(words))])
				md.WriteString(" ")
			}
			md.WriteString("\n")
		}
		doc, err := parse.Parse(parse.Markdown, []byte(md.String()))
		if err != nil {
			t.Fatal(err)
		}
		size := []int{100, 400, 1500}[iter%3]
		overlap := []int{0, 20, 200}[iter%3]
		checkSplit(t, doc, size, overlap)
	}
}

func TestSplitRealDocument(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("parse/testdata/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := parse.Parse(parse.Markdown, data)
	ps := checkSplit(t, doc, 60, 15)
	var paths [][]string
	for _, p := range ps {
		if len(paths) == 0 || !slices.Equal(paths[len(paths)-1], p.HeadingPath) {
			paths = append(paths, p.HeadingPath)
		}
	}
	want := [][]string{
		{"Payments runbook"},
		{"Payments runbook", "High latency"},
		{"Payments runbook", "High latency", "Mitigation"},
		{"Payments runbook", "Queue backlog"},
		{"Payments runbook", "Contacts"},
	}
	if !slices.EqualFunc(paths, want, slices.Equal) {
		t.Fatalf("heading paths %q, want %q", paths, want)
	}
	if def := Split(doc, 0, DefaultChunkOverlap); len(def) != len(doc.Sections) {
		t.Fatalf("default size: %d passages for %d short sections", len(def), len(doc.Sections))
	}
}

func checkSplit(t *testing.T, doc parse.Doc, size, overlap int) []Passage {
	t.Helper()
	ps := Split(doc, size, overlap)
	covered := make([]bool, len(doc.Text))
	for i, p := range ps {
		if doc.Text[p.Start:p.End] != p.Text {
			t.Fatalf("passage %d text is not text[%d:%d]", i, p.Start, p.End)
		}
		if len(p.Text) > size {
			t.Fatalf("passage %d has %d bytes > size %d", i, len(p.Text), size)
		}
		if !utf8.ValidString(p.Text) || strings.TrimSpace(p.Text) == "" {
			t.Fatalf("passage %d is empty or cuts a character: %q", i, p.Text)
		}
		in := false
		for _, s := range doc.Sections {
			if p.Start >= s.Start && p.End <= s.End {
				in = slices.Equal(s.HeadingPath, p.HeadingPath)
			}
		}
		if !in {
			t.Fatalf("passage %d [%d,%d) crosses a section or lost its heading path %q", i, p.Start, p.End, p.HeadingPath)
		}
		if i > 0 && ps[i-1].End > p.Start && slices.Equal(ps[i-1].HeadingPath, p.HeadingPath) {
			if ov := ps[i-1].End - p.Start; ov > overlap {
				t.Fatalf("passages %d and %d overlap by %d > %d", i-1, i, ov, overlap)
			}
		}
		for j := p.Start; j < p.End; j++ {
			covered[j] = true
		}
	}
	for j, c := range covered {
		if !c && !unicode.IsSpace(rune(doc.Text[j])) {
			t.Fatalf("byte %d (%q) of the text is in no passage (size %d overlap %d)", j, doc.Text[max(0, j-10):min(len(doc.Text), j+10)], size, overlap)
		}
	}
	return ps
}

func TestSplitOverlapPresent(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("alpha beta gamma delta. ", 200)
	doc, _ := parse.Parse(parse.Text, []byte(text))
	ps := Split(doc, 500, 100)
	if len(ps) < 5 {
		t.Fatalf("%d passages", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		if ov := ps[i-1].End - ps[i].Start; ov < 50 {
			t.Fatalf("passages %d,%d overlap by %d bytes, want about 100", i-1, i, ov)
		}
	}
}
