package windows

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NetstatWindowsFormat reads Windows netstat -an, -ano, -anob and -anoq
// listings, in English and in localised Windows (formats.md §5).
var NetstatWindowsFormat = &parse.Format{
	Name:        "netstat-windows",
	Description: "Windows netstat -an / -ano / -anob / -anoq (localised headers and states)",
	Example:     "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1012",
	Detect:      detectNetstatWindows,
	Parse:       ParseNetstatWindows,
}

// winTitles are the "Active Connections" titles netstat prints above the
// table. Spanish, Portuguese, Italian and Japanese wording is from memory
// (formats.md §5.4) and unverified against a capture.
var winTitles = []string{
	"Active Connections",
	"Aktive Verbindungen",  // German
	"Connexions actives",   // French
	"Conexiones activas",   // Spanish (unverified)
	"Conexões ativas",      // Portuguese (unverified)
	"Connessioni attive",   // Italian (unverified)
	"Активные подключения", // Russian (unverified)
	"活动连接",                 // Simplified Chinese (seen in a capture)
	"アクティブな接続",             // Japanese (unverified)
}

// winHeaderFirst are the first words of the column header line ("Proto",
// Chinese "协议", Russian "Имя", Japanese "プロトコル").
var winHeaderFirst = map[string]bool{"Proto": true, "协议": true, "Имя": true, "プロトコル": true, "Protocolo": true}

// winStates maps the state words localised Windows prints, upper-cased.
// Everything not here goes through CanonicalState (English words).
var winStates = map[string]model.State{
	// German: these four are consistently reported (formats.md §5.4).
	"ABHÖREN":           model.Listen,
	"HERGESTELLT":       model.Established,
	"WARTEND":           model.TimeWait,
	"SCHLIESSEN_WARTEN": model.CloseWait,
	// German, unverified guesses: no capture has shown them yet.
	"ABHOEREN":            model.Listen,   // unverified: ASCII folding of ABHÖREN
	"SYN_GESENDET":        model.SynSent,  // unverified
	"SYN_EMPFANGEN":       model.SynRecv,  // unverified
	"FIN_WARTEN_1":        model.FinWait1, // unverified
	"FIN_WARTEN_2":        model.FinWait2, // unverified
	"LETZTE_BESTÄTIGUNG":  model.LastAck,  // unverified
	"LETZTE_BESTAETIGUNG": model.LastAck,  // unverified
	"SCHLIESSEND":         model.Closing,  // unverified
	"GESCHLOSSEN":         model.Close,    // unverified
	"GEBUNDEN":            model.Bound,    // unverified
	// Windows-only English spellings CanonicalState does not know.
	"SYN_RECEIVED": model.SynRecv,
}

// winState maps a Windows state word to a canonical state.
func winState(word []byte) (model.State, bool) {
	if s, ok := model.CanonicalState(string(word)); ok {
		return s, true
	}
	s, ok := winStates[strings.ToUpper(string(word))]
	return s, ok
}

// winRow reports whether fs (the fields of one line) is a Windows netstat
// row: upper-case TCP or UDP then two address:port tokens.
func winRow(fs [][]byte) (tcp, ok bool) {
	if len(fs) < 3 {
		return false, false
	}
	switch string(fs[0]) {
	case "TCP":
		tcp = true
	case "UDP":
	default:
		return false, false
	}
	if bytes.IndexByte(fs[1], ':') < 0 || bytes.IndexByte(fs[2], ':') < 0 {
		return false, false
	}
	return tcp, true
}

// winHeader reports whether line is the column header line.
func winHeader(fs [][]byte, line []byte) bool {
	if len(fs) < 4 || !winHeaderFirst[string(fs[0])] {
		return false
	}
	// Linux net-tools starts with "Proto Recv-Q Send-Q": not ours.
	return !bytes.Contains(line, []byte("Recv-Q"))
}

func winTitle(line []byte) bool {
	t := bytes.TrimSpace(line)
	for _, w := range winTitles {
		if string(t) == w {
			return true
		}
	}
	return false
}

