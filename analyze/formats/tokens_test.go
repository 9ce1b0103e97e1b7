package formats

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// refTokens is the plain byte-at-a-time form of ssTokens: blanks end a
// token outside quotes and parentheses.
func refTokens(b []byte) [][]byte {
	var out [][]byte
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		j, depth, quoted := i, 0, false
		for ; j < len(b); j++ {
			c := b[j]
			if quoted {
				quoted = c != '"'
				continue
			}
			if c == '"' {
				quoted = true
			} else if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if (c == ' ' || c == '\t') && depth == 0 {
				break
			}
		}
		out = append(out, b[i:j])
		i = j
	}
	return out
}

// refFields is the plain form of fields.
func refFields(b []byte) [][]byte {
	var out [][]byte
	for _, f := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ' ' || r == '\t' }) {
		out = append(out, []byte(f))
	}
	return out
}

// The word-at-a-time tokenizers split like their plain forms.
func FuzzTokens(f *testing.F) {
	f.Add([]byte(`ESTAB      0      0              10.0.0.1:32768         192.0.2.0:5432 users:(("java",pid=8166,fd=10))`))
	f.Add([]byte("tcp        0      0 0.0.0.0:8443            0.0.0.0:*               LISTEN      8166/java"))
	f.Add([]byte(`a "b c" (d (e f) g) "h(" ) i	j`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if got, want := linux.SSTokens(nil, line), refTokens(line); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("ssTokens %q\n got %q\nwant %q", line, got, want)
		}
		got, want := parse.Fields(nil, line), refFields(line)
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("fields %q\n got %q\nwant %q", line, got, want)
		}
	})
}
