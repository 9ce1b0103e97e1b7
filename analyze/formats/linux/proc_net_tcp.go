package linux

import (
	"bytes"
	"errors"
	"io"
	"net/netip"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// ProcNetTCPFormat reads /proc/net/tcp and /proc/net/tcp6 (formats.md §3).
//
// Addresses are decoded as a little-endian producer (x86, arm64, ...)
// printed them: the IPv4 address and each 32-bit word of an IPv6 address
// appear byte-reversed. Big-endian producers (s390x, big-endian POWER and
// SPARC) print them unreversed; they are out of scope here, and their
// addresses decode byte-swapped.
var ProcNetTCPFormat = &parse.Format{
	Name:        "proc-net-tcp",
	Description: "Linux /proc/net/tcp and /proc/net/tcp6 socket tables",
	Example:     "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 61234 1 0000000000000000 100 0 0 10 0",
	Paths:       []string{"proc/net/tcp", "proc/net/tcp6"},
	Detect:      detectProcNetTCP,
	Parse:       ParseProcNetTCP,
	Cut:         procNetTCPCut,
	CutWhole:    procNetTCPWhole,
}

// procNetTCPCut reports whether a line is a well-formed socket row
// ("  12: 0100007F:1F90 00000000:0000 0A ..."): rows do not depend on each
// other, and the first one makes the rest of a piece parse as it would in
// the whole table.
func procNetTCPCut(line []byte) bool {
	_, _, ok := procRowShape(parse.FieldsN(nil, line, 4))
	return ok
}

// procNetTCPWhole reports whether a text holds more than one table header
// (tcp and tcp6 concatenated, or a udp table after them) or a udp/raw
// one: such a header stops the parse where it stands, which a piece
// after it would not know.
func procNetTCPWhole(text []byte) bool {
	i := bytes.Index(text, []byte("local_address"))
	if i < 0 {
		return false
	}
	if bytes.Contains(text[i+1:], []byte("local_address")) {
		return true
	}
	start := bytes.LastIndexAny(text[:i], "\r\n") + 1
	end := len(text)
	if j := bytes.IndexAny(text[i:], "\r\n"); j >= 0 {
		end = i + j
	}
	return isProcNetUDPHeader(text[start:end])
}

// procTCPStates maps the /proc state codes 01..0B to canonical states.
var procTCPStates = [...]model.State{
	1: model.Established, 2: model.SynSent, 3: model.SynRecv, 4: model.FinWait1, 5: model.FinWait2,
	6: model.TimeWait, 7: model.Close, 8: model.CloseWait, 9: model.LastAck, 10: model.Listen, 11: model.Closing,
}

// procTimers maps the tr code to a timer kind (formats.md §3.4).
var procTimers = [...]model.Timer{0: model.TimerNone, 1: model.TimerOn, 2: model.TimerKeepalive, 3: model.TimerTimeWait, 4: model.TimerPersist}

// isProcNetHeader reports whether a line is the "sl local_address" header.
func isProcNetHeader(b []byte) bool {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	if len(b) < 2 || b[0] != 's' {
		return false
	}
	return bytes.HasPrefix(b, []byte("sl")) && bytes.Contains(b, []byte("local_address"))
}

// isProcNetUDPHeader reports whether a header belongs to udp/raw (it ends
// with "drops").
func isProcNetUDPHeader(b []byte) bool {
	return bytes.HasSuffix(bytes.TrimRight(b, " \t"), []byte("drops"))
}

func detectProcNetTCP(head []string) int {
	header, rows, other, nonListen07 := false, 0, 0, 0
	var fs [][]byte
	for _, l := range head {
		b := []byte(l)
		if isProcNetHeader(b) {
			if isProcNetUDPHeader(b) {
				return 0
			}
			header = true
			continue
		}
		fs = parse.Fields(fs, b)
		if _, _, ok := procRowShape(fs); ok {
			rows++
			if string(fs[3]) != "07" {
				nonListen07++
			}
			continue
		}
		other++
	}
	switch {
	case header && other == 0:
		return 100
	case header:
		return 90
	case rows > 0 && nonListen07 == 0:
		return 10 // only 07 rows: more likely /proc/net/udp without its header
	case rows > 0 && rows >= 2*other:
		return 80
	case rows > 0:
		return 40
	}
	return 0
}

// procRowShape checks the first fields of a row: "N:", two hex
// address:port tokens of the same width and a two-digit hex state. It
// returns the address width in bytes (4 or 16) and the state code.
func procRowShape(fs [][]byte) (width int, st int, ok bool) {
	if len(fs) < 4 {
		return 0, 0, false
	}
	sl := fs[0]
	if len(sl) < 2 || sl[len(sl)-1] != ':' {
		return 0, 0, false
	}
	if _, ok := model.Atoi(sl[:len(sl)-1]); !ok {
		return 0, 0, false
	}
	w := hexAddrWidth(fs[1])
	if w == 0 || hexAddrWidth(fs[2]) != w {
		return 0, 0, false
	}
	if len(fs[3]) != 2 {
		return 0, 0, false
	}
	v, ok := hexUint(fs[3])
	if !ok {
		return 0, 0, false
	}
	return w, int(v), true
}

// hexAddrWidth returns 4 or 16 for a "HEX:PORT" token with 8 or 32 hex
// digits and a 4-digit port, 0 otherwise.
func hexAddrWidth(tok []byte) int {
	switch {
	case len(tok) == 13 && tok[8] == ':':
		return 4
	case len(tok) == 37 && tok[32] == ':':
		return 16
	}
	return 0
}

// hexUint parses up to 16 hex digits without allocating.
func hexUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

// hexDigit is a hex digit's value, false for any other byte.
func hexDigit(c byte) (byte, bool) {
	d := model.HexValue[c]
	return d, d <= 15
}

// DecodeProcAddrTo is decodeProcAddr writing into *a; it leaves *a
// invalid when it fails.
func DecodeProcAddrTo(a *model.AddrPort, tok []byte) bool {
	*a = model.AddrPort{}
	if hexAddrWidth(tok) != 4 {
		ap, ok := DecodeProcAddr(tok)
		if ok {
			*a = model.AddrPortOf(ap)
		}
		return ok
	}
	// IPv4: "0100007F:1F90", the address bytes reversed.
	var v uint64
	for _, c := range tok[:8] {
		d := model.HexValue[c]
		if d > 15 {
			return false
		}
		v = v<<4 | uint64(d)
	}
	port, ok := hexUint(tok[9:])
	if !ok {
		return false
	}
	a.SetIPv4(uint32(v), uint16(port))
	return true
}

// DecodeProcAddr decodes "0100007F:1F90" (IPv4) or a 32-digit IPv6 form
// as printed by a little-endian kernel. IPv4-mapped addresses are folded
// to IPv4.
func DecodeProcAddr(tok []byte) (netip.AddrPort, bool) {
	w := hexAddrWidth(tok)
	if w == 0 {
		return netip.AddrPort{}, false
	}
	port, ok := hexUint(tok[w*2+1:])
	if !ok {
		return netip.AddrPort{}, false
	}
	var b [16]byte
	// Each 32-bit word is printed as a host-order (little-endian) integer:
	// the word's bytes appear in reverse order.
	for word := 0; word < w/4; word++ {
		for k := 0; k < 4; k++ {
			i := word*8 + k*2
			hi, ok1 := hexDigit(tok[i])
			lo, ok2 := hexDigit(tok[i+1])
			if !ok1 || !ok2 {
				return netip.AddrPort{}, false
			}
			b[word*4+3-k] = hi<<4 | lo
		}
	}
	var a netip.Addr
	if w == 4 {
		a = netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	} else {
		a = netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrPortFrom(a, uint16(port)), true
}

var errNotProcNetTCP = errors.New("not a /proc/net/tcp listing")

func ParseProcNetTCP(r io.Reader, out *model.Listing) error {
	parse.PresizeSockets(r, out, 150) // v4 rows are padded to 150 bytes
	sc := parse.NewLineScanner(r)
	var fs [][]byte
	seen4, seen6, header, any := false, false, false, false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		sc.ReportTooLong(out)
		if isProcNetHeader(line) {
			if isProcNetUDPHeader(line) {
				if !any {
					return errors.New("a /proc/net/udp or raw table (header ends with drops), not tcp")
				}
				out.Problemf(n, "udp/raw table header inside a tcp table; stopped there")
				break
			}
			header = true
			// An empty table still says which family it covers.
			if bytes.Contains(line, []byte("remote_address")) {
				seen6 = true
			} else {
				seen4 = true
			}
			continue
		}
		fs = parse.FieldsN(fs, line, 10) // sl .. inode; refcount, pointer, rto, ... are not used
		if len(fs) == 0 {
			continue
		}
		w, st, ok := procRowShape(fs)
		if !ok {
			if len(fs) > 1 && bytes.HasSuffix(fs[0], []byte(":")) {
				out.Problemf(n, "malformed /proc/net/tcp row")
			} else if header || any {
				out.Problemf(n, "not a /proc/net/tcp row")
			}
			continue
		}
		any = true
		if w == 4 {
			seen4 = true
		} else {
			seen6 = true
		}
		out.Sockets = append(out.Sockets, model.NewSocket()) // filled in place: no copy of a large struct
		s := &out.Sockets[len(out.Sockets)-1]
		DecodeProcAddrTo(&s.Local, fs[1])
		DecodeProcAddrTo(&s.Remote, fs[2])
		s.Family = s.Local.Family()
		if st > 0 && st < len(procTCPStates) {
			s.State = procTCPStates[st]
		} else {
			s.State = model.Unknown
			out.Problemf(n, "unknown state code "+string(fs[3]))
		}
		if !parseProcRowRest(s, fs[4:]) {
			out.Problemf(n, "short or malformed /proc/net/tcp row")
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !header && !any {
		return errNotProcNetTCP
	}
	out.Families = out.Families[:0]
	if seen4 {
		out.Families = append(out.Families, 4)
	}
	if seen6 {
		out.Families = append(out.Families, 6)
	}
	out.Richness = 35 // 30 + 5: /proc always carries the inode
	return nil
}

// parseProcRowRest fills the fields after the state: tx_queue:rx_queue,
// tr:tm->when, retrnsmt, uid, timeout, inode. It returns false when a
// field is missing or malformed (what was read before it is kept).
func parseProcRowRest(s *model.Socket, fs [][]byte) bool {
	if len(fs) < 1 || len(fs[0]) != 17 || fs[0][8] != ':' {
		return false
	}
	tx, ok1 := hexUint(fs[0][:8])
	rx, ok2 := hexUint(fs[0][9:])
	if !ok1 || !ok2 {
		return false
	}
	s.SendQ, s.RecvQ = model.ClampQueue(int64(tx)), model.ClampQueue(int64(rx))
	if len(fs) < 2 || len(fs[1]) != 11 || fs[1][2] != ':' {
		return false
	}
	tr, ok1 := hexUint(fs[1][:2])
	when, ok2 := hexUint(fs[1][3:])
	if !ok1 || !ok2 {
		return false
	}
	if tr < uint64(len(procTimers)) {
		s.Timer = procTimers[tr]
	} else {
		s.Timer = model.TimerOther
	}
	if tr != 0 {
		if when >= 1<<31 { // a wrapped (expired) timer on old kernels
			when = 0
		}
		s.SetTimerSecs(float64(when) / 100) // clock ticks, USER_HZ = 100
	}
	if len(fs) < 3 {
		return false
	}
	retr, ok := hexUint(fs[2])
	if !ok || retr > 1<<31 {
		return false
	}
	s.Retransmits = model.NarrowRetransmits(int64(retr))
	if len(fs) < 4 {
		return false
	}
	uid, ok := model.Atoi(fs[3])
	if !ok || uid > 1<<32 {
		return false
	}
	s.UID = model.NarrowUID(int64(uid))
	if len(fs) < 6 { // fs[4] is timeout (unanswered probes), not modelled
		return false
	}
	ino, ok := model.Atoi(fs[5])
	if !ok {
		return false
	}
	s.Inode = model.NarrowInode(uint64(ino))
	if ino == 0 && tr == 3 {
		// A timewait socket (TIME_WAIT, or an orphaned FIN_WAIT2 shown
		// through its timewait sock): the kernel prints a literal 0 for
		// its uid, which is not an owner.
		s.UID = -1
	}
	return true
}
