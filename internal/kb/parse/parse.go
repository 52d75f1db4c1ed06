// Package parse turns uploaded knowledge-base files (Markdown, plain text,
// HTML, PDF) into plain text with the headings that structure it, so the
// chunker can cut along sections and every chunk can name its heading path
// and byte offsets.
package parse

import (
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Formats.
const (
	Markdown = "markdown"
	Text     = "text"
	HTML     = "html"
	PDF      = "pdf"
)

// ErrUnsupported is returned for a file of a format Parse does not read.
var ErrUnsupported = errors.New("unsupported document format")

// Doc is a parsed document.
type Doc struct {
	// Title is the document's own title (Markdown's first top heading,
	// HTML's <title>), or "" when it has none.
	Title string
	// Text is the extracted text; offsets below index into it.
	Text string
	// Sections cover Text in order without gaps: each has the chain of
	// headings above it.
	Sections []Section
}

// Section is a run of Text under one heading path.
type Section struct {
	HeadingPath []string
	Start, End  int
}

// Format picks the format from the content type, else the file name's
// extension; ErrUnsupported when neither names a known one.
func Format(name, contentType string) (string, error) {
	if ct, _, err := mime.ParseMediaType(contentType); err == nil {
		switch ct {
		case "text/markdown", "text/x-markdown":
			return Markdown, nil
		case "text/html", "application/xhtml+xml":
			return HTML, nil
		case "application/pdf":
			return PDF, nil
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown", ".mdown":
		return Markdown, nil
	case ".txt", ".text", ".log", ".rst", "":
		return Text, nil
	case ".html", ".htm", ".xhtml":
		return HTML, nil
	case ".pdf":
		return PDF, nil
	}
	if ct, _, err := mime.ParseMediaType(contentType); err == nil && ct == "text/plain" {
		return Text, nil
	}
	return "", fmt.Errorf("%w: %q (want Markdown, plain text, HTML or PDF)", ErrUnsupported, name)
}

// Parse reads data in format. The text it returns holds no NUL: a NUL
// byte (which Markdown and plain text may hold, and a PDF's or a page's
// text may decode to) becomes a space, so the offsets stay, and the
// chunks can be stored (PostgreSQL text cannot hold a NUL).
func Parse(format string, data []byte) (Doc, error) {
	d, err := parse(format, data)
	if err != nil {
		return d, err
	}
	d.Title = noNUL(d.Title)
	d.Text = noNUL(d.Text)
	for i := range d.Sections {
		for j, h := range d.Sections[i].HeadingPath {
			d.Sections[i].HeadingPath[j] = noNUL(h)
		}
	}
	return d, nil
}

func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", " ") }

func parse(format string, data []byte) (Doc, error) {
	switch format {
	case Markdown:
		if !utf8.Valid(data) {
			return Doc{}, errors.New("markdown is not valid UTF-8")
		}
		return parseMarkdown(string(data)), nil
	case Text:
		if !utf8.Valid(data) {
			return Doc{}, errors.New("text is not valid UTF-8")
		}
		return plain(string(data)), nil
	case HTML:
		return parseHTML(data)
	case PDF:
		return parsePDF(data)
	}
	return Doc{}, fmt.Errorf("%w: %q", ErrUnsupported, format)
}

func plain(s string) Doc {
	return Doc{Text: s, Sections: []Section{{HeadingPath: []string{}, Start: 0, End: len(s)}}}
}

// builder accumulates text and closes a section whenever the heading path
// changes.
type builder struct {
	b        strings.Builder
	sections []Section
	path     []string
	start    int
	levels   []int
}

// heading starts a new section under a heading of level (1 = top).
func (b *builder) heading(level int, title string) {
	b.cut()
	b.setPath(level, title)
}

// setPath puts the open section under a heading of level.
func (b *builder) setPath(level int, title string) {
	for len(b.levels) > 0 && b.levels[len(b.levels)-1] >= level {
		b.levels = b.levels[:len(b.levels)-1]
		b.path = b.path[:len(b.path)-1]
	}
	b.levels = append(b.levels, level)
	b.path = append(b.path, title)
}

func (b *builder) cut() {
	end := b.b.Len()
	if end > b.start {
		b.sections = append(b.sections, Section{HeadingPath: append([]string{}, b.path...), Start: b.start, End: end})
	}
	b.start = end
}

func (b *builder) doc(title string) Doc {
	b.cut()
	if len(b.sections) == 0 {
		b.sections = []Section{{HeadingPath: []string{}, Start: 0, End: 0}}
	}
	return Doc{Title: title, Text: b.b.String(), Sections: b.sections}
}
