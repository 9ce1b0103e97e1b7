package analyze

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// windowsTCPIPFormat reads the Windows host settings the collectors save
// next to netstat: `netsh int ipv4 show dynamicport tcp` (the ephemeral
// range) and the Tcpip\Parameters registry values, either as the
// collectors write them ("TcpTimedWaitDelay = 30") or as `reg query`
// prints them ("    TcpTimedWaitDelay    REG_DWORD    0x1e"). It records
// windows.dynamicport.tcp.start / .num and windows.<ValueName>, and marks
// the snapshot as Windows.
var windowsTCPIPFormat = &Format{
	Name:        "windows-tcpip",
	Description: "Windows netsh int ipv4 show dynamicport tcp, Tcpip\\Parameters registry values",
	Example:     "Start Port      : 49152",
	Detect:      detectWindowsTCPIP,
	Parse:       parseWindowsTCPIP,
}

// winRegValue splits a registry line into name and decimal value.
func winRegValue(line string) (name, value string, ok bool) {
	fs := strings.Fields(line)
	switch {
	case len(fs) == 3 && fs[1] == "=":
		name, value = fs[0], fs[2]
	case len(fs) == 3 && strings.HasPrefix(fs[1], "REG_"):
		name, value = fs[0], fs[2]
		if h, found := strings.CutPrefix(value, "0x"); found {
			n, err := strconv.ParseUint(h, 16, 64)
			if err != nil {
				return "", "", false
			}
			value = strconv.FormatUint(n, 10)
		}
	default:
		return "", "", false
	}
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return "", "", false
	}
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			return "", "", false
		}
	}
	if _, err := strconv.Atoi(value); err != nil {
		return "", "", false
	}
	return name, value, true
}

// winPortLine reads "Start Port      : 49152" (any language): a label, a
// colon, one number.
func winPortLine(line string) (int, bool) {
	_, v, ok := strings.Cut(line, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= 0 && n <= 65535
}

// winTCPIPKnown are registry values whose presence makes a file certain.
var winTCPIPKnown = []string{"TcpTimedWaitDelay", "MaxUserPort", "TcpNumConnections", "MaxFreeTcbs"}

func detectWindowsTCPIP(head []string) int {
	score := 0
	for _, l := range head {
		switch {
		case strings.Contains(l, "Dynamic Port Range") || strings.Contains(l, "Start Port") || strings.Contains(l, "Number of Ports"):
			score = max(score, 90)
		}
		if name, _, ok := winRegValue(l); ok {
			for _, k := range winTCPIPKnown {
				if strings.TrimSuffix(name, ".present") == k {
					score = max(score, 90)
				}
			}
		}
	}
	return score
}

func parseWindowsTCPIP(r io.Reader, out *Listing) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ports []int
	dashes, found := false, false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(string(bytes.TrimRight(sc.Bytes(), "\r")), " \t")
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(strings.TrimSpace(line), "---"):
			dashes = true
		case dashes && strings.Contains(line, ":"):
			if p, ok := winPortLine(line); ok {
				ports = append(ports, p)
				found = true
			} else {
				out.Problemf(n, "not a port line: "+clip(line))
			}
		default:
			if name, v, ok := winRegValue(line); ok {
				out.SetSysctl("windows."+name, v)
				found = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(ports) >= 2 && ports[0] > 0 && ports[1] > 0 {
		out.SetSysctl("windows.dynamicport.tcp.start", strconv.Itoa(ports[0]))
		out.SetSysctl("windows.dynamicport.tcp.num", strconv.Itoa(ports[1]))
	} else if len(ports) > 0 {
		out.Problemf(0, "dynamic port range without both start and number of ports")
	}
	if !found {
		return errors.New("no dynamic port range or Tcpip registry value")
	}
	out.SetSysctl("tcpsnap.os", "windows")
	return nil
}
