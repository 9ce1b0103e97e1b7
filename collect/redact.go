package collect

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// RedactedHost replaces the collecting host's own name (short or fully
// qualified) in a redacted bundle, and is the manifest's host name.
const RedactedHost = "redacted-host"

// redactedDomain replaces the collecting host's domains; other names under
// them become host-<hex>.example.invalid.
const redactedDomain = "example.invalid"

// A Redactor pseudonymises IP addresses and host names with a secret key
// drawn from crypto/rand when it is made. The key lives only in the
// Redactor's memory: it is never written anywhere, so a redacted bundle
// cannot be undone, not even by its author. Within one Redactor the same
// address maps to the same pseudonym in every file and every encoding
// (dotted or IPv6 text, IPv4-mapped IPv6, /proc/net/tcp{,6} hex words,
// reverse-DNS names, addresses written into host names), so one bundle
// stays self-consistent.
//
// What a diagnosis needs is kept:
//
//   - The loopback (127.0.0.0/8, ::1) and unspecified (0.0.0.0, ::)
//     addresses stay as they are: they are the same on every host and
//     identify nothing. Every other address maps to a different one.
//   - The class is kept. Private IPv4 (10/8, 172.16/12, 192.168/16) maps to
//     private, link-local (169.254/16) to link-local, shared (100.64/10) to
//     shared, multicast (224/4) to multicast; every other IPv4 address
//     counts as public and maps into 240.0.0.0/4 ("reserved", never
//     routed: a pseudonym can never be mistaken for a real peer). Unique
//     local IPv6 (fc00::/7) maps into fd00::/8, multicast (ff00::/8) keeps
//     its flags and scope, link-local (fe80::/10) keeps its prefix, and
//     every other IPv6 address maps into the documentation range
//     2001:db8::/32.
//   - Subnets are kept: addresses that share a /24 (IPv4) or a /64 (IPv6)
//     share the pseudonymous prefix, and different ones get different
//     prefixes. Within a prefix the host part (the last octet, or the
//     64-bit interface id) goes through a keyed permutation that has no
//     fixed point, so distinct hosts stay distinct and no host part maps
//     to itself.
//   - Ports are kept.
//
// Host names: the names given to NewRedactor (the collecting host's short
// and full names) become RedactedHost wherever they appear, even inside a
// longer word (a name shorter than four characters only as a whole word);
// their domains (every suffix of two labels or more) become
// example.invalid, and any other name under them becomes
// host-<keyed hex>.example.invalid. Other names are kept, except the
// addresses written into them (ip-10-1-2-3, ec2-54-1-2-3, 3.2.1.10.in-addr.arpa,
// ...ip6.arpa), which are mapped like any other address.
type Redactor struct {
	mu   sync.Mutex
	mac  hash.Hash // HMAC-SHA256 under the secret key
	sum  []byte
	addr map[netip.Addr]netip.Addr // zone-less address → pseudonym
	v4   map[[3]byte][3]byte       // /24 → /24
	v4to map[[3]byte]bool          // public /24 pseudonyms in use
	v6   map[[8]byte][8]byte       // /64 → /64
	v6to map[[8]byte]bool          // /64 pseudonyms in use
	name map[string]string         // name pseudonyms
	tabs map[tabKey]*[feistelRounds * 16]byte

	// Lower-case needles, longest first: the host's own names
	// (→ RedactedHost) and its domains (→ redactedDomain).
	needles []needle
	domains []string // longest first
	own     map[string]bool
	// numericNeedle: some needle has neither letter nor dash.
	numericNeedle bool
}

type needle struct {
	s, rep string
}

