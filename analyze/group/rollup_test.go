package group

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

const rollEphLow, rollEphHigh = 32768, 60999

// rollDest is a destination as the tests count it: (local address,
// remote endpoint).
type rollDest struct {
	local  netip.Addr
	remote netip.AddrPort
}

func (d rollDest) String() string { return d.local.String() + ">" + d.remote.String() }

// rollBuild builds a sample and records, for every socket, the
// destination it belongs to (the zero rollDest: none).
type rollBuild struct {
	socks []model.Socket
	dest  []rollDest
	rng   *rand.Rand
	next  int // next ephemeral port
	low   int // next port below the ephemeral range
}

func newRollBuild(seed uint64) *rollBuild {
	return &rollBuild{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), next: rollEphLow, low: 20000}
}

var rollStates = []model.State{model.Established, model.TimeWait, model.SynSent, model.CloseWait,
	model.FinWait1, model.FinWait2, model.LastAck, model.Closing}

// client adds n client-side sockets from local to remote, in random
// states; about one in five uses a local port below the ephemeral range
// (bind before connect), which PortsUsed does not count.
func (b *rollBuild) client(local netip.Addr, remote netip.AddrPort, n int) {
	for range n {
		s := model.NewSocket()
		s.State = rollStates[b.rng.IntN(len(rollStates))]
		var p int
		if b.rng.IntN(5) == 0 {
			p = b.low
			b.low = 20000 + (b.low-20000+1)%10000
		} else {
			p = b.next
			b.next++
			if b.next > rollEphHigh {
				b.next = rollEphLow
			}
		}
		s.Local = model.AddrPortOf(netip.AddrPortFrom(local, uint16(p)))
		s.Remote = model.AddrPortOf(remote)
		if s.State != model.TimeWait {
			s.PID, s.Process = 4242, model.Intern("proxy")
		}
		b.socks = append(b.socks, s)
		b.dest = append(b.dest, rollDest{local, remote})
	}
}

// other adds a socket that belongs to no destination (a listener, or the
// server side of a connection).
func (b *rollBuild) other(s model.Socket) {
	b.socks = append(b.socks, s)
	b.dest = append(b.dest, rollDest{})
}

func (b *rollBuild) listener(addr string, pid int, proc string) {
	s := model.NewSocket()
	s.State, s.Local = model.Listen, model.MustParseAddrPort(addr)
	s.PID, s.Process = pid, model.Intern(proc)
	b.other(s)
}

func (b *rollBuild) sample() *model.Sample { return &model.Sample{Sockets: slices.Clone(b.socks)} }

// rollStat is a destination's direct count.
type rollStat struct {
	n, eph int
	states [model.NumStates]int
}

// rollExpect is what the destination groups must add up to, counted
// directly from the sockets.
type rollExpect struct {
	dests  map[rollDest]*rollStat
	locals map[netip.Addr]bool // the host's own addresses
	min    int                 // destinations with fewer sockets are rolled up
}

func expectRollup(b *rollBuild) *rollExpect {
	e := &rollExpect{dests: map[rollDest]*rollStat{}, locals: map[netip.Addr]bool{}}
	for i := range b.socks {
		s := &b.socks[i]
		if a := s.Local.Addr(); a.IsValid() && !a.IsUnspecified() {
			e.locals[a] = true
		}
		d := b.dest[i]
		if !d.remote.IsValid() {
			continue
		}
		st := e.dests[d]
		if st == nil {
			st = &rollStat{}
			e.dests[d] = st
		}
		st.n++
		st.states[s.State]++
		// The destination's local port: the portmapper's TIME_WAIT is
		// turned around, its remote port is the client's.
		lp := int(s.Local.Port())
		if s.Local.Port() == d.remote.Port() && s.Local.Addr() == d.remote.Addr() {
			lp = int(s.Remote.Port())
		}
		if lp >= rollEphLow && lp <= rollEphHigh {
			st.eph++
		}
	}
	// Keep the largest maxDestGroups destinations; a tie across the bound
	// is rolled up whole.
	e.min = 1
	if len(e.dests) > maxDestGroups {
		var ns []int
		for _, st := range e.dests {
			ns = append(ns, st.n)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(ns)))
		e.min = ns[maxDestGroups] + 1
	}
	return e
}

