package model

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
)

// A Name is an interned string — a process or host name — in 4 bytes and
// without a pointer. Names are kept for the life of the program; they are
// few (command names, host names) however many sockets carry them.
type Name uint32

// NoName is the empty name.
const NoName Name = 0

var nameTable struct {
	mu    sync.Mutex
	index map[string]Name
	list  atomic.Pointer[[]string] // readers index it without locking
}

func init() {
	l := []string{""}
	nameTable.list.Store(&l)
	nameTable.index = map[string]Name{"": NoName}
}

// Intern returns the Name for s.
func Intern(s string) Name {
	nameTable.mu.Lock()
	defer nameTable.mu.Unlock()
	if n, ok := nameTable.index[s]; ok {
		return n
	}
	l := *nameTable.list.Load()
	// Appending within capacity writes past every reader's length, so
	// readers holding the old header stay valid.
	l = append(l, s)
	n := Name(len(l) - 1)
	nameTable.index[s] = n
	nameTable.list.Store(&l)
	return n
}

// String returns the name's text.
func (n Name) String() string {
	l := *nameTable.list.Load()
	if int(n) < len(l) {
		return l[n]
	}
	return ""
}

// MarshalText makes a Name read as its text in JSON.
func (n Name) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// Interner memoizes Intern for one parser, without locking per row.
type Interner map[string]Name

func (in Interner) Get(b []byte) Name {
	if n, ok := in[string(b)]; ok { // no allocation for the lookup
		return n
	}
	n := Intern(string(b))
	in[string(b)] = n
	return n
}

// An AddrPort is a netip.AddrPort stored inline without a pointer (zones
// are dropped, as every parser drops them). The zero value has an invalid
// address and port 0; a listing that printed a host name instead of an
// address gives an invalid address with the port set.
type AddrPort struct {
	ip   [16]byte // IPv4 in the first four bytes
	port uint16
	bits uint8 // 0: no address, 4 or 6
}

// AddrPortOf converts a netip.AddrPort.
func AddrPortOf(ap netip.AddrPort) AddrPort {
	return AddrPortFrom(ap.Addr(), ap.Port())
}

// AddrPortFrom returns an AddrPort of addr (which may be invalid) and port.
func AddrPortFrom(addr netip.Addr, port uint16) AddrPort {
	a := AddrPort{port: port}
	switch {
	case addr.Is4():
		a.bits = 4
		v := addr.As4()
		copy(a.ip[:4], v[:])
	case addr.Is6():
		a.bits = 6
		a.ip = addr.As16()
	}
	return a
}

// MustParseAddrPort parses "192.0.2.1:80" or "[2001:db8::1]:80" and
// panics on error; for tests and constants.
func MustParseAddrPort(s string) AddrPort {
	return AddrPortOf(netip.MustParseAddrPort(s))
}

// Addr returns the address; invalid when the listing printed none.
func (a AddrPort) Addr() netip.Addr {
	switch a.bits {
	case 4:
		return netip.AddrFrom4([4]byte(a.ip[:4]))
	case 6:
		return netip.AddrFrom16(a.ip)
	}
	return netip.Addr{}
}

// Port returns the port.
func (a AddrPort) Port() uint16 { return a.port }

// IsValid reports whether the address is valid, as netip.AddrPort does.
func (a AddrPort) IsValid() bool { return a.bits != 0 }

// AddrPort returns the netip form.
func (a AddrPort) AddrPort() netip.AddrPort { return netip.AddrPortFrom(a.Addr(), a.port) }

// String formats like netip.AddrPort ("invalid AddrPort" when the address
// is invalid).
func (a AddrPort) String() string { return a.AddrPort().String() }

// MarshalText formats like netip.AddrPort; an invalid address gives "".
func (a AddrPort) MarshalText() ([]byte, error) { return a.AddrPort().MarshalText() }

// V4Key packs an IPv4 address and port into one integer.
func V4Key(a AddrPort) uint64 {
	return uint64(a.ip[0])<<40 | uint64(a.ip[1])<<32 | uint64(a.ip[2])<<24 | uint64(a.ip[3])<<16 | uint64(a.port)
}

// fromV4Key undoes v4Key.
func fromV4Key(k uint64) AddrPort {
	var a AddrPort
	a.ip[0], a.ip[1], a.ip[2], a.ip[3] = byte(k>>40), byte(k>>32), byte(k>>24), byte(k>>16)
	a.port, a.bits = uint16(k), 4
	return a
}

// ApMap is a map keyed by AddrPort. IPv4 keys, the common case, are
// packed into one integer: several times cheaper to hash than the
// 20-byte AddrPort, which matters at a million lookups.
type ApMap[V any] struct {
	v4    IntTable[V]
	other map[AddrPort]*V // IPv6 and names: rare, one allocation each
}