// NewRedactor returns a Redactor with a fresh random key that also hides
// the given host names (typically the short and the full host name) and
// their domains.
func NewRedactor(hostnames ...string) *Redactor {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil { // never fails since Go 1.24
		panic("collect: no randomness for the redaction key: " + err.Error())
	}
	r := &Redactor{
		mac:  hmac.New(sha256.New, key),
		addr: map[netip.Addr]netip.Addr{},
		v4:   map[[3]byte][3]byte{}, v4to: map[[3]byte]bool{},
		v6: map[[8]byte][8]byte{}, v6to: map[[8]byte]bool{},
		name: map[string]string{},
		own:  map[string]bool{},
		tabs: map[tabKey]*[feistelRounds * 16]byte{},
	}
	clear(key)
	seen := map[string]bool{}
	add := func(s, rep string) {
		if len(s) >= 2 && !seen[s] && s != "localhost" && s != "localhost.localdomain" {
			if _, err := netip.ParseAddr(s); err == nil {
				return // an address: mapped as one
			}
			seen[s] = true
			r.numericNeedle = r.numericNeedle || !hasLetterOrDash(s)
			r.needles = append(r.needles, needle{s, rep})
			if rep == redactedDomain {
				r.domains = append(r.domains, s)
			} else {
				r.own[s] = true
			}
		}
	}
	for _, h := range hostnames {
		h = strings.Trim(strings.TrimSpace(strings.ToLower(h)), ".")
		if !isName(h) {
			continue
		}
		add(h, RedactedHost)
		labels := strings.Split(h, ".")
		add(labels[0], RedactedHost)
		for i := 1; i+2 <= len(labels); i++ {
			add(strings.Join(labels[i:], "."), redactedDomain)
		}
	}
	sort.SliceStable(r.needles, func(i, j int) bool { return len(r.needles[i].s) > len(r.needles[j].s) })
	sort.SliceStable(r.domains, func(i, j int) bool { return len(r.domains[i]) > len(r.domains[j]) })
	return r
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// prf is HMAC-SHA256(key, tag ‖ data) cut to 64 bits. r.mu is held.
func (r *Redactor) prf(tag byte, data ...uint64) uint64 {
	r.mac.Reset()
	var b [9]byte
	b[0] = tag
	r.mac.Write(b[:1])
	for _, d := range data {
		binary.BigEndian.PutUint64(b[1:], d)
		r.mac.Write(b[1:])
	}
	r.sum = r.mac.Sum(r.sum[:0])
	return binary.BigEndian.Uint64(r.sum)
}

// Domain separation tags for prf.
const (
	tagFeistel = iota + 1
	tagV4Public
	tagV6Prefix
	tagName
)

const feistelRounds = 6

type tabKey struct {
	tweak uint64
	k     uint
}

// round is the Feistel round function F_i(x), x of k bits. When k ≤ 4
// (the host byte of an IPv4 address) the whole table of a tweak is drawn
// at once.
func (r *Redactor) round(tweak uint64, k uint, i, x uint64) uint64 {
	mask := uint64(1)<<k - 1
	if k > 4 {
		return r.prf(tagFeistel, tweak, uint64(k)<<8|i, x) & mask
	}
	t, ok := r.tabs[tabKey{tweak, k}]
	if !ok {
		t = new([feistelRounds * 16]byte)
		for c := 0; c*8 < len(t); c++ {
			binary.BigEndian.PutUint64(t[c*8:], r.prf(tagFeistel, tweak, uint64(k)<<8|0xff, uint64(c)))
		}
		r.tabs[tabKey{tweak, k}] = t
	}
	return uint64(t[i*16+x]) & mask
}

// feistel is a keyed permutation of [0, 2^(2k)) (k ≤ 32), tweaked.
func (r *Redactor) feistel(tweak, x uint64, k uint, inverse bool) uint64 {
	mask := uint64(1)<<k - 1
	l, rr := x>>k&mask, x&mask
	if !inverse {
		for i := uint64(0); i < feistelRounds; i++ {
			l, rr = rr, l^r.round(tweak, k, i, rr)
		}
	} else {
		for i := uint64(feistelRounds); i > 0; i-- {
			l, rr = rr^r.round(tweak, k, i-1, l), l
		}
	}
	return l<<k | rr
}

// perm is a keyed permutation π of [0, n) (n = 0 meaning 2^64), by
// cycle walking a Feistel network of 2k bits.
func (r *Redactor) perm(tweak, x, n uint64, k uint, inverse bool) uint64 {
	for {
		x = r.feistel(tweak, x, k, inverse)
		if n == 0 || x < n {
			return x
		}
	}
}

// shift maps x in [0, n) to π⁻¹(π(x)+1 mod n): a keyed permutation made of
// one cycle through all of [0, n), so for n ≥ 2 it has no fixed point.
func (r *Redactor) shift(tweak, x, n uint64, k uint) uint64 {
	y := r.perm(tweak, x, n, k, false) + 1
	if n != 0 && y == n {
		y = 0
	}
	return r.perm(tweak, y, n, k, true)
}

var (
	v4Shared    = netip.MustParsePrefix("100.64.0.0/10")
	v4LinkLocal = netip.MustParsePrefix("169.254.0.0/16")
	v6ULA       = netip.MustParsePrefix("fc00::/7")
	v6LinkLocal = netip.MustParsePrefix("fe80::/10")
)

// Addr returns the pseudonym of a (see Redactor). Loopback and unspecified
// addresses are returned as they are; the zone is kept.
func (r *Redactor) Addr(a netip.Addr) netip.Addr {
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() ||
		a.Is4In6() && (a.Unmap().IsUnspecified() || a.Unmap().IsLoopback()) {
		return a
	}
	zone := a.Zone()
	a = a.WithZone("")
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.addr[a]
	if !ok {
		switch {
		case a.Is4In6():
			m = netip.AddrFrom16(netip.AddrFrom4(r.addr4(a.Unmap().As4())).As16())
		case a.Is4():
			m = netip.AddrFrom4(r.addr4(a.As4()))
		default:
			m = r.addr6(a.As16())
		}
		r.addr[a] = m
	}
	return m.WithZone(zone)
}

func (r *Redactor) addr4(b [4]byte) [4]byte {
	p := [3]byte(b[:3])
	np, ok := r.v4[p]
	if !ok {
		np = r.prefix4(p)
		r.v4[p] = np
	}
	h := byte(r.shift(1<<32|uint64(p[0])<<16|uint64(p[1])<<8|uint64(p[2]), uint64(b[3]), 256, 4))
	return [4]byte{np[0], np[1], np[2], h}
}

// prefix4 maps a /24 within its class. Private, link-local, shared and
// multicast /24s go through a fixed-point-free permutation of their
// class; public ones are hashed into 240.0.0.0/4, avoiding themselves and
// the /24s already given out.
func (r *Redactor) prefix4(p [3]byte) [3]byte {
	a := netip.AddrFrom4([4]byte{p[0], p[1], p[2], 1})
	const (
		n10  = 1 << 16 // 10/8
		n172 = 1 << 12 // 172.16/12
		n192 = 1 << 8  // 192.168/16
	)
	u := func(b ...byte) uint64 {
		var x uint64
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
		return x
	}
	switch {
	case a.IsPrivate():
		var i uint64
		switch p[0] {
		case 10:
			i = u(p[1], p[2])
		case 172:
			i = n10 + u(p[1]-16, p[2])
		default:
			i = n10 + n172 + uint64(p[2])
		}
		j := r.shift(2<<32, i, n10+n172+n192, 9)
		switch {
		case j < n10:
			return [3]byte{10, byte(j >> 8), byte(j)}
		case j < n10+n172:
			j -= n10
			return [3]byte{172, 16 + byte(j>>8), byte(j)}
		default:
			return [3]byte{192, 168, byte(j - n10 - n172)}
		}
	case v4LinkLocal.Contains(a):
		return [3]byte{169, 254, byte(r.shift(3<<32, uint64(p[2]), 256, 4))}
	case v4Shared.Contains(a):
		j := r.shift(4<<32, u(p[1]-64, p[2]), 1<<14, 7)
		return [3]byte{100, 64 + byte(j>>8), byte(j)}
	case a.IsMulticast():
		j := r.shift(5<<32, u(p[0]-224, p[1], p[2]), 1<<20, 10)
		return [3]byte{224 + byte(j>>16), byte(j >> 8), byte(j)}
	}
	j := r.prf(tagV4Public, u(p[0], p[1], p[2]))
	for tries := 0; ; tries++ {
		j &= 1<<20 - 1
		q := [3]byte{240 + byte(j>>16), byte(j >> 8), byte(j)}
		if q != p && q != [3]byte{255, 255, 255} && (!r.v4to[q] || tries > 1<<20) {
			r.v4to[q] = true
			return q
		}
		j++
	}
}

func (r *Redactor) addr6(b [16]byte) netip.Addr {
	pre := [8]byte(b[:8])
	a := netip.AddrFrom16(b)
	np, ok := r.v6[pre]
	if !ok {
		var base, mask uint64 // the pseudonym is base | hash&mask
		pv := binary.BigEndian.Uint64(pre[:])
		switch {
		case v6LinkLocal.Contains(a): // fe80::/64 says nothing: kept
			np = pre
		case v6ULA.Contains(a):
			base, mask = 0xfd<<56, 1<<56-1
		case a.IsMulticast():
			base, mask = pv&(0xffff<<48), 1<<48-1
		default:
			base, mask = 0x2001_0db8<<32, 1<<32-1
		}
		if mask != 0 {
			h := r.prf(tagV6Prefix, pv)
			for tries := uint64(0); ; tries++ {
				q := base | h&mask
				binary.BigEndian.PutUint64(np[:], q)
				if q != pv && (!r.v6to[np] || tries > mask) {
					break
				}
				h++
			}
			r.v6to[np] = true
		}
		r.v6[pre] = np
	}
	iid := binary.BigEndian.Uint64(b[8:])
	var out [16]byte
	copy(out[:8], np[:])
	binary.BigEndian.PutUint64(out[8:], r.shift(binary.BigEndian.Uint64(pre[:])^6<<60, iid, 0, 32))
	return netip.AddrFrom16(out)
}

// Host returns the pseudonym of a host name: RedactedHost for the
// collecting host's own names, example.invalid for its domains, and
// host-<keyed hex> (with .example.invalid when the name has a domain)
// for any other name.
func (r *Redactor) Host(name string) string {
	low := strings.Trim(strings.ToLower(name), ".")
	switch {
	case low == "":
		return name
	case r.own[low]:
		return RedactedHost
	case r.isDomain(low):
		return redactedDomain
	}
	if a, err := netip.ParseAddr(low); err == nil {
		return r.Addr(a).String()
	}
	return r.hostHash(low)
}

func (r *Redactor) isDomain(low string) bool {
	for _, d := range r.domains {
		if low == d {
			return true
		}
	}
	return false
}

func (r *Redactor) hostHash(low string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.name[low]; ok {
		return s
	}
	r.mac.Reset()
	r.mac.Write([]byte{tagName})
	r.mac.Write([]byte(low))
	r.sum = r.mac.Sum(r.sum[:0])
	s := "host-" + hex.EncodeToString(r.sum[:5])
	if strings.Contains(low, ".") {
		s += "." + redactedDomain
	}
	r.name[low] = s
	return s
}

// A span is a replacement of line[i:j].
type span struct {
	i, j int
	s    string
}

// spans are the replacements found in a line so far, and the bytes they
// cover.
type spans struct {
	list []span
	cov  []uint64
}

func (sp *spans) free(i, j int) bool {
	for k := i; k < j; k++ {
		if sp.cov[k>>6]&(1<<(k&63)) != 0 {
			return false
		}
	}
	return true
}

func (sp *spans) add(i, j int, s string) {
	sp.list = append(sp.list, span{i, j, s})
	for k := i; k < j; k++ {
		sp.cov[k>>6] |= 1 << (k & 63)
	}
}

// Line redacts the addresses and host names in one line of text: ss,
// netstat (Linux "addr:port", BSD and Solaris "addr.port", Windows
// "[addr]:port"), lsof, configuration files, and /proc/net/tcp{,6} rows.
func (r *Redactor) Line(s string) string {
	if isProcNetRow(s) {
		return r.ProcNetTCPLine(s)
	}
	var lbuf [8]span
	var cbuf [8]uint64
	sp := &spans{list: lbuf[:0], cov: cbuf[:]}
	if n := len(s)/64 + 1; n > len(cbuf) {
		sp.cov = make([]uint64, n)
	}
	// Names first: reverse-DNS names, the host's names and domains,
	// addresses written with dashes.
	for i := 0; i < len(s); {
		if !isNameChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isNameChar(s[j]) {
			j++
		}
		r.names(s, i, j, sp)
		i = j
	}
	// Then runs of address characters: "10.1.2.3:80", "[::1]:22",
	// "10.1.2.3.80", "::ffff:10.1.2.3".
	for i := 0; i < len(s); {
		if !isAddrChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAddrChar(s[j]) {
			j++
		}
		// A run glued to a word ("eth0:fe80::1") is first read after its
		// colons, so the word's last digits do not become a group.
		if i > 0 && isWordChar(s[i-1]) {
			_ = r.afterLabel(s, i, j, sp) || r.wholeRun(s, i, j, sp)
		} else {
			_ = r.wholeRun(s, i, j, sp) || r.afterLabel(s, i, j, sp)
		}
		i = j
	}
	// Last, any dotted quad left anywhere ("v10.1.2.3", "x-10.1.2.3").
	r.quads(s, sp)
	if len(sp.list) == 0 {
		return s
	}
	l := sp.list
	sort.Slice(l, func(a, b int) bool { return l[a].i < l[b].i })
	var out strings.Builder
	out.Grow(len(s) + 16)
	last := 0
	for _, x := range l {
		out.WriteString(s[last:x.i])
		out.WriteString(x.s)
		last = x.j
	}
	out.WriteString(s[last:])
	return out.String()
}

// wholeRun rewrites the address run s[i:j] as one token.
func (r *Redactor) wholeRun(s string, i, j int, sp *spans) bool {
	if sp.free(i, j) {
		if rep, ok := r.token(s[i:j]); ok {
			sp.add(i, j, rep)
			return true
		}
	}
	return false
}

// afterLabel rewrites an address after a colon in the run s[i:j]:
// "addr:10.1.2.3", "eth0:fe80::1" (the run is "0:fe80::1"),
// "db01:2001:db8::1".
func (r *Redactor) afterLabel(s string, i, j int, sp *spans) bool {
	for k := i; k < j; k++ {
		if s[k] == ':' && strings.IndexByte(s[k+1:j], ':') >= 0 && sp.free(k+1, j) {
			if rep, ok := r.token(s[k+1 : j]); ok {
				sp.add(k+1, j, rep)
				return true
			}
		}
	}
	return false
}

func isAddrChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '[' || c == ']'
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// token rewrites one run of address characters; ok is false when it holds
// no address to rewrite.
func (r *Redactor) token(tok string) (string, bool) {
	// An address has three dots (IPv4) or two colons (IPv6) at least.
	if len(tok) < 2 || strings.Count(tok, ".") < 3 && strings.Count(tok, ":") < 2 {
		return tok, false
	}
	// Trailing sentence dots.
	core := strings.TrimRight(tok, ".")
	tail := tok[len(core):]
	if strings.HasPrefix(core, "[") {
		if k := strings.IndexByte(core, ']'); k > 0 {
			if a, err := netip.ParseAddr(core[1:k]); err == nil {
				return "[" + r.Addr(a).String() + "]" + core[k+1:] + tail, true
			}
		}
		if rep, ok := r.token(core[1:]); ok {
			return "[" + rep + tail, true
		}
		return tok, false
	}
	// A stray closing bracket: "fe80::1]:22".
	if k := strings.IndexByte(core, ']'); k > 0 {
		if a, err := netip.ParseAddr(core[:k]); err == nil {
			return r.Addr(a).String() + core[k:] + tail, true
		}
		return tok, false
	}
	// addr:port (Linux netstat prints "::1:631"; prefer the port reading
	// when the part before the last colon is an address and the rest digits).
	if k := strings.LastIndexByte(core, ':'); k >= 0 && allDigits(core[k+1:]) {
		if a, err := netip.ParseAddr(core[:k]); err == nil {
			return r.Addr(a).String() + core[k:] + tail, true
		}
	}
	if a, err := netip.ParseAddr(core); err == nil {
		return r.Addr(a).String() + tail, true
	}
	// BSD and Solaris: addr.port
	if k := strings.LastIndexByte(core, '.'); k > 0 && allDigits(core[k+1:]) {
		if a, err := netip.ParseAddr(core[:k]); err == nil {
			return r.Addr(a).String() + core[k:] + tail, true
		}
	}
	return tok, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// octet parses a decimal 0-255 written as the kernel and inet_ntoa write
// it (no leading zero).
func octet(s string) (byte, bool) {
	if len(s) == 0 || len(s) > 3 || !allDigits(s) || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return byte(n), n < 256
}

// quads adds a span for every dotted quad of s not covered yet. A quad
// is four octets not preceded by a digit (or a digit and a dot) and not
// followed by a digit; of five dotted numbers ("10.1.2.3.80") the first four are taken.
func (r *Redactor) quads(s string, sp *spans) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && isDigit(s[i-1]) || i > 1 && s[i-1] == '.' && isDigit(s[i-2]) {
			continue
		}
		var b [4]byte
		j, n := i, 0
		for n < 4 {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			v, ok := octet(s[j:k])
			if !ok {
				break
			}
			b[n] = v
			n++
			j = k
			if n < 4 {
				if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
					j++
				} else {
					break
				}
			}
		}
		if n == 4 && sp.free(i, j) {
			if m := r.Addr(netip.AddrFrom4(b)); m != netip.AddrFrom4(b) {
				sp.add(i, j, m.String())
			}
		}
		for i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '.') {
			i++
		}
	}
}

