package linux

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// ProcSNMPFormat reads the Linux protocol counters (formats.md §4):
// /proc/net/snmp and /proc/net/netstat ("Group: names" / "Group: values"
// line pairs), /proc/net/snmp6 ("Ip6InReceives 757") and nstat output
// ("#kernel", then "TcpExtListenOverflows 12 0.0"). Every counter is named
// "Group.Key": "Tcp.ActiveOpens", "TcpExt.ListenOverflows", "Ip6.InReceives".
// nstat without -a prints deltas since its last run; the values are
// recorded as they are. Linux `netstat -s` is a different text and is not
// read here.
var ProcSNMPFormat = &parse.Format{
	Name:        "proc-snmp",
	Description: "Linux /proc/net/snmp, /proc/net/netstat, /proc/net/snmp6 and nstat counters",
	Example:     "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors",
	Paths:       []string{"proc/net/snmp", "proc/net/netstat", "proc/net/snmp6"},
	Detect:      DetectProcSNMP,
	Parse:       ParseProcSNMP,
}

// snmpGroups are the counter groups nstat and snmp6 glue to the key,
// longest first so that "TcpExt" wins over "Tcp".
var snmpGroups = []string{
	"UdpLite6", "MPTcpExt", "UdpLite", "IcmpMsg", "TcpExt", "Icmp6", "IpExt",
	"Sctp6", "Icmp", "Udp6", "Sctp", "Ip6", "Tcp", "Udp", "Ip",
}

// SplitCounterName splits "TcpExtListenOverflows" into "TcpExt" and
// "ListenOverflows". ok is false for an unknown group.
func SplitCounterName(name string) (group, key string, ok bool) {
	for _, g := range snmpGroups {
		if len(name) > len(g) && strings.HasPrefix(name, g) {
			c := name[len(g)]
			if c >= 'A' && c <= 'Z' {
				return g, name[len(g):], true
			}
		}
	}
	return "", "", false
}

// snmpGroupLine splits "Tcp: a b c" into "Tcp" and the rest; ok is false
// when the line does not start with a group word and a colon.
func snmpGroupLine(l []byte) (group, rest []byte, ok bool) {
	i := bytes.IndexByte(l, ':')
	if i <= 0 || i+1 < len(l) && l[i+1] != ' ' {
		return nil, nil, false
	}
	for _, c := range l[:i] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return nil, nil, false
		}
	}
	return l[:i], l[i+1:], true
}

// allNumeric reports whether every field is a (possibly negative) integer.
func allNumeric(fs [][]byte) bool {
	for _, f := range fs {
		if len(f) > 0 && f[0] == '-' {
			f = f[1:]
		}
		if _, ok := model.Atoi(f); !ok && !isBigDecimal(f) {
			return false
		}
	}
	return len(fs) > 0
}

func isBigDecimal(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// nstatLine reports whether fs is "Name value [rate]" with a known group.
func nstatLine(fs [][]byte) bool {
	if len(fs) != 2 && len(fs) != 3 {
		return false
	}
	if _, _, ok := SplitCounterName(string(fs[0])); !ok {
		return false
	}
	if !allNumeric(fs[1:2]) {
		return false
	}
	if len(fs) == 3 {
		if _, err := strconv.ParseFloat(string(fs[2]), 64); err != nil {
			return false
		}
	}
	return true
}

func DetectProcSNMP(head []string) int {
	if len(head) == 0 {
		return 0
	}
	if strings.TrimSpace(head[0]) == "#kernel" {
		return 95
	}
	pairs, nstat, other := 0, 0, 0
	var fs [][]byte
	var prevGroup []byte
	prevNames := false
	for _, l := range head {
		b := []byte(l)
		if g, rest, ok := snmpGroupLine(b); ok {
			fs = parse.Fields(fs, rest)
			num := allNumeric(fs)
			if num && prevNames && bytes.Equal(g, prevGroup) {
				pairs++
				prevNames = false
				continue
			}
			prevGroup, prevNames = g, !num && len(fs) > 0
			if !prevNames {
				other++
			}
			continue
		}
		prevNames = false
		fs = parse.Fields(fs, b)
		if nstatLine(fs) {
			nstat++
			continue
		}
		other++
	}
	switch {
	case pairs > 0 && pairs >= other:
		return 95
	case pairs > 0:
		return 60
	case nstat > 0 && nstat >= 4*other:
		return 70
	case nstat > 0 && nstat >= other:
		return 40
	}
	return 0
}

var errNotSNMP = errors.New("not a /proc/net/snmp, /proc/net/netstat or nstat listing")

func ParseProcSNMP(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var fs [][]byte
	var names []string
	var nameGroup string
	nameLine := 0
	recognized := false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		sc.ReportTooLong(out)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte("#")) { // "#kernel", nstat's header
			recognized = true
			continue
		}
		if g, rest, ok := snmpGroupLine(line); ok {
			fs = parse.Fields(fs, rest)
			if nameGroup == string(g) && names != nil && allNumeric(fs) {
				recognized = true
				if len(fs) != len(names) {
					out.Problemf(n, nameGroup+": "+model.Itoa(len(names))+" names but "+model.Itoa(len(fs))+" values; zipped by position")
				}
				for i := 0; i < len(fs) && i < len(names); i++ {
					setCounterText(out, n, nameGroup+"."+names[i], fs[i])
				}
				names, nameGroup = nil, ""
				continue
			}
			if names != nil {
				out.Problemf(nameLine, nameGroup+": names line without a values line")
			}
			if allNumeric(fs) {
				out.Problemf(n, string(g)+": values line without a names line")
				names, nameGroup = nil, ""
				continue
			}
			nameGroup, nameLine = string(g), n
			names = names[:0:0]
			for _, f := range fs {
				names = append(names, string(f))
			}
			continue
		}
		if names != nil {
			out.Problemf(nameLine, nameGroup+": names line without a values line")
			names, nameGroup = nil, ""
		}
		fs = parse.Fields(fs, line)
		if nstatLine(fs) {
			recognized = true
			g, k, _ := SplitCounterName(string(fs[0]))
			setCounterText(out, n, g+"."+k, fs[1])
			continue
		}
		if len(fs) >= 2 && allNumeric(fs[1:2]) {
			// "Name value" with a group we do not know: keep the raw name.
			out.Problemf(n, "counter "+strconvQuote(fs[0])+" has no known group")
			setCounterText(out, n, string(fs[0]), fs[1])
			continue
		}
		out.Problemf(n, "not a counter line")
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if names != nil {
		out.Problemf(nameLine, nameGroup+": names line without a values line")
	}
	if !recognized {
		return errNotSNMP
	}
	return nil
}

// setCounterText records a decimal counter value; values beyond int64
// (the kernel's counters are unsigned 64-bit) become a problem.
func setCounterText(out *model.Listing, line int, name string, v []byte) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		out.Problemf(line, "counter "+name+": value "+strconvQuote(v)+" out of range")
		return
	}
	out.SetCounter(name, n)
}
