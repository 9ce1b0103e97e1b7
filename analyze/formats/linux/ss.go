package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// SSFormat reads iproute2 ss socket listings: any mix of -t -a -n -p -o
// -e -i -m, with or without header (-H), Netid column or State column
// (single-state filters), TAB-started tcp_info lines, rows wrapped by a
// narrow terminal and stderr noise merged by 2>&1. See formats.md §2.
var SSFormat = &parse.Format{
	Name:        "ss",
	Description: "iproute2 ss socket listing (ss -tan, -tanpoeim, -H, state filters)",
	Example:     `ESTAB 0 0 192.0.2.1:22 198.51.100.5:50937 users:(("sshd",pid=812,fd=3)) timer:(keepalive,118min,0)`,
	Paths:       []string{"ss_-peaonmi", "ss_-tupna", "ss_-nap", "ss_-tanp", "ss_-tanpoeim"},
	Detect:      DetectSS,
	Parse:       ParseSS,
	Cut:         SSCut,
}

// SSCut reports whether a line starts a TCP record on its own: one
// ParseSS takes as a row start (a state word, or the tcp netid and what
// must follow it, at the start of the line). Wrapped columns and tcp_info
// lines start with blanks and stay with their record; a line ParseSS
// would take for noise or for another table's row is never a cut, since
// it leaves the record before it open.
func SSCut(line []byte) bool {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return false
	}
	var buf [8][]byte
	t := SSTokens(buf[:0], line)
	_, _, netid, ok := ssRowStart(t)
	return ok && (netid == "" || netid == "tcp")
}

// Column stages of one ss record, in print order.
const (
	ssStRecvQ = iota
	ssStSendQ
	ssStLocal
	ssStPeer
	ssStExtras
)

type ssParser struct {
	out   *model.Listing
	toks  [][]byte
	names model.Interner
	// The last process name interned, and its Name: rows of one
	// program's sockets come in runs, and a comparison is cheaper than
	// a map lookup.
	lastName   []byte
	lastNameID model.Name
	eps        model.EndpointCache // ParseEndpoint results for repeated tokens

	// The record being built lives in out.Sockets[cur] (built in place to
	// avoid copying a large struct twice per row); finish drops it again
	// when the record turns out incomplete.
	cur     int
	curLine int  // line the record started on; 0 when there is none
	skip    bool // the current record is not TCP (udp, u_str, ...): ignore its lines
	stage   int
	sawIno  bool
	sawUID  bool
	bad     bool // a Problem was already recorded for this record

	anyProc, anyTimer, anyInfo, anyInode bool
}

var errNotSS = errors.New("not an ss listing")

func ParseSS(r io.Reader, out *model.Listing) error {
	p := &ssParser{out: out, names: model.Interner{}, toks: make([][]byte, 0, 32), eps: model.EndpointCache{}}
	// Packed ss -tan rows are ~80 bytes, -i records ~600: one socket per
	// 64 input bytes rarely grows and wastes mostly untouched pages.
	parse.PresizeSockets(r, out, 64)
	sc := parse.NewLineScanner(r)
	rows, nonEmpty, header := 0, 0, false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		if len(line) == 0 {
			continue
		}
		nonEmpty++
		sc.ReportTooLong(out)
		if line[0] == '\t' {
			// tcp_info / skmem continuation of the previous record.
			if p.curLine != 0 && !p.skip {
				p.toks = SSTokens(p.toks, line)
				p.extras(p.toks, n)
			}
			continue
		}
		p.toks = SSTokens(p.toks, line)
		t := p.toks
		if len(t) == 0 {
			continue
		}
		i, state, netid, ok := ssRowStart(t)
		if !ok && bytes.Contains(line, []byte("Address:Port")) {
			// Header (or the wrapped second half of one).
			p.finish()
			header = true
			continue
		}
		if !ok {
			if line[0] == ' ' && p.curLine != 0 && (p.skip || ssContinuation(t[0])) {
				// A narrow terminal wrapped the record: later columns.
				if !p.skip {
					p.feed(t, n)
				}
				continue
			}
			// Anything else is noise: before the table, whatever came
			// before it (a prompt, the command); inside it, a line that
			// may have held a socket, reported unless it is a message
			// ss prints on its own or the wrapped part of the header.
			if (rows > 0 || header) && !ssNote(line) && !ssHeaderWords(t) {
				p.out.Problemf(n, "ss: not a socket row, ignored: "+parse.QuoteLine(line))
			}
			continue
		}
		p.finish()
		rows++
		p.curLine = n
		p.skip = netid != "" && netid != "tcp"
		if p.skip {
			continue
		}
		p.cur = len(out.Sockets)
		out.Sockets = append(out.Sockets, model.NewSocket())
		out.Sockets[p.cur].State = state
		p.stage = ssStRecvQ
		p.sawIno, p.sawUID, p.bad = false, false, false
		p.feed(t[i:], n)
	}
	p.finish()
	if err := sc.Err(); err != nil {
		return err
	}
	out.Families = []int{4, 6}
	var has model.Richness
	if p.anyProc {
		has |= model.RichOwners
	}
	if p.anyTimer {
		has |= model.RichTimers
	}
	if p.anyInfo {
		has |= model.RichInfo
	}
	if p.anyInode {
		has |= model.RichInodes
	}
	out.SetRichness(50, has)
	if rows == 0 && !header && nonEmpty > 0 {
		// Nothing looked like ss at all. (Empty input is fine: ss -H on
		// an idle host prints nothing.)
		return errNotSS
	}
	return nil
}