// names adds spans for the name run s[i:j].
func (r *Redactor) names(s string, i, j int, sp *spans) {
	core := strings.TrimRight(s[i:j], ".")
	if len(core) < 2 {
		return
	}
	if !r.numericNeedle && !hasLetterOrDash(core) {
		return // "10.1.2.3", "8080": left to the address passes
	}
	low := strings.ToLower(core)
	// Reverse-DNS names.
	if rev, ok := r.reverse(core, low); ok {
		sp.add(i, i+len(rev), r.reverseRep(rev, strings.HasSuffix(low, ".ip6.arpa")))
		return
	}
	// A name under one of the host's domains goes whole.
	lead := len(low) - len(strings.TrimLeft(low, "."))
	for _, d := range r.domains {
		if low[lead:] == d || len(low) > len(d) && low[len(low)-len(d)-1] == '.' && strings.HasSuffix(low, d) {
			rep := redactedDomain
			if host := strings.Trim(low[:len(low)-len(d)], "."); host != "" {
				if r.own[low[lead:]] {
					rep = RedactedHost
				} else {
					rep = r.hostHash(low[lead:])
				}
			}
			sp.add(i+lead, i+len(core), rep)
			return
		}
	}
	// The host's names and domains anywhere in the run.
	for _, n := range r.needles {
		for k := 0; ; {
			x := strings.Index(low[k:], n.s)
			if x < 0 {
				break
			}
			x += k
			e := x + len(n.s)
			k = x + 1
			if len(n.s) < 4 && (x > 0 && isAlnum(low[x-1]) || e < len(low) && isAlnum(low[e])) {
				continue
			}
			if sp.free(i+x, i+e) {
				sp.add(i+x, i+e, n.rep)
			}
		}
	}
	// Addresses written with dashes: ip-10-1-2-3, ec2-54-1-2-3,
	// 10-1-2-3.example.com: four octets between dashes, with no other
	// number part next to them in the label.
	if strings.IndexByte(core, '-') >= 0 {
		r.dashed(core, i, sp)
	}
}

