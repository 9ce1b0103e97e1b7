package group

import (
	"strconv"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// listenerGroups builds groups with the given listeners (their backlog as
// ss shows it, Send-Q) and nothing else.
func listenerGroups(t *testing.T, ports ...int) (*Groups, *model.Sample) {
	t.Helper()
	smp := &model.Sample{}
	for _, p := range ports {
		s := model.Socket{State: model.Listen, SendQ: 128, BacklogKnown: true}
		s.Local = model.MustParseAddrPort("0.0.0.0:" + strconv.Itoa(p))
		smp.Sockets = append(smp.Sockets, s)
	}
	return Aggregate(smp, nil, nil, 32768, 60999), smp
}

func TestApplyListenerFacts(t *testing.T) {
	backlog := func(n int64, port int) model.Evidence {
		return model.Evidence{Kind: model.EvStated, Name: model.ListenBacklog, N: n, Port: port, Line: 1}
	}
	queue := func(n int64, port int) model.Evidence {
		return model.Evidence{Kind: model.EvStated, Name: model.ListenAcceptQueue, N: n, Port: port, Line: 2}
	}
	synFlood := model.Evidence{Kind: model.EvMessage, Message: model.MsgSYNFlood, Port: 6987, Line: 4}
	tests := []struct {
		name      string
		listeners []int
		ev        []model.Evidence
		// the listener the facts land on (-1: none), its backlog and queue
		port             int
		backlog, acceptQ int
		known            bool
		groups           int
	}{
		{"no rows: a listener made for the words", nil, []model.Evidence{backlog(50, 0), queue(51, 0)}, 0, 50, 51, true, 1},
		{"the port of a SYN flood message, stated before it", nil, []model.Evidence{backlog(50, 0), synFlood}, 6987, 50, 0, true, 1},
		{"the only listener of the rows keeps its own backlog", []int{8080}, []model.Evidence{backlog(50, 0), queue(129, 0)}, 8080, 128, 129, true, 1},
		{"the port the sentence names", []int{80, 443}, []model.Evidence{queue(129, 443)}, 443, 128, 129, true, 2},
		{"several listeners and no port: about none of them", []int{80, 443}, []model.Evidence{queue(129, 0)}, -1, 0, 0, false, 2},
		{"a stated queue never lowers the rows'", nil, []model.Evidence{queue(500, 0), queue(20, 0)}, 0, -1, 500, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, smp := listenerGroups(t, tt.listeners...)
			ApplyEvidence(gs, smp, tt.ev)
			if len(gs.Listeners) != tt.groups {
				t.Fatalf("%d listeners, want %d", len(gs.Listeners), tt.groups)
			}
			for _, g := range gs.Listeners {
				if g.LocalPort != tt.port {
					if g.AcceptQueue != 0 || len(g.Basis) > 0 {
						t.Errorf("listener :%d got words meant for another: queue %d basis %v", g.LocalPort, g.AcceptQueue, g.Basis)
					}
					continue
				}
				if g.Backlog != tt.backlog || g.AcceptQueue != tt.acceptQ || g.BacklogKnown != tt.known {
					t.Errorf("listener :%d: backlog %d (known %v), queue %d; want %d (%v), %d", g.LocalPort, g.Backlog, g.BacklogKnown, g.AcceptQueue, tt.backlog, tt.known, tt.acceptQ)
				}
				if g.Owner == "" {
					t.Errorf("listener :%d has no owner name", g.LocalPort)
				}
			}
		})
	}
}

func TestApplyStaysMessages(t *testing.T) {
	gs, smp := listenerGroups(t)
	ApplyEvidence(gs, smp, []model.Evidence{
		{Kind: model.EvMessage, Message: model.MsgEstablishedStays, Line: 3},
		{Kind: model.EvMessage, Message: model.MsgFinWait2Stays, Process: "node", Line: 5},
	})
	if !gs.Snapshot.Reported(model.MsgEstablishedStays) || !gs.Snapshot.Reported(model.MsgFinWait2Stays) {
		t.Errorf("snapshot messages %v", gs.Snapshot.Messages)
	}
	if len(gs.Destinations) != 1 || !gs.Destinations[0].Reported(model.MsgEstablishedStays) || !gs.Destinations[0].FromEvidence {
		t.Fatalf("want one destination made from the words, got %+v", gs.Destinations)
	}
	if len(gs.Processes) != 1 || gs.Processes[0].Process != "node" || !gs.Processes[0].Reported(model.MsgFinWait2Stays) {
		t.Fatalf("want the FIN_WAIT2 message on node, got %+v", gs.Processes)
	}
}
