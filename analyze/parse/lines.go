package parse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// MaxLineBytes is the longest line a parser sees whole. Longer lines are
// cut there and reported (LineScanner.TooLong) so that a hostile input with
// one 1 GiB line cannot exhaust memory.
const MaxLineBytes = 64 << 10

// A LineScanner reads lines without their line ending ("\n" or "\r\n"),
// counting them from 1, and never holds more than MaxLineBytes of one line.
// Bytes returned by Bytes are valid until the next Scan.
type LineScanner struct {
	br      *bufio.Reader
	mem     []byte // the unread text, when it is in memory (a *memText)
	line    []byte
	buf     []byte
	n       int
	tooLong bool
	err     error
}

// NewLineScanner returns a scanner over r.
func NewLineScanner(r io.Reader) *LineScanner {
	if m, ok := r.(*memText); ok {
		// Lines in place: no copy through a buffer.
		s := &LineScanner{mem: m.b[m.off:]}
		m.off = len(m.b)
		if len(s.mem) == 0 {
			s.err = io.EOF
		}
		return s
	}
	return &LineScanner{br: bufio.NewReaderSize(r, MaxLineBytes)}
}

// memText is a text in memory to read from, like a bytes.Reader; a
// LineScanner over it returns lines in place.
type memText struct {
	b   []byte
	off int
}

// NewMemText returns a reader of b.
func NewMemText(b []byte) *memText { return &memText{b: b} }

func (m *memText) Read(p []byte) (int, error) {
	if m.off >= len(m.b) {
		return 0, io.EOF
	}
	n := copy(p, m.b[m.off:])
	m.off += n
	return n, nil
}

// Len returns the number of unread bytes.
func (m *memText) Len() int { return len(m.b) - m.off }

// scanMem is Scan over a text in memory; it cuts lines where the buffered
// path does: a line of MaxLineBytes or more bytes keeps its first
// MaxLineBytes.
func (s *LineScanner) scanMem() bool {
	if s.err != nil {
		return false
	}
	s.tooLong = false
	frag := s.mem
	if i := bytes.IndexByte(s.mem, '\n'); i >= 0 {
		frag, s.mem = s.mem[:i], s.mem[i+1:]
	} else {
		s.mem = nil
	}
	if len(s.mem) == 0 {
		s.err = io.EOF
	}
	if len(frag) >= MaxLineBytes {
		frag, s.tooLong = frag[:MaxLineBytes], true
	}
	s.n++
	s.line = bytes.TrimSuffix(frag, []byte{'\r'})
	return true
}

// Scan advances to the next line; it returns false at the end of input or
// on a read error (see Err).
func (s *LineScanner) Scan() bool {
	if s.br == nil {
		return s.scanMem()
	}
	if s.err != nil {
		return false
	}
	s.tooLong = false
	frag, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Keep the first MaxLineBytes, drop the rest of the line.
		s.buf = append(s.buf[:0], frag...)
		s.tooLong = true
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.br.ReadSlice('\n')
		}
		frag = s.buf
	}
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
		return false
	}
	if len(frag) == 0 && errors.Is(err, io.EOF) {
		s.err = io.EOF
		return false
	}
	if errors.Is(err, io.EOF) {
		s.err = io.EOF // last line without newline: return it, stop next time
	}
	s.n++
	frag = bytes.TrimSuffix(frag, []byte{'\n'})
	frag = bytes.TrimSuffix(frag, []byte{'\r'})
	s.line = frag
	return true
}

// Bytes returns the current line.
func (s *LineScanner) Bytes() []byte { return s.line }

// Text returns the current line as a string (allocates).
func (s *LineScanner) Text() string { return string(s.line) }

// Line returns the 1-based number of the current line.
func (s *LineScanner) Line() int { return s.n }

// TooLong reports whether the current line was cut at MaxLineBytes.
func (s *LineScanner) TooLong() bool { return s.tooLong }

// Err returns the first read error, or nil at a clean end of input.
func (s *LineScanner) Err() error {
	if errors.Is(s.err, io.EOF) {
		return nil
	}
	return s.err
}

// EightBlanks is eight spaces read as one little-endian word: aligned ss
// columns are padded with long runs of them.
const EightBlanks = 0x2020202020202020

// HasByteBelow29 is non-zero when a byte of x is below 0x29 (blanks,
// '"' and '(' among them); the lowest such byte is always flagged.
func HasByteBelow29(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (x - ones*0x29) & ^x & highs
}

// Fields splits b on runs of spaces and tabs into dst (reused) without
// allocating new strings: the returned slices alias b.
func Fields(dst [][]byte, b []byte) [][]byte { return FieldsN(dst, b, len(b)) }

// FieldsN is fields that stops after the first n fields: the rest of a
// long padded row is not looked at.
func FieldsN(dst [][]byte, b []byte, n int) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(b) && len(dst) < n {
		for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == EightBlanks {
			i += 8 // padded columns: eight blanks at a time
		}
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		j := i
		for j+8 <= len(b) && HasByteBelow29(binary.LittleEndian.Uint64(b[j:])) == 0 {
			j += 8 // no blank among eight bytes
		}
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		dst = append(dst, b[i:j])
		i = j
	}
	return dst
}

// Fields returns the current line split like fields, and records a
// problem in out when the line was cut at MaxLineBytes.
func (s *LineScanner) Fields(dst [][]byte, out *model.Listing) [][]byte {
	s.ReportTooLong(out)
	return Fields(dst, s.line)
}

// ReportTooLong records a problem in out when the current line was cut at
// MaxLineBytes.
func (s *LineScanner) ReportTooLong(out *model.Listing) {
	if s.tooLong {
		out.Problemf(s.n, "line longer than "+model.Itoa(MaxLineBytes>>10)+" KiB, cut")
	}
}

// ParseDecimal parses "123" or "0.024" without allocating. The value is
// computed as mantissa / 10^decimals so that "1.864" is the float nearest
// to 1.864.
func ParseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var mant int64
	decimals := -1 // -1: no dot yet
	digits := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			mant = mant*10 + int64(c-'0')
			if decimals >= 0 {
				decimals++
			}
		case c == '.' && decimals < 0:
			decimals = 0
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	if decimals <= 0 {
		return float64(mant), true
	}
	return float64(mant) / pow10[decimals], true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}
