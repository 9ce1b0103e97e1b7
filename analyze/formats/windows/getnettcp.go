package windows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// GetNetTCPFormat reads PowerShell Get-NetTCPConnection output: the default
// table and the Export-Csv / ConvertTo-Csv form (with or without the
// #TYPE line, ',' or ';' (-UseCulture) separated).
var GetNetTCPFormat = &parse.Format{
	Name:        "get-nettcpconnection",
	Description: "PowerShell Get-NetTCPConnection table or Export-Csv/ConvertTo-Csv output",
	Example:     "0.0.0.0                             135       0.0.0.0                             0          Listen                     1012",
	Detect:      detectGetNetTCP,
	Parse:       parseGetNetTCP,
}

// psStates maps the TcpState enum names (lower case) and, for CSV written
// from the raw CIM value, their MIB_TCP_STATE numbers (unverified: every
// capture seen so far carries the names).
var psStates = map[string]model.State{
	"closed": model.Close, "listen": model.Listen, "synsent": model.SynSent, "synreceived": model.SynRecv,
	"established": model.Established, "finwait1": model.FinWait1, "finwait2": model.FinWait2,
	"closewait": model.CloseWait, "closing": model.Closing, "lastack": model.LastAck,
	"timewait": model.TimeWait, "deletetcb": model.Close, "bound": model.Bound,
	"1": model.Close, "2": model.Listen, "3": model.SynSent, "4": model.SynRecv, "5": model.Established,
	"6": model.FinWait1, "7": model.FinWait2, "8": model.CloseWait, "9": model.Closing, "10": model.LastAck,
	"11": model.TimeWait, "12": model.Close, "100": model.Bound,
}

func psState(w string) (model.State, bool) {
	s, ok := psStates[strings.ToLower(w)]
	return s, ok
}

// psTableHeader reports whether fs is the table header line.
func psTableHeader(fs [][]byte) bool {
	return len(fs) >= 5 && string(fs[0]) == "LocalAddress" && string(fs[1]) == "LocalPort" &&
		string(fs[2]) == "RemoteAddress"
}

// psCSVHeader returns the separator of a CSV header line naming the
// LocalAddress and LocalPort columns, or 0.
func psCSVHeader(b []byte) byte {
	if !bytes.Contains(b, []byte(`"LocalAddress"`)) || !bytes.Contains(b, []byte(`"LocalPort"`)) {
		return 0
	}
	if bytes.Contains(b, []byte(`";"`)) {
		return ';'
	}
	return ','
}

func detectGetNetTCP(head []string) int {
	var fs [][]byte
	for _, l := range head {
		b := []byte(l)
		if psCSVHeader(b) != 0 {
			return 90
		}
		fs = parse.Fields(fs, b)
		if psTableHeader(fs) {
			return 90
		}
	}
	return 0
}

var errNotGetNetTCP = errors.New("not Get-NetTCPConnection output")