func (m *ApMap[V]) Len() int {
	if m == nil {
		return 0
	}
	return m.v4.Len() + len(m.other)
}

// Get returns the value of *a and whether it is present. The endpoint
// is passed by pointer (a socket's field): passed by value, a lookup of
// 800,000 sockets' endpoints in a 200,000-entry table took 2-3 times as
// long (issue 12).
func (m *ApMap[V]) Get(a *AddrPort) (V, bool) {
	if a.bits == 4 {
		return m.v4.get(V4Key(*a))
	}
	if p, ok := m.other[*a]; ok {
		return *p, true
	}
	var zero V
	return zero, false
}

func (m *ApMap[V]) Set(a *AddrPort, v V) { *m.At(a) = v }

// Reserve makes room for n IPv4 entries at once, rather than doubling
// into them (each doubling touches fresh memory and rehashes).
func (m *ApMap[V]) Reserve(n int) { m.v4.Reserve(n) }

// At returns a pointer to the value of a, adding a with the zero value
// when it is absent. An IPv4 entry's pointer is valid until the next at.
func (m *ApMap[V]) At(a *AddrPort) *V {
	if a.bits == 4 {
		return m.v4.At(V4Key(*a))
	}
	if m.other == nil {
		m.other = map[AddrPort]*V{}
	}
	p := m.other[*a]
	if p == nil {
		p = new(V)
		m.other[*a] = p
	}
	return p
}

// AtBounded is at, except that it adds nothing to a map of bound or more
// entries and returns nil for a then.
func (m *ApMap[V]) AtBounded(a *AddrPort, bound int) *V {
	if a.bits == 4 {
		return m.v4.atBounded(V4Key(*a), bound-len(m.other))
	}
	if m.Len() >= bound {
		if p := m.other[*a]; p != nil {
			return p
		}
		return nil
	}
	return m.At(a)
}

// Each calls fn for every entry, in no particular order.
func (m *ApMap[V]) Each(fn func(AddrPort, V)) {
	if m == nil {
		return
	}
	m.v4.Each(func(k uint64, v V) { fn(fromV4Key(k), v) })
	for a, p := range m.other {
		fn(a, *p)
	}
}

// Family is 6 for an IPv6 address and 4 otherwise (IPv4, or none): the
// Socket.Family of a socket with this local address, as family gives.
func (a AddrPort) Family() uint8 {
	if a.bits == 6 {
		return 6
	}
	return 4
}

// IsLoopback is Addr().IsLoopback() without building a netip.Addr.
func (a AddrPort) IsLoopback() bool {
	if a.bits == 4 {
		return a.ip[0] == 127
	}
	return a.bits == 6 && loopback6(a.ip)
}

// loopback6 is IsLoopback of an IPv6 address: apart, so that IsLoopback
// stays small enough to inline (called per socket, an AddrPort copied
// into a call cost more than the test).
func loopback6(ip [16]byte) bool { return netip.AddrFrom16(ip).IsLoopback() }

// IsUnspecified is Addr().IsUnspecified(): 0.0.0.0 or ::.
func (a AddrPort) IsUnspecified() bool { return a.bits != 0 && a.ip == [16]byte{} }

// IsPublic reports whether the address is valid and not unspecified,
// loopback, private or link-local (the netip predicates of those names).
func (a AddrPort) IsPublic() bool {
	if a.bits != 4 {
		return a.bits == 6 && public6(a.ip)
	}
	b0, b1 := a.ip[0], a.ip[1]
	return b0 != 127 && b0 != 10 && (b0 != 172 || b1&0xf0 != 16) && (b0 != 192 || b1 != 168) &&
		(b0 != 169 || b1 != 254) && b0|b1|a.ip[2]|a.ip[3] != 0
}

// public6 is IsPublic of an IPv6 address.
func public6(ip [16]byte) bool {
	ad := netip.AddrFrom16(ip)
	return !ad.IsUnspecified() && !ad.IsLoopback() && !ad.IsPrivate() && !ad.IsLinkLocalUnicast()
}

// Is4 reports whether a holds an IPv4 address.
func (a AddrPort) Is4() bool { return a.bits == 4 }

// Bits is the address family: 4, 6, or 0 for no address.
func (a AddrPort) Bits() uint8 { return a.bits }

// WithPort returns a with its port replaced.
func (a AddrPort) WithPort(p uint16) AddrPort {
	a.port = p
	return a
}