// finish completes the record being built (already in out.Sockets), or
// drops it when it was bad or is incomplete, reporting the latter.
func (p *ssParser) finish() {
	if p.curLine == 0 {
		return
	}
	line := p.curLine
	p.curLine = 0
	if p.skip {
		p.skip = false
		return
	}
	if p.bad {
		p.drop()
		return
	}
	if p.stage < ssStExtras {
		p.drop()
		p.out.Problemf(line, "ss: incomplete socket row (missing columns)")
		return
	}
	s := p.sock()
	if s.UID < 0 && p.sawIno && !p.sawUID {
		s.UID = 0 // ss -e omits uid:0
	}
	if s.State == model.Listen {
		s.BacklogKnown = true
	}
}

// sock returns the socket being built.
func (p *ssParser) sock() *model.Socket { return &p.out.Sockets[p.cur] }

// drop removes the socket being built.
func (p *ssParser) drop() {
	if in := p.out.Sockets[p.cur].InfoIndex(); in != 0 && int(in) == len(p.out.Infos) {
		p.out.Infos = p.out.Infos[:in-1]
	}
	p.out.Sockets[p.cur] = model.Socket{}
	p.out.Sockets = p.out.Sockets[:p.cur]
}

// feed consumes the column tokens of the current record.
func (p *ssParser) feed(t [][]byte, n int) {
	if p.bad {
		return
	}
	s := p.sock()
	for k := 0; k < len(t); k++ {
		tok := t[k]
		switch p.stage {
		case ssStRecvQ, ssStSendQ:
			v, ok := model.Atoi(tok)
			if !ok {
				p.problem(n, "ss: bad queue size", tok)
				return
			}
			if p.stage == ssStRecvQ {
				s.RecvQ = model.ClampQueue(v)
			} else {
				s.SendQ = model.ClampQueue(v)
			}
			p.stage++
		case ssStLocal, ssStPeer:
			dst, name := &s.Local, &s.LocalName
			if p.stage == ssStPeer {
				dst, name = &s.Remote, &s.RemoteName
			}
			// Plain IPv4, and a listener's peer "0.0.0.0:*", straight
			// into the socket; the rest through ParseEndpoint and its
			// cache.
			if !model.ParseIPv4PortTo(dst, tok) && !model.ParseIPv4AnyPortTo(dst, tok) {
				e, err := p.endpoint(tok)
				if err != nil {
					p.problem(n, "ss: bad address", tok)
					return
				}
				*dst, *name = e.AddrPort, e.Name
			}
			if p.stage == ssStLocal {
				s.Family = dst.Family()
			}
			p.stage++
		default:
			p.extras(t[k:], n)
			return
		}
	}
}

// endpoint is ParseEndpoint memoized for repeated tokens.
func (p *ssParser) endpoint(tok []byte) (model.Endpoint, error) { return p.eps.Parse(tok) }

func (p *ssParser) problem(n int, msg string, tok []byte) {
	p.bad = true
	if len(tok) > 64 {
		tok = tok[:64]
	}
	p.out.Problemf(n, msg+" "+quoteBytes(tok))
}

