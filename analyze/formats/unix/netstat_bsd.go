package unix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NetstatBSDFormat reads the BSD-family socket tables: macOS `netstat -an
// -p tcp` and `-anv` (old "rhiwat shiwat pid epid" and new "rxbytes txbytes
// rhiwat shiwat process:pid" columns, found by the header), `-An`/`-Abn`
// (leading Socket and Flowhash columns, addresses cut at 18 characters),
// FreeBSD `netstat -an`, `-Aa` (leading Tcpcb column) and `-AaT` (no state
// column), AIX `netstat -an` and `-Aan` (leading PCB/ADDR column), with or
// without -n (host and service names, cut service names read when they
// begin one service). See formats.md §6 and §8.
var NetstatBSDFormat = &parse.Format{
	Name:        "netstat-bsd",
	Description: "macOS, FreeBSD and AIX netstat -an (dot-separated ports, (state) header)",
	Example:     "tcp4       0      0  192.0.2.10.52044       198.51.100.35.443      ESTABLISHED",
	Detect:      detectNetstatBSD,
	Parse:       ParseNetstatBSD,
}

// NetstatBSDListenFormat reads FreeBSD/macOS `netstat -Lan`: listen queue
// sizes as qlen/incqlen/maxqlen per listening socket (formats.md §6.4), with
// -A address columns (Tcpcb; macOS Socket and Flowhash) too. A full queue
// shows qlen above maxqlen ("257/0/256").
var NetstatBSDListenFormat = &parse.Format{
	Name:        "netstat-bsd-listen",
	Description: "FreeBSD and macOS netstat -Lan listen queues (qlen/incqlen/maxqlen)",
	Example:     "tcp4  0/0/128        *.22",
	Detect:      detectNetstatBSDListen,
	Parse:       parseNetstatBSDListen,
}

// bsdProto classifies a BSD/AIX proto column: isTCP, and the address
// family it implies (4, 6; 0 for AIX's plain "tcp", which can be either).
// known is false for words that are not a protocol at all.
func bsdProto(b []byte) (isTCP bool, fam int, known bool) {
	switch string(b) {
	case "tcp4":
		return true, 4, true
	case "tcp6", "tcp46":
		return true, 6, true
	case "tcp":
		return true, 0, true
	case "udp", "udp4", "udp6", "udp46", "icm4", "icm6", "icmp", "icmp6", "raw",
		"raw4", "raw6", "raw46", "div", "div4", "div6", "sctp", "sctp4", "sctp6", "sctp46",
		"udpl", "udpl4", "udpl6", "igmp", "ip", "ip4", "ip6", "ah", "esp", "gre", "pim", "unix":
		return false, 0, true
	}
	return false, 0, false
}

// Why bsdEndpoint kept a token it could not read whole.
const (
	cutV6      = "truncated IPv6 address (netstat -W prints it whole)"
	cutService = "truncated service name (netstat -n prints the port number)"
)

// bsdEndpoint parses one dot-port address token with ParseEndpoint. A long
// IPv6 address cut by the column width ("fe80::aede:48ff:.49159") cannot
// be an address; it is kept as a name and cut says so. A service name cut
// at the end of a full column ("203.0.113.35.bc..sunpr": macOS prints at
// most 16 characters of host, a dot, then whatever of the service name
// still fits in 22, or 18 with -A) is read as the one service it begins
// (sunproxyadmin, 8081); cut says so too.
//
// Solaris uses dotEndpoint, which does not guess cut service names.
func bsdEndpoint(tok []byte) (e model.Endpoint, cut string, err error) {
	return dotEndpointCut(tok, true)
}

// dotEndpoint is dotEndpointCut without reading cut service names;
// truncated reports a cut IPv6 address.
func dotEndpoint(tok []byte) (e model.Endpoint, truncated bool, err error) {
	e, cut, err := dotEndpointCut(tok, false)
	return e, cut != "", err
}

func dotEndpointCut(tok []byte, servicePrefix bool) (e model.Endpoint, cut string, err error) {
	e, err = model.ParseEndpoint(tok, true)
	if err == nil {
		return e, "", nil
	}
	i := bytes.LastIndexByte(tok, '.')
	if i <= 0 {
		return e, "", err
	}
	host, port := tok[:i], tok[i+1:]
	var sp uint16
	spOK := false
	if servicePrefix && (len(tok) == narrowWidth || len(tok) == 22) {
		sp, spOK = model.ServicePortPrefix(string(port))
	}
	if spOK {
		fixed := append(append(append([]byte{}, host...), '.'), model.Itoa(int(sp))...)
		if e2, err2 := model.ParseEndpoint(fixed, true); err2 == nil {
			return e2, cutService, nil
		}
	}
	if bytes.IndexByte(host, ':') < 0 {
		return e, "", err
	}
	scoped := false
	for _, c := range host {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == ':':
		case c == '%':
			scoped = true
		case scoped && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
		default:
			return e, "", err
		}
	}
	var p uint16
	if n, ok := model.Atoi(port); ok && n <= 65535 {
		p = uint16(n)
	} else if sp, ok := model.ServicePort(string(port)); ok {
		p = sp
	} else if spOK {
		p = sp
	} else if !(len(port) == 1 && port[0] == '*') {
		return e, "", err
	}
	return model.Endpoint{AddrPort: model.AddrPortFrom(netip.Addr{}, p), Name: model.Intern(string(host))}, cutV6, nil
}

