package parse

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
		if got := scanAll(NewLineScanner(NewMemText([]byte(text)))); got != want {
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
		if got := scanAll(NewLineScanner(NewMemText(data))); got != want {
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
		got := HasByteBelow29(binary.LittleEndian.Uint64(w[:]))
		if (got != 0) != (first >= 0) || (first >= 0 && bits.TrailingZeros64(got)/8 != first) {
			t.Fatalf("%q: got %#x, first byte below 0x29 at %d", w, got, first)
		}
	}
}
