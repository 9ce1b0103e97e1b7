package group

import (
	"fmt"
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
