package windows

import (
	"io"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// WinRegFormat reads the Windows TCP/IP registry settings
// (HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters) in the two
// forms tcpsnap meets: "Name = value" lines, as tcpsnap collect and
// tcpsnap-collect.ps1 write them into a Windows bundle's sysctl.txt
// ("TcpTimedWaitDelay = 30"), and raw `reg query` output
// ("    TcpTimedWaitDelay    REG_DWORD    0x1e"). Values become sysctls
// named "windows.<Name>" (windows.TcpTimedWaitDelay, windows.MaxUserPort),
// DWORDs in decimal.
var WinRegFormat = &parse.Format{
	Name:        "windows-registry",
	Description: "Windows Tcpip\\Parameters registry values (reg query, or Name = value)",
	Example:     "    TcpTimedWaitDelay    REG_DWORD    0x1e",
	Detect:      detectWinReg,
	Parse:       parseWinReg,
}

// winTCPValues are Tcpip\Parameters value names; detection needs one.
var winTCPValues = map[string]bool{
	"TcpTimedWaitDelay": true, "MaxUserPort": true, "TcpNumConnections": true,
	"MaxFreeTcbs": true, "MaxHashTableSize": true, "TcpMaxDataRetransmissions": true,
	"KeepAliveTime": true, "KeepAliveInterval": true, "TcpFinWait2Delay": true,
	"StrictTimeWaitSeqCheck": true, "SynAttackProtect": true, "EnableDynamicBacklog": true,
	"TcpMaxSynRetransmissions": true, "TcpMaxConnectRetransmissions": true,
	"TcpTimedWaitDelay.present": true,
}

// winRegName reports whether s is a registry value name as the Tcpip key
// holds them: a letter first, then letters, digits, '.', '_' or '-'.
func winRegName(s string) bool {
	if s == "" || len(s) > 128 || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// winRegLine splits one line into name and value: "Name = value", or
// "    Name    REG_TYPE    value" (a name with blanks, such as "NV
// Hostname", is kept whole). DWORD and QWORD values become decimal.
func winRegLine(line string) (name, value string, ok bool) {
	if f := strings.Fields(line); len(f) >= 2 {
		for i := 1; i < len(f); i++ {
			if !strings.HasPrefix(f[i], "REG_") {
				continue
			}
			name = strings.Join(f[:i], " ")
			value = strings.Join(f[i+1:], " ")
			if f[i] == "REG_DWORD" || f[i] == "REG_QWORD" {
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(value), "0x"), 16, 64)
				if err != nil {
					return "", "", false
				}
				value = strconv.FormatUint(n, 10)
			}
			return name, value, name != ""
		}
	}
	n, v, found := strings.Cut(line, " = ")
	if !found {
		if n, found = strings.CutSuffix(strings.TrimRight(line, " "), " ="); !found {
			return "", "", false
		}
	}
	n = strings.TrimSpace(n)
	if !winRegName(n) || strings.ToLower(n) == n {
		return "", "", false // all lower case: a sysctl, not a registry value
	}
	return n, strings.TrimSpace(v), true
}

func detectWinReg(head []string) int {
	known, lines, other := 0, 0, 0
	hkey := false
	for _, l := range head {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(strings.ToUpper(t), "HKEY_LOCAL_MACHINE\\") {
			hkey = true
			continue
		}
		name, _, ok := winRegLine(l)
		switch {
		case ok && winTCPValues[name]:
			known++
			lines++
		case ok:
			lines++
		default:
			other++
		}
	}
	switch {
	case known > 0 && other <= lines:
		return 90
	case hkey && lines > 0:
		return 60
	}
	return 0
}

func parseWinReg(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(strings.ToUpper(t), "HKEY_") || strings.HasPrefix(t, "#") {
			continue
		}
		name, value, ok := winRegLine(line)
		if !ok {
			continue // reg query's "End of search" and other chatter
		}
		if strings.ContainsRune(name, ' ') {
			continue // "NV Hostname" and friends: not TCP settings
		}
		out.SetSysctl("windows."+name, value)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(out.Sysctls) > 0 {
		out.SetSysctl("tcpsnap.os", "windows")
	}
	return nil
}