// quoteBytes quotes a token for a problem message.
func quoteBytes(b []byte) string {
	var buf bytes.Buffer
	buf.WriteByte('"')
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			const hex = "0123456789abcdef"
			buf.WriteString(`\x`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&15])
			continue
		}
		buf.WriteByte(c)
	}
	buf.WriteByte('"')
	return buf.String()
}

// extras handles the tokens after the peer address and on TAB lines:
// users:(...), timer:(...), uid:, ino:, skmem:(...) and tcp_info keys.
// Unknown tokens are ignored.
func (p *ssParser) extras(t [][]byte, n int) {
	s := p.sock()
	for _, tok := range t {
		c := bytes.IndexByte(tok, ':')
		if c <= 0 {
			continue // "<->", "ts", "sack", "cubic", "send", "482Mbps", ...
		}
		key, val := tok[:c], tok[c+1:]
		switch string(key) {
		case "users":
			if name, pid, fd, ok := SSUsers(val); ok {
				if p.lastName == nil || !bytes.Equal(name, p.lastName) {
					p.lastName, p.lastNameID = append(p.lastName[:0], name...), p.names.Get(name)
				}
				s.Process, s.PID, s.FD = p.lastNameID, pid, int32(fd)
				p.anyProc = true
			}
		case "timer":
			if kind, secs, rx, ok := SSTimer(val); ok {
				s.Timer, s.Retransmits = kind, model.NarrowRetransmits(int64(rx))
				s.SetTimerSecs(secs)
				p.anyTimer = true
			}
		case "uid":
			if v, ok := model.Atoi(val); ok && v <= 1<<31 {
				s.UID = model.NarrowUID(int64(v))
				p.sawUID = true
			}
		case "ino":
			if v, ok := model.Atoi(val); ok {
				s.Inode = model.NarrowInode(uint64(v))
				p.sawIno = true
				if v != 0 {
					p.anyInode = true
				}
			}
		case "skmem":
			in := p.info()
			ssSkmem(val, in)
		default:
			p.infoKey(key, val)
		}
	}
}

func (p *ssParser) info() *model.TCPInfo {
	s := p.sock()
	if in := model.InfoOf(p.out.Infos, s); in != nil {
		return in
	}
	p.anyInfo = true
	return model.SetInfo(&p.out.Infos, s, model.NewTCPInfo())
}

// infoKey stores one key:value tcp_info token the rules use.
func (p *ssParser) infoKey(key, val []byte) {
	var dst *int64
	switch string(key) {
	case "rto":
		if v, ok := parse.ParseDecimal(val); ok {
			p.info().RTO = v
		}
		return
	case "rtt":
		if i := bytes.IndexByte(val, '/'); i >= 0 {
			val = val[:i]
		}
		if v, ok := parse.ParseDecimal(val); ok {
			p.info().RTT = v
		}
		return
	case "retrans":
		i := bytes.IndexByte(val, '/')
		if i < 0 {
			return
		}
		a, ok1 := model.Atoi(val[:i])
		b, ok2 := model.Atoi(val[i+1:])
		if ok1 && ok2 {
			in := p.info()
			in.Retrans, in.RetransTotal = a, b
		}
		return
	case "lastsnd":
		dst = &p.info().LastSnd
	case "lastrcv":
		dst = &p.info().LastRcv
	case "lastack":
		dst = &p.info().LastAck
	case "unacked":
		dst = &p.info().Unacked
	case "backoff":
		dst = &p.info().Backoff
	case "cwnd":
		dst = &p.info().Cwnd
	case "bytes_sent":
		dst = &p.info().BytesSent
	case "bytes_retrans":
		dst = &p.info().BytesRetrans
	case "bytes_acked":
		dst = &p.info().BytesAcked
	case "bytes_received":
		dst = &p.info().BytesRecv
	default:
		return
	}
	if v, ok := model.Atoi(val); ok {
		*dst = v
	}
}

// ssSkmem parses the inside of skmem:(r0,rb131072,t0,tb87040,f0,w0,o0,bl0,d0).
func ssSkmem(val []byte, in *model.TCPInfo) {
	val = bytes.TrimPrefix(val, []byte{'('})
	if i := bytes.IndexByte(val, ')'); i >= 0 {
		val = val[:i]
	}
	for len(val) > 0 {
		var part []byte
		if i := bytes.IndexByte(val, ','); i >= 0 {
			part, val = val[:i], val[i+1:]
		} else {
			part, val = val, nil
		}
		j := 0
		for j < len(part) && part[j] >= 'a' && part[j] <= 'z' {
			j++
		}
		v, ok := model.Atoi(part[j:])
		if !ok {
			continue
		}
		switch string(part[:j]) {
		case "r":
			in.RmemAlloc = v
		case "rb":
			in.Rcvbuf = v
		case "t":
			in.WmemAlloc = v
		case "tb":
			in.Sndbuf = v
		}
	}
}