func parseGetNetTCP(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var fs [][]byte
	mode := 0 // 0: before a header, 't': table, ',' or ';': CSV
	var col map[string]int
	for sc.Scan() {
		n := sc.Line()
		line := sc.Bytes()
		fs = sc.Fields(fs, out)
		if len(fs) == 0 {
			continue
		}
		if sep := psCSVHeader(line); sep != 0 {
			mode = int(sep)
			col = csvColumns(line, sep)
			continue
		}
		if psTableHeader(fs) {
			mode = 't'
			continue
		}
		switch mode {
		case 't':
			if fs[0][0] == '-' || bytes.HasPrefix(fs[0], []byte("PS")) && len(fs) > 1 && bytes.HasSuffix(fs[len(fs)-1], []byte(">")) {
				continue // the dashes under the header, a prompt
			}
			if len(fs) < 4 {
				if _, num := model.Atoi(fs[min(1, len(fs)-1)]); num && len(fs) > 1 {
					out.Problemf(n, "row cut short: "+model.Clip(line))
				}
				continue // a prompt or other output after the table
			}
			// LocalAddress LocalPort RemoteAddress RemotePort State
			// [AppliedSetting] OwningProcess; AppliedSetting (Internet,
			// Datacenter, ...) is empty for listening and bound sockets.
			var state, pid []byte
			var rest [][]byte
			if len(fs) >= 5 {
				state, rest = fs[4], fs[5:]
			}
			if len(rest) > 0 {
				if _, ok := model.Atoi(rest[len(rest)-1]); ok {
					pid = rest[len(rest)-1]
					rest = rest[:len(rest)-1]
				}
			}
			if len(rest) > 1 {
				out.Problemf(n, fmt.Sprintf("unexpected fields after the state: %q", model.Clip(bytes.Join(rest, []byte(" ")))))
			}
			psRow(out, n, fs[0], fs[1], fs[2], fs[3], state, pid)
		case ',', ';':
			rec, err := csvRecord(line, byte(mode))
			if err != nil {
				out.Problemf(n, "bad CSV line: "+err.Error())
				continue
			}
			get := func(name string) []byte {
				if i, ok := col[name]; ok && i < len(rec) {
					return []byte(rec[i])
				}
				return nil
			}
			psRow(out, n, get("LocalAddress"), get("LocalPort"), get("RemoteAddress"), get("RemotePort"),
				get("State"), get("OwningProcess"))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if mode == 0 {
		return errNotGetNetTCP
	}
	out.Families = []int{4, 6}
	out.Richness = 60 // addresses, state and owning PID; no queues or timers
	return nil
}

func csvRecord(line []byte, sep byte) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma = rune(sep)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	return cr.Read()
}

func csvColumns(line []byte, sep byte) map[string]int {
	rec, _ := csvRecord(line, sep)
	m := make(map[string]int, len(rec))
	for i, name := range rec {
		if _, dup := m[name]; !dup {
			m[name] = i
		}
	}
	return m
}

// psRow adds one connection from its column values.
func psRow(out *model.Listing, n int, laddr, lport, raddr, rport, state, pid []byte) {
	if len(laddr) == 0 || len(lport) == 0 {
		out.Problemf(n, "row without local address or port")
		return
	}
	if truncated(laddr) || truncated(raddr) {
		out.Problemf(n, "address cut by the table width (use Format-Table -AutoSize or Export-Csv)")
		return
	}
	local, err := model.ParseEndpoint(joinAddrPort(laddr, lport), false)
	if err != nil {
		out.Problemf(n, fmt.Sprintf("bad local address %q port %q", model.Clip(laddr), model.Clip(lport)))
		return
	}
	if len(raddr) == 0 {
		raddr = []byte("0.0.0.0")
	}
	if len(rport) == 0 {
		rport = []byte("0")
	}
	remote, err := model.ParseEndpoint(joinAddrPort(raddr, rport), false)
	if err != nil {
		out.Problemf(n, fmt.Sprintf("bad remote address %q port %q", model.Clip(raddr), model.Clip(rport)))
		return
	}
	s := model.NewSocket()
	s.Local, s.LocalName = local.AddrPort, local.Name
	s.Remote, s.RemoteName = remote.AddrPort, remote.Name
	s.Family = 4
	if local.Name == model.NoName {
		s.Family = model.Family(local.AddrPort.Addr())
	}
	if st, ok := psState(string(state)); ok {
		s.State = st
	} else {
		s.State = model.Unknown
		if len(state) == 0 {
			out.Problemf(n, "row without a state")
		} else {
			out.Problemf(n, fmt.Sprintf("unknown state word %q", model.Clip(state)))
		}
	}
	if len(pid) > 0 {
		if v, ok := model.Atoi(pid); ok && v <= 1<<31-1 {
			s.PID = int(v)
			if name, sys := model.WindowsSystemPIDs[s.PID]; sys {
				s.Process = model.Intern(name)
			}
		} else {
			out.Problemf(n, fmt.Sprintf("bad OwningProcess %q", model.Clip(pid)))
		}
	}
	out.Sockets = append(out.Sockets, s)
}

// truncated reports whether PowerShell cut a value to fit its column.
func truncated(b []byte) bool {
	return bytes.HasSuffix(b, []byte("...")) || bytes.HasSuffix(b, []byte("…"))
}

// joinAddrPort makes "addr:port" ("[v6]:port" for IPv6) for ParseEndpoint.
func joinAddrPort(addr, port []byte) []byte {
	b := make([]byte, 0, len(addr)+len(port)+3)
	if bytes.IndexByte(addr, ':') >= 0 {
		b = append(b, '[')
		b = append(b, addr...)
		b = append(b, ']')
	} else {
		b = append(b, addr...)
	}
	b = append(b, ':')
	return append(b, port...)
}