func hasLetterOrDash(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' || s[i] == '-' || s[i] == '_' {
			return true
		}
	}
	return false
}

func (r *Redactor) dashed(core string, off int, sp *spans) {
	lab := 0
	for lab <= len(core) {
		end := strings.IndexByte(core[lab:], '.')
		if end < 0 {
			end = len(core)
		} else {
			end += lab
		}
		label := core[lab:end]
		if strings.Count(label, "-") >= 3 {
			parts := strings.Split(label, "-")
			pos := make([]int, len(parts)) // offsets of the parts in label
			for p, o := 0, 0; p < len(parts); p++ {
				pos[p] = o
				o += len(parts[p]) + 1
			}
			numeric := func(p int) bool { return p >= 0 && p < len(parts) && parts[p] != "" && allDigits(parts[p]) }
			for p := 0; p+4 <= len(parts); p++ {
				var b [4]byte
				ok := !numeric(p-1) && !numeric(p+4)
				for q := 0; ok && q < 4; q++ {
					b[q], ok = octet(parts[p+q])
				}
				if !ok {
					continue
				}
				x := off + lab + pos[p]
				e := off + lab + pos[p+3] + len(parts[p+3])
				if sp.free(x, e) {
					m := r.Addr(netip.AddrFrom4(b)).As4()
					sp.add(x, e, strconv.Itoa(int(m[0]))+"-"+strconv.Itoa(int(m[1]))+"-"+strconv.Itoa(int(m[2]))+"-"+strconv.Itoa(int(m[3])))
				}
				p += 3
			}
		}
		lab = end + 1
	}
}

