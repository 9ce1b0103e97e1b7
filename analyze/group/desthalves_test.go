package group

import (
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// TestBoundedDestGroupsHalves: a big listing's destinations are counted
// in two halves (by digest) on two cores; the groups, their counts and
// owner tallies, and whether the bound is passed, are those of one pass
// — also at the bound and one past it, where the destinations past the
// bound come late, after the prefix manyDestinations reads.
func TestBoundedDestGroupsHalves(t *testing.T) {
	const n = 150_000 // past 1<<16 (halves) and the 1<<17 prefix
	for _, dests := range []int{3, 9_000, maxDestGroups, maxDestGroups + 1} {
		socks := make([]model.Socket, n)
		for i := range socks {
			d := i % min(dests, 9_000) // the prefix: at most 9,000 destinations
			if i >= n-20_000 {
				d = i % dests // the rest: all of them
			}
			s := &socks[i]
			s.Local = model.AddrPortOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), uint16(32768+i%28000)))
			s.Remote = model.AddrPortOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(d >> 8), byte(d)}), 443))
			s.State, s.PID, s.Process = model.Established, 100+i%7, model.Intern(fmt.Sprintf("w%d", i%3))
			if i%5 == 0 {
				s.State, s.PID, s.Process = model.TimeWait, 0, model.NoName
			}
		}
		smp := &model.Sample{Sockets: socks}
		li := keptScan(smp).withFallback(rollEphLow)
		roles := make([]sockRole, n)
		for i := range roles {
			roles[i].x.lastRcv = -1
		}
		local := &hostAddrs{conn: &model.AddrSet{}, socks: socks, listens: li.listens}
		if manyDestinations(socks, roles, li, rollEphLow) {
			t.Fatalf("%d destinations: the prefix holds too many", dests)
		}
		one, onePorts, oneOK := destGroups(socks, roles, li, local, rollEphLow, rollEphHigh, nil, true, nil, -1, nil)
		two, twoPorts, twoOK := boundedDestGroups(socks, roles, li, local, rollEphLow, rollEphHigh)
		if oneOK != twoOK || oneOK != (dests <= maxDestGroups) {
			t.Fatalf("%d destinations: within the bound %v in one pass, %v in halves", dests, oneOK, twoOK)
		}
		if !oneOK {
			continue
		}
		if onePorts != twoPorts || len(one) != len(two) || len(one) != dests {
			t.Fatalf("%d destinations: %d groups (ports %d) in one pass, %d (%d) in halves", dests, len(one), onePorts, len(two), twoPorts)
		}
		byKey := map[string]*Group{}
		for _, g := range two {
			byKey[g.Key] = g
		}
		tally := func(g *Group) map[model.Owner]model.LiveCount {
			m := map[model.Owner]model.LiveCount{}
			g.owners.Each(func(o model.Owner, c model.LiveCount) { m[o] = c })
			return m
		}
		for _, w := range one {
			g := byKey[w.Key]
			if g == nil {
				t.Fatalf("%d destinations: %s missing in halves", dests, w.Key)
			}
			if f := differingField(g, w); f != "" || !maps.Equal(tally(g), tally(w)) {
				t.Errorf("%d destinations, %s: %q differs between halves and one pass, or the owners do", dests, w.Key, f)
			}
		}
	}
}

// differingField names the first exported field of Group whose values
// in a and b differ, "" when none does.
func differingField(a, b *Group) string {
	av, bv := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < av.NumField(); i++ {
		if f := av.Type().Field(i); f.IsExported() && !reflect.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			return f.Name
		}
	}
	return ""
}