func detectNetstatWindows(head []string) int {
	var rows, tcpRows, indented, linux, header, title int
	var fs [][]byte
	for _, l := range head {
		b := []byte(l)
		fs = parse.Fields(fs, b)
		if len(fs) == 0 {
			continue
		}
		if tcp, ok := winRow(fs); ok {
			rows++
			if tcp {
				tcpRows++
			}
			if b[0] == ' ' || b[0] == '\t' {
				indented++
			}
			continue
		}
		switch string(fs[0]) {
		case "tcp", "tcp4", "tcp6", "tcp46", "udp", "udp6":
			linux++
		}
		if winHeader(fs, b) {
			header++
		} else if winTitle(b) {
			title++
		}
	}
	if linux > rows {
		return 0
	}
	score := 0
	switch {
	case rows >= 3:
		score = 70
	case rows > 0:
		score = 50
	case header > 0 && title > 0:
		return 60 // an empty listing: title and header only
	default:
		return 0
	}
	if header > 0 {
		score += 15
	}
	if title > 0 {
		score += 5
	}
	if indented*2 >= rows {
		score += 5
	}
	return min(score, 95)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

var errNotNetstatWindows = errors.New("not a Windows netstat listing")

func ParseNetstatWindows(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	names := model.Interner{}
	var fs [][]byte
	recognised := false // a row, header or title was seen
	sawPID := false
	nonBlank := 0
	last := -1 // index in out.Sockets of the last TCP row, for -b lines; -1 after UDP
	// inB: the lines -b prints after a row may follow (indented: its
	// components, then the image or "Can not obtain ownership
	// information").
	inB := false
	for sc.Scan() {
		n := sc.Line()
		line := sc.Bytes()
		fs = sc.Fields(fs, out)
		if len(fs) == 0 {
			continue
		}
		nonBlank++
		tcp, ok := winRow(fs)
		if !ok && len(fs) >= 2 && string(fs[0]) == "TCP" && bytes.IndexByte(fs[1], ':') >= 0 {
			// Looks like a socket but the addresses are missing or cut.
			out.Problemf(n, fmt.Sprintf("TCP row without local and foreign address:port: %q", model.Clip(line)))
			recognised = true
			last = -1
			inB = true
			continue
		}
		if !ok {
			if winHeader(fs, line) || winTitle(line) {
				recognised = true
				last = -1
				inB = false
				continue
			}
			if !inB || !isBlank(line[0]) {
				// Before the table: a prompt, the command. Inside it: a
				// line that may have held a socket, reported.
				if recognised {
					out.Problemf(n, "not a netstat row, ignored: "+parse.QuoteLine(line))
				}
				inB = false // -b lines follow their row directly
				continue
			}
			// -b continuation lines: a component name ("  RpcSs"), the
			// image ("[svchost.exe]"), or "Can not obtain ownership
			// information" (or its translation). Only the image is kept;
			// it ends the row's -b lines.
			if t := bytes.TrimSpace(line); len(t) > 2 && t[0] == '[' && t[len(t)-1] == ']' {
				if last >= 0 {
					out.Sockets[last].Process = names.Get(t[1 : len(t)-1])
				}
				last = -1 // one image per row
				inB = false
			}
			continue
		}
		recognised = true
		last = -1
		inB = true
		if !tcp {
			continue // UDP rows (and their -b lines) are not ours
		}
		if s, ok := parseWinRow(fs, n, out, names); ok {
			if s.Owned() {
				sawPID = true
			}
			out.Sockets = append(out.Sockets, s)
			last = len(out.Sockets) - 1
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !recognised && nonBlank > 0 {
		return errNotNetstatWindows
	}
	out.Families = []int{4, 6}
	out.Richness = 40
	if sawPID {
		out.Richness += 20
	}
	return nil
}

// parseWinRow parses the fields of one TCP row:
// TCP local foreign [state] [pid] [[image]].
func parseWinRow(fs [][]byte, n int, out *model.Listing, names model.Interner) (model.Socket, bool) {
	s := model.NewSocket()
	local, err := model.ParseEndpoint(fs[1], false)
	if err != nil {
		out.Problemf(n, fmt.Sprintf("bad local address %q", model.Clip(fs[1])))
		return s, false
	}
	remote, err := model.ParseEndpoint(fs[2], false)
	if err != nil {
		out.Problemf(n, fmt.Sprintf("bad foreign address %q", model.Clip(fs[2])))
		return s, false
	}
	s.Local, s.LocalName = local.AddrPort, local.Name
	s.Remote, s.RemoteName = remote.AddrPort, remote.Name
	switch {
	case local.Name == model.NoName:
		s.Family = model.Family(local.AddrPort.Addr())
	case remote.Name == model.NoName && !remote.Wildcard:
		s.Family = model.Family(remote.AddrPort.Addr())
	default:
		s.Family = 4
	}
	rest := fs[3:]
	var word []byte
	if len(rest) > 0 {
		if _, num := model.Atoi(rest[0]); !num && rest[0][0] != '[' {
			word, rest = rest[0], rest[1:]
		}
	}
	if len(rest) > 0 {
		if pid, num := model.Atoi(rest[0]); num && pid <= 1<<31-1 {
			s.PID = int(pid)
			if name, sys := model.WindowsSystemPIDs[s.PID]; sys {
				s.Process = model.Intern(name)
			}
			rest = rest[1:]
		} else if pid, num := model.Atoi(rest[0]); num && pid > 1<<31-1 {
			out.Problemf(n, fmt.Sprintf("PID %q out of range", model.Clip(rest[0])))
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		// "-b" squeezed onto the row: "LISTENING  [svchost.exe]".
		if t := rest[0]; len(t) > 2 && t[0] == '[' && t[len(t)-1] == ']' {
			s.Process = names.Get(t[1 : len(t)-1])
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		out.Problemf(n, fmt.Sprintf("unexpected trailing field %q", model.Clip(rest[0])))
	}
	// A TCP row whose foreign port is 0 is a listener whatever the state
	// word says (formats.md §5.4): Windows prints 0.0.0.0:0 or [::]:0 (or
	// HOST:0 without -n) there, and no connected socket has port 0. BOUND
	// (-q) rows also have a 0 foreign port, so a known BOUND word wins.
	known := false
	if word != nil {
		s.State, known = winState(word)
	}
	listener := remote.AddrPort.Port() == 0 && !remote.AnyPort && (remote.Wildcard || remote.Name != model.NoName)
	switch {
	case known && (s.State == model.Bound || !listener):
	case listener:
		s.State = model.Listen
	case word == nil:
		s.State = model.Unknown
		out.Problemf(n, "row without a state word")
	default:
		s.State = model.Unknown
		out.Problemf(n, fmt.Sprintf("unknown state word %q", model.Clip(word)))
	}
	return s, true
}
