package analyze

import (
	"bytes"
	"fmt"
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

// A text in memory (MemText) is scanned in place; the lines, their
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