func (e *rollExpect) loopback(d rollDest) bool { return d.remote.Addr().IsLoopback() }
func (e *rollExpect) peer(d rollDest) bool     { return e.locals[d.remote.Addr()] }

// rollGroupKey identifies a rolled-up group by its fields.
type rollGroupKey struct {
	local          string
	port           int
	loopback, peer bool
}

func rollStateCounts(g *Group) (c [model.NumStates]int) {
	for _, st := range model.States {
		if p := g.stateCount(st); p != nil {
			c[st] = *p
		}
	}
	return c
}

func rolledUp(g *Group) bool { return g.RemoteAddr == "" && strings.Contains(g.Key, ">*:") }

// checkRollup checks the destination groups of gs against the direct
// count of b's sockets.
func checkRollup(t *testing.T, b *rollBuild, gs *Groups) {
	t.Helper()
	e := expectRollup(b)

	keys := map[string]int{}
	for _, g := range gs.Destinations {
		keys[g.Key]++
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("%d destination groups share the key %q", n, k)
		}
	}

	// Individual destinations: exactly those with e.min sockets or more.
	individual := map[rollDest]*Group{}
	rolled := map[rollGroupKey]*Group{}
	for _, g := range gs.Destinations {
		if g.Kind != "destination" {
			t.Fatalf("group %q of kind %q among the destinations", g.Key, g.Kind)
		}
		if rolledUp(g) {
			k := rollGroupKey{g.LocalAddr, g.RemotePort, g.Loopback, g.LocalPeer}
			if rolled[k] != nil {
				t.Errorf("two rolled-up groups for %+v: %q and %q", k, rolled[k].Remote, g.Remote)
			}
			rolled[k] = g
			continue
		}
		d := rollDest{netip.MustParseAddr(g.LocalAddr), netip.AddrPortFrom(netip.MustParseAddr(g.RemoteAddr), uint16(g.RemotePort))}
		if individual[d] != nil {
			t.Errorf("two groups for %v", d)
		}
		individual[d] = g
	}
	if len(individual) > maxDestGroups {
		t.Errorf("%d individual destination groups, bound %d", len(individual), maxDestGroups)
	}
	wantIndividual := 0
	minKept, maxRolled := int(^uint(0)>>1), 0
	type rollSum struct {
		hosts, n, maxEph, sumEph int
		states                   [model.NumStates]int
		members                  []rollMember
	}
	wantRolled := map[rollGroupKey]*rollSum{}
	for d, st := range e.dests {
		if st.n >= e.min {
			wantIndividual++
			minKept = min(minKept, st.n)
			g := individual[d]
			if g == nil {
				t.Errorf("destination %v (%d sockets, bound %d) has no group of its own", d, st.n, e.min)
				continue
			}
			if g.Sockets != st.n || rollStateCounts(g) != st.states || g.PortsUsed != st.eph ||
				g.RemoteHosts != 1 || g.Remote != d.remote.String() || g.TopRemotes != "" ||
				g.Loopback != e.loopback(d) || g.LocalPeer != e.peer(d) {
				t.Errorf("destination %v: sockets %d ports %d hosts %d remote %q top %q loopback %v peer %v; want %d, %d, 1, %q, \"\", %v, %v",
					d, g.Sockets, g.PortsUsed, g.RemoteHosts, g.Remote, g.TopRemotes, g.Loopback, g.LocalPeer,
					st.n, st.eph, d.remote.String(), e.loopback(d), e.peer(d))
			}
			continue
		}
		maxRolled = max(maxRolled, st.n)
		if individual[d] != nil {
			t.Errorf("destination %v (%d sockets, bound %d) has a group of its own", d, st.n, e.min)
		}
		k := rollGroupKey{d.local.String(), int(d.remote.Port()), e.loopback(d), e.peer(d)}
		rs := wantRolled[k]
		if rs == nil {
			rs = &rollSum{}
			wantRolled[k] = rs
		}
		rs.hosts++
		rs.n += st.n
		rs.maxEph = max(rs.maxEph, st.eph)
		rs.sumEph += st.eph
		for s, c := range st.states {
			rs.states[s] += c
		}
		rs.members = append(rs.members, rollMember{model.AddrPortOf(d.remote), st.n})
	}
	if len(individual) != wantIndividual {
		t.Errorf("%d individual destination groups, want %d", len(individual), wantIndividual)
	}
	if wantIndividual > 0 && maxRolled >= minKept {
		t.Errorf("a rolled-up destination has %d sockets, a kept one only %d", maxRolled, minKept)
	}
	if len(rolled) != len(wantRolled) {
		t.Errorf("%d rolled-up groups, want %d", len(rolled), len(wantRolled))
	}
	for k, rs := range wantRolled {
		g := rolled[k]
		if g == nil {
			t.Errorf("no rolled-up group for %+v (%d hosts)", k, rs.hosts)
			continue
		}
		if g.RemoteHosts != rs.hosts || g.Sockets != rs.n || rollStateCounts(g) != rs.states {
			t.Errorf("rolled-up %+v: hosts %d sockets %d states %v; want %d, %d, %v", k, g.RemoteHosts, g.Sockets, rollStateCounts(g), rs.hosts, rs.n, rs.states)
		}
		// Linux budgets ports per destination: the largest member's
		// count, never the sum.
		if g.PortsUsed != rs.maxEph {
			t.Errorf("rolled-up %+v: PortsUsed %d, want the largest member's %d (sum %d)", k, g.PortsUsed, rs.maxEph, rs.sumEph)
		}
		noun := "hosts"
		if rs.hosts == 1 {
			noun = "host"
		}
		if want := fmt.Sprintf(":%d on %s %s", k.port, model.Thousands(rs.hosts), noun); g.Remote != want {
			t.Errorf("rolled-up %+v: Remote %q, want %q", k, g.Remote, want)
		}
		sort.Slice(rs.members, func(i, j int) bool {
			a, b := rs.members[i], rs.members[j]
			if a.n != b.n {
				return a.n > b.n
			}
			return a.remote.AddrPort().Compare(b.remote.AddrPort()) < 0
		})
		var parts []string
		for _, m := range rs.members[:min(3, len(rs.members))] {
			parts = append(parts, fmt.Sprintf("%s (%d)", m.remote, m.n))
		}
		if want := strings.Join(parts, ", "); g.TopRemotes != want {
			t.Errorf("rolled-up %+v: TopRemotes %q, want %q", k, g.TopRemotes, want)
		}
	}

	// Per (local address, remote port) the groups add up to the sockets,
	// and all groups together stand for every destination once.
	type lp struct {
		local string
		port  int
	}
	type tally struct {
		n      int
		states [model.NumStates]int
	}
	got, want := map[lp]*tally{}, map[lp]*tally{}
	add := func(m map[lp]*tally, k lp, n int, states [model.NumStates]int) {
		if m[k] == nil {
			m[k] = &tally{}
		}
		m[k].n += n
		for s, c := range states {
			m[k].states[s] += c
		}
	}
	hosts := 0
	for _, g := range gs.Destinations {
		add(got, lp{g.LocalAddr, g.RemotePort}, g.Sockets, rollStateCounts(g))
		hosts += g.RemoteHosts
	}
	for d, st := range e.dests {
		add(want, lp{d.local.String(), int(d.remote.Port())}, st.n, st.states)
	}
	for k, w := range want {
		if g := got[k]; g == nil || *g != *w {
			t.Errorf("%s to :%d: groups count %+v, sockets %+v", k.local, k.port, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("groups cover %d (local address, remote port) pairs, sockets %d", len(got), len(want))
	}
	if hosts != len(e.dests) {
		t.Errorf("RemoteHosts add up to %d, %d distinct destinations", hosts, len(e.dests))
	}
}

// rollAddrs are the addresses of one family a sample talks from and to.
type rollAddrs struct {
	main, loop netip.Addr
	own        func(i int) netip.Addr // the host's other addresses
	public     func(i int) netip.Addr
	loopPeer   func(i int) netip.Addr // loopback addresses; only loop itself is one of the host's
}

var rollV4 = rollAddrs{
	main: netip.MustParseAddr("10.0.0.1"), loop: netip.MustParseAddr("127.0.0.1"),
	own:      func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}) },
	public:   func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16), byte(i >> 8), byte(i)}) },
	loopPeer: func(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, byte(i >> 8), byte(i)}) },
}

