package linux

import (
	"bytes"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// SysctlFormat reads `sysctl -a` style output: "net.ipv4.tcp_fin_timeout =
// 60". Runs of blanks inside a value ("32768\t60999") become one space.
// "sysctl: permission denied on key ..." and other "sysctl: ..." messages
// become problems.
var SysctlFormat = &parse.Format{
	Name:        "sysctl",
	Description: "sysctl -a output (name = value)",
	Example:     "net.ipv4.tcp_fin_timeout = 60",
	Detect:      detectSysctl,
	Parse:       ParseSysctl,
}

// sysctlLine splits "a.b.c = value" into name and raw value.
func sysctlLine(l []byte) (name, value []byte, ok bool) {
	i := bytes.Index(l, []byte(" = "))
	if i < 0 {
		if bytes.HasSuffix(l, []byte(" =")) { // empty value, trailing blank trimmed
			i = len(l) - 2
		} else {
			return nil, nil, false
		}
	}
	name = bytes.TrimSpace(l[:i])
	if !validSysctlName(name) {
		return nil, nil, false
	}
	if i+3 <= len(l) {
		value = l[i+3:]
	}
	return name, value, true
}

// validSysctlName accepts dotted lower-case names such as
// "net.ipv4.conf.eth0/100.rp_filter" (an interface name may contain
// upper case, '-', '/', '@').
func validSysctlName(b []byte) bool {
	if len(b) < 3 || bytes.IndexByte(b, '.') <= 0 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '-', c == '/', c == '@', c == ':':
		default:
			return false
		}
	}
	return b[len(b)-1] != '.'
}

// normalizeSysctlValue trims a value and folds internal runs of blanks
// to one space.
func normalizeSysctlValue(v []byte) string {
	var b strings.Builder
	for i, f := range parse.Fields(nil, v) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(f)
	}
	return b.String()
}

func detectSysctl(head []string) int {
	good, msgs, other := 0, 0, 0
	for _, l := range head {
		if _, _, ok := sysctlLine([]byte(l)); ok {
			good++
			continue
		}
		if strings.HasPrefix(l, "sysctl: ") {
			msgs++
			continue
		}
		other++
	}
	switch {
	case good >= 2 && other == 0:
		return 80
	case good >= 1 && good >= 2*other:
		return 60
	case good >= 1 && good >= other:
		return 30
	}
	return 0
}

var errNotSysctl = errors.New("not sysctl output")

func ParseSysctl(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	recognized := false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if name, v, ok := sysctlLine(line); ok {
			recognized = true
			out.SetSysctl(string(name), normalizeSysctlValue(v))
			continue
		}
		if bytes.HasPrefix(line, []byte("sysctl: ")) {
			recognized = true
			out.Problemf(n, string(bytes.TrimSpace(line)))
			continue
		}
		out.Problemf(n, "not a sysctl line")
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !recognized {
		return errNotSysctl
	}
	return nil
}

// SysctlFromProcPath maps a bundle path under proc/sys to the sysctl
// name: "proc/sys/net/ipv4/tcp_fin_timeout" and
// "samples/0/proc/sys/net/ipv4/tcp_fin_timeout" give
// "net.ipv4.tcp_fin_timeout". A '.' inside a component (an interface
// "eth0.100") becomes '/', as sysctl prints it. ok is false for paths
// outside proc/sys.
func SysctlFromProcPath(p string) (name string, ok bool) {
	p = path.Clean("/" + p)
	const marker = "/proc/sys/"
	i := strings.Index(p, marker)
	if i < 0 {
		return "", false
	}
	rest := p[i+len(marker):]
	if rest == "" {
		return "", false
	}
	parts := strings.Split(rest, "/")
	for i, c := range parts {
		if c == "" {
			return "", false
		}
		parts[i] = strings.ReplaceAll(c, ".", "/")
	}
	return strings.Join(parts, "."), true
}