// setSocketEndpoints fills Local, Remote and Family from parsed endpoints.
// famHint is what the listing says about the family (proto suffix or
// section title), 0 when it does not say. Wildcards of a v6 socket become
// "::" so that a tcp6 "*.22" listener is [::]:22.
func setSocketEndpoints(s *model.Socket, le, re model.Endpoint, famHint int) {
	fam := famHint
	switch {
	case le.Name != model.NoName && strings.IndexByte(le.Name.String(), ':') >= 0:
		fam = 6
	case le.AddrPort.Addr().IsValid() && !le.Wildcard:
		fam = int(model.Family(le.AddrPort.Addr()))
	case re.AddrPort.Addr().IsValid() && !re.Wildcard:
		fam = int(model.Family(re.AddrPort.Addr()))
	case re.Name != model.NoName && strings.IndexByte(re.Name.String(), ':') >= 0:
		fam = 6
	}
	if fam == 0 {
		fam = 4
	}
	fix := func(e model.Endpoint) (model.AddrPort, model.Name) {
		if e.Wildcard {
			a := netip.IPv4Unspecified()
			if fam == 6 {
				a = netip.IPv6Unspecified()
			}
			return model.AddrPortFrom(a, e.AddrPort.Port()), model.NoName
		}
		return e.AddrPort, e.Name
	}
	s.Family = uint8(fam)
	s.Local, s.LocalName = fix(le)
	s.Remote, s.RemoteName = fix(re)
}

// isHexWord reports whether b is a kernel address as printed in the Tcpcb,
// PCB/ADDR or Socket columns (optionally 0x-prefixed).
func isHexWord(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("0x"))
	return len(b) >= 4 && len(b) <= 18 && isHex(b)
}

func isHex(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipPCBColumns drops the kernel-address columns some layouts print
// before the proto (or, in netstat -AL, before the queue sizes): FreeBSD
// Tcpcb, AIX PCB/ADDR, and macOS Socket then Flowhash. macOS prints the
// flow hash "%8x", so it can be as short as "0". next reports the token
// that must follow them; f is returned unchanged when none does.
func skipPCBColumns(f [][]byte, next func([]byte) bool) [][]byte {
	if len(f) < 2 || !isHexWord(f[0]) {
		return f
	}
	if next(f[1]) {
		return f[1:]
	}
	if len(f) >= 3 && len(f[1]) <= 8 && isHex(f[1]) && next(f[2]) {
		return f[2:]
	}
	return f
}

func isBSDProto(b []byte) bool {
	_, _, known := bsdProto(b)
	return known
}

// bsdSection classifies a non-row line: a title that starts the internet
// table (start), one that starts any other table (stop), or neither.
func bsdSection(line string) (start, stop bool) {
	t := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(t, "Active Internet connections"), strings.HasPrefix(t, "Active Internet6 connections"):
		return true, false
	case strings.HasPrefix(t, "Active "), strings.HasPrefix(t, "Registered kernel control"),
		strings.HasPrefix(t, "Current listen queue sizes"), strings.HasPrefix(t, "Routing tables"),
		strings.HasPrefix(t, "Name ") && strings.Contains(t, "Mtu"):
		return false, true
	}
	return false, false
}

// bsdSignals accumulates what tells macOS, FreeBSD and AIX apart
// (formats.md §6.5 and §8).
type bsdSignals struct{ darwin, freebsd, aix int }

func (g *bsdSignals) observe(line string) {
	t := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(t, "PCB/ADDR"), strings.HasPrefix(t, "SADR/PCB"):
		g.aix += 10
		return
	case strings.HasPrefix(t, "Tcpcb"), strings.Contains(t, "Rexmit OOORcv"), strings.Contains(t, "R-MBUF"),
		strings.Contains(t, "Log ID"):
		g.freebsd += 10
		return
	case strings.Contains(t, "rhiwat"), strings.Contains(t, "process:pid"), strings.Contains(t, "Flowhash"),
		strings.HasPrefix(t, "Active LOCAL (UNIX) domain sockets"), strings.HasPrefix(t, "Registered kernel control"),
		strings.HasPrefix(t, "Active kernel "), strings.HasPrefix(t, "Active Multipath"):
		g.darwin += 10
		return
	case strings.HasPrefix(t, "Proto Listen"):
		g.freebsd += 5
		return
	case strings.HasPrefix(t, "Listen ") && strings.Contains(t, "Local Address"):
		g.darwin += 5
		return
	case strings.HasPrefix(t, "kctl ") || strings.HasPrefix(t, "kevt "):
		g.darwin += 10
		return
	}
	// Rows: AIX prints a plain "tcp"/"udp" proto; macOS puts two spaces
	// before the local address, FreeBSD (10 and later) one.
	var buf [12][]byte
	f := skipPCBColumns(parse.Fields(buf[:0], []byte(t)), isBSDProto)
	if len(f) < 5 {
		return
	}
	isTCP, _, known := bsdProto(f[0])
	if !known {
		return
	}
	if _, _, err := bsdEndpoint(f[3]); err != nil {
		return
	}
	if string(f[0]) == "tcp" || string(f[0]) == "udp" {
		g.aix += 3
		return
	}
	if !isTCP {
		return
	}
	if i := strings.Index(t, string(f[3])); i >= 2 && i <= len(t) {
		if t[i-1] == ' ' && t[i-2] == ' ' {
			g.darwin++
		} else if t[i-1] == ' ' {
			g.freebsd++
		}
	}
}

func (g *bsdSignals) flavor() string {
	switch {
	case g.aix > 0 && g.aix >= g.darwin && g.aix >= g.freebsd:
		return "aix"
	case g.darwin > g.freebsd:
		return "darwin"
	case g.freebsd > g.darwin:
		return "freebsd"
	}
	return ""
}

// BSDFlavor guesses which BSD-family system printed a netstat listing from
// its first lines: "darwin", "freebsd", "aix", or "" when nothing tells.
func BSDFlavor(head []string) string {
	var g bsdSignals
	for _, l := range head {
		g.observe(l)
	}
	return g.flavor()
}

// linuxNetstatSignal reports lines only Linux net-tools netstat prints.
func linuxNetstatSignal(t string) bool {
	return strings.Contains(t, "(servers and established)") || strings.Contains(t, "(w/o servers)") ||
		strings.Contains(t, "(only servers)") ||
		(strings.HasPrefix(t, "Proto ") && strings.Contains(t, "Foreign Address") && !strings.Contains(t, "(state)"))
}

func detectNetstatBSD(head []string) int {
	var title, header, linux, rows, rowsPlain, other int
	var buf [16][]byte
	for _, line := range head {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "$ ") || strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "% ") {
			continue // shell prompt
		}
		switch {
		case strings.HasPrefix(t, "Active Internet connections"):
			title++
			continue
		case strings.Contains(t, "Proto") && strings.Contains(t, "(state)") && strings.Contains(t, "Local Address"):
			header++
			continue
		case strings.Contains(t, "Proto") && strings.Contains(t, "Rexmit") && strings.Contains(t, "OOORcv"):
			header++
			continue
		case linuxNetstatSignal(t):
			linux++
			continue
		case strings.Contains(t, "Swind") || strings.HasPrefix(t, "TCP: IPv") || strings.HasPrefix(t, "UDP: IPv"),
			strings.HasPrefix(t, "Current listen queue sizes"),
			strings.HasPrefix(t, "Routing tables"), strings.HasPrefix(t, "Kernel IP routing"),
			strings.HasPrefix(t, "Kernel Interface table"),
			strings.HasPrefix(t, "Name") && strings.Contains(t, "Mtu"):
			other++
			continue
		}
		f := skipPCBColumns(parse.Fields(buf[:0], []byte(t)), isBSDProto)
		if len(f) < 5 {
			continue
		}
		isTCP, _, known := bsdProto(f[0])
		if !known {
			continue
		}
		// proto, 2 or 3 numbers, local, foreign.
		j := 1
		for j < len(f) && j <= 3 {
			if _, ok := model.Atoi(f[j]); !ok {
				break
			}
			j++
		}
		if j < 3 || j+1 >= len(f) {
			continue
		}
		if _, _, err := bsdEndpoint(f[j]); err != nil {
			continue
		}
		if _, _, err := bsdEndpoint(f[j+1]); err != nil {
			continue
		}
		if !isTCP {
			rowsPlain++ // a BSD-shaped UDP row
			continue
		}
		if string(f[0]) == "tcp" {
			rowsPlain++
		} else {
			rows++
		}
	}
	if other > 0 && rows+rowsPlain == 0 {
		return 0
	}
	if linux > 0 && rows == 0 {
		return 0
	}
	score := 0
	switch {
	case header > 0 && rows+rowsPlain > 0:
		score = 90
	case header > 0:
		score = 70
	case rows >= 3:
		score = 75
	case rows > 0:
		score = 60
	case rowsPlain > 0:
		score = 40
	case title > 0:
		score = 0 // a title alone says nothing about the table
	}
	return score
}

// bsdLayout is what the column header said about the rows.
type bsdLayout struct {
	noState bool // -T / -x: no state column
	oldV    bool // macOS -v before 11/12: rhiwat shiwat pid epid
	newV    bool // macOS -v: rxbytes txbytes rhiwat shiwat process:pid
	// pidCol and procCol are 1 + the places of the "pid" and
	// "process:pid" columns among the words after "(state)" (0: none),
	// which -b (rxbytes txbytes) and the macOS release move.
	pidCol, procCol int
	// narrow: macOS and FreeBSD -A (Socket Flowhash or Tcpcb before the
	// proto) print addresses in 18 characters instead of 22 and cut longer
	// ones there, ports included ("192.168.1.221.5486"), unless -W. AIX -A
	// (PCB/ADDR) keeps them whole.
	narrow bool
}

// bsdHeaderLayout reads a "Proto ... Local Address" column header.
func bsdHeaderLayout(t string) bsdLayout {
	lay := bsdLayout{
		noState: !strings.Contains(t, "(state)"),
		oldV:    strings.Contains(t, " pid ") || strings.HasSuffix(t, " pid") || strings.Contains(t, "epid"),
		newV:    strings.Contains(t, "process:pid"),
		narrow:  strings.HasPrefix(t, "Socket") || strings.HasPrefix(t, "Tcpcb") || strings.Contains(t, "Flowhash"),
	}
	if i := strings.Index(t, "(state)"); i >= 0 {
		for k, w := range strings.Fields(t[i+len("(state)"):]) {
			switch w {
			case "pid":
				lay.pidCol = k + 1
			case "process:pid":
				lay.procCol = k + 1
			}
		}
	}
	return lay
}

// narrowWidth is the address column of netstat -A (see bsdLayout.narrow).
const narrowWidth = 18

func ParseNetstatBSD(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var (
		buf     [48][]byte
		sig     bsdSignals
		lay     bsdLayout
		inInet  = true // header-less input is taken as the internet table
		names   = model.Interner{}
		sawRow  bool
		sawAny  bool
		sawHead bool
		withPID bool
		// -A rows whose address fills the narrow column, the first of
		// them, and the longest address (longer than the column: -W).
		narrowCut, narrowLine, longest int
	)
	for sc.Scan() {
		line := sc.Bytes()
		sc.ReportTooLong(out)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		sawAny = true
		t := string(bytes.TrimSpace(line))
		sig.observe(t)
		if start, stop := bsdSection(t); start || stop {
			inInet = start
			sawHead = true
			lay = bsdLayout{}
			continue
		}
		if strings.Contains(t, "Proto") && strings.Contains(t, "Local Address") {
			inInet = true
			sawHead = true
			lay = bsdHeaderLayout(t)
			continue
		}
		if !inInet {
			continue
		}
		f := skipPCBColumns(parse.Fields(buf[:0], line), isBSDProto)
		isTCP, famHint, known := bsdProto(f[0])
		if !known {
			if looksLikeDotSocketRow(f) {
				out.Problemf(sc.Line(), "unrecognized row: "+model.Clip(t))
			} else if sawRow {
				// Inside the table: say what was left out, never drop it silently.
				out.Problemf(sc.Line(), "not a netstat row, ignored: "+model.Clip(t))
			}
			continue
		}
		if !isTCP {
			continue
		}
		sawRow = true
		s, pidSeen, msg := parseBSDRow(f, famHint, lay, names)
		if msg != "" {
			out.Problemf(sc.Line(), msg)
		}
		if s == nil {
			continue
		}
		withPID = withPID || pidSeen
		out.Sockets = append(out.Sockets, *s)
		if lay.narrow {
			n := addrLen(f)
			longest = max(longest, n)
			if msg == "" && n == narrowWidth {
				if narrowCut == 0 {
					narrowLine = sc.Line()
				}
				narrowCut++
			}
		}
	}
	if narrowCut > 0 && longest == narrowWidth {
		out.Problemf(narrowLine, fmt.Sprintf("netstat -A cuts addresses to %d characters, ports included: "+
			"%d tcp rows fill that column and may be cut (netstat -AW prints them whole)", narrowWidth, narrowCut))
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if sawAny && !sawRow && !sawHead && len(out.Problems) == 0 {
		// Nothing here was a BSD socket table or anything near one.
		return errNotBSD
	}
	out.Families = []int{4, 6}
	out.Richness = 40
	if withPID {
		out.Richness += 20
	}
	if fl := sig.flavor(); fl != "" {
		out.SetSysctl("tcpsnap.os", fl)
	}
	return nil
}

var errNotBSD = errors.New("not a BSD netstat listing")

// looksLikeDotSocketRow reports a line that has dot-port endpoints where a
// socket row's would be, though its proto word is unknown.
func looksLikeDotSocketRow(f [][]byte) bool {
	n := 0
	for _, tok := range f {
		if bytes.IndexByte(tok, '.') > 0 || bytes.Equal(tok, []byte("*.*")) {
			if _, _, err := dotEndpoint(tok); err == nil {
				n++
			}
		}
	}
	return n >= 2
}

// addrLen returns the length of the longer address of a row (proto
// first).
func addrLen(f [][]byte) int {
	j := 1
	for j < len(f) && j <= 3 {
		if _, ok := model.Atoi(f[j]); !ok {
			break
		}
		j++
	}
	if j+1 >= len(f) {
		return 0
	}
	return max(len(f[j]), len(f[j+1]))
}

// parseBSDRow parses one TCP row (proto first). It returns nil and a
// message for a row it cannot use, or a socket and possibly a message
// about a part it could not read.
func parseBSDRow(f [][]byte, famHint int, lay bsdLayout, names model.Interner) (*model.Socket, bool, string) {
	s := model.NewSocket()
	// Two queue numbers, or three -T counters.
	j := 1
	for j < len(f) && j <= 3 {
		if _, ok := model.Atoi(f[j]); !ok {
			break
		}
		j++
	}
	nums := j - 1
	if nums < 2 || j+1 >= len(f) {
		return nil, false, "short tcp row"
	}
	if nums == 3 {
		s.RecvQ, s.SendQ = -1, -1 // -T: Rexmit OOORcv 0-win, no queues
	} else {
		rq, _ := model.Atoi(f[1])
		sq, _ := model.Atoi(f[2])
		s.RecvQ, s.SendQ = model.ClampQueue(rq), model.ClampQueue(sq)
	}
	le, ltrunc, err := bsdEndpoint(f[j])
	if err != nil {
		return nil, false, "bad local address " + model.Clip(string(f[j]))
	}
	re, rtrunc, err := bsdEndpoint(f[j+1])
	if err != nil {
		return nil, false, "bad foreign address " + model.Clip(string(f[j+1]))
	}
	le, re = loopback6(le, f[j], famHint), loopback6(re, f[j+1], famHint)
	setSocketEndpoints(&s, le, re, famHint)
	msg := ltrunc
	if msg == "" {
		msg = rtrunc
	}
	rest := f[j+2:]
	if nums == 3 || lay.noState {
		s.State = model.Unknown
		return &s, false, msg
	}
	if len(rest) == 0 {
		s.State = model.Unknown
		if msg == "" {
			msg = "tcp row without a state"
		}
		return &s, false, msg
	}
	st, ok := model.CanonicalState(string(rest[0]))
	if !ok {
		s.State = model.Unknown
		if msg == "" {
			msg = "unknown state " + model.Clip(string(rest[0]))
		}
	} else {
		s.State = st
	}
	rest = rest[1:]
	pid := parseBSDVerbose(&s, rest, lay, names)
	return &s, pid, msg
}

// parseBSDVerbose reads the macOS -v columns after the state, if any.
func parseBSDVerbose(s *model.Socket, rest [][]byte, lay bsdLayout, names model.Interner) bool {
	switch {
	case lay.procCol > 0:
		return parseProcPID(s, rest, lay.procCol-1, names)
	case lay.pidCol > 0:
		if lay.pidCol > len(rest) {
			return false
		}
		if pid, ok := model.Atoi(rest[lay.pidCol-1]); ok && pid > 0 && pid < 1<<31 {
			s.PID = int(pid)
			return true
		}
		return false
	}
	// No header: tell the layouts apart by their shape.
	if len(rest) < 4 {
		return false
	}
	for _, tok := range rest[:4] {
		if _, ok := model.Atoi(tok); !ok {
			return false
		}
	}
	// Old: rhiwat shiwat pid epid state(0x..) options(0x..).
	oldShape := len(rest) >= 5 && bytes.HasPrefix(rest[4], []byte("0x"))
	if lay.oldV || (!lay.newV && oldShape) || (!lay.newV && len(rest) == 4) {
		if pid, ok := model.Atoi(rest[2]); ok && pid > 0 && pid < 1<<31 {
			s.PID = int(pid)
			return true
		}
		return false
	}
	// New: rxbytes txbytes rhiwat shiwat process:pid (name may have spaces).
	return parseProcPID(s, rest, 4, names)
}

// parseProcPID reads the macOS "process:pid" column, which starts at
// rest[from]: the process name may contain spaces, so the column ends at
// the first token with a ":<digits>" suffix.
func parseProcPID(s *model.Socket, rest [][]byte, from int, names model.Interner) bool {
	for k := from; k < len(rest); k++ {
		tok := rest[k]
		i := bytes.LastIndexByte(tok, ':')
		if i < 0 {
			continue
		}
		pid, ok := model.Atoi(tok[i+1:])
		if !ok || pid >= 1<<31 {
			continue
		}
		var name []byte
		for _, w := range rest[from:k] {
			name = append(name, w...)
			name = append(name, ' ')
		}
		name = append(name, tok[:i]...)
		s.Process = names.Get(name)
		s.PID = int(pid)
		return true
	}
	return false
}

// --- netstat -L ---

func detectNetstatBSDListen(head []string) int {
	title, header, rows := 0, 0, 0
	var buf [8][]byte
	for _, line := range head {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "Current listen queue sizes"):
			title++
			continue
		case strings.Contains(t, "Listen") && strings.Contains(t, "Local Address"):
			header++
			continue
		}
		f := parse.Fields(buf[:0], []byte(t))
		if _, ok := listenRow(f); ok {
			rows++
		}
	}
	switch {
	case title > 0:
		return 95
	case header > 0 && rows > 0:
		return 85
	case rows >= 2:
		return 50
	}
	return 0
}

// isQueueSizes reports a -L "qlen/incqlen/maxqlen" token.
func isQueueSizes(b []byte) bool {
	q := bytes.Split(b, []byte("/"))
	if len(q) != 3 {
		return false
	}
	for _, n := range q {
		if _, ok := model.Atoi(n); !ok {
			return false
		}
	}
	return true
}

// listenRow parses the fields of one -L row: [Tcpcb | Socket Flowhash]
// [proto] q/i/m local.
func listenRow(f [][]byte) (lr listenFields, ok bool) {
	f = skipPCBColumns(f, func(b []byte) bool { return isBSDProto(b) || isQueueSizes(b) })
	lr.isTCP = true
	if len(f) >= 3 {
		isTCP, fam, known := bsdProto(f[0])
		if !known {
			return lr, false
		}
		lr.isTCP, lr.fam = isTCP, fam
		f = f[1:]
	}
	if len(f) != 2 {
		return lr, false
	}
	q := bytes.Split(f[0], []byte("/"))
	if len(q) != 3 {
		return lr, false
	}
	var nums [3]int64
	for i := range q {
		n, ok := model.Atoi(q[i])
		if !ok {
			return lr, false
		}
		nums[i] = n
	}
	lr.qlen, lr.incq, lr.maxq = nums[0], nums[1], nums[2]
	e, _, err := bsdEndpoint(f[1])
	if err != nil {
		return lr, false
	}
	lr.local = loopback6(e, f[1], lr.fam)
	return lr, true
}

