package group

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// refInferRemote is the plain form of the remote-endpoint inference: an
// unowned client socket gets the one process that holds owned sockets to
// the same remote endpoint (name and port for a host name).
func refInferRemote(socks []model.Socket) []int {
	type ep struct {
		a    model.AddrPort
		name model.Name
	}
	key := func(s *model.Socket) (ep, bool) {
		if s.Remote.IsValid() {
			return ep{a: s.Remote}, true
		}
		if s.RemoteName != model.NoName {
			return ep{a: s.Remote, name: s.RemoteName}, true
		}
		return ep{}, false
	}
	owners := map[ep]int{} // pid, or -1 for several
	for i := range socks {
		s := &socks[i]
		if s.State == model.Listen || s.PID == 0 {
			continue
		}
		if k, ok := key(s); ok {
			if p, seen := owners[k]; !seen {
				owners[k] = s.PID
			} else if p != s.PID {
				owners[k] = -1
			}
		}
	}
	out := make([]int, len(socks))
	for i := range socks {
		s := &socks[i]
		out[i] = s.PID
		if s.PID != 0 || s.State == model.Listen {
			continue
		}
		if k, ok := key(s); ok {
			if p := owners[k]; p > 0 {
				out[i] = p
			}
		}
	}
	return out
}

// The partitioned join infers the owners the plain map does, across
// partitions, IPv4, IPv6 and host names, and conflicts.
func TestInferOwnersRemoteMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// The last three partitioned; the last two past pairedKeys' bound,
	// one with mostly shared peers, one with mostly a peer a socket (a
	// proxy's: most keys find no partner and are dropped before the
	// partitions).
	for _, c := range []struct{ n, peers int }{{50, 13}, {3000, 751}, {60000, 15001}, {200000, 50001}, {400000, 100001}, {400000, 1600000}} {
		n := c.n
		socks := make([]model.Socket, n)
		names := []model.Name{model.Intern("web01"), model.Intern("db02.example.org")}
		for i := range socks {
			s := model.NewSocket()
			s.State = model.Established
			s.Local = model.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 40000+i%20000))
			peer := r.IntN(c.peers)
			switch r.IntN(6) {
			case 0:
				s.Remote = model.AddrPortOf(netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8::%x:%x", peer>>16, peer&0xffff)), 443))
			case 1:
				s.Remote = model.AddrPortFrom(netip.Addr{}, uint16(80+peer%3))
				s.RemoteName = names[peer%2]
			default:
				s.Remote = model.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(peer >> 16), byte(peer >> 8), byte(peer)}), uint16(5000+peer%7))
			}
			switch r.IntN(3) {
			case 0:
				s.State = model.TimeWait
			default:
				s.PID = 100 + r.IntN(3)
				if r.IntN(2) == 0 {
					s.PID = 100 + peer%7 // mostly one owner per peer
				}
				s.Process = model.Intern(fmt.Sprintf("p%d", s.PID))
			}
			socks[i] = s
		}
		want := refInferRemote(socks)
		InferOwners(&model.Sample{Sockets: socks}, nil)
		inferred := 0
		for i := range socks {
			if socks[i].PID != want[i] {
				t.Fatalf("n=%d: socket %d (%v -> %v %s) got pid %d, the map says %d", n, i, socks[i].Local, socks[i].Remote, socks[i].RemoteName, socks[i].PID, want[i])
			}
			if socks[i].OwnerInferred {
				inferred++
			}
		}
		if inferred == 0 {
			t.Errorf("n=%d: nothing inferred; the test proves nothing", n)
		}
	}
}

// Each destination socket carries its destination's socket count, its
// ephemeral-port count and, at its first socket, the first mark — as a
// plain map counts them — across many partitions.
func TestDestRollupCountsMatchMap(t *testing.T) {
	// Counted directly (at most 24,000 destinations); partitioned; past
	// 2^18 sockets, one-socket destinations found by bitsets first.
	for _, peers := range []int{12000, 100000, 400000} {
		t.Run(fmt.Sprint(peers), func(t *testing.T) { testDestRollupCounts(t, peers) })
	}
}

