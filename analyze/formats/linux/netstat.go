package linux

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NetstatLinuxFormat reads net-tools netstat socket listings (formats.md
// §1): -ant, -antp, -antpo, -tulpn, -e, -W, with or without -n, and rows
// piped through grep without their headers.
//
// Rows are split from the left: Proto, Recv-Q, Send-Q, the two addresses
// (which never contain blanks) and, for tcp rows, the State, which is
// never empty for TCP. The optional columns after it (User and Inode with
// -e, "PID/Program name" with -p, Timer with -o) are taken from the right
// and by shape, because -W and long names shift them away from the
// header's column offsets and the program name may contain spaces. udp,
// raw and unix rows (whose State may be empty) are recognized by their
// Proto and skipped.
var NetstatLinuxFormat = &parse.Format{
	Name:        "netstat-linux",
	Description: "Linux net-tools netstat -ant/-antp/-antpo/-tulpn/-e listings",
	Example:     "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd",
	Detect:      DetectNetstatLinux,
	Parse:       ParseNetstatLinux,
	Cut:         netstatLinuxCut,
}

// netstatLinuxCut reports whether a line is a tcp row: rows are parsed
// one at a time, whatever came before (headers only add richness, which
// the rows show too).
func netstatLinuxCut(line []byte) bool {
	return bytes.HasPrefix(line, []byte("tcp ")) || bytes.HasPrefix(line, []byte("tcp6 "))
}

// netstatLocalStates maps state words of translated net-tools catalogues
// (formats.md §1.7) to canonical states.
var netstatLocalStates = map[string]model.State{
	"VERBUNDEN": model.Established, "ESTABELECIDA": model.Established, "SPOJENO": model.Established,
	"ETABLERAD": model.Established, "ESTABLERT": model.Established,
	"OUÇA": model.Listen, "NASLOUCHÁ": model.Listen, "LYSSNAR": model.Listen, "ESCOLTA": model.Listen,
	"ESPERANDO_FECHAR": model.CloseWait, "STÄNG_VÄNTA": model.CloseWait, "ESPERA_FIN1": model.FinWait1,
}

// netstatState maps a net-tools state word to a canonical state. ss
// spellings with hyphens are not net-tools and are refused.
func netstatState(b []byte) (model.State, bool) {
	if bytes.IndexByte(b, '-') >= 0 {
		return model.NoState, false
	}
	if s, ok := model.StateAliases[string(b)]; ok {
		return s, true
	}
	s, ok := netstatLocalStates[string(b)]
	return s, ok
}

// netstatProto classifies the first field of a row: 4 or 6 for tcp/tcp6,
// -1 for the other protocols netstat lists, 0 for anything else.
func netstatProto(b []byte) int {
	switch string(b) {
	case "tcp":
		return 4
	case "tcp6":
		return 6
	case "udp", "udp6", "udpl", "udpl6", "raw", "raw6", "unix", "sctp", "sctp6":
		return -1
	}
	return 0
}

// netstatRowShape reports whether fs looks like a net-tools Internet row
// (any protocol): proto, two decimal queues, two ':'-joined endpoints. For
// tcp rows the sixth field must be a state without hyphens (ss prints
// TIME-WAIT) or at least a word.
func netstatRowShape(fs [][]byte) (proto int, ok bool) {
	if len(fs) < 5 {
		return 0, false
	}
	proto = netstatProto(fs[0])
	if proto == 0 || string(fs[0]) == "unix" {
		return 0, false
	}
	if _, ok := model.Atoi(fs[1]); !ok {
		return 0, false
	}
	if _, ok := model.Atoi(fs[2]); !ok {
		return 0, false
	}
	if _, err := model.ParseEndpoint(fs[3], false); err != nil {
		return 0, false
	}
	if _, err := model.ParseEndpoint(fs[4], false); err != nil {
		return 0, false
	}
	if proto > 0 {
		if len(fs) < 6 || bytes.IndexByte(fs[5], '-') >= 0 {
			return 0, false
		}
	}
	return proto, true
}

func isNetstatHeader(l string) bool {
	return strings.HasPrefix(l, "Proto Recv-Q Send-Q ") && strings.Contains(l, "Local Address") &&
		strings.Contains(l, "Foreign Address")
}

func DetectNetstatLinux(head []string) int {
	header, active, rows, tcpRows, other := false, false, 0, 0, 0
	var fs [][]byte
	for _, l := range head {
		switch {
		case strings.Contains(l, "Local Address:Port"), strings.Contains(l, "users:(("),
			strings.Contains(l, "(state)"), strings.Contains(l, "timer:("):
			return 0 // ss, BSD/macOS/AIX netstat
		case isNetstatHeader(l):
			header = true
			continue
		case strings.HasPrefix(l, "Active Internet connections"):
			active = true
			continue
		}
		fs = parse.Fields(fs, []byte(l))
		if p, ok := netstatRowShape(fs); ok {
			rows++
			if p > 0 {
				tcpRows++
			}
			continue
		}
		other++
	}
	switch {
	case header && (active || rows > 0):
		return 95
	case header:
		return 85
	case active && rows > 0:
		return 85
	case tcpRows > 0 && rows >= 2*other:
		return 75
	case tcpRows > 0 && rows >= other:
		return 50
	case tcpRows > 0:
		return 25
	}
	return 0
}

var errNotNetstatLinux = errors.New("not a Linux netstat listing")

func ParseNetstatLinux(r io.Reader, out *model.Listing) error {
	parse.PresizeSockets(r, out, 64) // rows are at least ~78 bytes
	sc := parse.NewLineScanner(r)
	progs := model.Interner{}
	cache := &model.EndpointCache{}
	var fs [][]byte
	inOther := false
	recognized := false
	hasPID, hasTimer, hasInode := false, false, false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		sc.ReportTooLong(out)
		fs = parse.FieldsN(fs, line, 6) // Proto .. State; the rest is read from the line
		if len(fs) == 0 {
			continue
		}
		proto := netstatProto(fs[0])
		switch {
		case proto > 0:
			// A tcp row is one wherever it stands: after an "Active UNIX
			// domain sockets" section (listings pasted one after the
			// other) it starts Internet rows again. So the state at a tcp
			// row never depends on the lines before it, and a piece
			// starting there (netstatLinuxCut) parses as the whole does.
			inOther = false
		case bytes.HasPrefix(line, []byte("Active ")):
			inOther = !bytes.HasPrefix(line, []byte("Active Internet connections"))
			recognized = recognized || !inOther
			continue
		case inOther:
			continue // unix, Bluetooth, ... sections: their own rows and headers
		case bytes.HasPrefix(line, []byte("Proto ")):
			recognized = true
			if bytes.Contains(line, []byte("PID/Program")) {
				hasPID = true
			}
			if bytes.Contains(line, []byte(" Timer")) {
				hasTimer = true
			}
			if bytes.Contains(line, []byte(" Inode")) {
				hasInode = true
			}
			continue
		case proto < 0:
			recognized = true // udp, raw, unix: not TCP
			continue
		case netstatOtherSection(line, fs):
			inOther = true
			continue
		default:
			// Before the table: whatever preceded it (a prompt, the
			// command). Inside it: a line that is not netstat's loses
			// what it held, so it is reported; netstat's own notes and
			// translated titles are not.
			if recognized && !netstatNote(line) {
				out.Problemf(n, "not a netstat row, ignored: "+parse.QuoteLine(line))
			}
			continue
		}
		recognized = true
		// Parse in place: a Socket is large, and a million of them are
		// not worth copying twice.
		out.Sockets = append(out.Sockets, model.Socket{})
		s := &out.Sockets[len(out.Sockets)-1]
		ok, msg := parseNetstatRow(s, line, fs, proto, progs, cache)
		if !ok {
			out.Sockets = out.Sockets[:len(out.Sockets)-1]
			out.Problemf(n, msg)
			continue
		}
		if msg != "" {
			out.Problemf(n, msg)
		}
		if s.Owned() {
			hasPID = true
		}
		if s.Retransmits >= 0 { // set only from a Timer column, "off" included
			hasTimer = true
		}
		if s.Inode != 0 {
			hasInode = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !recognized {
		return errNotNetstatLinux
	}
	out.Families = append(out.Families[:0], 4, 6)
	var has model.Richness
	if hasPID {
		has |= model.RichOwners
	}
	if hasTimer {
		has |= model.RichTimers
	}
	if hasInode {
		has |= model.RichInodes
	}
	out.SetRichness(40, has)
	return nil
}

// parseNetstatRow parses one tcp/tcp6 row into s. ok false means no socket could
// be made (msg says why); a non-empty msg with ok true is a problem with
// an optional column.
func parseNetstatRow(s *model.Socket, line []byte, fs [][]byte, proto int, progs model.Interner, cache *model.EndpointCache) (ok bool, msg string) {
	*s = model.NewSocket()
	if len(fs) < 6 {
		return false, "short netstat row"
	}
	rq, ok1 := model.Atoi(fs[1])
	sq, ok2 := model.Atoi(fs[2])
	if !ok1 || !ok2 {
		return false, "bad Recv-Q/Send-Q in netstat row"
	}
	s.RecvQ, s.SendQ = model.ClampQueue(rq), model.ClampQueue(sq)
	if s.LocalName, ok = netstatEndpoint(&s.Local, fs[3], proto, cache); !ok {
		return false, "bad local address " + strconvQuote(fs[3])
	}
	if s.RemoteName, ok = netstatEndpoint(&s.Remote, fs[4], proto, cache); !ok {
		return false, "bad foreign address " + strconvQuote(fs[4])
	}
	s.Family = uint8(proto)
	switch {
	case s.Local.IsValid():
		s.Family = s.Local.Bits()
	case s.Remote.IsValid() && !s.Remote.IsUnspecified():
		s.Family = s.Remote.Bits()
	}
	st, known := netstatState(fs[5])
	if !known {
		st = model.Unknown
		msg = "unknown state " + strconvQuote(fs[5])
	}
	s.State = st

	// The rest of the line after the State field.
	rest := line[fieldEnd(line, fs[5]):]
	rest = trimBlanksRight(rest)
	if kind, secs, retr, _, ok := netstatTimer(rest); ok { // probes: not modelled
		s.Timer, s.Retransmits = kind, model.NarrowRetransmits(int64(retr))
		s.SetTimerSecs(secs)
		if kind == model.TimerNone {
			s.TimerMS = -1
		}
		rest = trimBlanksRight(rest[:len(rest)-timerLen(rest)])
	}
	rest = trimBlanksLeft(rest)
	if len(rest) == 0 {
		return true, msg
	}
	// -e: User and Inode come first unless the rest starts with the
	// PID/Program column ("1234/name" or "-").
	tok := rest
	if i := indexBlank(rest); i >= 0 {
		tok = rest[:i]
	}
	if !isPIDProg(tok) {
		user := tok
		rest = trimBlanksLeft(rest[len(tok):])
		if uid, ok := model.Atoi(user); ok && uid < 1<<32 {
			s.UID = model.NarrowUID(int64(uid))
		}
		tok = rest
		if i := indexBlank(rest); i >= 0 {
			tok = rest[:i]
		}
		ino, ok := model.Atoi(tok)
		if !ok {
			if msg == "" {
				msg = "bad User/Inode columns"
			}
			return true, msg
		}
		s.Inode = model.NarrowInode(uint64(ino))
		if ino == 0 && (s.State == model.TimeWait || s.State == model.FinWait2) {
			// Timewait socks (TIME_WAIT, orphaned FIN_WAIT2) print "0 0":
			// no owner. Other sockets without an inode (orphans, children
			// not accepted yet) carry their listener's uid.
			s.UID = -1
		}
		rest = trimBlanksLeft(rest[len(tok):])
	}
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == '-') {
		return true, msg
	}
	slash := bytes.IndexByte(rest, '/')
	if slash <= 0 {
		if msg == "" {
			msg = "bad PID/Program name column"
		}
		return true, msg
	}
	pid, ok := model.Atoi(rest[:slash])
	if !ok || pid > 1<<31 {
		if msg == "" {
			msg = "bad PID/Program name column"
		}
		return true, msg
	}
	s.PID = int(pid)
	s.Process = progs.Get(rest[slash+1:])
	return true, msg
}

// netstatOtherSection reports whether a line starts a section of other
// sockets or other tables, whose lines are skipped until a tcp row or an
// "Active Internet connections" title: a translated title of the UNIX or
// Bluetooth sockets ("Aktive Sockets in der UNIX-Domäne"), netstat -i or
// -r ("Kernel Interface table"), or a netstat -s protocol ("Ip:",
// "TcpExt:"), as OSWatcher and other collectors put them after the
// listing. fs holds the line's first fields.
func netstatOtherSection(line []byte, fs [][]byte) bool {
	if len(fs) == 1 && len(fs[0]) > 1 && fs[0][len(fs[0])-1] == ':' {
		return true
	}
	return bytes.HasPrefix(line, []byte("Kernel ")) ||
		bytes.Contains(line, []byte("UNIX")) || bytes.Contains(line, []byte("Bluetooth"))
}

// netstatNote reports whether a line is a message net-tools netstat
// prints around its table ("(Not all processes could be identified,
// ...)", "(No info could be read for "-p": ...)", "netstat: no support
// for `AF INET (sctp)' on this system.") or a translated title of its
// Internet section ("Aktive Internetverbindungen (nur Server)").
func netstatNote(line []byte) bool {
	line = trimBlanksLeft(line)
	return bytes.HasPrefix(line, []byte("(")) || bytes.HasPrefix(line, []byte("netstat: ")) ||
		bytes.Contains(line, []byte("you would have to be root")) || // the second line of "(Not all ..."
		bytes.Contains(line, []byte("Internet"))
}

// netstatEndpoint parses an address token of a tcp/tcp6 row. A "*" host
// in a tcp6 row (old net-tools) is the IPv6 wildcard, and a loopback name
// in a tcp6 row ("localhost:smtp", "ip6-localhost:smtp": the resolver
// names ::1 so where /etc/hosts lists it under localhost) is ::1, not the
// 127.0.0.1 ParseEndpoint gives those names.
func netstatEndpoint(dst *model.AddrPort, tok []byte, proto int, cache *model.EndpointCache) (model.Name, bool) {
	if model.ParseIPv4PortTo(dst, tok) || model.ParseIPv4AnyPortTo(dst, tok) {
		return model.NoName, true
	}
	e, err := cache.Parse(tok)
	if err != nil {
		return model.NoName, false
	}
	switch {
	case e.Wildcard && proto == 6 && tok[0] == '*':
		e.AddrPort = model.AddrPortFrom(netip.IPv6Unspecified(), e.AddrPort.Port())
	case proto == 6 && (bytes.HasPrefix(tok, []byte("localhost")) || bytes.HasPrefix(tok, []byte("ip6-localhost"))) &&
		e.Name == model.NoName && e.AddrPort.Is4():
		e.AddrPort = model.AddrPortFrom(netip.IPv6Loopback(), e.AddrPort.Port())
	}
	*dst = e.AddrPort
	return e.Name, true
}

// isPIDProg reports whether tok starts the PID/Program name column.
func isPIDProg(tok []byte) bool {
	if len(tok) == 1 && tok[0] == '-' {
		return true
	}
	i := bytes.IndexByte(tok, '/')
	if i <= 0 {
		return false
	}
	_, ok := model.Atoi(tok[:i])
	return ok
}

// fieldEnd returns the offset in line just after field f, which aliases it.
func fieldEnd(line, f []byte) int {
	// f is a subslice of line: its end offset is cap(line)-cap(f)+len(f).
	return cap(line) - cap(f) + len(f)
}

// netstatTimer parses a trailing "NAME (SECS/RETR/PROBES)" timer column.
func netstatTimer(rest []byte) (kind model.Timer, secs float64, retr, probes int, ok bool) {
	if len(rest) < 7 || rest[len(rest)-1] != ')' {
		return model.TimerNone, 0, 0, 0, false
	}
	open := bytes.LastIndexByte(rest, '(')
	if open < 2 || rest[open-1] != ' ' {
		return model.TimerNone, 0, 0, 0, false
	}
	inner := rest[open+1 : len(rest)-1]
	a := bytes.IndexByte(inner, '/')
	if a < 0 {
		return model.TimerNone, 0, 0, 0, false
	}
	b := bytes.IndexByte(inner[a+1:], '/')
	if b < 0 {
		return model.TimerNone, 0, 0, 0, false
	}
	b += a + 1
	secs, ok1 := parse.ParseDecimal(inner[:a])
	r, ok2 := model.Atoi(inner[a+1 : b])
	p, ok3 := model.Atoi(inner[b+1:])
	if !ok1 || !ok2 || !ok3 || r > 1<<31 || p > 1<<31 {
		return model.TimerNone, 0, 0, 0, false
	}
	nameEnd := open - 1
	nameStart := lastIndexBlank(rest[:nameEnd]) + 1
	name := rest[nameStart:nameEnd]
	if len(name) == 0 {
		return model.TimerNone, 0, 0, 0, false
	}
	switch string(name) {
	case "off", "aus":
		kind = model.TimerNone
	case "on", "ein":
		kind = model.TimerOn
	case "keepalive":
		kind = model.TimerKeepalive
	case "timewait":
		kind = model.TimerTimeWait
	case "probe":
		kind = model.TimerPersist
	default:
		kind = model.TimerOther
	}
	return kind, secs, int(r), int(p), true
}

// timerLen returns the length of the timer column at the end of rest
// (which netstatTimer accepted).
func timerLen(rest []byte) int {
	open := bytes.LastIndexByte(rest, '(')
	nameStart := lastIndexBlank(rest[:open-1]) + 1
	return len(rest) - nameStart
}

// strconvQuote quotes a short token for a problem message.
func strconvQuote(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return "\"" + string(b) + "\""
}

// Blank (space, tab) helpers without bytes' per-call ASCII set.

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func trimBlanksLeft(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	return b
}

func trimBlanksRight(b []byte) []byte {
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func indexBlank(b []byte) int {
	for i, c := range b {
		if isBlank(c) {
			return i
		}
	}
	return -1
}

func lastIndexBlank(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isBlank(b[i]) {
			return i
		}
	}
	return -1
}
