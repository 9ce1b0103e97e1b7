package parse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// MaxLineBytes is the longest line a parser sees whole. Longer lines are
// cut there and reported (LineScanner.TooLong) so that a hostile input with
// one 1 GiB line cannot exhaust memory.
const MaxLineBytes = 64 << 10

// A LineScanner reads lines without their line ending ("\n", "\r\n" or a
// lone "\r", as old Mac OS and some copy-paste paths write), counting them
// from 1, and never holds more than MaxLineBytes of one line: a longer
// line keeps its first MaxLineBytes bytes and is flagged (TooLong).
// Bytes returned by Bytes are valid until the next Scan.
//
// A text in memory (NewMemText) is scanned in place; any other reader
// through a buffer of up to bufBytes. Both cut lines the same way.
type LineScanner struct {
	behind Behind    // a text in a big mapping: its pages given back behind the scan
	r      io.Reader // nil for a text in memory
	buf    []byte    // the buffer mem is a window of, when reading r
	// mem is the unread text: all of it for a text in memory, the
	// buffered bytes otherwise.
	mem []byte
	eof bool // nothing follows mem
	// cr is the offset in mem of its first '\r', crNone when mem has
	// none (before crClean, when that is not -1), crUnknown when not
	// looked for yet: a text without '\r' is searched for one once per
	// crWindow bytes (not to its end at once: a big mapping's pages are
	// given back behind the scan, and read ahead they would all be in).
	cr      int
	crClean int
	discard bool // the rest of a cut line is still to be skipped
	line    []byte
	n       int
	tooLong bool
	err     error
}

const (
	crNone    = -1
	crUnknown = -2

	// bufBytes is the buffer of a LineScanner over a reader: room for a
	// line of MaxLineBytes, its line ending and more.
	bufBytes = 2 * MaxLineBytes

	// crWindow is how far ahead a text in memory is searched for a '\r'.
	crWindow = 1 << 20
)