// SetIPv4 sets a to the IPv4 address v (first octet in the low byte, as
// /proc/net/tcp writes it) and port, without building a netip.Addr.
func (a *AddrPort) SetIPv4(v uint32, port uint16) {
	a.ip[0], a.ip[1], a.ip[2], a.ip[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	a.port, a.bits = port, 4
}

// Compare orders endpoints as netip.AddrPort.Compare does, IPv4 pairs
// without converting them.
func (a AddrPort) Compare(b AddrPort) int {
	if a.bits == 4 && b.bits == 4 {
		return cmp.Compare(V4Key(a), V4Key(b))
	}
	// netip orders no address, then IPv4, then IPv6; then the bytes, then
	// the port.
	if c := cmp.Compare(a.bits, b.bits); c != 0 {
		return c
	}
	if c := bytes.Compare(a.ip[:], b.ip[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

// ZeroIP reports whether a's address bytes are all zero: an unspecified
// address, or none at all (a host name netstat printed without -n).
func (a AddrPort) ZeroIP() bool { return a.ip == [16]byte{} }

// SameAddr reports whether *a and *b hold the same address (or both
// none), whatever their ports.
func (a *AddrPort) SameAddr(b *AddrPort) bool { return a.bits == b.bits && a.ip == b.ip }

// PairDigest is a deterministic 63-bit digest of two endpoints, the same
// on every run and machine: a key for tallies of a million endpoint
// pairs, where two pairs sharing a digest (odds about 1 in 10^7 at a
// million pairs) are counted together.
func PairDigest(a, b AddrPort) uint64 {
	if a.bits != 6 && b.bits != 6 {
		// IPv4 endpoints, or none (a name): each fits one word, two
		// rounds instead of six (a proxy digests a million pairs, twice).
		return pairDigest4(V4Key(a)|uint64(a.bits)<<48, V4Key(b)|uint64(b.bits)<<48)
	}
	// Six words: each mixed in a lane of its own (the lanes run side by
	// side), then the lanes together, two rounds deep instead of six (a
	// million IPv6 peers are digested several times each).
	return mix64(pairLanes(&a, 0)^pairLanes(&b, 3)) >> 1
}

// pairLanes is an endpoint's three words mixed in lanes first, first+1
// and first+2, XORed.
func pairLanes(a *AddrPort, first uint64) uint64 {
	return mix64(pairLane(first)^binary.LittleEndian.Uint64(a.ip[:8])) ^
		mix64(pairLane(first+1)^binary.LittleEndian.Uint64(a.ip[8:])) ^
		mix64(pairLane(first+2)^(uint64(a.port)<<8|uint64(a.bits)))
}

// A Digester gives DestDigest and LocalDigest, remembering the lanes of
// the last IPv6 local address it saw: a host has few, and a million
// sockets' digests need its lanes mixed once, not a million times. One
// goroutine uses a Digester.
type Digester struct {
	last  AddrPort // port 0; bits 0 before the first
	lanes uint64   // pairLanes(&last, 0)
}

func (d *Digester) localLanes(l *AddrPort) uint64 {
	if d.last.bits == 0 || !d.last.SameAddr(l) {
		d.last = l.WithPort(0)
		d.lanes = pairLanes(&d.last, 0)
	}
	return d.lanes
}

// Dest is DestDigest(local, remote).
func (d *Digester) Dest(local, remote *AddrPort) uint64 {
	if local.bits != 6 && remote.bits != 6 {
		return DestDigest(local, remote)
	}
	return mix64(d.localLanes(local)^pairLanes(remote, 3)) >> 1
}

// LocalDigest is PairDigest(local.WithPort(0), AddrPort{}).
func (d *Digester) LocalDigest(local *AddrPort) uint64 {
	if local.bits != 6 {
		return PairDigest(local.WithPort(0), AddrPort{})
	}
	var none AddrPort
	return mix64(d.localLanes(local)^pairLanes(&none, 3)) >> 1
}

// pairLane is the seed of word i of an IPv6 pair's digest.
func pairLane(i uint64) uint64 { return pairSeed + i*0x632be59bd9b4e019 }

// DestDigest is PairDigest(local.WithPort(0), *remote), a destination's
// digest, read in place: a million sockets' endpoints copied into the
// arguments cost more than the two rounds of mixing.
func DestDigest(local, remote *AddrPort) uint64 {
	if local.bits != 6 && remote.bits != 6 {
		return pairDigest4(V4Key(*local)&^0xffff|uint64(local.bits)<<48, V4Key(*remote)|uint64(remote.bits)<<48)
	}
	return PairDigest(local.WithPort(0), *remote)
}

// pairSeed starts every pair digest.
const pairSeed = 0x9e3779b97f4a7c15

// pairDigest4 is PairDigest of two endpoints that each fit a word (their
// V4Key and bits).
func pairDigest4(a, b uint64) uint64 { return mix64(mix64(pairSeed^a)^b) >> 1 }