var rollV6 = rollAddrs{
	main: netip.MustParseAddr("2001:db8::1"), loop: netip.IPv6Loopback(),
	own: func(i int) netip.Addr { return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(i)}) },
	public: func(i int) netip.Addr {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
	},
	// IPv6 has one loopback address: its loopback destinations differ
	// by port only.
	loopPeer: func(i int) netip.Addr { return netip.IPv6Loopback() },
}

// rollShape describes a sample: hot destinations with many sockets, a
// middle tier, and a crowd with 1-3 sockets, spread over remote ports,
// loopback, the host's own addresses and public ones.
type rollShape struct {
	fams  []rollAddrs
	hot   int // 50-350 sockets each
	mid   int // 4-10 sockets each
	tie   int // exactly tieN sockets each
	tieN  int
	crowd int // 1-3 sockets each
	// crowd443 destinations with one socket each, all public on :443
	// from the first family's main address: Remote reads ":443 on
	// <crowd443 + those of the crowd> hosts".
	crowd443 int
}

var rollPorts = []int{443, 80, 5432}

func (sh rollShape) build(seed uint64) *rollBuild {
	b := newRollBuild(seed)
	for _, f := range sh.fams {
		// Listening sockets on the host's other addresses make them its
		// own; nothing connects from an ephemeral port to :8080.
		for i := range 50 {
			b.listener(netip.AddrPortFrom(f.own(i), 8080).String(), 900, "web")
		}
	}
	pub := 0
	dest := func(i int) (netip.Addr, netip.AddrPort) {
		f := sh.fams[i%len(sh.fams)]
		port := uint16(rollPorts[(i/len(sh.fams))%len(rollPorts)])
		switch (i / len(sh.fams)) % 20 {
		case 0: // loopback, the host's own loopback address or another one
			a := f.loopPeer(i/20 + 1)
			if (i/len(sh.fams)/20)%2 == 0 {
				a = f.loop
			}
			if a == netip.IPv6Loopback() {
				port = uint16(1024 + i%20000)
				if i%7 == 0 {
					port = 443
				}
			}
			return f.loop, netip.AddrPortFrom(a, port)
		case 1: // the host's own address, from its main one
			return f.main, netip.AddrPortFrom(f.own(i%50), port)
		}
		pub++
		return f.main, netip.AddrPortFrom(f.public(pub), port)
	}
	seen := map[rollDest]bool{}
	i := 0
	next := func() (netip.Addr, netip.AddrPort) {
		for {
			l, r := dest(i)
			i++
			if d := (rollDest{l, r}); !seen[d] {
				seen[d] = true
				return l, r
			}
		}
	}
	// The hot destinations are public, so that the host's own and
	// loopback addresses come in the smaller tiers too.
	for h := range sh.hot {
		f := sh.fams[h%len(sh.fams)]
		pub++
		b.client(f.main, netip.AddrPortFrom(f.public(pub), uint16(rollPorts[h%len(rollPorts)])), 50+b.rng.IntN(300))
	}
	for range sh.mid {
		l, r := next()
		b.client(l, r, 4+b.rng.IntN(7))
	}
	for range sh.tie {
		l, r := next()
		b.client(l, r, sh.tieN)
	}
	for range sh.crowd {
		l, r := next()
		b.client(l, r, 1+b.rng.IntN(3))
	}
	for range sh.crowd443 {
		pub++
		b.client(sh.fams[0].main, netip.AddrPortFrom(sh.fams[0].public(pub), 443), 1)
	}
	// Shuffle, so that no test depends on a destination's sockets coming
	// together.
	b.rng.Shuffle(len(b.socks), func(i, j int) {
		b.socks[i], b.socks[j] = b.socks[j], b.socks[i]
		b.dest[i], b.dest[j] = b.dest[j], b.dest[i]
	})
	return b
}