// NewLineScanner returns a scanner over r.
func NewLineScanner(r io.Reader) *LineScanner {
	if m, ok := r.(*memText); ok {
		// Lines in place: no copy through a buffer.
		s := &LineScanner{mem: m.b[m.off:], eof: true, cr: crUnknown, crClean: -1}
		s.behind = NewBehind(s.mem)
		m.off = len(m.b)
		return s
	}
	size := bufBytes
	if n := SizeOf(r); n > 0 && n < bufBytes-16 {
		size = n + 16 // a small input needs no large buffer (fill grows it if n lied)
	}
	return &LineScanner{r: r, buf: make([]byte, 0, size), cr: crNone, crClean: -1}
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

// Bytes returns the unread bytes without a copy (ParseFormat parses them
// in place).
func (m *memText) Bytes() []byte { return m.b[m.off:] }

// split finds the first line in mem: its length without the line ending
// and where the next line starts. ok is false when mem holds no whole
// line yet (more bytes may follow, or mem is empty at the end).
func (s *LineScanner) split() (end, next int, ok bool) {
	b := s.mem
	nl := bytes.IndexByte(b, '\n')
	lim := nl
	if nl < 0 {
		lim = len(b)
	}
	if s.cr == crUnknown || (s.cr == crNone && s.crClean >= 0 && lim >= s.crClean) {
		w := b[:min(len(b), max(lim+1, crWindow))] // at least to the line's end
		s.crClean = -1
		if s.cr = bytes.IndexByte(w, '\r'); s.cr < 0 {
			s.cr = crNone
			if len(w) < len(b) {
				s.crClean = len(w)
			}
		}
	}
	if c := s.cr; c >= 0 && c < lim {
		// A '\r' ends the line: with the '\n' after it, or alone.
		switch {
		case c+1 == nl:
			s.cr = crUnknown
			return c, nl + 1, true
		case c+1 < len(b) || s.eof:
			s.cr = crUnknown
			return c, c + 1, true
		}
		return 0, 0, false // the last byte so far: a '\n' may follow
	}
	if nl >= 0 {
		return nl, nl + 1, true
	}
	if s.eof && len(b) > 0 {
		return len(b), len(b), true
	}
	return 0, 0, false
}

// advance drops the first k bytes of mem.
func (s *LineScanner) advance(k int) {
	s.mem = s.mem[k:]
	s.behind.Reached(s.mem)
	if s.cr >= 0 {
		if s.cr -= k; s.cr < 0 {
			s.cr = crUnknown
		}
	} else if s.cr == crNone && s.crClean >= 0 {
		if s.crClean -= k; s.crClean <= 0 {
			s.cr = crUnknown
		}
	}
}

// Scan advances to the next line; it returns false at the end of input or
// on a read error (see Err).
func (s *LineScanner) Scan() bool {
	if s.err != nil {
		return false
	}
	s.tooLong = false
	for {
		end, next, ok := s.split()
		if s.discard {
			// The rest of a line cut at MaxLineBytes: skip it.
			if ok {
				s.advance(next)
				s.discard = false
				continue
			}
			keep := 0 // a '\r' at the end may start a "\r\n"
			if len(s.mem) > 0 && s.mem[len(s.mem)-1] == '\r' {
				keep = 1
			}
			s.advance(len(s.mem) - keep)
		} else if ok {
			line := s.mem[:end]
			s.advance(next)
			if len(line) > MaxLineBytes {
				line, s.tooLong = line[:MaxLineBytes], true
			}
			s.n++
			s.line = line
			return true
		} else if have := len(s.mem) - s.trailingCR(); have > MaxLineBytes {
			// Longer than a line may be: keep its start, skip the rest.
			s.line = s.mem[:MaxLineBytes]
			s.advance(MaxLineBytes)
			s.discard, s.tooLong = true, true
			s.n++
			return true
		}
		if s.eof {
			s.err = io.EOF
			return false
		}
		if !s.fill() {
			return false
		}
	}
}

// trailingCR is 1 when mem ends with '\r', else 0.
func (s *LineScanner) trailingCR() int {
	if len(s.mem) > 0 && s.mem[len(s.mem)-1] == '\r' {
		return 1
	}
	return 0
}

// fill moves the unread bytes to the start of the buffer and reads more
// after them. It returns false on a read error (kept in err).
func (s *LineScanner) fill() bool {
	n := len(s.mem)
	if n == cap(s.buf) && n < bufBytes {
		// Full without a line end: a larger buffer, up to bufBytes.
		s.buf = make([]byte, 0, min(2*n, bufBytes))
	}
	if cap(s.mem) != cap(s.buf) { // not at the start of the buffer
		copy(s.buf[:n], s.mem)
	}
	s.mem = s.buf[:n]
	for range 100 {
		m, err := s.r.Read(s.buf[n:cap(s.buf)])
		if m < 0 || m > cap(s.buf)-n {
			m = 0
		}
		n += m
		s.mem = s.buf[:n]
		if m > 0 && s.cr == crNone {
			s.cr = crUnknown
		}
		switch {
		case errors.Is(err, io.EOF):
			s.eof = true
			return true
		case err != nil:
			s.err = err
			return false
		case m > 0:
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// LineEnds counts the line endings in b as a LineScanner sees them: each
// "\n", "\r\n" and lone "\r".
func LineEnds(b []byte) int {
	if len(b) < releaseStep || !Mapped(b) {
		return lineEnds(b)
	}
	// A big mapping, counted in steps that give its pages back.
	n, behind := 0, NewBehind(b)
	for rest := b; len(rest) > 0; {
		k := min(len(rest), 4<<20)
		if k < len(rest) && rest[k-1] == '\r' && rest[k] == '\n' {
			k++ // a "\r\n" stays in one step
		}
		n += lineEnds(rest[:k])
		rest = rest[k:]
		behind.Reached(rest)
	}
	return n
}

// lineEnds is LineEnds counted at once.
func lineEnds(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if cr := bytes.Count(b, []byte{'\r'}); cr > 0 {
		n += cr - bytes.Count(b, []byte("\r\n"))
	}
	return n
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

// QuoteLine quotes a line a parser could not read, for a problem message:
// without its surrounding blanks, cut after 60 bytes (at a character
// boundary), control bytes and invalid UTF-8 escaped.
func QuoteLine(line []byte) string {
	line = bytes.TrimSpace(line)
	if len(line) > 60 {
		cut := 60
		for cut > 56 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		return strconv.Quote(string(line[:cut])) + "..."
	}
	return strconv.Quote(string(line))
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
