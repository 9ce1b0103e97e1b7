package group

import (
	"fmt"
	"sort"
	"strconv"
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
	var listenerFacts []*model.Evidence
	var ceiling, upstream *model.Evidence
	for i := range ev {
		e := &ev[i]
		switch {
		case e.Kind == model.EvStated && e.Name == model.RateCeiling && !e.Title:
			if ceiling == nil || e.Rate > ceiling.Rate {
				ceiling = e
			}
		case e.Kind == model.EvStated && e.Name == model.UpstreamTCP:
			upstream = e
		case e.Kind == model.EvStated && e.Name == model.StallAfter:
			// The snapshot's: read by rules as StalledAfter.
			addBasis(gs.Snapshot, fmt.Sprintf("new connections hang after about %d, in the reporter's words (%s: %q)", e.N, e.Where(), e.Text))
		case e.Kind == model.EvStated && (e.Name == model.ListenBacklog || e.Name == model.ListenAcceptQueue):
			listenerFacts = append(listenerFacts, e) // after the messages that name their port
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
	for _, e := range listenerFacts {
		applyListenerFact(gs, e)
	}
	if ceiling != nil && upstream != nil {
		applyUpstreamCeiling(gs, ceiling, upstream)
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

// applyUpstreamCeiling gives the proxy's upstreams, when no row shows
// them, the ceiling rate the reporter states (Group.UpstreamRate).
func applyUpstreamCeiling(gs *Groups, ceiling, upstream *model.Evidence) {
	for _, g := range gs.Destinations {
		if !g.FromEvidence {
			return // the rows show destinations: they say more than a rate
		}
	}
	g := findOrAdd(&gs.Destinations, func(g *Group) bool { return g.Key == "evidence upstreams" }, func() *Group {
		g := newGroup("destination", "evidence upstreams")
		g.Remote = "its upstreams"
		g.Owner, g.Process, g.OwnerKnown = OwnerName(upstream.Process, 0), upstream.Process, true
		return g
	})
	g.UpstreamRate = ceiling.Rate
	addBasis(g, fmt.Sprintf("a ceiling of %s %s/s in the reporter's words (%s: %q)", strconv.FormatFloat(ceiling.Rate, 'f', -1, 64), ceiling.Unit, ceiling.Where(), ceiling.Text))
	addBasis(g, fmt.Sprintf("upstreams over TCP in the reporter's words (%s: %q)", upstream.Where(), upstream.Text))
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
		pg := findOrAdd(&gs.Ports, func(g *Group) bool { return g.Key == key || g.LocalPort == e.Port }, func() *Group {
			g := newGroup("port", key)
			g.LocalPort, g.Owner, g.CountsOnly = e.Port, OwnerName("", 0), true
			return g
		})
		raise(pg, st, int(e.N), basis, 0)
		return
	}
	if (st == model.TimeWait || st == model.SynSent || st == model.Established && e.Port > 0) && e.PID == 0 && e.Process == "" && e.Number == 0 {
		// Client-side states: a destination, known by its port at best.
		key, remote := "evidence destination", "peers not shown"
		if e.Port > 0 {
			key, remote = fmt.Sprintf("evidence destination :%d", e.Port), fmt.Sprintf("port %d (hosts not shown)", e.Port)
		}
		dg := findOrAdd(&gs.Destinations, func(g *Group) bool { return g.Key == key }, func() *Group {
			g := newGroup("destination", key)
			g.Remote, g.RemotePort, g.Owner, g.CountsOnly = remote, e.Port, OwnerName("", 0), true
			return g
		})
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
	key := OwnerName(e.Process, e.PID)
	pg := findOrAdd(&gs.Processes, func(g *Group) bool {
		return g.Key == key || (e.Process != "" && e.PID == 0 && strings.EqualFold(g.Process, e.Process))
	}, func() *Group {
		g := newGroup("process", key)
		g.Owner, g.Process, g.PID, g.CountsOnly = key, e.Process, e.PID, true
		g.OwnerKnown = e.Process != "" || e.PID != 0
		return g
	})
	raise(pg, st, int(e.N), basis, 0)
}

// findOrAdd returns the first group of *list that match accepts, else
// appends the group add makes, marked as made from the ticket's words.
func findOrAdd(list *[]*Group, match func(*Group) bool, add func() *Group) *Group {
	for _, g := range *list {
		if match(g) {
			return g
		}
	}
	g := add()
	g.FromEvidence = true
	*list = append(*list, g)
	return g
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
	case model.MsgEMFILE, model.MsgCloseWaitGrows, model.MsgFinWait2Stays:
		note(messageProcess(gs, e))
	case model.MsgEstablishedStays:
		note(messageDestination(gs, e))
	case model.MsgEADDRNOTAVAIL:
		key := e.Remote
		if key == "" {
			key = "an upstream"
		}
		// Messages that name no destination are one upstream, however
		// many lines repeat them.
		note(findOrAdd(&gs.Destinations, func(g *Group) bool {
			return e.Remote != "" && g.Remote == e.Remote || e.Remote == "" && g.FromEvidence && g.Key == "evidence "+key
		}, func() *Group {
			g := newGroup("destination", "evidence "+key)
			g.Remote = e.Remote
			if i := strings.LastIndexByte(e.Remote, ':'); i >= 0 {
				g.RemoteAddr = e.Remote[:i]
				g.RemotePort, _ = strconv.Atoi(e.Remote[i+1:])
			}
			return g
		}))
	case model.MsgEADDRINUSE:
		if e.Port == 0 {
			return
		}
		note(findOrAdd(&gs.Ports, func(g *Group) bool { return g.LocalPort == e.Port }, func() *Group {
			g := newGroup("port", fmt.Sprintf("evidence :%d", e.Port))
			g.LocalPort = e.Port
			return g
		}))
	case model.MsgSYNFlood, model.MsgListenQueue:
		key := "evidence"
		if e.Port > 0 {
			key = fmt.Sprintf("evidence :%d", e.Port)
		}
		g := findOrAdd(&gs.Listeners, func(g *Group) bool {
			return g.LocalPort == e.Port && (e.Port > 0 || g.FromEvidence)
		}, func() *Group {
			g := newGroup("listener", key)
			g.LocalPort, g.Owner = e.Port, OwnerName("", 0)
			return g
		})
		note(g)
		if e.Message == model.MsgListenQueue && g.FromEvidence && int(e.N) > g.AcceptQueue {
			// The kernel counted the queue when it dropped a connection:
			// a measured length, the largest the ticket shows.
			g.AcceptQueue = int(e.N)
		}
	}
}

// messageDestination is the destination a message about connections
// that stay ESTABLISHED concerns: the only destination with ESTABLISHED
// rows, else a group of its own (peers not shown) owned by the process
// the message names or the only named process.
func messageDestination(gs *Groups, e *model.Evidence) *Group {
	var est []*Group
	for _, g := range gs.Destinations {
		if g.Established > 0 {
			est = append(est, g)
		}
	}
	if len(est) == 1 {
		return est[0]
	}
	owner, process := OwnerName(e.Process, 0), e.Process
	if process == "" {
		var known []*Group
		for _, g := range gs.Processes {
			if g.OwnerKnown && !g.OwnerInferred {
				known = append(known, g)
			}
		}
		if len(known) == 1 {
			owner, process = known[0].Owner, known[0].Process
		}
	}
	return findOrAdd(&gs.Destinations, func(g *Group) bool { return g.Key == "evidence peers" }, func() *Group {
		g := newGroup("destination", "evidence peers")
		g.Remote, g.Owner, g.Process, g.OwnerKnown = "peers not shown", owner, process, process != ""
		return g
	})
}

// applyListenerFact gives a listener the backlog or accept queue the
// reporter states: the listener on the port the sentence names, else the
// only listener (of the rows or of a message such as "possible SYN
// flooding on port 6987"), else one made for it. Rows win over words for
// the backlog; a stated queue only raises the rows'. With several
// listeners and no port the fact is about none of them in particular and
// is dropped.
func applyListenerFact(gs *Groups, e *model.Evidence) {
	var g *Group
	switch {
	case e.Port > 0:
		g = findOrAdd(&gs.Listeners, func(l *Group) bool { return l.LocalPort == e.Port }, func() *Group {
			l := newGroup("listener", fmt.Sprintf("evidence :%d", e.Port))
			l.LocalPort, l.Owner = e.Port, OwnerName("", 0)
			return l
		})
	case len(gs.Listeners) == 1:
		g = gs.Listeners[0]
	case len(gs.Listeners) == 0:
		g = findOrAdd(&gs.Listeners, func(*Group) bool { return false }, func() *Group {
			l := newGroup("listener", "evidence")
			l.Owner = OwnerName("", 0)
			return l
		})
	default:
		return
	}
	what := "backlog"
	switch e.Name {
	case model.ListenBacklog:
		if g.BacklogKnown {
			return
		}
		g.Backlog, g.BacklogKnown = int(e.N), true
	case model.ListenAcceptQueue:
		if int(e.N) <= g.AcceptQueue {
			return
		}
		g.AcceptQueue, what = int(e.N), "accept queue"
	}
	addBasis(g, fmt.Sprintf("%s %d in the reporter's words (%s: %q)", what, e.N, e.Where(), e.Text))
}

// messageProcess is the process a message such as "Too many open files"
// is about: the one it names, else the only named process of the
// listing, else a group of its own (no rows: ports, queues and peers
// unknown).
func messageProcess(gs *Groups, e *model.Evidence) *Group {
	if e.Process != "" {
		for _, g := range gs.Processes {
			if strings.EqualFold(g.Process, e.Process) {
				return g
			}
		}
	} else {
		var known []*Group
		for _, g := range gs.Processes {
			if g.OwnerKnown && !g.OwnerInferred {
				known = append(known, g)
			}
		}
		if len(known) == 1 {
			return known[0]
		}
	}
	key := OwnerName(e.Process, 0)
	return findOrAdd(&gs.Processes, func(g *Group) bool { return g.Key == key }, func() *Group {
		g := newGroup("process", key)
		g.Owner, g.Process, g.OwnerKnown, g.CountsOnly = key, e.Process, e.Process != "", true
		return g
	})
}

// Reported reports whether the ticket holds a message of this kind about
// the group ("EMFILE", "EADDRNOTAVAIL", "EADDRINUSE", "SYN_FLOOD",
// "TW_BUCKET", "CONNTRACK", "LISTEN_QUEUE", "ENFILE", "WSAEADDRINUSE",
// "ORPHANS", "TCP_MEMORY", "ETIMEDOUT", "ECONNRESET", "CLOSE_WAIT_GROWS",
// "FIN_WAIT2_STAYS", "ESTABLISHED_STAYS"); on the snapshot
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
