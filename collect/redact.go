package collect

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
)

// RedactedHost replaces host names in a redacted bundle.
const RedactedHost = "redacted-host"

// A Redactor pseudonymises IP addresses and host names consistently: the
// same input always maps to the same output within one Redactor, so one
// bundle stays self-consistent across files and samples. It keeps what a
// diagnosis needs:
//
//   - the unspecified, loopback, multicast and broadcast addresses are kept;
//   - the class is kept: private (RFC 1918, IPv6 ULA) maps into 10.0.0.0/8
//     or fd0d:b8::/32, link-local stays link-local, shared (100.64/10) stays
//     shared, and public addresses map to the documentation ranges
//     (192.0.2/24, 198.51.100/24, 203.0.113/24, then 198.18/15 and 240/4
//     when those run out; 2001:db8::/32 for IPv6);
//   - addresses that share a /24 (IPv4) or a /64 (IPv6) still do, and
//     different ones still differ (the host byte of IPv4 is kept, IPv6
//     interface ids are renumbered unless they are small like ::1);
//   - ports are kept.
//
// The map stays in memory: it is never written to the bundle.
type Redactor struct {
	mu    sync.Mutex
	v4    map[[3]byte][3]byte // /24 → /24
	v6    map[[8]byte][8]byte // /64 → /64
	iid   map[[8]byte][8]byte
	next  map[string]uint32 // per class counters
	hosts []string          // names to hide, longest first
}

// NewRedactor returns a Redactor that also hides the given host names
// (typically the short and the full host name).
func NewRedactor(hostnames ...string) *Redactor {
	r := &Redactor{
		v4: map[[3]byte][3]byte{}, v6: map[[8]byte][8]byte{},
		iid: map[[8]byte][8]byte{}, next: map[string]uint32{},
	}
	seen := map[string]bool{}
	for _, h := range hostnames {
		h = strings.TrimSpace(strings.ToLower(h))
		if len(h) < 2 || seen[h] || h == "localhost" {
			continue
		}
		seen[h] = true
		r.hosts = append(r.hosts, h)
		if short, _, ok := strings.Cut(h, "."); ok && len(short) >= 2 && !seen[short] {
			seen[short] = true
			r.hosts = append(r.hosts, short)
		}
	}
	sort.Slice(r.hosts, func(i, j int) bool { return len(r.hosts[i]) > len(r.hosts[j]) })
	return r
}

var (
	v4Private = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	v4Shared    = netip.MustParsePrefix("100.64.0.0/10")
	v4LinkLocal = netip.MustParsePrefix("169.254.0.0/16")
	v6ULA       = netip.MustParsePrefix("fc00::/7")
)

// Addr returns the pseudonym of a.
func (r *Redactor) Addr(a netip.Addr) netip.Addr {
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		return a
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Is4In6() {
		b := r.addr4(a.Unmap().As4())
		return netip.AddrFrom16(netip.AddrFrom4(b).As16()).WithZone(a.Zone())
	}
	if a.Is4() {
		return netip.AddrFrom4(r.addr4(a.As4()))
	}
	return r.addr6(a)
}

func (r *Redactor) addr4(b [4]byte) [4]byte {
	if b == [4]byte{255, 255, 255, 255} {
		return b
	}
	a := netip.AddrFrom4(b)
	var key [3]byte
	copy(key[:], b[:3])
	p, ok := r.v4[key]
	if !ok {
		p = r.newPrefix4(a)
		r.v4[key] = p
	}
	return [4]byte{p[0], p[1], p[2], b[3]}
}

