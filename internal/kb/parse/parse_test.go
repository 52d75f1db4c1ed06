package parse

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if strings.ContainsRune(d.Title+d.Text, 0) {
		t.Fatalf("title or text holds a NUL")
	}
	for _, s := range d.Sections {
		if strings.ContainsRune(strings.Join(s.HeadingPath, ""), 0) {
			t.Fatalf("a heading holds a NUL: %q", s.HeadingPath)
		}
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
	// A NUL (PostgreSQL text cannot hold one) becomes a space, offsets kept.
	for _, f := range []string{Markdown, Text, HTML} {
		d, err := Parse(f, []byte("# a\x00b\n\nline \x00 two\n"))
		if err != nil {
			t.Fatalf("%s with a NUL: %v", f, err)
		}
		checkDoc(t, d)
		if f != HTML && !strings.Contains(d.Text, "line   two") { // HTML collapses spaces
			t.Errorf("%s with a NUL: text %q", f, d.Text)
		}
	}
}

// TestPDFMalformedTree feeds PDFs whose page tree loops. The PDF reader
// walks /Kids and /Parent without noticing a cycle: the first (found by
// FuzzPDF) made the parser run forever; an uploaded file would have held a
// worker's CPU for good, again at every retry. Each edit keeps the byte
// length, so the cross-reference offsets stay right.
func TestPDFMalformedTree(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("testdata/failover.pdf")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"kids include their parent", "/Kids [3 0 R 4 0 R]", "/Kids [2 0 R 4 0 R]", "page tree nested too deep or too large"},
		{"a page is its own parent", "/Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R /Resources",
			"/Parent 3 0 R /MediaBox [0 0 612 792] /Contents 5 0 R /Resourcez", "read pdf page 1: its /Parent chain is deeper than 64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(good), c.old) {
				t.Fatalf("testdata/failover.pdf has no %q", c.old)
			}
			data := []byte(strings.Replace(string(good), c.old, c.new, 1))
			done := make(chan error, 1)
			go func() {
				_, err := Parse(PDF, data)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("Parse = %v, want an error containing %q", err, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Parse still running after 30 s")
			}
		})
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
