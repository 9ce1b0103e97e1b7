package analyze

import (
	"bytes"
	"io"
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
	windowsTCPIPFormat,
	lsofFormat,
	getNetTCPFormat,
	ssFormat,
	netstatLinuxFormat,
	sysctlFormat,
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
	Sockets  []Socket
	Counters map[string]int64
	Sysctls  map[string]string
	// Families lists the address families the socket table covers
	// (4, 6 or both): /proc/net/tcp covers 4 only, ss covers both.
	Families []int
	// Richness ranks socket tables describing the same instant: the richest
	// is counted, the others only fill in missing fields.
	Richness int
	Problems []Problem // Path is filled in by the loader
}

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