// SSUsers parses the value of users:(("nginx",pid=1234,fd=6),(...)) and
// the old form users:(("sshd",1231,3)), returning the first tuple.
func SSUsers(val []byte) (name []byte, pid, fd int, ok bool) {
	// val starts at "((".
	if len(val) < 3 || val[0] != '(' || val[1] != '(' || val[2] != '"' {
		return nil, 0, -1, false
	}
	rest := val[3:]
	// The name ends at the first quote followed by ',' or ')': names may
	// hold spaces, commas and parentheses, but ss prints no escapes.
	end := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '"' && (i+1 == len(rest) || rest[i+1] == ',' || rest[i+1] == ')') {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, 0, -1, false
	}
	name, rest = rest[:end], rest[end+1:]
	fd = -1
	pos := 0 // position among unlabeled numbers (old form: pid, fd)
	for len(rest) > 0 && rest[0] == ',' {
		rest = rest[1:]
		j := 0
		for j < len(rest) && rest[j] != ',' && rest[j] != ')' {
			j++
		}
		part := rest[:j]
		rest = rest[j:]
		switch {
		case bytes.HasPrefix(part, []byte("pid=")):
			if v, ok := model.Atoi(part[4:]); ok && v < 1<<31 {
				pid = int(v)
			}
		case bytes.HasPrefix(part, []byte("fd=")):
			if v, ok := model.Atoi(part[3:]); ok && v < 1<<31 {
				fd = int(v)
			}
		default:
			if v, ok := model.Atoi(part); ok && v < 1<<31 {
				if pos == 0 {
					pid = int(v)
				} else if pos == 1 {
					fd = int(v)
				}
				pos++
			}
		}
	}
	return name, pid, fd, true
}

// SSTimer parses the value of timer:(NAME,TIME,RETRANS).
func SSTimer(val []byte) (kind model.Timer, secs float64, retrans int, ok bool) {
	if len(val) < 2 || val[0] != '(' {
		return model.TimerNone, 0, 0, false
	}
	val = val[1:]
	if i := bytes.IndexByte(val, ')'); i >= 0 {
		val = val[:i]
	}
	i := bytes.IndexByte(val, ',')
	if i < 0 {
		return model.TimerNone, 0, 0, false
	}
	name, rest := val[:i], val[i+1:]
	switch string(name) {
	case "on":
		kind = model.TimerOn
	case "keepalive":
		kind = model.TimerKeepalive
	case "timewait":
		kind = model.TimerTimeWait
	case "persist":
		kind = model.TimerPersist
	case "delack":
		kind = model.TimerDelack
	default:
		kind = model.TimerOther
	}
	tm := rest
	retrans = -1
	if j := bytes.IndexByte(rest, ','); j >= 0 {
		tm = rest[:j]
		if v, ok := model.Atoi(rest[j+1:]); ok && v < 1<<31 {
			retrans = int(v)
		}
	}
	secs, ok = SSDuration(tm)
	if !ok {
		secs = -1
	}
	return kind, secs, retrans, true
}

// SSDuration parses ss -o timer times: "118min", "55sec", "204ms",
// "1min23sec", "2.067sec", and the pre-6.11 "2.067ms" which means 2.067
// seconds (a fraction with an integer part of at least 1 before "ms").
func SSDuration(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	total := 0.0
	for len(b) > 0 {
		j := 0
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.') {
			j++
		}
		num := b[:j]
		v, ok := parse.ParseDecimal(num)
		if !ok {
			return 0, false
		}
		b = b[j:]
		k := 0
		for k < len(b) && b[k] >= 'a' && b[k] <= 'z' {
			k++
		}
		unit := b[:k]
		b = b[k:]
		switch string(unit) {
		case "min":
			total += v * 60
		case "sec", "s":
			total += v
		case "ms":
			if bytes.IndexByte(num, '.') >= 0 && v >= 1 {
				total += v // pre-6.11 bug: seconds printed with "ms"
			} else {
				total += v / 1000
			}
		default:
			return 0, false
		}
	}
	return total, true
}