func testDestRollupCounts(t *testing.T, peers int) {
	r := rand.New(rand.NewPCG(7, 8))
	n := 2 * peers
	socks := make([]model.Socket, n)
	for i := range socks {
		s := model.NewSocket()
		s.State = model.Established
		s.Local = model.MustParseAddrPort(fmt.Sprintf("10.0.%d.1:%d", r.IntN(2), 20000+r.IntN(40000)))
		peer := r.IntN(peers)
		s.Remote = model.MustParseAddrPort(fmt.Sprintf("198.%d.%d.%d:%d", 51+peer/50000, peer%200, peer/200%250+1, 443+peer%2))
		socks[i] = s
	}
	roles := make([]sockRole, n)
	li := NewListenerIndex(socks, nil, 32768)
	d := newDestRollup(socks, roles, li, 32768, 60999)
	if d == nil {
		t.Fatalf("no roll-up for %d destinations", peers)
	}
	type dest struct{ local, remote model.AddrPort }
	count, eph := map[dest]uint64{}, map[dest]uint64{}
	for i := range socks {
		k := dest{socks[i].Local.WithPort(0), socks[i].Remote}
		count[k]++
		if p := socks[i].Local.Port(); p >= 32768 && p <= 60999 {
			eph[k]++
		}
	}
	first := map[dest]bool{}
	for i := range socks {
		k := dest{socks[i].Local.WithPort(0), socks[i].Remote}
		v := d.info[i]
		wantFirst := !first[k]
		first[k] = true
		if v&0xffffffff != count[k] || v&^rollFirst>>32 != eph[k] || (v&rollFirst != 0) != wantFirst {
			t.Fatalf("socket %d: info %#x, want %d sockets, %d ephemeral, first %v", i, v, count[k], eph[k], wantFirst)
		}
	}
}

// collide returns an IPv6 address b, in 2001:db8:0:1::/64, whose
// PairDigest equals a's: PairDigest mixes each word of an IPv6 pair in a
// lane of its own (seeds pairLane below) with an invertible mix, and
// XORs the lanes, so a listing can be crafted to make two endpoints
// share a digest. local, when valid, is the first endpoint of the pair
// (the destination digest); else a is the first (the endpoint digest).
func collide(t *testing.T, local model.AddrPort, a netip.Addr) netip.Addr {
	t.Helper()
	// model.pairLane, and the lane of a's first word.
	lane := func(i uint64) uint64 { return 0x9e3779b97f4a7c15 + i*0x632be59bd9b4e019 }
	first := uint64(0)
	if local.IsValid() {
		first = 3
	}
	a16, b16 := a.As16(), netip.MustParseAddr("2001:db8:0:1::").As16()
	a0, a1 := binary.LittleEndian.Uint64(a16[:8]), binary.LittleEndian.Uint64(a16[8:])
	b0 := binary.LittleEndian.Uint64(b16[:8])
	// The second word's lane must make up the difference of the first's.
	want := model.Mix64(lane(first)^a0) ^ model.Mix64(lane(first+1)^a1) ^ model.Mix64(lane(first)^b0)
	binary.LittleEndian.PutUint64(b16[8:], unmix64(want)^lane(first+1))
	b := netip.AddrFrom16(b16)
	A, B := model.AddrPortOf(netip.AddrPortFrom(a, 443)), model.AddrPortOf(netip.AddrPortFrom(b, 443))
	if local.IsValid() && model.PairDigest(local, A) != model.PairDigest(local, B) ||
		!local.IsValid() && model.PairDigest(A, model.AddrPort{}) != model.PairDigest(B, model.AddrPort{}) {
		t.Fatal("no collision made")
	}
	return b
}

// unmix64 inverts model.Mix64 (xor-shifts by 33 undo themselves; the
// multipliers are odd, so invertible modulo 2^64).
func unmix64(k uint64) uint64 {
	inv := func(c uint64) uint64 { // Newton's iteration: x = x(2 - cx)
		x := c
		for range 6 {
			x *= 2 - c*x
		}
		return x
	}
	k ^= k >> 33
	k *= inv(0xc4ceb9fe1a85ec53)
	k ^= k >> 33
	k *= inv(0xff51afd7ed558ccd)
	k ^= k >> 33
	return k
}

