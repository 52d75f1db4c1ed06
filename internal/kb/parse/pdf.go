package parse

import (
	"bytes"
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
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
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