// ssByteClass sorts bytes for ssTokens: blanks end a token, quotes and
// parentheses open a group that may hold blanks.
var ssByteClass = func() (c [256]uint8) {
	c[' '], c['\t'] = ssBlank, ssBlank
	c['"'], c['('] = ssGroup, ssGroup
	c[')'] = ssClose
	return c
}()

const (
	ssBlank = 1 // ' ' or '\t'
	ssGroup = 2 // '"' or '('
	ssClose = 4 // ')': only special inside a group
)

// SSTokens splits a line on spaces and tabs like fields, but keeps quoted
// strings and parenthesized groups whole, so users:(("a b",pid=1,fd=2))
// stays one token. The tokens alias line.
func SSTokens(dst [][]byte, b []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(b) {
		for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == parse.EightBlanks {
			i += 8
		}
		for i < len(b) && ssByteClass[b[i]] == ssBlank {
			i++
		}
		if i >= len(b) {
			break
		}
		j := i
		// Fast path: plain tokens have no quotes or parentheses. Every
		// byte that ends one is below 0x29: skip words of eight larger
		// bytes, then look at single bytes.
		for j+8 <= len(b) && parse.HasByteBelow29(binary.LittleEndian.Uint64(b[j:])) == 0 {
			j += 8
		}
		for j < len(b) && ssByteClass[b[j]]&(ssBlank|ssGroup) == 0 {
			j++
		}
		if j < len(b) && ssByteClass[b[j]] == ssGroup {
			j = ssGroupEnd(b, j)
		}
		dst = append(dst, b[i:j])
		i = j
	}
	return dst
}

// ssGroupEnd returns where the token containing the quote or parenthesis
// at b[j] ends: at the first space or tab outside quotes and parentheses.
func ssGroupEnd(b []byte, j int) int {
	depth := 0
	for j < len(b) {
		switch ssByteClass[b[j]] {
		case 0:
		case ssBlank:
			if depth == 0 {
				return j
			}
		case ssClose:
			if depth > 0 {
				depth--
			}
		default:
			if b[j] == '(' {
				depth++
				break
			}
			// A quoted string runs to the next quote, blanks and
			// parentheses included.
			k := bytes.IndexByte(b[j+1:], '"')
			if k < 0 {
				return len(b)
			}
			j += k + 1
		}
		j++
	}
	return j
}

// ssNetids are the socket tables ss prints in its Netid column.
func ssNetid(b []byte) bool {
	switch string(b) {
	case "tcp", "udp", "raw", "u_str", "u_dgr", "u_seq", "p_raw", "p_dgr",
		"nl", "mptcp", "sctp", "tipc", "v_str", "v_dgr", "xdp", "dccp", "icmp6", "u_stream":
		return true
	}
	return false
}

// ssState maps an ss state word to its canonical state.
func ssState(b []byte) (model.State, bool) {
	switch string(b) {
	case "ESTAB":
		return model.Established, true
	case "LISTEN":
		return model.Listen, true
	case "TIME-WAIT":
		return model.TimeWait, true
	case "CLOSE-WAIT":
		return model.CloseWait, true
	case "SYN-SENT":
		return model.SynSent, true
	case "SYN-RECV":
		return model.SynRecv, true
	case "FIN-WAIT-1":
		return model.FinWait1, true
	case "FIN-WAIT-2":
		return model.FinWait2, true
	case "LAST-ACK":
		return model.LastAck, true
	case "CLOSING":
		return model.Closing, true
	case "UNCONN":
		return model.Close, true
	case "UNKNOWN":
		return model.Unknown, true
	}
	return model.NoState, false
}

// ssRowStart decides whether tokens start an ss socket row. It returns
// the index of the Recv-Q column, the state (Unknown without a State
// column) and the netid ("" without a Netid column).
func ssRowStart(t [][]byte) (i int, state model.State, netid string, ok bool) {
	if len(t) == 0 {
		return 0, model.NoState, "", false
	}
	if ssNetid(t[0]) {
		netid = ssNetidName(t[0])
		i = 1
	}
	if i < len(t) {
		if st, ok := ssState(t[i]); ok {
			return i + 1, st, netid, true
		}
	}
	// No State column (single-state filter): two integers then an address.
	if i+2 < len(t) && isDigits(t[i]) && isDigits(t[i+1]) && bytes.IndexByte(t[i+2], ':') >= 0 {
		return i, model.Unknown, netid, true
	}
	if netid != "" && i+1 < len(t) && isDigits(t[i]) {
		// "tcp 0" followed by garbage: a row gone wrong, not noise.
		return i, model.Unknown, netid, true
	}
	return 0, model.NoState, "", false
}