// newPrefix4 allocates the next /24 of a's class.
func (r *Redactor) newPrefix4(a netip.Addr) [3]byte {
	switch {
	case a.IsPrivate():
		n := r.next["v4private"]
		r.next["v4private"]++
		return [3]byte{10, byte(n >> 8), byte(n)} // 65536 /24s
	case v4LinkLocal.Contains(a):
		n := r.next["v4ll"]
		r.next["v4ll"]++
		return [3]byte{169, 254, byte(n)}
	case v4Shared.Contains(a):
		n := r.next["v4shared"] % (1 << 14)
		r.next["v4shared"]++
		return [3]byte{100, byte(64 + n>>8), byte(n)}
	}
	n := r.next["v4public"]
	r.next["v4public"]++
	switch {
	case n == 0:
		return [3]byte{192, 0, 2}
	case n == 1:
		return [3]byte{198, 51, 100}
	case n == 2:
		return [3]byte{203, 0, 113}
	case n < 3+512: // 198.18.0.0/15, the benchmarking range
		m := n - 3
		return [3]byte{198, byte(18 + m>>8), byte(m)}
	default: // 240.0.0.0/4, reserved
		m := (n - 3 - 512) % (1 << 20)
		return [3]byte{byte(240 + m>>16), byte(m >> 8), byte(m)}
	}
}

func (r *Redactor) addr6(a netip.Addr) netip.Addr {
	b := a.As16()
	var pre, id [8]byte
	copy(pre[:], b[:8])
	copy(id[:], b[8:])
	ll := b[0] == 0xfe && b[1]&0xc0 == 0x80
	np, ok := r.v6[pre]
	if !ok {
		switch {
		case ll:
			np = pre // fe80::/64: the prefix says nothing
		case v6ULA.Contains(a):
			n := r.next["v6ula"]
			r.next["v6ula"]++
			np = [8]byte{0xfd, 0x0d, 0x00, 0xb8}
			binary.BigEndian.PutUint32(np[4:], n)
		default:
			n := r.next["v6global"]
			r.next["v6global"]++
			np = [8]byte{0x20, 0x01, 0x0d, 0xb8}
			binary.BigEndian.PutUint32(np[4:], n)
		}
		r.v6[pre] = np
	}
	nid := id
	if binary.BigEndian.Uint64(id[:]) > 0xffff { // MACs and privacy ids go
		var ok bool
		if nid, ok = r.iid[id]; !ok {
			n := r.next["iid"] + 1
			r.next["iid"]++
			binary.BigEndian.PutUint64(nid[:], 0x0db8_0000_0000_0000|uint64(n))
			r.iid[id] = nid
		}
	}
	var out [16]byte
	copy(out[:8], np[:])
	copy(out[8:], nid[:])
	return netip.AddrFrom16(out).WithZone(a.Zone())
}

// Line redacts the addresses and host names in one line of text: ss,
// netstat (Linux "addr:port", BSD and Solaris "addr.port", Windows
// "[addr]:port"), configuration files.
func (r *Redactor) Line(s string) string {
	var out strings.Builder
	i := 0
	for i < len(s) {
		if !isAddrChar(s[i]) {
			j := i
			for j < len(s) && !isAddrChar(s[j]) {
				j++
			}
			out.WriteString(s[i:j])
			i = j
			continue
		}
		j := i
		for j < len(s) && isAddrChar(s[j]) {
			j++
		}
		tok := s[i:j]
		// A hex run glued to a word ("eth0", "sk:ffff...") is not an address.
		if i > 0 && isWordChar(s[i-1]) {
			out.WriteString(tok)
		} else {
			out.WriteString(r.token(tok))
		}
		i = j
	}
	res := out.String()
	if len(r.hosts) > 0 {
		res = r.hideHosts(res)
	}
	return res
}

func isAddrChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '[' || c == ']'
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// token rewrites one run of address characters.
func (r *Redactor) token(tok string) string {
	if !strings.ContainsAny(tok, ".:") || len(tok) < 3 {
		return tok
	}
	// Trailing sentence dots.
	core := strings.TrimRight(tok, ".")
	tail := tok[len(core):]
	if strings.HasPrefix(core, "[") {
		if k := strings.IndexByte(core, ']'); k > 0 {
			if a, err := netip.ParseAddr(core[1:k]); err == nil {
				return "[" + r.Addr(a).String() + "]" + core[k+1:] + tail
			}
		}
		return tok
	}
	// addr:port (Linux netstat prints "::1:631"; prefer the port reading
	// when the part before the last colon is an address and the rest digits).
	if k := strings.LastIndexByte(core, ':'); k >= 0 && allDigits(core[k+1:]) {
		if a, err := netip.ParseAddr(core[:k]); err == nil {
			return r.Addr(a).String() + core[k:] + tail
		}
	}
	if a, err := netip.ParseAddr(core); err == nil {
		return r.Addr(a).String() + tail
	}
	// BSD and Solaris: addr.port
	if k := strings.LastIndexByte(core, '.'); k > 0 && allDigits(core[k+1:]) {
		if a, err := netip.ParseAddr(core[:k]); err == nil {
			return r.Addr(a).String() + core[k:] + tail
		}
	}
	return tok
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hideHosts replaces whole-word, case-insensitive occurrences of the
// host names.
func (r *Redactor) hideHosts(s string) string {
	low := strings.ToLower(s)
	var out strings.Builder
	last := 0
	for i := 0; i < len(low); {
		matched := false
		for _, h := range r.hosts {
			if strings.HasPrefix(low[i:], h) && (i == 0 || !isHostChar(low[i-1])) &&
				(i+len(h) == len(low) || !isHostChar(low[i+len(h)])) {
				out.WriteString(s[last:i])
				out.WriteString(RedactedHost)
				i += len(h)
				last = i
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Host returns the pseudonym of a host name: RedactedHost.
func (r *Redactor) Host(string) string { return RedactedHost }

// Text redacts src line by line into dst.
func (r *Redactor) Text(dst io.Writer, src io.Reader) error {
	return r.lines(dst, src, r.Line)
}

// ProcNetTCP redacts a /proc/net/tcp or tcp6 listing: the local and remote
// addresses are host-order hex words; they are decoded, mapped and encoded
// back at the same width, so the file still parses.
func (r *Redactor) ProcNetTCP(dst io.Writer, src io.Reader) error {
	return r.lines(dst, src, r.ProcNetTCPLine)
}

// ProcNetTCPLine redacts one line of /proc/net/tcp{,6}.
func (r *Redactor) ProcNetTCPLine(line string) string {
	// "  sl  local_address rem_address   st ..." : fields 1 and 2.
	field := 0
	var out strings.Builder
	i := 0
	for i < len(line) {
		if line[i] == ' ' || line[i] == '\t' {
			out.WriteByte(line[i])
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		f := line[i:j]
		if field == 1 || field == 2 {
			f = r.hexEndpoint(f)
		}
		out.WriteString(f)
		field++
		i = j
	}
	return out.String()
}

func (r *Redactor) hexEndpoint(f string) string {
	h, port, ok := strings.Cut(f, ":")
	if !ok || (len(h) != 8 && len(h) != 32) {
		return f
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return f
	}
	// Each 32-bit word is the address's memory bytes read as a host-order
	// integer and printed most significant digit first.
	var mem [16]byte
	for w := 0; w < len(raw)/4; w++ {
		binary.NativeEndian.PutUint32(mem[w*4:], binary.BigEndian.Uint32(raw[w*4:]))
	}
	var a netip.Addr
	if len(raw) == 4 {
		a = netip.AddrFrom4([4]byte(mem[:4]))
	} else {
		a = netip.AddrFrom16(mem)
	}
	m := r.Addr(a)
	var mb []byte
	if len(raw) == 4 {
		b4 := m.As4()
		mb = b4[:]
	} else {
		b16 := m.As16()
		mb = b16[:]
	}
	enc := make([]byte, len(mb))
	for w := 0; w < len(mb)/4; w++ {
		binary.BigEndian.PutUint32(enc[w*4:], binary.NativeEndian.Uint32(mb[w*4:]))
	}
	return strings.ToUpper(hex.EncodeToString(enc)) + ":" + port
}

func (r *Redactor) lines(dst io.Writer, src io.Reader, f func(string) string) error {
	br := bufio.NewReaderSize(src, 1<<20)
	bw := bufio.NewWriterSize(dst, 1<<16)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			s := string(chunk)
			nl := strings.HasSuffix(s, "\n")
			s = strings.TrimSuffix(s, "\n")
			bw.WriteString(f(s))
			if nl {
				bw.WriteByte('\n')
			}
		}
		if err == bufio.ErrBufferFull {
			continue // an over-long line is redacted in pieces
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}
