package group

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// ApplyEvidence adds what a ticket states outside its listings to the
// groups of its latest sample (smp):
//
//   - a count or stated number of sockets in a state is a claim: it
//     raises the count of every group that holds all the rows the claim
//     selects (an excerpt of ten CLOSE_WAIT rows from one process, with a
//     count line of 31,877, makes that process hold 31,877), and of the
//     snapshot; with no rows to match it makes a counts-only group of the
//     owner it names, or of an unknown process;
//   - a message is attached to the group it concerns (the process it
//     names, the destination or port it names) and to the snapshot, where
//     rules read it with Reported.
//
// Every change is recorded in the group's Basis, so that a finding says
// which numbers came from rows, which from count lines and which from the
// reporter's words. Evidence never lowers a count.
func ApplyEvidence(gs *Groups, smp *model.Sample, ev []model.Evidence) {
	if len(ev) > maxEvidence {
		ev = ev[:maxEvidence] // each claim scans the sockets: bounded work
	}
	for i := range ev {
		e := &ev[i]
		switch {
		case e.State == "" && e.N > 0 && e.Kind == model.EvStated:
			// "about 1500 of these": the rows' state, if they share one.
			if st, ok := onlyState(smp); ok {
				c := *e
				c.State = st.String()
				applyClaim(gs, smp, &c)
			}
		case e.State != "" && e.N > 0 && (e.Kind == model.EvCount || e.Kind == model.EvStated):
			applyClaim(gs, smp, e)
		case e.Kind == model.EvMessage:
			applyMessage(gs, e)
		}
	}
	for _, list := range [][]*Group{{gs.Snapshot}, gs.Processes, gs.Listeners, gs.Ports, gs.Destinations} {
		for _, g := range list {
			sort.Strings(g.Messages)
			g.Messages = compactStrings(g.Messages)
		}
	}
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// describeClaim says where a claim comes from, for a finding's basis.
func describeClaim(e *model.Evidence) string {
	n := fmt.Sprint(e.N)
	if e.AtLeast {
		n = "at least " + n
	}
	switch e.Kind {
	case model.EvCount:
		return fmt.Sprintf("%s %s from a count (%s: %s)", n, e.State, e.Where(), e.Text)
	default:
		return fmt.Sprintf("%s %s in the reporter's words (%s: %q)", n, e.State, e.Where(), e.Text)
	}
}

// matches reports whether a row is one the claim counts.
func matches(s *model.Socket, e *model.Evidence, st model.State) bool {
	if s.State != st {
		return false
	}
	lp, rp := int(s.Local.Port()), int(s.Remote.Port())
	if e.Port > 0 && lp != e.Port && rp != e.Port {
		return false
	}
	if e.PID > 0 && s.PID != e.PID {
		return false
	}
	if e.Number > 0 && lp != e.Number && rp != e.Number && s.PID != e.Number {
		return false
	}
	if e.Process != "" && !strings.EqualFold(s.Process.String(), e.Process) {
		return false
	}
	return true
}

func applyClaim(gs *Groups, smp *model.Sample, e *model.Evidence) {
	st, ok := model.CanonicalState(e.State)
	if !ok {
		return
	}
	basis := describeClaim(e)
	var rows int
	owners, locals, remotes := map[string]bool{}, map[int]bool{}, map[string]bool{}
	for i := range smp.Sockets {
		s := &smp.Sockets[i]
		if !matches(s, e, st) {
			continue
		}
		rows++
		owners[OwnerName(s.Process.String(), s.PID)] = true
		locals[int(s.Local.Port())] = true
		remotes[s.Remote.String()] = true
	}
	raise(gs.Snapshot, st, int(e.N), basis, rows)
	if rows == 0 {
		claimWithoutRows(gs, st, e, basis)
		return
	}
	if len(owners) == 1 {
		// The process group holding every matched row: by its key, or,
		// for rows without an owner (keyed by port), the one group with
		// sockets in the state whose count is the rows'.
		var holders []*Group
		for o := range owners {
			for _, g := range gs.Processes {
				if g.Key == o {
					holders = append(holders, g)
				}
			}
		}
		if len(holders) == 0 {
			for _, g := range gs.Processes {
				if g.count(st) > 0 {
					holders = append(holders, g)
				}
			}
			if len(holders) != 1 || holders[0].count(st) != rows {
				holders = nil
			}
		}
		for _, g := range holders {
			raise(g, st, int(e.N), basis, rows)
		}
	}
	if len(locals) == 1 {
		for p := range locals {
			for _, list := range [][]*Group{gs.Listeners, gs.Ports} {
				for _, g := range list {
					if g.LocalPort == p && g.count(st) == rows {
						raise(g, st, int(e.N), basis, rows)
					}
				}
			}
		}
	}
	if len(remotes) == 1 {
		for r := range remotes {
			for _, g := range gs.Destinations {
				if g.Remote == r && g.count(st) == rows {
					raise(g, st, int(e.N), basis, rows)
				}
			}
		}
	}
}

// claimWithoutRows turns a claim that no row shows into a counts-only
// process group: of the owner the filter names, else of an unknown
// process, for the states a process must end (CLOSE_WAIT, LAST_ACK,
// FIN_WAIT2 on the closing side).
func claimWithoutRows(gs *Groups, st model.State, e *model.Evidence, basis string) {
	if e.Port > 0 && e.Side == "" && (st == model.TimeWait || st == model.SynSent || st == model.Established) {
		return // grep :80 matches either end: a server's port or a client's peer
	}
	if e.Side == "local" && e.PID == 0 && e.Process == "" {
		// The server side of a port: its own group, as rows would be.
		key := fmt.Sprintf("evidence :%d", e.Port)
		var pg *Group
		for _, g := range gs.Ports {
			if g.Key == key || g.LocalPort == e.Port {
				pg = g
			}
		}
		if pg == nil {
			pg = newGroup("port", key)
			pg.LocalPort, pg.Owner = e.Port, OwnerName("", 0)
			pg.CountsOnly, pg.FromEvidence = true, true
			gs.Ports = append(gs.Ports, pg)
		}
		raise(pg, st, int(e.N), basis, 0)
		return
	}
	if (st == model.TimeWait || st == model.SynSent || st == model.Established && e.Port > 0) && e.PID == 0 && e.Process == "" && e.Number == 0 {
		// Client-side states: a destination, known by its port at best.
		key, remote := "evidence destination", "peers not shown"
		if e.Port > 0 {
			key, remote = fmt.Sprintf("evidence destination :%d", e.Port), fmt.Sprintf("port %d (hosts not shown)", e.Port)
		}
		var dg *Group
		for _, g := range gs.Destinations {
			if g.Key == key {
				dg = g
			}
		}
		if dg == nil {
			dg = newGroup("destination", key)
			dg.Remote, dg.RemotePort, dg.Owner = remote, e.Port, OwnerName("", 0)
			dg.CountsOnly, dg.FromEvidence = true, true
			gs.Destinations = append(gs.Destinations, dg)
		}
		raise(dg, st, int(e.N), basis, 0)
		return
	}
	switch st {
	case model.CloseWait, model.LastAck, model.FinWait2:
	default:
		if e.PID == 0 && e.Process == "" {
			return
		}
	}
	pid := e.PID
	key := OwnerName(e.Process, pid)
	var pg *Group
	for _, g := range gs.Processes {
		if g.Key == key || (e.Process != "" && strings.EqualFold(g.Process, e.Process) && pid == 0) {
			pg = g
			break
		}
	}
	if pg == nil {
		pg = newGroup("process", key)
		pg.Owner, pg.Process, pg.PID = key, e.Process, pid
		pg.OwnerKnown = e.Process != "" || pid != 0
		pg.CountsOnly, pg.FromEvidence = true, true
		gs.Processes = append(gs.Processes, pg)
	}
	raise(pg, st, int(e.N), basis, 0)
}

// raise makes g hold at least n sockets in state st.
func raise(g *Group, st model.State, n int, basis string, rows int) {
	cur := g.count(st)
	if n <= cur {
		return
	}
	if cur > 0 && !g.CountsOnly {
		basis += fmt.Sprintf("; %d shown as rows", cur)
	}
	g.addCount(st.String(), n-cur)
	g.Claimed = true
	addBasis(g, basis)
}

// maxEvidence bounds the evidence applied per analysis, maxBasis the
// basis lines one finding lists.
const (
	maxEvidence = 200
	maxBasis    = 6
)

func addBasis(g *Group, b string) {
	switch {
	case len(g.Basis) < maxBasis:
		g.Basis = append(g.Basis, b)
	case len(g.Basis) == maxBasis:
		g.Basis = append(g.Basis, "and more lines of the ticket")
	}
}

// count returns the group's count of sockets in a state.
func (g *Group) count(st model.State) int {
	if c := g.stateCount(st); c != nil {
		return *c
	}
	return 0
}

func applyMessage(gs *Groups, e *model.Evidence) {
	basis := fmt.Sprintf("reported (%s: %q)", e.Where(), e.Text)
	note := func(g *Group) {
		g.Messages = append(g.Messages, e.Message)
		addBasis(g, basis)
	}
	note(gs.Snapshot)
	switch e.Message {
	case model.MsgEMFILE, model.MsgCloseWaitGrows:
		var pg *Group
		if e.Process != "" {
			for _, g := range gs.Processes {
				if strings.EqualFold(g.Process, e.Process) {
					pg = g
					break
				}
			}
		}
		if pg == nil {
			var known []*Group
			for _, g := range gs.Processes {
				if g.OwnerKnown && !g.OwnerInferred {
					known = append(known, g)
				}
			}
			if len(known) == 1 && e.Process == "" {
				pg = known[0]
			}
		}
		if pg == nil {
			key := OwnerName(e.Process, 0)
			for _, g := range gs.Processes {
				if g.Key == key {
					pg = g // one group per owner, rows or words
				}
			}
		}
		if pg == nil {
			key := OwnerName(e.Process, 0)
			pg = newGroup("process", key)
			pg.Owner, pg.Process, pg.OwnerKnown, pg.FromEvidence = key, e.Process, e.Process != "", true
			pg.CountsOnly = true // no rows: ports, queues and peers unknown
			gs.Processes = append(gs.Processes, pg)
		}
		note(pg)
	case model.MsgEADDRNOTAVAIL:
		var dg *Group
		for _, g := range gs.Destinations {
			if e.Remote != "" && g.Remote == e.Remote {
				dg = g
				break
			}
		}
		if dg == nil {
			key := e.Remote
			if key == "" {
				key = "an upstream"
			}
			dg = newGroup("destination", "evidence "+key)
			dg.Remote, dg.FromEvidence = e.Remote, true
			if i := strings.LastIndexByte(e.Remote, ':'); i >= 0 {
				dg.RemoteAddr = e.Remote[:i]
				fmt.Sscan(e.Remote[i+1:], &dg.RemotePort)
			}
			gs.Destinations = append(gs.Destinations, dg)
		}
		note(dg)
	case model.MsgEADDRINUSE:
		if e.Port == 0 {
			return
		}
		var pg *Group
		for _, g := range gs.Ports {
			if g.LocalPort == e.Port {
				pg = g
			}
		}
		if pg == nil {
			pg = newGroup("port", fmt.Sprintf("evidence :%d", e.Port))
			pg.LocalPort, pg.FromEvidence = e.Port, true
			gs.Ports = append(gs.Ports, pg)
		}
		note(pg)
	case model.MsgSYNFlood, model.MsgListenQueue:
		var lg *Group
		for _, g := range gs.Listeners {
			if e.Port > 0 && g.LocalPort == e.Port || g.FromEvidence && g.LocalPort == e.Port {
				lg = g
			}
		}
		if lg == nil {
			key := "evidence"
			if e.Port > 0 {
				key = fmt.Sprintf("evidence :%d", e.Port)
			}
			lg = newGroup("listener", key)
			lg.LocalPort, lg.FromEvidence = e.Port, true
			gs.Listeners = append(gs.Listeners, lg)
		}
		note(lg)
	}
}

// Reported reports whether the ticket holds a message of this kind about
// the group ("EMFILE", "EADDRNOTAVAIL", "EADDRINUSE", "SYN_FLOOD",
// "TW_BUCKET", "CONNTRACK", "LISTEN_QUEUE", "ENFILE", "WSAEADDRINUSE",
// "ORPHANS", "TCP_MEMORY", "ETIMEDOUT", "ECONNRESET"); on the snapshot
// group, anywhere in the ticket.
func (g *Group) Reported(kind string) bool {
	for _, m := range g.Messages {
		if m == kind {
			return true
		}
	}
	return false
}

// onlyState returns the state every socket of the sample is in, if one.
func onlyState(smp *model.Sample) (model.State, bool) {
	if len(smp.Sockets) == 0 {
		return 0, false
	}
	st := smp.Sockets[0].State
	for i := range smp.Sockets {
		if smp.Sockets[i].State != st {
			return 0, false
		}
	}
	return st, true
}