func ssNetidName(b []byte) string {
	if string(b) == "tcp" {
		return "tcp"
	}
	return "other"
}

func isDigits(b []byte) bool {
	_, ok := model.Atoi(b)
	return ok
}

// ssNote reports whether a line is a message ss prints to stderr on
// its own, which 2>&1 mixes into the listing ("Failed to find cgroup2
// mount", once per socket with -e on some hosts).
func ssNote(line []byte) bool {
	return bytes.HasPrefix(line, []byte("Failed to find cgroup2 mount")) ||
		bytes.HasPrefix(line, []byte("Failed to open cgroup2 by ID"))
}

// ssHeaderWords reports whether tokens are words of the column header
// only: its wrapped second half ("Process").
func ssHeaderWords(t [][]byte) bool {
	for _, tok := range t {
		switch string(tok) {
		case "Netid", "State", "Recv-Q", "Send-Q", "Local", "Peer", "Address:Port", "Process":
		default:
			return false
		}
	}
	return true
}

// ssContinuation reports whether a token can start the wrapped part of a
// record: an address or one of the per-socket extras.
func ssContinuation(tok []byte) bool {
	if bytes.IndexByte(tok, ':') >= 0 {
		return true // address, users:(, timer:(, ino:, sk:, skmem:(, ...
	}
	switch string(tok) {
	case "<->", "-->", "<--", "---":
		return true
	}
	return false
}

// DetectSS scores the head of an input: a header with "Local Address:Port"
// is near certain; otherwise the share of lines that look like ss rows
// decides. net-tools netstat (underscored states after the peer, "Proto"
// header, tcp6 netid) is not claimed.
func DetectSS(head []string) int {
	var toks [][]byte
	total, like := 0, 0
	decisive, netstat := false, false
	for _, l := range head {
		b := []byte(l)
		if bytes.Contains(b, []byte("Local Address:Port")) {
			return 95
		}
		total++
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("Proto ")) || bytes.Contains(b, []byte("Foreign Address")) {
			netstat = true
			continue
		}
		if len(b) > 0 && b[0] == '\t' {
			if bytes.Contains(b, []byte("rtt:")) || bytes.Contains(b, []byte("wscale:")) || bytes.Contains(b, []byte("skmem:(")) {
				decisive = true
				like++
			}
			continue
		}
		if bytes.Contains(b, []byte("users:((")) || bytes.Contains(b, []byte("timer:(")) || bytes.Contains(b, []byte("skmem:(")) {
			decisive = true
		}
		toks = SSTokens(toks, b)
		if ssLikeRow(toks) {
			like++
		}
	}
	if like == 0 || (netstat && !decisive) {
		return 0
	}
	share := like * 100 / total
	switch {
	case decisive:
		return 75 + share*15/100
	case share >= 50:
		return 60 + (share-50)*30/50
	}
	return share / 2
}

// ssLikeRow reports whether tokens look like a complete ss row:
// [netid] [ss-state] int int addr:port addr:port, with no net-tools state
// word after the peer.
func ssLikeRow(t [][]byte) bool {
	i := 0
	if len(t) > 0 && ssNetid(t[0]) {
		i = 1
	}
	stated := false
	if i < len(t) {
		if _, ok := ssState(t[i]); ok {
			i++
			stated = true
		}
	}
	if i+4 > len(t) || !isDigits(t[i]) || !isDigits(t[i+1]) {
		return false
	}
	if !ssAddrLike(t[i+2]) || !ssAddrLike(t[i+3]) {
		return false
	}
	if !stated && i+4 < len(t) {
		// netstat puts its (underscored or ESTABLISHED) state after the peer.
		if _, ok := model.CanonicalState(string(t[i+4])); ok {
			return false
		}
	}
	return true
}

func ssAddrLike(b []byte) bool {
	c := bytes.LastIndexByte(b, ':')
	return c >= 0 && c < len(b)-1
}
