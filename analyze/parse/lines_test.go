package parse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// appendLine renders one line with its number and whether it was cut
// (with strconv, not fmt: fuzzing renders many thousand lines an exec).
// Long lines are rendered as their length and checksum.
func appendLine(b []byte, n int, cut bool, line []byte) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	b = strconv.AppendBool(append(b, ' '), cut)
	if len(line) > 80 {
		b = strconv.AppendInt(append(b, " len "...), int64(len(line)), 10)
		b = strconv.AppendUint(append(b, " crc "...), uint64(crc32.ChecksumIEEE(line)), 16)
		return append(b, '\n')
	}
	b = strconv.AppendQuote(append(b, ' '), string(line))
	return append(b, '\n')
}

// scanAll renders every line a scanner returns, with its number and
// whether it was cut.
func scanAll(sc *LineScanner) string {
	var b []byte
	for sc.Scan() {
		b = appendLine(b, sc.Line(), sc.TooLong(), sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		b = append(b, "error "+err.Error()+"\n"...)
	}
	return string(b)
}

// refLines is the line splitting LineScanner implements, written
// plainly: lines end at "\r\n", "\n" or a lone "\r"; a line longer than
// MaxLineBytes keeps its first MaxLineBytes bytes and is flagged.
func refLines(data []byte) string {
	var b []byte
	n := 0
	emit := func(line []byte) {
		n++
		cut := len(line) > MaxLineBytes
		if cut {
			line = line[:MaxLineBytes]
		}
		b = appendLine(b, n, cut, line)
	}
	start := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			emit(data[start:i])
			start = i + 1
		case '\r':
			emit(data[start:i])
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(data) {
		emit(data[start:])
	}
	return string(b)
}

// lineTexts are texts whose lines are easy to get wrong: line endings of
// every kind, and lines around MaxLineBytes with their ending on either
// side of a buffer's edge.
func lineTexts() []string {
	long := strings.Repeat("x", MaxLineBytes-1)
	texts := []string{
		"", "\n", "a", "a\n", "a\r\nb\r\n", "a\n\nb", "\r", "a\r", "\n\n\n",
		"a\rb\rc", "a\rb\rc\r", "\r\r\n", "a\r\r\nb", "\n\r", "a\n\rb", "\r\r\r",
		"State Recv-Q\rESTAB 0 0 a b\r\tcubic\r", "x\r\n\r\ny\r",
		long + "\n", long + "y\n", long + "yz\nnext\n", long + "\r\nnext",
		long + "y", long + "\r" + "tail\n", strings.Repeat(long+"abc\n", 3),
		long + "y\r", long + "y\r\n", long + "yz\r", long + "yz\r\n", long + "yz\rnext",
		long + "yz\r\r\n", strings.Repeat(long+"ab\r", 3), long + long + "\r\nnext",
	}
	// Line ends at and around the 2*MaxLineBytes buffer's edge.
	for _, k := range []int{bufBytes - 2, bufBytes - 1, bufBytes, bufBytes + 1} {
		short := strings.Repeat("ab\n", k/3) + strings.Repeat("c", k%3)
		for _, end := range []string{"\r\n", "\r", "\n", "\r\r"} {
			texts = append(texts, short+end+"tail")
		}
	}
	return texts
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// The buffered and the in-memory path split lines as refLines does,
// whatever sizes the reader returns.
func TestLineScannerEndings(t *testing.T) {
	for _, text := range lineTexts() {
		want := refLines([]byte(text))
		small := io.Reader(&chunkReader{strings.NewReader(text), 1})
		if len(text) > 1000 {
			small = &chunkReader{strings.NewReader(text), 997} // one byte at a time is slow here
		}
		for name, r := range map[string]io.Reader{
			"memory":   NewMemText([]byte(text)),
			"buffered": strings.NewReader(text),
			"small":    small,
			"half":     iotest.HalfReader(strings.NewReader(text)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(text)),
			"size lie": NewSizedReader(strings.NewReader(text), 1), // a small buffer that must grow
		} {
			if got := scanAll(NewLineScanner(r)); got != want {
				t.Errorf("%.60q... %s:\n%.400s\nwant\n%.400s", text, name, got, want)
			}
		}
	}
}

// Lone CRs end lines (old Mac OS text, some copy-paste paths): a listing
// with them is not one long line.
func TestLineScannerCR(t *testing.T) {
	for _, r := range []io.Reader{strings.NewReader("h\ra\r\rb\r\nc\r"), NewMemText([]byte("h\ra\r\rb\r\nc\r"))} {
		sc := NewLineScanner(r)
		var lines []string
		for sc.Scan() {
			lines = append(lines, fmt.Sprintf("%d:%s", sc.Line(), sc.Bytes()))
		}
		if got, want := strings.Join(lines, " "), "1:h 2:a 3: 4:b 5:c"; got != want {
			t.Errorf("lines %q, want %q", got, want)
		}
	}
	if n := LineEnds([]byte("h\ra\r\rb\r\nc\r")); n != 5 {
		t.Errorf("LineEnds = %d, want 5", n)
	}
}

// A read error ends the scan and is reported.
func TestLineScannerReadError(t *testing.T) {
	sc := NewLineScanner(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(io.ErrUnexpectedEOF)))
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if len(got) != 1 || got[0] != "a" || !errors.Is(sc.Err(), io.ErrUnexpectedEOF) {
		t.Errorf("lines %q, err %v", got, sc.Err())
	}
}

// A text in memory (memText) is scanned in place; the lines, their
// numbers and the cuts of long lines are those of the buffered path.
func TestLineScannerInMemory(t *testing.T) {
	for _, text := range lineTexts() {
		want := scanAll(NewLineScanner(&chunkReader{strings.NewReader(text), 997}))
		if got := scanAll(NewLineScanner(NewMemText([]byte(text)))); got != want {
			t.Errorf("%.40q...: in memory\n%s\nbuffered\n%s", text, got, want)
		}
	}
}

func FuzzLineScanner(f *testing.F) {
	f.Add([]byte("State Recv-Q\nESTAB 0 0 a b\r\n\tcubic\n"))
	f.Add([]byte("x\n\n\r\n"))
	f.Add([]byte("a\rb\r\r\nc\r"))
	f.Add([]byte("!ab\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Repeat the input to reach the line limit now and then.
		if len(data) > 0 && data[0] == '!' {
			data = bytes.Repeat(data, MaxLineBytes/len(data)+2)
		}
		want := refLines(data)
		if got := scanAll(NewLineScanner(NewMemText(data))); got != want {
			t.Fatalf("in memory\n%.500s\nwant\n%.500s", got, want)
		}
		if got := scanAll(NewLineScanner(iotest.HalfReader(bytes.NewReader(data)))); got != want {
			t.Fatalf("buffered\n%.500s\nwant\n%.500s", got, want)
		}
		ends := LineEnds(data)
		if len(data) > 0 && data[len(data)-1] != '\n' && data[len(data)-1] != '\r' {
			ends++ // the last line has no line end
		}
		if lines := strings.Count(want, "\n"); ends != lines {
			t.Fatalf("LineEnds says %d lines, the scanner %d", ends, lines)
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

// BenchmarkLineScanner reads a 16 MiB listing of 100-byte lines in place
// and through the buffer, with "\n" and "\r\n" line ends.
func BenchmarkLineScanner(b *testing.B) {
	row := "ESTAB      0      0              10.0.0.1:32768         192.0.2.7:5432 users:((\"java\",pid=8166,fd=10))"
	lf := bytes.Repeat([]byte(row+"\n"), 16<<20/(len(row)+1))
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	for _, bc := range []struct {
		name string
		data []byte
		mem  bool
	}{{"mem-lf", lf, true}, {"mem-crlf", crlf, true}, {"buf-lf", lf, false}, {"buf-crlf", crlf, false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				var r io.Reader = bytes.NewReader(bc.data)
				if bc.mem {
					r = NewMemText(bc.data)
				}
				sc := NewLineScanner(r)
				n := 0
				for sc.Scan() {
					n += len(sc.Bytes())
				}
				if n == 0 {
					b.Fatal("no lines")
				}
			}
		})
	}
}

// bigTexts are texts past crWindow and releaseStep with '\r' line ends
// far apart, next to step boundaries, and none.
func bigTexts() []string {
	line := "ESTAB 0 0 10.0.0.1:40000 192.0.2.1:443 users:((\"x\",pid=1,fd=3))\n"
	base := strings.Repeat(line, (3*crWindow)/len(line))
	return []string{
		base,
		base[:crWindow+100] + "\r" + base[crWindow+100:] + "lone\rcr\r\n",
		base[:crWindow-10] + "abcdefghijklmnopq\rrest\n" + base, // a '\r' just past the window, in a line that starts before it
		strings.Repeat(base, 3)[:releaseStep-1] + "\r\n" + base + base + base + base + base + "\r",
		"\r" + base + base + base + base + "tail without end",
	}
}

// A text past the '\r' search window scans as the buffered path does.
func TestLineScannerFarCR(t *testing.T) {
	for _, text := range bigTexts() {
		want := scanAll(NewLineScanner(&chunkReader{strings.NewReader(text), 997}))
		if got := scanAll(NewLineScanner(NewMemText([]byte(text)))); got != want {
			t.Errorf("%d bytes: in memory and buffered differ", len(text))
		}
	}
}
