package parse

import "strings"

// parseMarkdown keeps the source as the text (an LLM reads Markdown well
// and offsets then point into the file as written) and finds ATX (# …) and
// setext (underlined) headings outside fenced code blocks.
func parseMarkdown(src string) Doc {
	var b builder
	title := ""
	fence := ""
	lines := strings.SplitAfter(src, "\n")
	for i, line := range lines {
		trim := strings.TrimRight(line, "\r\n")
		lead := strings.TrimLeft(trim, " ")
		if len(trim)-len(lead) <= 3 {
			if fence != "" {
				if strings.HasPrefix(lead, fence) && strings.Trim(lead, fence[:1]) == "" {
					fence = ""
				}
			} else if strings.HasPrefix(lead, "```") || strings.HasPrefix(lead, "~~~") {
				fence = lead[:3]
			} else if level, text, ok := atx(lead); ok {
				b.heading(level, text)
				if title == "" && level == 1 {
					title = text
				}
			} else if i+1 < len(lines) && strings.TrimSpace(trim) != "" {
				if level := setext(lines[i+1]); level > 0 {
					b.heading(level, strings.TrimSpace(trim))
					if title == "" && level == 1 {
						title = strings.TrimSpace(trim)
					}
				}
			}
		}
		b.b.WriteString(line)
	}
	return b.doc(title)
}

func atx(line string) (int, string, bool) {
	level := 0
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 {
		return 0, "", false
	}
	rest := line[level:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	text := strings.TrimSpace(rest)
	// A closing sequence of #s is not part of the heading.
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ")) {
		text = strings.TrimSpace(t)
	}
	if text == "" {
		return 0, "", false
	}
	return level, text, true
}

func setext(next string) int {
	t := strings.TrimSpace(next)
	if len(t) < 2 {
		return 0
	}
	switch {
	case strings.Trim(t, "=") == "":
		return 1
	case strings.Trim(t, "-") == "":
		return 2
	}
	return 0
}
