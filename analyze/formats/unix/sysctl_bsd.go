package unix

import (
	"bytes"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// SysctlBSDFormat reads macOS/FreeBSD `sysctl -a` (or `sysctl NAME ...`)
// output in its "name: value" form: "net.inet.tcp.msl: 15000". Values
// become sysctls under their own names; kern.ostype also sets tcpsnap.os.
var SysctlBSDFormat = &parse.Format{
	Name:        "sysctl-bsd",
	Description: "macOS/FreeBSD sysctl output (name: value)",
	Example:     "net.inet.tcp.msl: 15000",
	Detect:      detectSysctlBSD,
	Parse:       parseSysctlBSD,
}

var bsdSysctlRoots = []string{"net.", "kern.", "vm.", "hw.", "machdep.", "security.", "debug.", "vfs.", "user.", "dev.", "compat.", "p1003_1b.", "sysctl."}

// bsdSysctlLine splits "name: value"; the name must be a dotted sysctl
// name under a known root.
func bsdSysctlLine(b []byte) (name, value []byte, ok bool) {
	i := bytes.Index(b, []byte(": "))
	if i < 0 {
		if bytes.HasSuffix(b, []byte(":")) {
			i = len(b) - 1 // empty value
		} else {
			return nil, nil, false
		}
	}
	name = b[:i]
	if len(name) < 3 || len(name) > 128 || bytes.IndexByte(name, '.') < 0 {
		return nil, nil, false
	}
	root := false
	for _, r := range bsdSysctlRoots {
		if bytes.HasPrefix(name, []byte(r)) {
			root = true
			break
		}
	}
	if !root {
		return nil, nil, false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '%') {
			return nil, nil, false
		}
	}
	if i+2 <= len(b) {
		value = bytes.TrimSpace(b[i+1:])
	}
	if j := bytes.Index(value, []byte(" -> ")); j >= 0 {
		value = bytes.TrimSpace(value[j+4:]) // `sysctl -w` prints "old -> new"
	}
	return name, value, true
}

func detectSysctlBSD(head []string) int {
	n, tcp, other := 0, 0, 0
	for _, line := range head {
		t := strings.TrimSpace(line)
		if name, _, ok := bsdSysctlLine([]byte(t)); ok {
			n++
			if bytes.HasPrefix(name, []byte("net.inet")) || bytes.HasPrefix(name, []byte("kern.ipc.")) ||
				bytes.HasPrefix(name, []byte("kern.ostype")) {
				tcp++
			}
			continue
		}
		if strings.Contains(t, " = ") {
			other++ // Linux sysctl form
		}
	}
	switch {
	case n == 0 || other > n:
		return 0
	case tcp > 0 && n >= 3:
		return 85
	case tcp > 0:
		return 70
	case n >= 5:
		return 40
	}
	return 0
}

func parseSysctlBSD(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	found := false
	var last string
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		sc.ReportTooLong(out)
		if len(line) == 0 {
			continue
		}
		if line[0] == '$' || line[0] == '#' || line[0] == '%' || bytes.Contains(line, []byte("sysctl ")) {
			continue // a prompt or the command line pasted with the output
		}
		name, value, ok := bsdSysctlLine(line)
		if !ok {
			if last == "" && !found {
				out.Problemf(sc.Line(), "not a sysctl line: "+model.Clip(string(line)))
			}
			continue // continuation of a multi-line value (kern.version)
		}
		last = string(name)
		out.SetSysctl(last, string(value))
		found = true
		if last == "kern.ostype" {
			switch strings.ToLower(string(value)) {
			case "darwin":
				out.SetSysctl("tcpsnap.os", "darwin")
			case "freebsd":
				out.SetSysctl("tcpsnap.os", "freebsd")
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !found {
		return errNotSysctlBSD
	}
	return nil
}

var errNotSysctlBSD = errorString("no name: value sysctl lines")