var rollShapes = []struct {
	name  string
	shape rollShape
	// rolled: whether destinations must be rolled up at all
	rolled bool
}{
	{"9,000 destinations, over 10,000 sockets: none rolled up",
		rollShape{fams: []rollAddrs{rollV4}, hot: 20, mid: 1000, crowd: 7980}, false},
	{"exactly 10,000 destinations: none rolled up",
		rollShape{fams: []rollAddrs{rollV4, rollV6}, hot: 10, crowd: 9990}, false},
	{"10,001 destinations of one socket each: all rolled up (a tie at the bound)",
		rollShape{fams: []rollAddrs{rollV4}, crowd443: 10001}, true},
	{"30,000 IPv4 destinations: the largest keep their groups",
		rollShape{fams: []rollAddrs{rollV4}, hot: 40, mid: 9000, crowd: 21000}, true},
	{"30,000 IPv6 destinations",
		rollShape{fams: []rollAddrs{rollV6}, hot: 40, mid: 9000, crowd: 21000}, true},
	{"30,000 destinations of both families",
		rollShape{fams: []rollAddrs{rollV4, rollV6}, hot: 40, mid: 9000, crowd: 21000}, true},
	{"a tie of 10,000 across the bound is rolled up whole",
		rollShape{fams: []rollAddrs{rollV4, rollV6}, hot: 20, tie: 10000, tieN: 5, crowd: 10000}, true},
	{"12,345 hosts on :443",
		rollShape{fams: []rollAddrs{rollV4}, hot: 5, crowd443: 12345}, true},
	{"50,000 destinations of both families: counted in partitions",
		rollShape{fams: []rollAddrs{rollV4, rollV6}, hot: 40, mid: 9000, crowd: 41000}, true},
}

