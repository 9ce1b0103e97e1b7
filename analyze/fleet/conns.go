package fleet

import (
	"net/netip"
	"sort"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Bounds of one host's connection digest: whatever the size of its
// socket table, a host keeps at most this much for matching.
const (
	MaxFlows     = 2048
	MaxListeners = 256
	MaxAddrs     = 64
)

// A Flow counts one host's sockets of one state between a service (the
// server's address and port) and one client address, for one owner.
// The client's ephemeral ports are dropped: they would make every
// socket a flow of its own.
type Flow struct {
	Service netip.AddrPort // the server's end
	Peer    netip.Addr     // the client's address
	Server  bool           // this host is the server (its local end is Service)
	State   string
	Process string
	PID     int
	Count   int
}

// A Listener is a listening socket on a non-loopback or wildcard address.
type Listener struct {
	Addr    netip.AddrPort
	Process string
	PID     int
}

// Conns is the bounded digest of a host's non-loopback connections
// (latest sample) that fleet correlation matches across hosts.
type Conns struct {
	Flows        []Flow // largest first, at most MaxFlows
	DroppedFlows int    // flows left out by MaxFlows
	Listeners    []Listener
	Addrs        []netip.Addr // the host's own non-loopback addresses seen in its sockets
}

// flowStates are the states digested: the connected ones.
var flowStates = map[model.State]bool{
	model.Established: true, model.SynSent: true, model.SynRecv: true,
	model.FinWait1: true, model.FinWait2: true, model.TimeWait: true,
	model.CloseWait: true, model.LastAck: true, model.Closing: true,
}

func usable(a model.AddrPort) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.Addr().IsLoopback() && !a.Addr().IsLinkLocalUnicast()
}

// connsOf digests one sample's sockets.
func connsOf(smp *model.Sample, procs map[int]*model.Process) Conns {
	var c Conns
	listenPorts := map[uint16]bool{}
	addrs := map[netip.Addr]bool{}
	for i := range smp.Sockets {
		s := &smp.Sockets[i]
		if s.State != model.Listen || !s.Local.IsValid() || (!s.Local.IsUnspecified() && s.Local.Addr().IsLoopback()) {
			continue
		}
		listenPorts[s.Local.Port()] = true
		if len(c.Listeners) < MaxListeners {
			c.Listeners = append(c.Listeners, Listener{Addr: s.Local.AddrPort(), Process: procName(s, procs), PID: s.PID})
		}
	}
	type key struct {
		service netip.AddrPort
		peer    netip.Addr
		server  bool
		state   model.State
		proc    string
		pid     int
	}
	counts := map[key]int{}
	for i := range smp.Sockets {
		s := &smp.Sockets[i]
		if !flowStates[s.State] || !usable(s.Local) || !usable(s.Remote) {
			continue
		}
		l, r := s.Local.AddrPort(), s.Remote.AddrPort()
		if len(addrs) < MaxAddrs {
			addrs[l.Addr()] = true
		}
		server := listenPorts[l.Port()]
		if len(listenPorts) == 0 || listenPorts[l.Port()] && listenPorts[r.Port()] {
			server = l.Port() < r.Port() // no listener shown: the lower port serves
		}
		k := key{service: r, peer: l.Addr(), state: s.State, proc: procName(s, procs), pid: s.PID}
		if server {
			k.service, k.peer, k.server = l, r.Addr(), true
		}
		counts[k]++
	}
	for k, n := range counts {
		c.Flows = append(c.Flows, Flow{Service: k.service, Peer: k.peer, Server: k.server, State: k.state.String(),
			Process: k.proc, PID: k.pid, Count: n})
	}
	sort.Slice(c.Flows, func(i, j int) bool {
		a, b := c.Flows[i], c.Flows[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Service != b.Service {
			return a.Service.Compare(b.Service) < 0
		}
		if a.Peer != b.Peer {
			return a.Peer.Less(b.Peer)
		}
		if a.State != b.State {
			return a.State < b.State
		}
		if a.Process != b.Process {
			return a.Process < b.Process
		}
		return a.PID < b.PID
	})
	if len(c.Flows) > MaxFlows {
		c.DroppedFlows = len(c.Flows) - MaxFlows
		c.Flows = append([]Flow(nil), c.Flows[:MaxFlows]...)
	}
	for a := range addrs {
		c.Addrs = append(c.Addrs, a)
	}
	sort.Slice(c.Addrs, func(i, j int) bool { return c.Addrs[i].Less(c.Addrs[j]) })
	return c
}

func procName(s *model.Socket, procs map[int]*model.Process) string {
	if n := s.Process.String(); n != "" {
		return n
	}
	if p := procs[s.PID]; p != nil && s.PID != 0 {
		return p.Name
	}
	return ""
}
