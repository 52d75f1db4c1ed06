package parse

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML extracts the visible text of a page: block elements end lines,
// h1–h6 start sections, script/style/template/head content is dropped
// (except <title>), and runs of white space collapse as a browser would.
func parseHTML(data []byte) (Doc, error) {
	// Invalid bytes become U+FFFD so offsets index valid UTF-8.
	data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	z := html.NewTokenizer(bytes.NewReader(data))
	var b builder
	title := ""
	skip := 0        // depth inside elements whose text is not shown
	inTitle := false // inside <title>
	heading := 0     // level of the open h1–h6, 0 outside
	var head strings.Builder
	pre := 0
	// last is the last byte written (0 before any); pending is a space
	// owed before the next word, written lazily so no line ends in one.
	var last byte
	pending := false
	put := func(s string) {
		if s == "" {
			return
		}
		b.b.WriteString(s)
		last = s[len(s)-1]
	}
	write := func(s string) {
		if heading > 0 {
			head.WriteString(s)
		}
		if pre > 0 {
			put(s)
			pending = false
			return
		}
		if s != "" && isSpace(s[0]) {
			pending = true
		}
		for i, f := range strings.Fields(s) {
			if (i > 0 || pending) && last != 0 && last != '\n' {
				put(" ")
			}
			put(f)
			pending = false
		}
		if s != "" && isSpace(s[len(s)-1]) {
			pending = true
		}
	}
	newline := func() {
		if last != 0 && last != '\n' {
			put("\n")
		}
		pending = false
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return Doc{}, err
			}
			newline()
			if title == "" && len(b.sections) > 0 {
				for _, s := range b.sections {
					if len(s.HeadingPath) > 0 {
						title = s.HeadingPath[0]
						break
					}
				}
			}
			return b.doc(strings.TrimSpace(title)), nil
		case html.TextToken:
			text := html.UnescapeString(string(z.Text()))
			switch {
			case inTitle:
				title += text
			case skip == 0:
				write(text)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Svg, atom.Head:
				if tt == html.SelfClosingTagToken {
					continue
				}
				if start {
					skip++
				} else if skip > 0 {
					skip--
				}
				continue
			case atom.Title:
				inTitle = start && tt != html.SelfClosingTagToken
				continue
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				if skip > 0 {
					continue
				}
				level := int(name[1] - '0')
				if start {
					newline()
					heading = level
					head.Reset()
					b.cut()
				} else if heading > 0 {
					// The heading's own line opens its section: the
					// section was cut at the start tag, so only the path
					// changes here.
					if text := strings.Join(strings.Fields(head.String()), " "); text != "" {
						b.setPath(heading, text)
					}
					newline()
					heading = 0
				}
				continue
			case atom.Pre:
				if tt == html.SelfClosingTagToken {
					continue
				}
				newline()
				if start {
					pre++
				} else if pre > 0 {
					pre--
				}
				continue
			case atom.Br:
				newline()
				continue
			}
			if skip == 0 && block[a] {
				newline()
			} else if skip == 0 && (a == atom.Td || a == atom.Th) && start {
				pending = true // cells of a row are words apart
			}
		}
	}
}

var block = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Tr: true,
	atom.Table: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Blockquote: true, atom.Dd: true, atom.Dt: true, atom.Dl: true, atom.Hr: true, atom.Nav: true,
	atom.Main: true, atom.Aside: true, atom.Figure: true, atom.Figcaption: true, atom.Form: true,
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }
