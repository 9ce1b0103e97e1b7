package unix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// LsofFormat reads lsof listings (formats.md §9): lsof -i with or without
// -n/-P, -E peer information, -K thread columns (TID, TASKCMD), a plain
// lsof of every file (rows whose NODE is TCP are kept) and the -F field
// output. Rows whose NAME is "can't identify protocol" (sockets whose
// connection is gone) are not TCP sockets; they are counted in the
// Lsof.CantIdentifyProtocol counters (see CounterCantIdentify).
var LsofFormat = &parse.Format{
	Name:        "lsof",
	Description: "lsof -i [-n] [-P] [-E] [-K], plain lsof (TCP rows) and lsof -F",
	Example:     "nginx    2230  www    12u  IPv4  40017      0t0  TCP 192.0.2.10:443->198.51.100.7:50814 (ESTABLISHED)",
	Detect:      detectLsof,
	Parse:       parseLsof,
}

// lsofRichness ranks lsof below ss (no queues, timers or tcp_info) but
// above netstat without owners: it always names the process, PID and FD.
const lsofRichness = 50

func lsofHeader(fs [][]byte) bool {
	if len(fs) < 4 || string(fs[0]) != "COMMAND" || string(fs[len(fs)-1]) != "NAME" {
		return false
	}
	return string(fs[1]) == "PID"
}

// lsofTCPRow returns the index of the NODE token "TCP" in a row whose NAME
// is an address, or -1.
func lsofTCPRow(fs [][]byte) int {
	for k := len(fs) - 2; k >= 3; k-- {
		if string(fs[k]) == "TCP" && bytes.IndexByte(fs[k+1], ':') >= 0 {
			return k
		}
	}
	return -1
}

// lsofTypeAt returns the index of the TYPE token (IPv4/IPv6) of a row
// whose NODE is fs[k]: three tokens before NODE (TYPE DEVICE SIZE/OFF
// NODE) or two when SIZE/OFF is empty; -1 when neither.
func lsofTypeAt(fs [][]byte, k int) int {
	for _, i := range []int{k - 3, k - 2} {
		if i >= 2 && (string(fs[i]) == "IPv4" || string(fs[i]) == "IPv6") {
			return i
		}
	}
	return -1
}

// lsofFieldPID reports whether a line is the "p1234" process field that
// starts an lsof -F process set (NUL-terminated with -F0).
func lsofFieldPID(b []byte) bool {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) < 2 || b[0] != 'p' {
		return false
	}
	_, ok := model.Atoi(b[1:])
	return ok
}

// cantIdentify is what lsof prints in NAME for a socket whose protocol it
// cannot read: on Linux, a socket whose connection is gone (closed by the
// peer, or never connected) while the process still holds the descriptor.
// Many of them in one process are a descriptor leak.
const cantIdentify = "can't identify protocol"

// CounterCantIdentify names the Listing counter of those rows, in total;
// CounterCantIdentify+".<pid>" counts them per process.
const CounterCantIdentify = "Lsof.CantIdentifyProtocol"

// lsofCantIdentifyRow reports a row whose NAME is "can't identify protocol"
// and returns its PID and the key that tells its copies (-K threads)
// apart: COMMAND PID [TID [TASKCMD]] USER FD sock DEVICE SIZE/OFF NODE NAME.
func lsofCantIdentifyRow(line []byte, fs [][]byte) (pid int, key lsofKey, ok bool) {
	if !bytes.HasSuffix(bytes.TrimRight(line, " \t"), []byte(cantIdentify)) || len(fs) < 6 {
		return 0, key, false
	}
	p, ok := model.Atoi(fs[1])
	if !ok || p > 1<<31-1 {
		return 0, key, false
	}
	key.pid = int(p)
	// The TYPE column ("sock") follows the FD; the first one after PID.
	for t := 3; t < len(fs)-3; t++ {
		if string(fs[t]) != "sock" {
			continue
		}
		fd := fs[t-1]
		j := 0
		for j < len(fd) && fd[j] >= '0' && fd[j] <= '9' {
			j++
		}
		if v, ok := model.Atoi(fd[:j]); ok && v <= 1<<31-1 {
			key.fd = int(v)
		}
		key.dev = string(fs[t+3]) // NODE: the socket inode on Linux
		break
	}
	return key.pid, key, true
}

// lsofCantIdentifyCounts counts "can't identify protocol" sockets per PID.
type lsofCantIdentifyCounts struct {
	perPID map[int]int64
	seen   map[lsofKey]bool
}

func (c *lsofCantIdentifyCounts) add(key lsofKey) {
	if c.seen == nil {
		c.seen = map[lsofKey]bool{}
		c.perPID = map[int]int64{}
	}
	if c.seen[key] {
		return // the same descriptor again, listed for another thread (-K)
	}
	c.seen[key] = true
	c.perPID[key.pid]++
}

// set records the counters: Lsof.CantIdentifyProtocol (total) and
// Lsof.CantIdentifyProtocol.<pid>; none when there was no such row.
func (c *lsofCantIdentifyCounts) set(out *model.Listing) {
	var total int64
	for pid, n := range c.perPID {
		out.SetCounter(CounterCantIdentify+"."+model.Itoa(pid), n)
		total += n
	}
	if total > 0 {
		out.SetCounter(CounterCantIdentify, total)
	}
}

func detectLsof(head []string) int {
	var header, rows, warn, fpid, fst, fname, cant int
	var fs [][]byte
	for _, l := range head {
		b := []byte(l)
		if bytes.HasPrefix(b, []byte("lsof: ")) {
			warn++
			continue
		}
		for _, seg := range bytes.Split(b, []byte{0}) { // -F0: NUL-separated fields
			if lsofFieldPID(seg) {
				fpid++
			}
			if bytes.HasPrefix(seg, []byte("TST=")) {
				fst++
			}
			if len(seg) > 1 && seg[0] == 'n' && bytes.IndexByte(seg, ':') > 0 {
				fname++
			}
		}
		fs = parse.Fields(fs, b)
		if lsofHeader(fs) {
			header++
			continue
		}
		if k := lsofTCPRow(fs); k >= 0 && b[len(b)-1] == ')' && lsofTypeAt(fs, k) >= 0 {
			rows++
		} else if _, _, ok := lsofCantIdentifyRow(b, fs); ok {
			cant++
		}
	}
	switch {
	case header > 0 && rows > 0:
		return 90
	case header > 0:
		return 60 // plain lsof: the first lines are cwd, txt, mem...
	case rows >= 2, rows+cant >= 2 && rows > 0:
		return 60
	case cant >= 3:
		return 50 // lsof | grep "can't identify protocol"
	case rows == 1:
		return 40
	case fpid > 0 && fname > 0 && fst > 0:
		return 80
	case warn > 0 && fpid > 0 && fname > 0:
		return 50
	}
	return 0
}

var errNotLsof = errors.New("not an lsof listing")

// lsofKey identifies one socket of one process, to drop the copies -K
// prints for every thread.
type lsofKey struct {
	pid, fd int
	dev     string
}

func parseLsof(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	names := model.Interner{}
	var fs [][]byte
	seen := map[lsofKey]bool{}
	recognised := false
	nonBlank := 0
	var fp lsofFieldParser
	var cant lsofCantIdentifyCounts
	for sc.Scan() {
		n := sc.Line()
		line := sc.Bytes()
		fs = sc.Fields(fs, out)
		if len(fs) == 0 {
			continue
		}
		nonBlank++
		if bytes.HasPrefix(line, []byte("lsof: ")) || string(fs[0]) == "Output" {
			recognised = true // warnings and their indented second line
			continue
		}
		if lsofHeader(fs) {
			recognised = true
			continue
		}
		if fp.active || lsofFieldPID(line) {
			// -F field output: one field per line (or NUL separated).
			recognised = true
			fp.active = true
			fp.cant = &cant
			for _, f := range bytes.Split(line, []byte{0}) {
				fp.field(f, n, out, names)
			}
			continue
		}
		k := lsofTCPRow(fs)
		if k < 0 {
			if _, key, ok := lsofCantIdentifyRow(line, fs); ok {
				recognised = true
				cant.add(key)
				continue
			}
			if bytes.Contains(line, []byte("protocol: TCP")) {
				// Buggy builds print "sock ... protocol: TCPv6" with no address.
				out.Problemf(n, "TCP socket without address: "+model.Clip(line))
			} else if recognised && !lsofRowShape(fs) {
				// Not a file of any kind (those are skipped on purpose):
				// say what was left out, never drop it silently.
				out.Problemf(n, "not an lsof row, ignored: "+model.Clip(line))
			}
			continue
		}
		recognised = true
		s, key, ok := parseLsofRow(fs, k, n, out, names)
		if !ok {
			continue
		}
		if seen[key] {
			continue // the same socket again, listed for another thread (-K)
		}
		seen[key] = true
		out.Sockets = append(out.Sockets, s)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if fp.active {
		fp.flush(out)
	}
	if !recognised && nonBlank > 0 {
		return errNotLsof
	}
	cant.set(out)
	out.Families = []int{4, 6}
	out.Richness = lsofRichness
	return nil
}

// parseLsofRow parses one row whose NODE token is fs[k]:
// COMMAND PID [TID [TASKCMD]] USER FD TYPE DEVICE SIZE/OFF NODE NAME...
func parseLsofRow(fs [][]byte, k, n int, out *model.Listing, names model.Interner) (model.Socket, lsofKey, bool) {
	s := model.NewSocket()
	var key lsofKey
	t := lsofTypeAt(fs, k)
	if t < 0 {
		out.Problemf(n, "TCP row without an IPv4/IPv6 TYPE column: "+model.Clip(bytes.Join(fs, []byte(" "))))
		return s, key, false
	}
	pid, ok := model.Atoi(fs[1])
	if !ok || pid > 1<<31-1 {
		out.Problemf(n, fmt.Sprintf("bad PID %q", model.Clip(fs[1])))
		return s, key, false
	}
	s.PID = int(pid)
	// lsof prints unprintable command characters escaped: "Google\x20".
	s.Process = names.Get(bytes.ReplaceAll(fs[0], []byte(`\x20`), []byte(" ")))
	fam := 4
	if string(fs[t]) == "IPv6" {
		fam = 6
	}
	// FD: "12u", "3r", ... The digits are the descriptor.
	fd := fs[t-1]
	j := 0
	for j < len(fd) && fd[j] >= '0' && fd[j] <= '9' {
		j++
	}
	if v, ok := model.Atoi(fd[:j]); ok && v <= 1<<31-1 {
		s.FD = int32(v)
	}
	if t+1 < k {
		// DEVICE is the socket inode on Linux, a kernel address elsewhere.
		if v, ok := model.Atoi(fs[t+1]); ok {
			s.Inode = model.NarrowInode(uint64(v))
		}
		key.dev = string(fs[t+1])
	}
	key.pid, key.fd = s.PID, int(s.FD)

	name := fs[k+1:]
	addr := name[0]
	var state []byte
	last := name[len(name)-1]
	if len(name) > 1 || (len(last) > 0 && last[0] == '(') {
		// "(ESTABLISHED)", or "(LISTEN QR=0 QS=0)" / "(QR=0 QS=0 ST=...)"
		// with -T: collect the tokens inside the parentheses.
		inParen := false
		for _, tok := range name[1:] {
			if len(tok) > 0 && tok[0] == '(' {
				inParen = true
				tok = tok[1:]
			}
			if !inParen {
				continue // -E peer information: "1077,sshd,3u"
			}
			end := len(tok) > 0 && tok[len(tok)-1] == ')'
			if end {
				tok = tok[:len(tok)-1]
				inParen = false
			}
			switch {
			case bytes.HasPrefix(tok, []byte("QR=")):
				if v, ok := model.Atoi(tok[3:]); ok {
					s.RecvQ = model.ClampQueue(v)
				}
			case bytes.HasPrefix(tok, []byte("QS=")):
				if v, ok := model.Atoi(tok[3:]); ok {
					s.SendQ = model.ClampQueue(v)
				}
			case bytes.HasPrefix(tok, []byte("ST=")):
				state = tok[3:]
			case bytes.IndexByte(tok, '=') < 0 && len(tok) > 0:
				state = tok
			}
		}
	}
	localTok, remoteTok := addr, []byte(nil)
	if i := bytes.Index(addr, []byte("->")); i >= 0 {
		localTok, remoteTok = addr[:i], addr[i+2:]
	}
	local, err := model.ParseEndpoint(localTok, false)
	if err != nil {
		out.Problemf(n, fmt.Sprintf("bad local address %q", model.Clip(localTok)))
		return s, key, false
	}
	s.Local, s.LocalName = lsofAddr(local, localTok, fam), local.Name
	if remoteTok != nil {
		remote, err := model.ParseEndpoint(remoteTok, false)
		if err != nil {
			out.Problemf(n, fmt.Sprintf("bad remote address %q", model.Clip(remoteTok)))
			return s, key, false
		}
		s.Remote, s.RemoteName = lsofAddr(remote, remoteTok, fam), remote.Name
	} else {
		s.Remote = model.AddrPortFrom(anyAddr(fam), 0)
	}
	s.Family = uint8(fam)
	if local.Name == model.NoName && s.Local.Addr().Is4() {
		s.Family = 4 // IPv4-mapped addresses on an IPv6 socket
	}
	if state == nil {
		s.State = model.Unknown
		out.Problemf(n, "TCP row without a state")
	} else if st, ok := model.CanonicalState(string(state)); ok {
		s.State = st
	} else {
		s.State = model.Unknown
		out.Problemf(n, fmt.Sprintf("unknown state word %q", model.Clip(state)))
	}
	return s, key, true
}

// lsofAddr gives a wildcard ("*:22") the unspecified address of the
// socket's family, and "localhost" on an IPv6 socket the address ::1
// (ParseEndpoint maps the name to 127.0.0.1).
func lsofAddr(e model.Endpoint, tok []byte, fam int) model.AddrPort {
	switch {
	case e.Wildcard && e.Name == model.NoName:
		return model.AddrPortFrom(anyAddr(fam), e.AddrPort.Port())
	case fam == 6 && bytes.HasPrefix(tok, []byte("localhost")) && e.AddrPort.Addr().Is4():
		return model.AddrPortFrom(netip.IPv6Loopback(), e.AddrPort.Port())
	}
	return e.AddrPort
}

func anyAddr(fam int) netip.Addr {
	if fam == 6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// lsofFieldParser assembles sockets from lsof -F output: "p1234",
// "ccommand", "f3", "tIPv4", "PTCP", "n127.0.0.1:8080->...", "TST=LISTEN",
// "TQR=0", "TQS=0". A file's fields end at the next "f" or "p".
type lsofFieldParser struct {
	active  bool
	pid     int
	command model.Name
	have    bool // a file is open
	line    int
	fd      int
	fam     int
	proto   string
	name    []byte
	state   string
	qr, qs  int64
	dev     string
	seen    map[lsofKey]bool
	cant    *lsofCantIdentifyCounts
}

func (p *lsofFieldParser) field(f []byte, n int, out *model.Listing, names model.Interner) {
	if len(f) == 0 {
		return
	}
	v := f[1:]
	switch f[0] {
	case 'p':
		p.flush(out)
		p.have = false
		p.command = model.NoName
		p.pid = 0
		if x, ok := model.Atoi(v); ok && x <= 1<<31-1 {
			p.pid = int(x)
		}
	case 'c':
		p.command = names.Get(v)
	case 'f':
		p.flush(out)
		*p = lsofFieldParser{active: true, pid: p.pid, command: p.command, seen: p.seen, cant: p.cant,
			have: true, line: n, fd: -1, qr: 0, qs: 0}
		if x, ok := model.Atoi(v); ok && x <= 1<<31-1 {
			p.fd = int(x)
		}
	case 't':
		switch string(v) {
		case "IPv4":
			p.fam = 4
		case "IPv6":
			p.fam = 6
		}
	case 'P':
		p.proto = string(v)
	case 'd':
		p.dev = string(v)
	case 'n':
		p.name = append(p.name[:0], v...)
	case 'T':
		switch {
		case bytes.HasPrefix(v, []byte("ST=")):
			p.state = string(v[3:])
		case bytes.HasPrefix(v, []byte("QR=")):
			p.qr, _ = model.Atoi(v[3:])
		case bytes.HasPrefix(v, []byte("QS=")):
			p.qs, _ = model.Atoi(v[3:])
		}
	}
}

// flush emits the open file if it is a TCP socket: protocol TCP, or no
// protocol field but a TCP state (UDP sockets have none).
func (p *lsofFieldParser) flush(out *model.Listing) {
	if !p.have {
		return
	}
	p.have = false
	if string(p.name) == cantIdentify {
		if p.cant != nil {
			p.cant.add(lsofKey{pid: p.pid, fd: p.fd, dev: p.dev})
		}
		return
	}
	if p.proto != "" && p.proto != "TCP" {
		return
	}
	if p.proto == "" && p.state == "" {
		return
	}
	if bytes.IndexByte(p.name, ':') < 0 {
		return
	}
	key := lsofKey{pid: p.pid, fd: p.fd, dev: p.dev}
	if p.seen == nil {
		p.seen = map[lsofKey]bool{}
	}
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	s := model.NewSocket()
	s.PID, s.Process, s.FD = p.pid, p.command, int32(p.fd)
	s.RecvQ, s.SendQ = model.ClampQueue(p.qr), model.ClampQueue(p.qs)
	if v, ok := model.Atoi([]byte(p.dev)); ok {
		s.Inode = model.NarrowInode(uint64(v)) // Linux: the socket inode
	}
	fam := p.fam
	localTok, remoteTok := p.name, []byte(nil)
	if i := bytes.Index(p.name, []byte("->")); i >= 0 {
		localTok, remoteTok = p.name[:i], p.name[i+2:]
	}
	local, err := model.ParseEndpoint(localTok, false)
	if err != nil {
		out.Problemf(p.line, fmt.Sprintf("bad local address %q", model.Clip(localTok)))
		return
	}
	if fam == 0 {
		fam = 4
		if local.Name == model.NoName && !local.Wildcard && local.AddrPort.Addr().Is6() {
			fam = 6
		}
	}
	s.Local, s.LocalName = lsofAddr(local, localTok, fam), local.Name
	if remoteTok != nil {
		remote, err := model.ParseEndpoint(remoteTok, false)
		if err != nil {
			out.Problemf(p.line, fmt.Sprintf("bad remote address %q", model.Clip(remoteTok)))
			return
		}
		s.Remote, s.RemoteName = lsofAddr(remote, remoteTok, fam), remote.Name
		if p.fam == 0 && local.Wildcard && remote.Name == model.NoName && remote.AddrPort.Addr().Is6() {
			fam = 6
		}
	} else {
		s.Remote = model.AddrPortFrom(anyAddr(fam), 0)
	}
	s.Family = uint8(fam)
	if local.Name == model.NoName && s.Local.Addr().Is4() {
		s.Family = 4
	}
	if st, ok := model.CanonicalState(p.state); ok {
		s.State = st
	} else {
		s.State = model.Unknown
		if p.state == "" {
			out.Problemf(p.line, "TCP socket without a state")
		} else {
			out.Problemf(p.line, fmt.Sprintf("unknown state word %q", model.Clip([]byte(p.state))))
		}
	}
	out.Sockets = append(out.Sockets, s)
}

// lsofRowShape reports whether fields look like an lsof row of any file
// type: COMMAND, a numeric PID, then at least USER, FD, TYPE and a NAME.
func lsofRowShape(fs [][]byte) bool {
	if len(fs) < 5 {
		return false
	}
	for _, c := range fs[1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
