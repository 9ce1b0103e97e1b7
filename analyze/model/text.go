package model

import "strconv"

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
