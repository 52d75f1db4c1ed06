package kb

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/kb/parse"
)

// Default chunking (KB_CHUNK_SIZE, KB_CHUNK_OVERLAP).
const (
	DefaultChunkSize    = 1500
	DefaultChunkOverlap = 200
)

// Passage is one cut of a parsed document, before embedding.
type Passage struct {
	HeadingPath []string
	Text        string
	Start, End  int
}

// Split cuts a document into passages of at most size bytes. It never
// crosses a section boundary, so every passage has one heading path; inside
// a long section consecutive passages overlap by about overlap bytes so a
// sentence cut at a boundary is whole in one of them. Cuts prefer a
// paragraph break, then a line break, then a sentence end, then a space, in
// the last part of the window; they never split a UTF-8 character.
// Sections of only white space yield nothing.
func Split(doc parse.Doc, size, overlap int) []Passage {
	if size <= 0 {
		size = DefaultChunkSize
	}
	if overlap < 0 || overlap >= size/2 {
		overlap = min(max(overlap, 0), size/2-1)
	}
	var out []Passage
	for _, sec := range doc.Sections {
		start, end := sec.Start, sec.End
		for start < end {
			// Skip leading white space: a passage starts at text.
			for start < end && isSpaceByte(doc.Text[start]) {
				start++
			}
			if start >= end {
				break
			}
			stop := end
			if stop-start > size {
				stop = cutPoint(doc.Text, start, start+size)
			}
			textEnd := stop
			for textEnd > start && isSpaceByte(doc.Text[textEnd-1]) {
				textEnd--
			}
			out = append(out, Passage{HeadingPath: sec.HeadingPath, Text: doc.Text[start:textEnd], Start: start, End: textEnd})
			if stop >= end {
				break
			}
			next := stop - overlap
			// Start the overlap at a word boundary, never before the
			// passage just made (progress is guaranteed by overlap < size/2).
			for next < stop && next > start && !isSpaceByte(doc.Text[next-1]) {
				next++
			}
			for next < stop && !utf8.RuneStart(doc.Text[next]) {
				next++
			}
			if next <= start {
				next = stop
			}
			start = next
		}
	}
	return out
}

// cutPoint picks where to end a passage that starts at start and may end
// at limit at the latest.
func cutPoint(s string, start, limit int) int {
	floor := start + (limit-start)/2
	window := s[floor:limit]
	for _, sep := range []string{"\n\n", "\n", ". ", "? ", "! ", " "} {
		if i := strings.LastIndex(window, sep); i >= 0 {
			return floor + i + len(sep)
		}
	}
	// No break at all (a long token): cut at a character boundary.
	for limit > start+1 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return limit
}

func isSpaceByte(c byte) bool { return c < utf8.RuneSelf && unicode.IsSpace(rune(c)) }
