package model

import (
	"strconv"
	"strings"
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