// reverse returns the labels of a reverse-DNS name (without the
// in-addr.arpa or ip6.arpa suffix) when they form an address or a prefix.
func (r *Redactor) reverse(core, low string) (string, bool) {
	var labels string
	var ok func(string) bool
	var max int
	switch {
	case strings.HasSuffix(low, ".in-addr.arpa"):
		labels, max = core[:len(core)-len(".in-addr.arpa")], 4
		ok = func(l string) bool { _, ok := octet(l); return ok }
	case strings.HasSuffix(low, ".ip6.arpa"):
		labels, max = core[:len(core)-len(".ip6.arpa")], 32
		ok = func(l string) bool {
			return len(l) == 1 && (isDigit(l[0]) || l[0] >= 'a' && l[0] <= 'f' || l[0] >= 'A' && l[0] <= 'F')
		}
	default:
		return "", false
	}
	ls := strings.Split(labels, ".")
	if len(ls) > max {
		return "", false
	}
	for _, l := range ls {
		if !ok(l) {
			return "", false
		}
	}
	return labels, true
}

// reverseRep maps the labels of a reverse-DNS name: the address (or the
// prefix, padded with zeros) they spell is mapped and spelt again with as
// many labels.
func (r *Redactor) reverseRep(labels string, v6 bool) string {
	ls := strings.Split(labels, ".")
	n := len(ls)
	if !v6 {
		var b [4]byte
		for k := 0; k < n; k++ {
			b[k], _ = octet(ls[n-1-k])
		}
		m := r.Addr(netip.AddrFrom4(b)).As4()
		out := make([]string, n)
		for k := 0; k < n; k++ {
			out[n-1-k] = strconv.Itoa(int(m[k]))
		}
		return strings.Join(out, ".")
	}
	var b [16]byte
	for k := 0; k < n; k++ {
		v, _ := strconv.ParseUint(ls[n-1-k], 16, 8)
		b[k/2] |= byte(v) << (4 * (1 - k%2))
	}
	m := r.Addr(netip.AddrFrom16(b)).As16()
	out := make([]byte, 0, 2*n)
	for k := n - 1; k >= 0; k-- {
		out = append(out, "0123456789abcdef"[m[k/2]>>(4*(1-k%2))&0xf])
		if k > 0 {
			out = append(out, '.')
		}
	}
	return string(out)
}

