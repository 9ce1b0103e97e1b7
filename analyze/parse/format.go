package parse

import (
	"bytes"
	"io"
	"io/fs"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// A Format is one input format tcpsnap reads. Each lives in its own file
// (ss.go, netstat_linux.go, proc_net_tcp.go, ...) and is listed once in
// the formats table below: adding a format is one new file and one line.
type Format struct {
	Name        string // stable identifier, used by --input-format and in reports
	Description string
	Example     string // one real line of the format, for `tcpsnap formats`

	// Paths are bundle paths (or base names, matched against the end of
	// the path) that identify the format without looking at the content,
	// for example "proc/net/tcp".
	Paths []string

	// Detect scores how sure the format is that the first lines (at most
	// detectLines non-empty ones, already decoded and without '\r') are its
	// own: 0 = no, 100 = certain. It must be cheap and must not panic.
	Detect func(head []string) int

	// Parse reads the whole input into out. It returns an error only when
	// the input is not this format at all; bad lines become out.Problem
	// entries (with their line number) and parsing goes on.
	Parse func(r io.Reader, out *model.Listing) error

	// Cut, when set, says that a record starts at this line (without its
	// line end) such that parsing the text in pieces cut before such lines
	// gives the same sockets, problems and richness, in the same order, as
	// parsing it whole: a large listing is then parsed on several cores
	// (see parseFormat). So the parser's state at a line Cut accepts must
	// not depend on the lines before it — no "we are in the UNIX sockets
	// section" a piece starting there would not know; Cut must accept
	// only lines the parser takes as a record start whatever precedes
	// them. Formats whose rows depend on earlier lines leave it nil. The
	// formats tests check the property on every testdata case and
	// crafted inputs (TestPiecesPropertyAllCases) and fuzz it.
	Cut func(line []byte) bool

	// CutWhole, when set, reports that a text of a format with Cut must
	// still be parsed whole: it holds something that changes how the
	// lines after it parse (a second table's header, say).
	CutWhole func(text []byte) bool
}

// DetectLines is how many non-empty lines Detect sees at most.
const DetectLines = 50

// A Detection is one format's verdict on an input.
type Detection struct {
	Format *Format
	Score  int
}

// HeadLines returns up to detectLines non-empty lines from the start of
// data (at most its first 64 KiB), without line endings: they end where a
// LineScanner ends them ("\n", "\r\n" or a lone "\r").
func HeadLines(data []byte) []string {
	if len(data) > 64<<10 {
		data = data[:64<<10]
	}
	var head []string
	sc := NewLineScanner(NewMemText(data))
	for len(head) < DetectLines && sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		head = append(head, string(line))
	}
	return head
}

// PresizeSockets reserves room for the sockets of an input whose size is
// known (one per bytesPerRow bytes), because growing a slice of a million
// ~240-byte sockets by doubling costs more than parsing them.
func PresizeSockets(r io.Reader, out *model.Listing, bytesPerRow int) {
	if out.Sockets != nil || bytesPerRow <= 0 {
		return
	}
	if n := SizeOf(r); n > 0 {
		out.Sockets = make([]model.Socket, 0, min(n/bytesPerRow+16, 1<<24))
		model.AdviseHugePages(out.Sockets)
	}
}

// SizeOf returns the byte size of a reader when it can tell: a
// bytes.Reader or strings.Reader, an *os.File, or the loader's sized
// reader; 0 when unknown.
func SizeOf(r io.Reader) int {
	switch v := r.(type) {
	case interface{ Len() int }:
		return v.Len()
	case interface{ Size() int64 }:
		if n := v.Size(); n > 0 && n < 1<<40 {
			return int(n)
		}
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < 1<<40 {
			return int(fi.Size())
		}
	}
	return 0
}

// SizedReader tells parsers how large the input it wraps is.
type SizedReader struct {
	io.Reader
	size int64
}

// NewSizedReader is r, known to hold size bytes.
func NewSizedReader(r io.Reader, size int64) SizedReader { return SizedReader{r, size} }

func (s SizedReader) Size() int64 { return s.size }
