package group

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// TestPortsAhead: the port groups made ahead for a listing of many
// listening ports are the ones aggregation fills, and they come out as
// the groups it makes without them; a listing of few ports makes none.
func TestPortsAhead(t *testing.T) {
	sample := func(ports int) *model.Sample {
		smp := &model.Sample{}
		for p := 0; p < ports; p++ {
			s := model.NewSocket()
			s.State, s.Local, s.Remote = model.Listen, model.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 1024+p)), model.MustParseAddrPort("0.0.0.0:0")
			s.Process, s.PID = model.Intern(fmt.Sprintf("svc%d", p%7)), 100+p%7
			smp.Sockets = append(smp.Sockets, s)
			if p%3 == 0 { // and a connection on some of them
				c := model.NewSocket()
				c.State, c.Local, c.Remote = model.Established, s.Local, model.MustParseAddrPort(fmt.Sprintf("192.0.2.7:%d", 40000+p))
				c.Process, c.PID = s.Process, s.PID
				smp.Sockets = append(smp.Sockets, c)
			}
		}
		return smp
	}
	for _, ports := range []int{aheadMinPorts - 1, aheadMinPorts + 500} {
		plain, ahead := sample(ports), sample(ports)
		InferOwners(plain, nil)
		InferOwnersOfLatest(ahead, nil)
		a := keptScan(ahead).li.ahead
		if (a != nil) != (ports >= aheadMinPorts) {
			t.Fatalf("%d ports: groups made ahead: %v", ports, a != nil)
		}
		want := Aggregate(plain, nil, nil, 32768, 60999).Ports
		got := Aggregate(ahead, nil, nil, 32768, 60999).Ports
		if a != nil && (!a.taken[0].Load() || !a.taken[1].Load() || a.groups[0] != nil || a.groups[1] != nil) {
			t.Errorf("%d ports: the groups made ahead were not taken", ports)
		}
		if len(got) != len(want) {
			t.Fatalf("%d ports: %d port groups, want %d", ports, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Key != w.Key || g.Sockets != w.Sockets || g.Listen != w.Listen || g.Established != w.Established ||
				g.Owner != w.Owner || g.LocalPort != w.LocalPort || g.Listening != w.Listening || g.Backlog != w.Backlog || g.Owners() != w.Owners() {
				t.Fatalf("%d ports: port group %d is %+v, want %+v", ports, i, g, w)
			}
		}
		// A second aggregation makes its own.
		again := Aggregate(ahead, nil, nil, 32768, 60999).Ports
		if len(again) != len(want) || again[0] == got[0] {
			t.Errorf("%d ports: a second aggregation shares the first's groups", ports)
		}
	}
}

// TestOwnersLater: a destination of many owners counts them after the
// pass (ownersLater), in the order its sockets came: its tally is the
// one counting them as they come gives, bounds and flags included.
func TestOwnersLater(t *testing.T) {
	// Three destinations of many owners, their sockets interleaved, past
	// the notes that finish and pickOwners split over two goroutines.
	remotes := []string{"192.0.2.9:5432", "192.0.2.10:6379", "192.0.2.11:443"}
	var socks []model.Socket
	for i := 0; i < 3*(maxOwners+14000); i++ {
		s := model.NewSocket()
		s.State, s.Local, s.Remote = model.Established, model.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 1024+i/3)), model.MustParseAddrPort(remotes[i%3])
		switch {
		case i%7 == 0:
			s.State = model.TimeWait // no owner in any listing
		case i%11 == 0:
			s.Process, s.PID = model.Intern("w-big"), 1<<31+i // a pid that does not pack
		default:
			s.Process, s.PID = model.Intern(fmt.Sprintf("w%d", i%5)), 100+i%(3*maxOwners+2500)
			s.OwnerInferred = i%13 == 0
		}
		socks = append(socks, s)
	}
	gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, 32768, 60999)
	if len(gs.Destinations) != len(remotes) {
		t.Fatalf("%d destinations, want %d", len(gs.Destinations), len(remotes))
	}
	tally := func(g *Group) map[model.Owner]model.LiveCount {
		m := map[model.Owner]model.LiveCount{}
		g.owners.Each(func(o model.Owner, c model.LiveCount) { m[o] = c })
		return m
	}
	for _, got := range gs.Destinations {
		want := newGroup("destination", "x")
		for i := range socks {
			if socks[i].Remote.String() == got.Remote {
				want.add(&socks[i], false, &sockFacts{lastRcv: -1})
			}
		}
		want.pickOwner()
		if got.owners.Owners() != want.owners.Owners() || got.owners.Live() != want.owners.Live() || got.owners.Full() != want.owners.Full() || got.owners.FullLive() != want.owners.FullLive() {
			t.Errorf("%s: tally counts %d/%d full %v/%v, want %d/%d full %v/%v", got.Remote, got.owners.Owners(), got.owners.Live(), got.owners.Full(), got.owners.FullLive(),
				want.owners.Owners(), want.owners.Live(), want.owners.Full(), want.owners.FullLive())
		}
		if !want.owners.Full() || !reflect.DeepEqual(tally(got), tally(want)) {
			t.Errorf("%s: tally differs (full %v): %d owners, want %d", got.Remote, want.owners.Full(), len(tally(got)), len(tally(want)))
		}
		if got.later != 0 || got.Owner != want.Owner || got.Process != want.Process || got.PID != want.PID {
			t.Errorf("%s: later %d, owner %q (%s %d), want %q (%s %d)", got.Remote, got.later, got.Owner, got.Process, got.PID, want.Owner, want.Process, want.PID)
		}
	}
}