// Two IPv6 peers that share a digest do not lend each other an owner:
// curl's socket to one does not make it the owner of TIME_WAIT toward
// the other (both the direct and the partitioned path).
func TestInferOwnersDigestCollision(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::a")
	b := collide(t, model.AddrPort{}, a)
	for _, crowd := range []int{0, 40000} {
		var socks []model.Socket
		s := model.NewSocket()
		s.State, s.PID, s.Process = model.Established, 100, model.Intern("curl")
		s.Local = model.MustParseAddrPort("[2001:db8::1]:40000")
		s.Remote = model.AddrPortOf(netip.AddrPortFrom(a, 443))
		socks = append(socks, s)
		for i := range 40 {
			s := model.NewSocket()
			s.State = model.TimeWait
			s.Local = model.MustParseAddrPort(fmt.Sprintf("[2001:db8::1]:%d", 41000+i))
			s.Remote = model.AddrPortOf(netip.AddrPortFrom(b, 443))
			socks = append(socks, s)
		}
		for i := range crowd { // owned peers enough to partition
			s := model.NewSocket()
			s.State, s.PID, s.Process = model.Established, 200, model.Intern("envoy")
			s.Local = model.MustParseAddrPort("10.0.0.1:40000")
			s.Remote = model.MustParseAddrPort(fmt.Sprintf("198.51.%d.%d:443", i/250%250, i%250+1))
			socks = append(socks, s)
		}
		InferOwners(&model.Sample{Sockets: socks}, nil)
		for _, s := range socks[1:41] {
			if s.PID != 0 {
				t.Fatalf("crowd %d: TIME_WAIT to %v got pid %d, the owner of %v", crowd, s.Remote, s.PID, socks[0].Remote)
			}
		}
	}
}

// A listing with more than maxDestGroups destinations of which two share
// a digest, so that the roll-up finds no more than maxDestGroups and
// rolls nothing up, keeps every destination's group.
func TestDestinationsDigestCollision(t *testing.T) {
	local := model.MustParseAddrPort("[2001:db8::1]:0")
	a := netip.MustParseAddr("2001:db8::a")
	b := collide(t, local, a)
	var socks []model.Socket
	add := func(l, r string, n int) {
		for range n {
			s := model.NewSocket()
			s.State, s.Local, s.Remote = model.Established, model.MustParseAddrPort(l), model.MustParseAddrPort(r)
			socks = append(socks, s)
		}
	}
	add("10.0.0.1:40000", "10.1.1.1:5432", 30)
	for i := range maxDestGroups - 2 {
		add("10.0.0.1:40001", fmt.Sprintf("198.51.%d.%d:443", i/250, i%250+1), 1)
	}
	add("[2001:db8::1]:40002", netip.AddrPortFrom(a, 443).String(), 1)
	add("[2001:db8::1]:40003", netip.AddrPortFrom(b, 443).String(), 1)
	gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, 32768, 60999)
	if len(gs.Destinations) != maxDestGroups+1 {
		t.Fatalf("%d destination groups, want %d (one each)", len(gs.Destinations), maxDestGroups+1)
	}
}

// Two workers of one program (same name, different pids) talking to one
// endpoint make it a conflict: a TIME_WAIT toward it gets no owner,
// whether both are noted in one table or one in each half of a big
// listing.
func TestInferOwnersSameNameTwoPids(t *testing.T) {
	for _, n := range []int{10, 40000} {
		socks := make([]model.Socket, n)
		for i := range socks {
			s := model.NewSocket()
			s.State, s.PID, s.Process = model.Established, 10, model.Intern("nginx")
			if i >= n/2 {
				s.PID = 11 // the other worker, in the other half
			}
			s.Local = model.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 40000+i%20000))
			s.Remote = model.MustParseAddrPort("192.0.2.5:5432")
			socks[i] = s
		}
		tw := model.NewSocket()
		tw.State, tw.Local, tw.Remote = model.TimeWait, model.MustParseAddrPort("10.0.0.1:39999"), model.MustParseAddrPort("192.0.2.5:5432")
		socks = append(socks, tw)
		InferOwners(&model.Sample{Sockets: socks}, nil)
		if s := socks[len(socks)-1]; s.PID != 0 {
			t.Errorf("n=%d: TIME_WAIT toward an endpoint two nginx pids talk to got pid %d", n, s.PID)
		}
	}
}