func TestDestinationRollup(t *testing.T) {
	for k, tt := range rollShapes {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.shape.build(uint64(k + 1))
			gs := Aggregate(b.sample(), nil, nil, rollEphLow, rollEphHigh)
			checkRollup(t, b, gs)
			e := expectRollup(b)
			rolled, hosts443 := 0, 0
			for _, g := range gs.Destinations {
				if rolledUp(g) {
					rolled++
					if g.LocalAddr == "10.0.0.1" && g.RemotePort == 443 && !g.LocalPeer {
						hosts443 = g.RemoteHosts
					}
				} else if g.RemoteHosts != 1 {
					t.Errorf("destination %q stands for %d hosts", g.Key, g.RemoteHosts)
				}
			}
			if !tt.rolled {
				if rolled > 0 || len(gs.Destinations) != len(e.dests) {
					t.Errorf("%d destinations: %d groups, %d rolled up; want one each", len(e.dests), len(gs.Destinations), rolled)
				}
				return
			}
			if rolled == 0 {
				t.Fatalf("%d destinations, none rolled up", len(e.dests))
			}
			// The test is only as good as its sample: the crowd must make
			// a rolled-up group whose members' ports sum past the largest.
			discriminates := false
			for _, g := range gs.Destinations {
				if rolledUp(g) && g.RemoteHosts > 1 && g.PortsUsed > 0 && g.PortsUsed < g.Sockets {
					discriminates = true
				}
			}
			if !discriminates {
				t.Errorf("no rolled-up group where a sum of ports would differ from the largest")
			}
			if strings.HasPrefix(tt.name, "12,345") {
				var remote string
				for _, g := range gs.Destinations {
					if rolledUp(g) && g.LocalAddr == "10.0.0.1" && g.RemotePort == 443 && !g.LocalPeer {
						remote = g.Remote
					}
				}
				if hosts443 != 12345 || remote != ":443 on 12,345 hosts" {
					t.Errorf("rolled-up :443: %d hosts, Remote %q; want 12345, \":443 on 12,345 hosts\"", hosts443, remote)
				}
			}
		})
	}
}

// rollView is what a destination group shows rules.
type rollView struct {
	Key, Remote, TopRemotes, LocalAddr, RemoteAddr string
	RemotePort, RemoteHosts, PortsUsed, Sockets    int
	Loopback, LocalPeer                            bool
	States                                         [model.NumStates]int
	Owner, RemoteOwner                             string
}

func rollViews(gs *Groups) []rollView {
	var out []rollView
	for _, g := range gs.Destinations {
		out = append(out, rollView{g.Key, g.Remote, g.TopRemotes, g.LocalAddr, g.RemoteAddr,
			g.RemotePort, g.RemoteHosts, g.PortsUsed, g.Sockets, g.Loopback, g.LocalPeer, rollStateCounts(g), g.Owner, g.RemoteOwner})
	}
	return out
}