// TestQuietSetByPID: a pid's entry is found by pid, a second name on the
// same pid and a pid past pidDirect have entries of their own, found
// again.
func TestQuietSetByPID(t *testing.T) {
	q := &quietSet{pidLimit: pidDirect, expect: 10}
	a, b := model.Intern("alpha"), model.Intern("beta")
	keys := []procKey{{a, 5}, {b, 5}, {a, 5}, {a, pidDirect + 3}, {b, 5}, {a, 70000}, {a, pidDirect + 3}, {a, 0}, {a, 0}}
	want := []int32{0, 1, 0, 2, 1, 3, 2, 4, 4}
	for i, k := range keys {
		if got := q.at(k); got != want[i] {
			t.Errorf("at(%v) = %d, want %d", k, got, want[i])
		}
	}
	for i, name := range []model.Name{a, b, a, a, a} {
		if q.entries[i].name != name {
			t.Errorf("entry %d is %v, want %v", i, q.entries[i].name, name)
		}
	}
}

// TestQuietSetSparsePIDs: processes with pids spread up to pid_max go by
// key past four table entries per expected process: the table by pid
// stays within its bound.
func TestQuietSetSparsePIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 12000
	socks := make([]model.Socket, n)
	for i := range socks {
		s := model.NewSocket()
		s.State, s.Local, s.Remote = model.Established, model.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 1024+i)), model.MustParseAddrPort("192.0.2.1:80")
		s.Process, s.PID = model.Intern("app"), 1+r.IntN(pidDirect-1)
		socks[i] = s
	}
	procOf := make([]int32, n)
	q := quietProcesses(socks, make([]sockRole, n), procOf, nil, n)
	if q.pidLimit != 4*n+1<<16 || len(q.byPID) > q.pidLimit {
		t.Errorf("table by pid: limit %d, %d entries", q.pidLimit, len(q.byPID))
	}
	seen := map[int]int32{}
	for i, s := range socks {
		if at, ok := seen[s.PID]; ok && at != procOf[i] {
			t.Fatalf("pid %d: entries %d and %d", s.PID, at, procOf[i])
		}
		seen[s.PID] = procOf[i]
	}
	if len(q.entries) != len(seen) {
		t.Errorf("%d entries for %d processes", len(q.entries), len(seen))
	}
}

// TestSortGroups: groups come most sockets first, then by key as
// strings.Compare orders them, whatever the keys' lengths and bytes.
func TestSortGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{0, 1, ':', '0', '1', '9', 'a', 0xff}
	for round := 0; round < 203; round++ {
		n := 50
		if round >= 200 {
			n = 20_000 + round // long lists sort in two halves, merged
		}
		var list []*Group
		for i := 0; i < n; i++ {
			key := make([]byte, r.IntN(12))
			for j := range key {
				key[j] = alphabet[r.IntN(len(alphabet))]
			}
			list = append(list, &Group{Key: string(key), Sockets: r.IntN(3)})
		}
		at := map[*Group]int{}
		for i, g := range list {
			at[g] = i
		}
		sortGroups(list)
		seen := map[*Group]bool{}
		for _, g := range list {
			seen[g] = true
		}
		if len(seen) != n {
			t.Fatalf("round %d: %d distinct groups after sorting %d", round, len(seen), n)
		}
		for i := 1; i < len(list); i++ {
			a, b := list[i-1], list[i]
			if a.Sockets < b.Sockets || a.Sockets == b.Sockets && strings.Compare(a.Key, b.Key) > 0 {
				t.Fatalf("round %d: %d %q before %d %q", round, a.Sockets, a.Key, b.Sockets, b.Key)
			}
			if a.Sockets == b.Sockets && a.Key == b.Key && at[a] > at[b] {
				t.Fatalf("round %d: groups alike (%d %q) out of their order", round, a.Sockets, a.Key)
			}
		}
	}
}
