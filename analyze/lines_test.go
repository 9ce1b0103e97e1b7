package analyze

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll renders every line a scanner returns, with its number and
// whether it was cut.
func scanAll(sc *LineScanner) string {
	var b strings.Builder
	for sc.Scan() {
		fmt.Fprintf(&b, "%d %v %q\n", sc.Line(), sc.TooLong(), sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(&b, "error %v\n", err)
	}
	return b.String()
}

// A text in memory (memText) is scanned in place; the lines, their
// numbers and the cuts of long lines are those of the buffered path.
func TestLineScannerInMemory(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes-1)
	for _, text := range []string{
		"", "\n", "a", "a\n", "a\r\nb\r\n", "a\n\nb", "\r", "a\r", "\n\n\n",
		long + "\n", long + "y\n", long + "yz\nnext\n", long + "\r\nnext",
		long + "y", long + "\r" + "tail\n", strings.Repeat(long+"abc\n", 3),
	} {
		want := scanAll(NewLineScanner(iotest.OneByteReader(strings.NewReader(text))))
		if got := scanAll(NewLineScanner(newMemText([]byte(text)))); got != want {
			t.Errorf("%.40q...: in memory\n%s\nbuffered\n%s", text, got, want)
		}
	}
}

func FuzzLineScanner(f *testing.F) {
	f.Add([]byte("State Recv-Q\nESTAB 0 0 a b\r\n\tcubic\n"))
	f.Add([]byte("x\n\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Repeat the input to reach the line limit now and then.
		if len(data) > 0 && data[0] == '!' {
			data = bytes.Repeat(data, MaxLineBytes/len(data)+2)
		}
		want := scanAll(NewLineScanner(bytes.NewReader(data)))
		if got := scanAll(NewLineScanner(newMemText(data))); got != want {
			t.Fatalf("in memory\n%.500s\nbuffered\n%.500s", got, want)
		}
	})
}

// hasByteBelow29 flags a word exactly when one of its bytes is below 0x29,
// and its lowest flagged byte is the first such byte.
func TestHasByteBelow29(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		var w [8]byte
		for k := range w {
			switch r.IntN(4) {
			case 0:
				w[k] = byte(r.IntN(256))
			case 1:
				w[k] = byte(0x26 + r.IntN(6)) // around the boundary
			default:
				w[k] = byte(0x29 + r.IntN(0x80-0x29))
			}
		}
		first := -1
		for k, c := range w {
			if c < 0x29 {
				first = k
				break
			}
		}
		got := hasByteBelow29(binary.LittleEndian.Uint64(w[:]))
		if (got != 0) != (first >= 0) || (first >= 0 && bits.TrailingZeros64(got)/8 != first) {
			t.Fatalf("%q: got %#x, first byte below 0x29 at %d", w, got, first)
		}
	}
}

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
		if got, want := ssTokens(nil, line), refTokens(line); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("ssTokens %q\n got %q\nwant %q", line, got, want)
		}
		got, want := fields(nil, line), refFields(line)
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("fields %q\n got %q\nwant %q", line, got, want)
		}
	})
}
