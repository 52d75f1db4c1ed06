package parse

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ledongthuc/pdf"
)

// parsePDF extracts each page's text as a section headed "Page N". PDFs
// carry no reliable heading structure, so pages are the sections. The PDF
// reader is pure Go; it panics on some malformed files, which becomes an
// error here (the fuzz test feeds it garbage).
func parsePDF(data []byte) (doc Doc, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = Doc{}, fmt.Errorf("read pdf: malformed file (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Doc{}, fmt.Errorf("read pdf: %w", err)
	}
	var b builder
	title := ""
	if info := r.Trailer().Key("Info"); !info.IsNull() {
		title = strings.TrimSpace(info.Key("Title").Text())
	}
	pages, err := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return Doc{}, fmt.Errorf("read pdf: %w", err)
	}
	for n, p := range pages {
		i := n + 1 // pages are numbered from 1
		// The reader looks up a page's inherited fonts and resources
		// through /Parent until it finds them, without noticing a cycle.
		if !pdfChainEnds(p.V) {
			return Doc{}, fmt.Errorf("read pdf page %d: its /Parent chain is deeper than %d (a cycle?)", i, pdfMaxDepth)
		}
		// Rows keep the page's lines apart (GetPlainText glues them).
		rows, err := p.GetTextByRow()
		if err != nil {
			return Doc{}, fmt.Errorf("read pdf page %d: %w", i, err)
		}
		var lines []string
		for _, row := range rows {
			var line strings.Builder
			for _, w := range row.Content {
				line.WriteString(w.S)
			}
			if l := strings.TrimSpace(line.String()); l != "" {
				lines = append(lines, l)
			}
		}
		text := strings.ToValidUTF8(strings.Join(lines, "\n"), "\uFFFD")
		if text == "" {
			continue
		}
		b.heading(1, "Page "+strconv.Itoa(i))
		b.b.WriteString(text)
		b.b.WriteString("\n\n")
	}
	d := b.doc(title)
	if strings.TrimSpace(d.Text) == "" {
		return Doc{}, fmt.Errorf("read pdf: no text found (a scanned PDF needs OCR, which Aurora does not do)")
	}
	return d, nil
}

// Bounds on a PDF's page tree. Real files nest a few levels (writers build
// balanced trees of 10 or more kids per node); a cycle or a shared subtree
// repeated level after level stops at these instead of running forever.
const (
	pdfMaxDepth = 64
	pdfMaxNodes = 100_000
)

var errPDFPageTree = errors.New("page tree nested too deep or too large (a cycle?)")

// pdfPages lists a PDF's pages in document order, walking its page tree
// from the /Pages root. The reader's own Page(n) follows /Kids without
// noticing a cycle (a file whose page tree contains itself made it loop
// forever), and NumPage trusts /Count, which a file can set to billions.
func pdfPages(root pdf.Value) ([]pdf.Page, error) {
	var pages []pdf.Page
	nodes := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		nodes++
		if depth > pdfMaxDepth || nodes > pdfMaxNodes {
			return errPDFPageTree
		}
		// As the reader's Page(n): only nodes typed Pages or Page count.
		switch v.Key("Type").Name() {
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
		case "Page":
			pages = append(pages, pdf.Page{V: v})
		}
		return nil
	}
	return pages, walk(root, 0)
}

// pdfChainEnds reports whether v's /Parent chain ends within pdfMaxDepth
// steps, so that the reader's walks up it end too.
func pdfChainEnds(v pdf.Value) bool {
	for range pdfMaxDepth {
		if v = v.Key("Parent"); v.IsNull() {
			return true
		}
	}
	return false
}