// The same sample, aggregated again or with its sockets in another
// order, gives the same destination groups in the same order.
func TestDestinationRollupDeterministic(t *testing.T) {
	for k, tt := range rollShapes {
		if !tt.rolled {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			b := tt.shape.build(uint64(100 + k))
			want := rollViews(Aggregate(b.sample(), nil, nil, rollEphLow, rollEphHigh))
			again := rollViews(Aggregate(b.sample(), nil, nil, rollEphLow, rollEphHigh))
			rev := b.sample()
			slices.Reverse(rev.Sockets)
			reversed := rollViews(Aggregate(rev, nil, nil, rollEphLow, rollEphHigh))
			for name, got := range map[string][]rollView{"again": again, "reversed": reversed} {
				if len(got) != len(want) {
					t.Fatalf("%s: %d destination groups, first time %d", name, len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: destination group %d is\n%+v\nfirst time\n%+v", name, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// A portmapper's TIME_WAIT (local :111, from a loopback client) counts
// toward the destination 127.0.0.1:111, whether that destination keeps
// its own group or is rolled up with others.
func TestDestinationRollupPortmapper(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	pm := netip.AddrPortFrom(lo, 111)
	for _, tt := range []struct {
		name     string
		timeWait int
		crowd    bool // 30,000 small destinations besides
		rolled   bool
	}{
		{"alone", 5, false, false},
		{"large among 30,000", 100, true, false},
		{"small among 30,000: rolled up", 2, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newRollBuild(7)
			b.listener("0.0.0.0:111", 500, "rpcbind")
			b.listener("[::]:111", 500, "rpcbind")
			for i := range tt.timeWait {
				s := model.NewSocket()
				s.State = model.TimeWait
				s.Local = model.AddrPortOf(pm)
				s.Remote = model.AddrPortOf(netip.AddrPortFrom(lo, uint16(40000+i)))
				b.socks = append(b.socks, s)
				b.dest = append(b.dest, rollDest{lo, pm})
			}
			// One lookup in progress: the client's socket counts, the
			// portmapper's end of it does not.
			c := model.NewSocket()
			c.State, c.PID, c.Process = model.Established, 77, model.Intern("ypbind")
			c.Local, c.Remote = model.AddrPortOf(netip.AddrPortFrom(lo, 45000)), model.AddrPortOf(pm)
			b.socks = append(b.socks, c)
			b.dest = append(b.dest, rollDest{lo, pm})
			srv := c
			srv.Local, srv.Remote, srv.PID, srv.Process = c.Remote, c.Local, 500, model.Intern("rpcbind")
			b.other(srv)
			if tt.crowd {
				// 10,000 destinations each of 1, 2 and 3 sockets, and 20
				// of 100: only those with 4 or more keep their groups.
				main := netip.MustParseAddr("10.0.0.1")
				for i := range 30000 {
					b.client(main, netip.AddrPortFrom(rollV4.public(i), 443), 1+i%3)
				}
				for i := range 20 {
					b.client(main, netip.AddrPortFrom(rollV4.public(40000+i), 80), 100)
				}
			}
			gs := Aggregate(b.sample(), nil, nil, rollEphLow, rollEphHigh)
			checkRollup(t, b, gs)
			var got *Group
			for _, g := range gs.Destinations {
				if g.LocalAddr == "127.0.0.1" && g.RemotePort == 111 {
					if got != nil {
						t.Fatalf("two groups toward :111: %q and %q", got.Key, g.Key)
					}
					got = g
				}
			}
			if got == nil {
				t.Fatal("no destination group toward 127.0.0.1:111")
			}
			if got.TimeWait != tt.timeWait || got.Established != 1 || got.Sockets != tt.timeWait+1 || got.PortsUsed != tt.timeWait+1 {
				t.Errorf("toward :111: %d TIME_WAIT, %d ESTABLISHED, %d sockets, %d ports; want %d, 1, %d, %d",
					got.TimeWait, got.Established, got.Sockets, got.PortsUsed, tt.timeWait, tt.timeWait+1, tt.timeWait+1)
			}
			if !got.Loopback || !got.LocalPeer || got.RemoteOwner != "rpcbind (pid 500)" {
				t.Errorf("toward :111: loopback %v, local peer %v, remote owner %q", got.Loopback, got.LocalPeer, got.RemoteOwner)
			}
			if rolledUp(got) != tt.rolled {
				t.Errorf("toward :111: rolled up %v, want %v (%q)", rolledUp(got), tt.rolled, got.Key)
			}
			wantRemote, wantTop := "127.0.0.1:111", ""
			if tt.rolled {
				wantRemote, wantTop = ":111 on 1 host", fmt.Sprintf("127.0.0.1:111 (%d)", tt.timeWait+1)
			}
			if got.Remote != wantRemote || got.TopRemotes != wantTop || got.RemoteHosts != 1 {
				t.Errorf("toward :111: Remote %q, TopRemotes %q, hosts %d; want %q, %q, 1", got.Remote, got.TopRemotes, got.RemoteHosts, wantRemote, wantTop)
			}
		})
	}
}

// TestRolledUpOwnersMerge: rolled-up groups are counted in two halves
// (by destination) and merged. Their owner tallies equal one pass over
// their sockets in order: with few owners, with nearly maxOwners (each
// half below it, merged too), past it in each half, and past it only
// once merged — where the owners kept depend on the order and the
// group's owners are counted again.
func TestRolledUpOwnersMerge(t *testing.T) {
	local := model.AddrPortOf(netip.MustParseAddrPort("192.0.2.1:0"))
	for _, c := range []struct{ sockets, owners int }{
		{40_000, 3}, {40_000, maxOwners - 1}, {100_000, maxOwners + 2000}, {30_000, 15_000},
	} {
		socks := make([]model.Socket, c.sockets)
		for i := range socks {
			s := &socks[i]
			s.Local = local.WithPort(uint16(32768 + i%28000))
			// One socket a host: every destination is rolled up, two
			// services share the sockets.
			s.Remote = model.AddrPortOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(443-363*(i%2))))
			s.State, s.PID = model.Established, 1000+(i/2*7919)%c.owners // every owner on both services
			s.Process = model.Intern(fmt.Sprintf("w%d", s.PID%5))
			if i%13 == 0 { // 13 divides no owner count: every owner keeps sockets
				s.State, s.PID, s.Process = model.TimeWait, 0, model.NoName
			}
		}
		gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, rollEphLow, rollEphHigh)
		if len(gs.Destinations) != 2 {
			t.Fatalf("%+v: %d destination groups, want 2 rolled up", c, len(gs.Destinations))
		}
		for _, got := range gs.Destinations {
			want := newGroup("destination", "x")
			for i := range socks {
				if int(socks[i].Remote.Port()) == got.RemotePort {
					want.add(&socks[i], false, &sockFacts{lastRcv: -1})
				}
			}
			tally := func(g *Group) map[model.Owner]model.LiveCount {
				m := map[model.Owner]model.LiveCount{}
				g.owners.Each(func(o model.Owner, c model.LiveCount) { m[o] = c })
				return m
			}
			if got.owners.Owners() != want.owners.Owners() || got.owners.Live() != want.owners.Live() ||
				got.owners.Full() != want.owners.Full() || got.owners.FullLive() != want.owners.FullLive() {
				t.Errorf("%+v, :%d: %d/%d owners (full %v/%v), one pass %d/%d (full %v/%v)", c, got.RemotePort,
					got.owners.Owners(), got.owners.Live(), got.owners.Full(), got.owners.FullLive(),
					want.owners.Owners(), want.owners.Live(), want.owners.Full(), want.owners.FullLive())
			}
			if !maps.Equal(tally(got), tally(want)) {
				t.Errorf("%+v, :%d: the owner tally differs from one pass's", c, got.RemotePort)
			}
			want.pickOwner()
			if got.Sockets != want.Sockets || got.Owner != want.Owner {
				t.Errorf("%+v, :%d: %d sockets of %q, one pass %d of %q", c, got.RemotePort, got.Sockets, got.Owner, want.Sockets, want.Owner)
			}
		}
	}
}
