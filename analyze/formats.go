package analyze

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"strings"
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
	Parse func(r io.Reader, out *Listing) error

	// Cut, when set, says that a record starts at this line (without its
	// newline) such that parsing the text in pieces cut before such lines
	// gives the same sockets, problems and richness, in the same order, as
	// parsing it whole: a large listing is then parsed on several cores
	// (see parseFormat). Formats whose rows depend on earlier lines leave
	// it nil.
	Cut func(line []byte) bool

	// CutWhole, when set, reports that a text of a format with Cut must
	// still be parsed whole: it holds something that changes how the
	// lines after it parse (a second table's header, say).
	CutWhole func(text []byte) bool
}

// formats is the table of every supported format, most specific first.
// Detection picks the highest score; ties go to the earlier entry.
var formats = []*Format{
	procNetTCPFormat,
	procSNMPFormat,
	procSockstatFormat,
	ssSummaryFormat,
	netstatBSDFormat,
	netstatBSDListenFormat,
	netstatSolarisFormat,
	nddFormat,
	sysctlBSDFormat,
	netstatWindowsFormat,
	lsofFormat,
	getNetTCPFormat,
	netshDynamicPortFormat,
	winRegFormat,
	ssFormat,
	netstatLinuxFormat,
	sysctlFormat,
	uniqCountsFormat,
}

// Formats returns the supported formats in detection order.
func Formats() []*Format { return formats }

// FormatByName returns the named format, or nil.
func FormatByName(name string) *Format {
	for _, f := range formats {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// formatByPath returns the format a bundle path names, or nil.
func formatByPath(p string) *Format {
	p = path.Clean(p)
	for _, f := range formats {
		for _, want := range f.Paths {
			if p == want || strings.HasSuffix(p, "/"+want) {
				return f
			}
		}
	}
	return nil
}

// detectLines is how many non-empty lines Detect sees at most.
const detectLines = 50

// A Detection is one format's verdict on an input.
type Detection struct {
	Format *Format
	Score  int
}

// detect scores every format against the head of an input and returns the
// best (nil when nothing scored) and all scores for error messages.
func detect(head []string) (best *Detection, all []Detection) {
	for _, f := range formats {
		if f.Detect == nil {
			continue
		}
		sc := f.Detect(head)
		all = append(all, Detection{f, sc})
		if sc > 0 && (best == nil || sc > best.Score) {
			best = &Detection{f, sc}
		}
	}
	return best, all
}

// A Listing is what one parser made of one input.
type Listing struct {
	Sockets []Socket
	// Infos holds the sockets' tcp_info (ss -i); see Info.
	Infos    []TCPInfo
	Counters map[string]int64
	Sysctls  map[string]string
	// Families lists the address families the socket table covers
	// (4, 6 or both): /proc/net/tcp covers 4 only, ss covers both.
	Families []int
	// Richness ranks socket tables describing the same instant: the richest
	// is counted, the others only fill in missing fields.
	Richness int
	Problems []Problem // Path is filled in by the loader
	// StateCounts and OwnerCounts are count summaries (uniq -c) that
	// stand in for a socket table: state -> sockets, and state ->
	// "pid/program" -> sockets ("" = state not said).
	StateCounts map[string]int
	OwnerCounts map[string]map[string]int

	// richBase and richHas are what Richness was made of (setRichness),
	// so that listings parsed in pieces can be joined.
	richBase int
	richHas  richness
}

// richness says which optional columns a socket table had; each adds to
// Listing.Richness once.
type richness uint8

const (
	richOwners richness = 1 << iota // process names or PIDs: +20
	richTimers                      // timers: +10
	richInfo                        // tcp_info: +10
	richInodes                      // inodes: +5
)

var richBonus = [...]int{20, 10, 10, 5}

// setRichness sets Richness to base plus the bonus of each column had.
func (l *Listing) setRichness(base int, has richness) {
	l.richBase, l.richHas, l.Richness = base, has, base
	for i, b := range richBonus {
		if has&(1<<i) != 0 {
			l.Richness += b
		}
	}
}

// Info returns the tcp_info of one of the listing's sockets, nil when
// the listing had none for it.
func (l *Listing) Info(s *Socket) *TCPInfo { return infoOf(l.Infos, s) }

// Problemf records a problem at a line of the input.
func (l *Listing) Problemf(line int, msg string) {
	l.Problems = append(l.Problems, Problem{Line: line, Message: msg})
}

// SetCounter records a counter value.
func (l *Listing) SetCounter(name string, v int64) {
	if l.Counters == nil {
		l.Counters = make(map[string]int64)
	}
	l.Counters[name] = v
}

// SetSysctl records a kernel setting.
func (l *Listing) SetSysctl(name, v string) {
	if l.Sysctls == nil {
		l.Sysctls = make(map[string]string)
	}
	l.Sysctls[name] = v
}

// headLines returns up to detectLines non-empty lines from the start of
// data (at most its first 64 KiB), without line endings.
func headLines(data []byte) []string {
	if len(data) > 64<<10 {
		data = data[:64<<10]
	}
	var head []string
	for len(data) > 0 && len(head) < detectLines {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		head = append(head, string(line))
	}
	return head
}

// presizeSockets reserves room for the sockets of an input whose size is
// known (one per bytesPerRow bytes), because growing a slice of a million
// ~240-byte sockets by doubling costs more than parsing them.
func presizeSockets(r io.Reader, out *Listing, bytesPerRow int) {
	if out.Sockets != nil || bytesPerRow <= 0 {
		return
	}
	if n := sizeOf(r); n > 0 {
		out.Sockets = make([]Socket, 0, min(n/bytesPerRow+16, 1<<24))
	}
}

// sizeOf returns the byte size of a reader when it can tell: a
// bytes.Reader or strings.Reader, an *os.File, or the loader's sized
// reader; 0 when unknown.
func sizeOf(r io.Reader) int {
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

// sizedReader tells parsers how large the input it wraps is.
type sizedReader struct {
	io.Reader
	size int64
}

func (s sizedReader) Size() int64 { return s.size }
