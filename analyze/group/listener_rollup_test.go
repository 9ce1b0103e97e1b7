package group

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Past maxListenerGroups, quiet listeners roll up per owner; a listener
// with a queue, SYN_RECV or a small backlog keeps its group, and the
// rolled-up groups count every listener they stand for.
func TestListenerRollup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		listeners int
		rolled    bool
	}{
		{"at the bound", maxListenerGroups, false},
		{"past the bound", maxListenerGroups + 2000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var socks []model.Socket
			listen := func(i int, owner string, pid int, rq, backlog int32) {
				s := model.NewSocket()
				s.State, s.Process, s.PID = model.Listen, model.Intern(owner), pid
				s.Local = model.AddrPortOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8080))
				s.Remote = model.AddrPortOf(netip.MustParseAddrPort("0.0.0.0:0"))
				s.RecvQ, s.SendQ, s.BacklogKnown = rq, backlog, true
				socks = append(socks, s)
			}
			for i := range tc.listeners {
				owner, pid := "app", 5000
				if i%2 == 1 {
					owner, pid = "web", 6000
				}
				switch i {
				case 7:
					listen(i, owner, pid, 12, 4096) // a queue
				case 8:
					listen(i, owner, pid, 0, 64) // a small backlog
				default:
					listen(i, owner, pid, 0, 4096)
				}
			}
			// SYN_RECV toward listener 9.
			syn := model.NewSocket()
			syn.State = model.SynRecv
			syn.Local = socks[9].Local
			syn.Remote = model.AddrPortOf(netip.MustParseAddrPort("192.0.2.1:40000"))
			socks = append(socks, syn)
			gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, rollEphLow, rollEphHigh)
			total, own := 0, map[string]bool{}
			for _, g := range gs.Listeners {
				total += max(1, g.Listen)
				if g.Listen == 1 {
					own[g.Key] = true
				}
			}
			if total != tc.listeners {
				t.Errorf("the listener groups stand for %d listeners, want %d", total, tc.listeners)
			}
			if !tc.rolled {
				if len(gs.Listeners) != tc.listeners {
					t.Errorf("%d groups, want one a listener", len(gs.Listeners))
				}
				return
			}
			for _, i := range []int{7, 8, 9} {
				if k := socks[i].Local.String(); !own[k] {
					t.Errorf("listener %d (%s) has no group of its own", i, k)
				}
			}
			if want := 3 + 2; len(gs.Listeners) != want {
				t.Errorf("%d listener groups, want %d (3 notable, one rolled-up per owner)", len(gs.Listeners), want)
			}
			for _, g := range gs.Listeners {
				if g.Listen > 1 && (g.AcceptQueue != 0 || g.SynRecv != 0 || g.LocalAddr != fmt.Sprintf("%s addresses", model.Thousands(g.Listen))) {
					t.Errorf("rolled-up %q: queue %d, SYN_RECV %d, address %q", g.Key, g.AcceptQueue, g.SynRecv, g.LocalAddr)
				}
			}
		})
	}
}
