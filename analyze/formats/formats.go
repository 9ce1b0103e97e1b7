package formats

import (
	"path"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/formats/unix"
	"github.com/tcpsnap/tcpsnap/analyze/formats/windows"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// formats is the table of every supported format, most specific first.
// Detection picks the highest score; ties go to the earlier entry.
var formats = []*parse.Format{
	linux.ProcNetTCPFormat,
	linux.ProcSNMPFormat,
	linux.ProcSockstatFormat,
	linux.SSSummaryFormat,
	unix.NetstatBSDFormat,
	unix.NetstatBSDListenFormat,
	unix.NetstatSolarisFormat,
	unix.NDDFormat,
	unix.SysctlBSDFormat,
	windows.NetstatWindowsFormat,
	unix.LsofFormat,
	windows.GetNetTCPFormat,
	windows.NetshDynamicPortFormat,
	windows.WinRegFormat,
	linux.SSFormat,
	linux.NetstatLinuxFormat,
	linux.SysctlFormat,
	UniqCountsFormat,
}

// Formats returns the supported formats in detection order.
func Formats() []*parse.Format { return formats }

// FormatByName returns the named format, or nil.
func FormatByName(name string) *parse.Format {
	for _, f := range formats {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// FormatByPath returns the format a bundle path names, or nil.
func FormatByPath(p string) *parse.Format {
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

// Detect scores every format against the head of an input and returns the
// best (nil when nothing scored) and all scores for error messages.
func Detect(head []string) (best *parse.Detection, all []parse.Detection) {
	for _, f := range formats {
		if f.Detect == nil {
			continue
		}
		sc := f.Detect(head)
		all = append(all, parse.Detection{Format: f, Score: sc})
		if sc > 0 && (best == nil || sc > best.Score) {
			best = &parse.Detection{Format: f, Score: sc}
		}
	}
	return best, all
}
