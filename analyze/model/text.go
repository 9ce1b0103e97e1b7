package model

import (
	"strconv"
	"strings"
	"unicode"
)

// Atoi parses a non-negative decimal integer without allocating.
func Atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func Itoa(n int) string { return strconv.Itoa(n) }

// Clip shortens input text quoted in a problem message to 80 bytes.
func Clip[T ~string | ~[]byte](b T) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// Thousands writes n with commas between groups of three digits:
// 312004 gives "312,004".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Plural writes a count with its noun: "1 socket", "2 sockets".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// CleanText makes text from an input safe to print: line breaks and tabs
// become spaces, other control characters (ANSI escapes, NULs) go, so a
// hostile process name cannot drive a terminal or break a layout.
func CleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// MarkdownText escapes text from an input for Markdown prose or a table
// cell: it is cleaned (CleanText), runs of spaces are one, and every
// character Markdown or HTML could read as markup is escaped — except an
// underscore inside a word (CLOSE_WAIT), which is no emphasis.
func MarkdownText(s string) string {
	rs := []rune(strings.Join(strings.Fields(CleanText(s)), " "))
	word := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))
	}
	var b strings.Builder
	for i, r := range rs {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '_':
			if !word(i-1) || !word(i+1) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '\\', '`', '*', '[', ']', '#', '|', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