// loopback6 gives a loopback host name on a v6 socket ("tcp6 ...
// localhost.ipp": the resolver names ::1 so) the address ::1.
// ParseEndpoint maps the names localhost, localhost.localdomain and
// ip6-localhost to 127.0.0.1, right only on a v4 socket.
func loopback6(e model.Endpoint, tok []byte, fam int) model.Endpoint {
	if fam == 6 && e.Name == model.NoName && e.AddrPort.Addr().Is4() &&
		(bytes.HasPrefix(tok, []byte("localhost")) || bytes.HasPrefix(tok, []byte("ip6-localhost"))) {
		e.AddrPort = model.AddrPortFrom(netip.IPv6Loopback(), e.AddrPort.Port())
	}
	return e
}

type listenFields struct {
	isTCP            bool
	fam              int
	qlen, incq, maxq int64
	local            model.Endpoint
}

func parseNetstatBSDListen(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var buf [16][]byte
	var sig bsdSignals
	in := true
	for sc.Scan() {
		line := sc.Bytes()
		sc.ReportTooLong(out)
		t := strings.TrimSpace(string(line))
		if t == "" {
			continue
		}
		sig.observe(t)
		switch {
		case strings.HasPrefix(t, "Current listen queue sizes"):
			in = true
			continue
		case strings.Contains(t, "Listen") && strings.Contains(t, "Local Address"):
			continue
		case strings.HasPrefix(t, "Some ") && strings.Contains(t, "created or deleted"):
			continue // macOS: "Some tcp sockets may have been created or deleted."
		case strings.HasPrefix(t, "Active "), strings.HasPrefix(t, "Registered kernel"):
			in = false
			continue
		}
		if !in {
			continue
		}
		f := parse.Fields(buf[:0], line)
		if len(f) > 0 {
			if isTCP, _, known := bsdProto(f[len(f)-min(len(f), 3)]); known && !isTCP {
				continue // unix / sctp / udp listen queues
			}
		}
		lr, ok := listenRow(f)
		if !ok {
			if bytes.Count([]byte(t), []byte("/")) >= 2 {
				out.Problemf(sc.Line(), "bad listen queue row: "+model.Clip(t))
			}
			continue
		}
		if !lr.isTCP {
			continue // unix / sctp listen queues
		}
		s := model.NewSocket()
		s.State = model.Listen
		setSocketEndpoints(&s, lr.local, model.Endpoint{Wildcard: true, AnyPort: true}, lr.fam)
		s.RecvQ, s.SendQ = model.ClampQueue(lr.qlen), model.ClampQueue(lr.maxq)
		s.BacklogKnown = true
		out.Sockets = append(out.Sockets, s)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	out.Families = []int{4, 6}
	out.Richness = 20 // listeners only
	if fl := sig.flavor(); fl != "" {
		out.SetSysctl("tcpsnap.os", fl)
	}
	return nil
}
