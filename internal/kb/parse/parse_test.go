package parse

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden is what a parse renders to: the title, each section's heading
// path and its text.
type golden struct {
	Title    string          `json:"title"`
	Sections []goldenSection `json:"sections"`
}

type goldenSection struct {
	HeadingPath []string `json:"heading_path"`
	Start       int      `json:"start"`
	End         int      `json:"end"`
	Text        string   `json:"text"`
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"runbook.md", "notes.txt", "page.html", "failover.pdf"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			format, err := Format(name, "")
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(format, data)
			if err != nil {
				t.Fatal(err)
			}
			checkDoc(t, doc)
			g := golden{Title: doc.Title}
			for _, s := range doc.Sections {
				g.Sections = append(g.Sections, goldenSection{s.HeadingPath, s.Start, s.End, doc.Text[s.Start:s.End]})
			}
			got, _ := json.MarshalIndent(g, "", "  ")
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Errorf("%s parsed differently from %s:\n%s", name, path, got)
			}
		})
	}
}

// checkDoc asserts the invariants every parse must keep: sections in
// order, without gaps or overlap, covering the whole text, and valid UTF-8.
func checkDoc(t *testing.T, d Doc) {
	t.Helper()
	if !utf8.ValidString(d.Text) {
		t.Fatalf("text is not valid UTF-8")
	}
	at := 0
	for i, s := range d.Sections {
		if s.Start != at || s.End < s.Start || s.End > len(d.Text) {
			t.Fatalf("section %d [%d,%d) does not continue at %d (text %d bytes)", i, s.Start, s.End, at, len(d.Text))
		}
		at = s.End
	}
	if at != len(d.Text) {
		t.Fatalf("sections end at %d, text has %d bytes", at, len(d.Text))
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, ct, want string }{
		{"a.md", "", Markdown},
		{"a.MARKDOWN", "application/octet-stream", Markdown},
		{"upload", "text/markdown; charset=utf-8", Markdown},
		{"a.txt", "", Text},
		{"README", "", Text},
		{"x.htm", "", HTML},
		{"x", "text/html", HTML},
		{"x.pdf", "", PDF},
		{"x.bin", "application/pdf", PDF},
		{"x.docx", "", ""},
		{"x.png", "image/png", ""},
	}
	for _, c := range cases {
		got, err := Format(c.name, c.ct)
		if c.want == "" {
			if err == nil {
				t.Errorf("Format(%q,%q) = %q, want ErrUnsupported", c.name, c.ct, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Format(%q,%q) = %q %v, want %q", c.name, c.ct, got, err, c.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Parse(PDF, []byte("%PDF-1.4 nonsense")); err == nil {
		t.Error("a truncated PDF parsed")
	}
	if _, err := Parse(Markdown, []byte{0xff, 0xfe, 'a'}); err == nil {
		t.Error("invalid UTF-8 Markdown parsed")
	}
}

func fuzz(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(format, data)
		if err != nil {
			return
		}
		checkDoc(t, doc)
	})
}

func FuzzMarkdown(f *testing.F) {
	b, _ := os.ReadFile("testdata/runbook.md")
	fuzz(f, Markdown, string(b), "# a\n## b\n# c", "x\n===\n", "```\n# no\n", "####### seven")
}

func FuzzHTML(f *testing.F) {
	b, _ := os.ReadFile("testdata/page.html")
	fuzz(f, HTML, string(b), "<h1>a<h2>b</h1>", "<pre><pre></pre>", "<script>", "<h3></h3>x", "\xff<p>\x00")
}

func FuzzPDF(f *testing.F) {
	b, _ := os.ReadFile("testdata/failover.pdf")
	fuzz(f, PDF, string(b), "%PDF-1.4\n", "")
}