// isProcNetRow reports whether line is a /proc/net/tcp{,6} (or udp) row:
// "  12: 0100007F:0277 00000000:0000 0A ...".
func isProcNetRow(line string) bool {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	j := i
	for j < len(line) && isDigit(line[j]) {
		j++
	}
	if j == i || j+2 >= len(line) || line[j] != ':' || line[j+1] != ' ' {
		return false
	}
	f := strings.Fields(line[j+2:])
	return len(f) >= 3 && isHexEndpoint(f[0]) && isHexEndpoint(f[1])
}

func isHexEndpoint(f string) bool {
	h, port, ok := strings.Cut(f, ":")
	if !ok || len(port) != 4 || len(h) != 8 && len(h) != 32 {
		return false
	}
	_, err1 := hex.DecodeString(h)
	_, err2 := hex.DecodeString(port)
	return err1 == nil && err2 == nil
}

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

// lines applies f to each line of src. A line longer than the buffer is
// cut at its last blank, so no address is split between two pieces.
func (r *Redactor) lines(dst io.Writer, src io.Reader, f func(string) string) error {
	br := bufio.NewReaderSize(src, 1<<20)
	bw := bufio.NewWriterSize(dst, 1<<16)
	carry := ""
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 || carry != "" {
			s := carry + string(chunk)
			carry = ""
			if err == bufio.ErrBufferFull {
				if k := strings.LastIndexAny(s, " \t"); k > 0 && len(s)-k < 1<<16 {
					s, carry = s[:k+1], s[k+1:]
				}
			}
			end := ""
			if strings.HasSuffix(s, "\n") {
				s, end = s[:len(s)-1], "\n"
				if strings.HasSuffix(s, "\r") {
					s, end = s[:len(s)-1], "\r\n"
				}
			}
			bw.WriteString(f(s))
			bw.WriteString(end)
		}
		if err == bufio.ErrBufferFull {
			continue
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
