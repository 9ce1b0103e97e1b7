package group

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// A Group is a set of sockets a rule reasons about as one subject: one
// process, one listening socket, one local service port, or one
// destination. Rules see its exported fields by name (see docs/rules.md);
// every field is a plain kind so rule expressions type-check.
type Group struct {
	Kind string // "process", "listener", "port", "destination", "snapshot"
	Key  string // stable identity, used to order findings

	// The subject. Owner is the display name: "java (pid 8166)", "java",
	// or "an unknown process" when no listing named it.
	Owner         string
	Process       string
	PID           int
	OwnerKnown    bool
	OwnerInferred bool // the owner was derived (listener owner, peer sockets), not listed
	LocalAddr     string
	LocalPort     int
	RemoteAddr    string
	RemotePort    int
	Remote        string // "127.0.0.1:5432"
	Loopback      bool   // the remote address is a loopback address
	LocalPeer     bool   // the remote address is one of this host's own addresses
	RemoteOwner   string // destination groups: owner of the local listener the remote is, if any
	Listening     bool   // port groups: a socket listens on the port

	// Sockets counts the group's sockets; one field per canonical state.
	Sockets     int
	Established int
	SynSent     int
	SynRecv     int
	FinWait1    int
	FinWait2    int
	TimeWait    int
	Close       int
	CloseWait   int
	LastAck     int
	Listen      int
	Closing     int
	Bound       int

	// Queues over the group's non-listening sockets, in bytes.
	RecvQ        int
	SendQ        int
	MaxRecvQ     int
	MaxSendQ     int
	RecvQSockets int // sockets with data waiting to be read
	SendQSockets int // sockets with data not yet acknowledged

	// owners counts the sockets by owner (of them the ones other than
	// TIME_WAIT of named owners), in groups other than process and
	// snapshot groups (tallied). Beside the counts above, which add
	// writes with it: with 60,000 port groups each socket's group is a
	// cache miss, a line apart from the counts a miss more.
	owners  model.OwnerTally
	tallied bool

	// CLOSE_WAIT detail. On Linux Recv-Q 0 means the application read the
	// peer's FIN and did not close; 1 means it never read since the FIN;
	// more means unread data (see pathologies.md §2.3).
	CloseWaitRecvQ0    int
	CloseWaitRecvQ1    int
	CloseWaitRecvQMore int
	CloseWaitServer    int // on a local listening port
	CloseWaitClient    int // toward a remote service
	CloseWaitIdleMS    int // largest lastrcv among CLOSE_WAIT (ss -i); -1 unknown
	// CloseWaitNoPeer counts loopback CLOSE_WAIT whose other end (the
	// FIN_WAIT2 socket with the reverse 4-tuple) is not in the listing:
	// the peer gave up, so the socket is stale and a client reusing its
	// port pair runs into it (pathologies.md P15). -1 when the listing has
	// too many loopback FIN_WAIT2 sockets to match.
	CloseWaitNoPeer int

	// TIME_WAIT detail, from timers where the listing has them.
	TimeWaitServer int     // on a local listening port (the server closed first)
	TimeWaitClient int     // the local side was the client
	TimeWaitTimers int     // TIME_WAIT sockets with a known timer
	TimeWaitNewest float64 // largest time left (s); -1 unknown
	TimeWaitOldest float64 // smallest time left (s); -1 unknown
	TimeWaitLast10 int     // created in the last 10 s by their timers

	// SYN_SENT / retransmission detail.
	SynSentRetrans int // SYN_SENT sockets whose SYN was retransmitted at least once
	MaxRetransmits int // largest timer retransmit count
	Orphans        int // FIN_WAIT2 with a timewait timer and no owner: closed by the app

	// Listener detail (listener groups; port groups sum their listeners).
	AcceptQueue  int // connections waiting for accept()
	Backlog      int // accept queue limit (ss only); -1 unknown
	BacklogKnown bool

	// Destination detail: local ports in use toward this (local address,
	// remote address, remote port) against the ephemeral range.
	PortsUsed int
	// RemoteHosts counts the destinations a destination group stands for:
	// 1, or for a group rolled up from many small destinations (a proxy
	// talking to a million hosts) how many; then Remote reads ":443 on
	// 312,004 hosts", TopRemotes names the largest three, and PortsUsed
	// is the largest of any one of them. 0 for a group made from a
	// ticket's words.
	RemoteHosts int
	TopRemotes  string
	// UpstreamRate is, on a destination group made from a ticket's
	// words, the ceiling in requests (or connections) per second the
	// reporter states for a proxy that, the text says, talks to its
	// upstreams over TCP: the rate at which new upstream connections take
	// local ports if none is reused. 0 otherwise.
	UpstreamRate float64

	// Process detail from the collector's process table; -1 unknown.
	FDs     int
	FDLimit int

	// Two-sample detail (0 with one sample): sockets of the latest sample
	// that were already in the same state in the first sample, matched by
	// 4-tuple (and by inode when both samples know it). A CLOSE_WAIT seen
	// in both samples is proven stuck.
	CloseWaitPersistent int
	FinWait1Persistent  int
	FinWait2Persistent  int // with an owner: the application half-closed and waits
	LastAckPersistent   int
	// Connected sockets whose Recv-Q (Send-Q) was non-empty in the first
	// sample and is not smaller in the latest: a stalled reader (peer).
	RecvQStuck int
	SendQStuck int

	// Idle detail (ss -i): ESTABLISHED sockets to non-loopback peers that
	// received nothing for 300 s or more and have no keepalive timer, and
	// the longest such idle time in milliseconds (-1 unknown).
	IdleNoKeepalive int
	IdleMaxMS       int64

	// SynSentExternal counts SYN_SENT sockets to public addresses (not
	// private, loopback, link-local or unique-local).
	SynSentExternal int

	// Snapshot group only: distinct local ports inside the ephemeral range
	// held by non-listening sockets toward any destination (Linux budgets
	// ports per destination; Windows and bind-before-connect globally),
	// and the largest destination group's PortsUsed.
	LocalPortsUsed   int
	MaxDestPortsUsed int

	// CountsOnly is true when the group's sockets are known only as counts
	// (a uniq -c summary pasted instead of a listing): the state fields
	// are set, ports, queues, peers and timers are not.
	CountsOnly bool

	// FromEvidence is true for a group made from a ticket's words alone
	// (a message or a count no row shows); Claimed when a count or a
	// stated number raised the group's counts above its rows; Messages
	// are the kinds of messages the ticket reports about it (see
	// Reported); Basis says where the numbers came from.
	FromEvidence bool
	Claimed      bool
	Messages     []string
	Basis        []string

	// The local-port and peer tallies that Ports, Remotes and
	// DistinctRemotes read are made when first asked, from src: few groups
	// are ever asked (the ones a finding is rendered for), and counting
	// every group's peers while aggregating cost more than the rest of it.
	// Each is counted once, whichever rule asks first, and the peers
	// state by state: a server's listener holds a million clients, and a
	// rule about its TIME_WAIT needs only theirs.
	src       *tallySource
	tallyOnce sync.Once // makes t
	t         *tallies
	later     int32 // destination groups: 1 + their place in ownersLater while their owners wait to be counted; 0 otherwise
	num       int32 // process groups: the group's number in aggregateProcesses' socket map; rolled-up destination groups: their index in the roll-up's tops
	// A group of quiet processes or listeners rolled up
	// (maxProcessGroups, maxListenerGroups): how many, and of processes
	// how many a listing named (no inferred owner).
	rolled, listed int32
	// manyPrograms: see ManyPrograms.
	manyPrograms bool
}

// Ports names the local ports of the group's sockets in a state, most
// used first: ":8443" or ":8443 (390), :8080 (10)".
func (g *Group) Ports(state string) string {
	ports := g.portTally()
	if ports == nil {
		ports = &model.IntTable[int]{} // nothing to count
	}
	st := stateKey(state)
	n := 0
	if st < model.NumStates {
		ports.Each(func(k uint64, _ int) {
			if model.State(k>>16) == st {
				n++
			}
		})
	}
	if n == 0 && g.CountsOnly {
		return "unknown ports (counts only)"
	}
	return model.TopList(func(yield func(string, int)) {
		ports.Each(func(k uint64, c int) {
			if model.State(k>>16) == st {
				yield(fmt.Sprintf(":%d", k&0xffff), c)
			}
		})
	})
}

// Remotes names the remote endpoints of the group's sockets in a state,
// most used first, at most three.
func (g *Group) Remotes(state string) string {
	m := g.remotesIn(state)
	if m.len() == 0 && g.CountsOnly {
		return "unknown peers (counts only)"
	}
	list := model.TopList(func(yield func(string, int)) {
		m.each(func(r model.AddrPort, n int) { yield(r.String(), n) })
	})
	if m != nil && m.full && strings.HasSuffix(list, " more") {
		// Past maxTracked endpoints the rest were not counted.
		list = strings.TrimSuffix(list, " more") + "+ more"
	}
	return list
}

// Owners names the processes owning the group's sockets, most first.
func (g *Group) Owners() string { return g.ownerList(false) }

// ownerList is Owners, or LiveOwners when live, worked out once per
// group: a snapshot of a million processes has a million owners, and
// one finding asks for them more than once.
func (g *Group) ownerList(live bool) string {
	k := 0
	if live {
		k = 1
	}
	t := g.lazy()
	if t == nil {
		return g.makeOwnerList(live)
	}
	t.ownersOnce[k].Do(func() { t.owners[k] = g.makeOwnerList(live) })
	return t.owners[k]
}

func (g *Group) makeOwnerList(live bool) string {
	byName := make(map[string]int, g.owners.Owners())
	g.owners.Each(func(o model.Owner, c model.LiveCount) {
		n := int(c.N)
		if live {
			n = int(c.Live)
		}
		if n > 0 {
			byName[OwnerName(o.Name.String(), o.PID)] += n
		}
	})
	list := model.TopList(func(yield func(string, int)) {
		for o, n := range byName {
			yield(o, n)
		}
	})
	if (live && g.owners.FullLive() || !live && g.owners.Full()) && strings.HasSuffix(list, " more") {
		// Past maxOwners the rest were not counted.
		list = strings.TrimSuffix(list, " more") + "+ more"
	}
	return list
}

// CloseRate estimates how many connections per second end in TIME_WAIT
// for this group, given the system's TIME_WAIT length: the count over the
// last 10 s by the timers (TimeWaitLast10 / 10) when that is higher — a
// burst — else the average over the TIME_WAIT window (TimeWait / seconds).
func (g *Group) CloseRate(seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	avg := float64(g.TimeWait) / seconds
	if g.TimeWaitTimers > 0 {
		if recent := float64(g.TimeWaitLast10) / 10; recent > avg {
			return recent
		}
	}
	return avg
}

// LiveOwners names the processes owning the group's sockets other than
// TIME_WAIT, most first. TIME_WAIT has no owner (Windows prints pid 0,
// the System Idle Process), so this names who holds ports and handles.
func (g *Group) LiveOwners() string { return g.ownerList(true) }

// DistinctRemotes counts the distinct remote endpoints in a state.
func (g *Group) DistinctRemotes(state string) int { return g.remotesIn(state).len() }

// remotesIn returns the remote counts of a state named by a rule (nil,
// which counts nothing, when there are none).
func (g *Group) remotesIn(state string) *remoteCounts {
	if st := stateKey(state); st < model.NumStates {
		return g.remoteTally(st)
	}
	return nil
}

// remoteCounts counts sockets per remote endpoint, at most maxTracked
// endpoints.
type remoteCounts struct {
	model.ApMap[int]
	full bool // an endpoint was dropped: there are more than counted
}

// add counts n sockets to a; a new endpoint past maxTracked is dropped.
func (rc *remoteCounts) add(a model.AddrPort, n int) {
	if p := rc.AtBounded(&a, maxTracked); p != nil {
		*p += n
	} else {
		rc.full = true
	}
}

func (rc *remoteCounts) each(fn func(model.AddrPort, int)) {
	if rc != nil {
		rc.ApMap.Each(fn)
	}
}

func (rc *remoteCounts) len() int {
	if rc == nil {
		return 0
	}
	return rc.ApMap.Len()
}

func CanonicalOr(s string) string {
	if c, ok := model.CanonicalState(s); ok {
		return c.String()
	}
	return s
}

// stateKey maps a state name from a rule to a State; an unknown name
// gives numStates, which no socket has.
func stateKey(s string) model.State {
	if c, ok := model.CanonicalState(s); ok {
		return c
	}
	return model.NumStates
}

// maxTracked bounds the per-group remote maps so a million distinct
// peers cannot blow up memory: past it only known entries are counted.
const maxTracked = 10000

// maxOwners bounds a group's owner tally: past it a destination reads
// "a group of 9,999+ processes" (it read 9,999 of 15,000).
const maxOwners = maxTracked

func newGroup(kind, key string) *Group {
	g := new(Group)
	g.init(kind, key)
	return g
}

// init sets the fields of a zero group that do not start at zero: it
// writes a few words, not the whole group (60,000 port groups are 50 MB,
// already zeroed by the allocator).
func (g *Group) init(kind, key string) {
	g.Kind, g.Key = kind, key
	g.tallied = kind != "process" && kind != "snapshot"
	g.Backlog, g.FDs, g.FDLimit = -1, -1, -1
	g.CloseWaitIdleMS, g.IdleMaxMS = -1, -1
	g.TimeWaitNewest, g.TimeWaitOldest = -1, -1
}

const aheadMinPorts = 4096 // listening ports from which their port groups are made ahead

// A portsAhead holds the port groups of many listening ports, made while
// owner inference leaves a core idle: fresh memory (60,000 ports, 47 MB)
// costs a page fault a page, on a VM 1.5 ms of CPU a MB.
type portsAhead struct {
	ready  [2]chan struct{} // closed once groups[h] is made
	groups [2][]Group       // for the even and the odd ports (as aggregateServices counts them)
	taken  [2]atomic.Bool
}

// makePortsAhead starts making, on a goroutine, a zero group for each
// port of the bitmap; nil for fewer than aheadMinPorts ports.
func makePortsAhead(ports *[65536 / 64]uint64) *portsAhead {
	var n [2]int
	for _, w := range ports {
		n[0] += bits.OnesCount64(w & 0x5555555555555555) // even ports
		n[1] += bits.OnesCount64(w & 0xaaaaaaaaaaaaaaaa)
	}
	if n[0]+n[1] < aheadMinPorts {
		return nil
	}
	a := &portsAhead{ready: [2]chan struct{}{make(chan struct{}), make(chan struct{})}}
	go func() {
		step := max(1, 4096/int(unsafe.Sizeof(Group{}))) // a write a page
		for h := range a.groups {
			gs := make([]Group, n[h])
			model.AdviseHugePages(gs)
			for i := 0; i < len(gs); i += step {
				gs[i].Sockets = 0
			}
			a.groups[h] = gs
			close(a.ready[h])
		}
	}()
	return a
}

// take returns the zero groups made ahead for half h of the ports (0 the
// even ones, 1 the odd), once: nil afterwards, and for a nil a.
func (a *portsAhead) take(h int) []Group {
	if a == nil || !a.taken[h].CompareAndSwap(false, true) {
		return nil
	}
	<-a.ready[h]
	gs := a.groups[h]
	a.groups[h] = nil
	return gs
}

// A groupSlab hands out groups from chunks, for a pass that may make tens
// of thousands of them (a listener or port group each of 60,000 ports):
// a group is close to a kilobyte, and the chunks past a few thousand
// groups go onto huge pages, where separate allocations would each take
// page faults on fresh memory. One goroutine uses a slab.
type groupSlab struct {
	free []Group // zero groups, handed out first
	made int
}

func (a *groupSlab) new(kind, key string) *Group {
	if len(a.free) == 0 {
		n := min(max(a.made, 16), 8192)
		a.free = make([]Group, n)
		model.AdviseHugePages(a.free)
	}
	g := &a.free[0]
	a.free = a.free[1:]
	a.made++
	g.init(kind, key)
	return g
}

// sockFacts are per-socket facts computed once in aggregate and counted
// into every group the socket belongs to.
type sockFacts struct {
	persistent bool // same state in the first sample
	noPeer     bool // loopback CLOSE_WAIT without its FIN_WAIT2 partner
	recvStuck  bool
	sendStuck  bool
	idleNoKA   bool
	external   bool  // the remote address is public
	server     bool  // the server side of its connection (see sockRole)
	lastRcv    int32 // ms since the last receive (ss -i), at most 2^31-1 (24 days); -1 unknown
}

// add counts one socket into the group. Its facts come by pointer: a
// million sockets' copies cost more than reading them in place.
func (g *Group) add(s *model.Socket, server bool, x *sockFacts) {
	// A process group has one owner (not tallied); the snapshot group's
	// owners are summed from the process groups once (see
	// snapshotOwners).
	g.addCounts(s, server, x)
	if g.tallied {
		g.tallyOwner(s)
	}
}

// tallyOwner counts the owner of one of the group's sockets.
func (g *Group) tallyOwner(s *model.Socket) {
	o, live := socketOwner(s)
	g.owners.Add(o, 1, live, maxOwners)
}

// socketOwner is a socket's owner in a tally, live 1 unless TIME_WAIT or no pid.
func socketOwner(s *model.Socket) (o model.Owner, live int) {
	if s.State != model.TimeWait && s.PID > 0 {
		live = 1
	}
	return model.Owner{PID: s.PID, Name: s.Process, Inferred: s.OwnerInferred}, live
}

// addCounts is add but for the owner tally.
func (g *Group) addCounts(s *model.Socket, server bool, x *sockFacts) {
	g.Sockets++
	if x.persistent {
		switch s.State {
		case model.CloseWait:
			g.CloseWaitPersistent++
		case model.FinWait1:
			g.FinWait1Persistent++
		case model.FinWait2:
			g.FinWait2Persistent++
		case model.LastAck:
			g.LastAckPersistent++
		}
	}
	if x.recvStuck {
		g.RecvQStuck++
	}
	if x.sendStuck {
		g.SendQStuck++
	}
	if x.idleNoKA {
		g.IdleNoKeepalive++
		g.IdleMaxMS = max(g.IdleMaxMS, int64(x.lastRcv))
	}
	if x.external && s.State == model.SynSent {
		g.SynSentExternal++
	}
	if x.noPeer {
		g.CloseWaitNoPeer++
	}
	switch s.State {
	case model.Established:
		g.Established++
	case model.SynSent:
		g.SynSent++
		if s.Retransmits > 0 {
			g.SynSentRetrans++
		}
	case model.SynRecv:
		g.SynRecv++
	case model.FinWait1:
		g.FinWait1++
	case model.FinWait2:
		g.FinWait2++
		if s.Timer == model.TimerTimeWait && s.PID == 0 {
			g.Orphans++
		}
	case model.TimeWait:
		g.TimeWait++
		if server {
			g.TimeWaitServer++
		} else {
			g.TimeWaitClient++
		}
		if ts := s.TimerSecs(); ts >= 0 {
			g.TimeWaitTimers++
			if ts > g.TimeWaitNewest {
				g.TimeWaitNewest = ts
			}
			if g.TimeWaitOldest < 0 || ts < g.TimeWaitOldest {
				g.TimeWaitOldest = ts
			}
			if ts > 50 {
				g.TimeWaitLast10++
			}
		}
	case model.Close:
		g.Close++
	case model.CloseWait:
		g.CloseWait++
		switch {
		case s.RecvQ == 0:
			g.CloseWaitRecvQ0++
		case s.RecvQ == 1:
			g.CloseWaitRecvQ1++
		default:
			g.CloseWaitRecvQMore++
		}
		if server {
			g.CloseWaitServer++
		} else {
			g.CloseWaitClient++
		}
		if x.lastRcv >= 0 && int(x.lastRcv) > g.CloseWaitIdleMS {
			g.CloseWaitIdleMS = int(x.lastRcv)
		}
	case model.LastAck:
		g.LastAck++
	case model.Listen:
		g.Listen++
	case model.Closing:
		g.Closing++
	case model.Bound:
		g.Bound++
	}
	// What follows reads (and writes) only what a socket changes: with
	// 60,000 port groups each line of a group is a cache miss, and most
	// sockets have no retransmits and empty queues.
	if s.Retransmits > 0 && int(s.Retransmits) > g.MaxRetransmits {
		g.MaxRetransmits = int(s.Retransmits)
	}
	if s.State == model.Listen {
		g.AcceptQueue += int(s.RecvQ)
		if s.BacklogKnown {
			if g.Backlog < 0 {
				g.Backlog = 0
			}
			g.Backlog += int(s.SendQ)
			g.BacklogKnown = true
		}
	} else if s.RecvQ != 0 || s.SendQ != 0 { // the counts start at 0: a socket with neither changes none
		g.RecvQ += int(s.RecvQ)
		g.SendQ += int(s.SendQ)
		g.MaxRecvQ = max(g.MaxRecvQ, int(s.RecvQ))
		g.MaxSendQ = max(g.MaxSendQ, int(s.SendQ))
		// A CLOSE_WAIT socket's Recv-Q of 1 is the FIN, not data.
		if s.RecvQ > 1 || (s.RecvQ == 1 && s.State != model.CloseWait) {
			g.RecvQSockets++
		}
		if s.SendQ > 0 {
			g.SendQSockets++
		}
	}
}

// ListedProcesses is how many of the processes a process group stands
// for a listing named, not inferred: one or none, or of a roll-up (see
// maxProcessGroups) its listed ones. (A function, not a method: methods
// of Group are rule helpers.)
func ListedProcesses(g *Group) int {
	switch {
	case g.rolled > 0:
		return int(g.listed)
	case g.OwnerKnown && !g.OwnerInferred:
		return 1
	}
	return 0
}

func OwnerName(proc string, pid int) string {
	switch {
	case proc != "" && pid <= 0:
		return proc
	case proc == "" && pid <= 0:
		return unknownOwner // no allocation: a /proc listing's million listeners each ask
	}
	return string(appendOwnerName(make([]byte, 0, len(proc)+16), proc, pid))
}

// appendOwnerName appends OwnerName(proc, pid) to b.
func appendOwnerName(b []byte, proc string, pid int) []byte {
	switch {
	case proc != "" && pid > 0:
		b = append(b, proc...)
		b = append(b, " (pid "...)
		return append(strconv.AppendInt(b, int64(pid), 10), ')')
	case proc != "":
		return append(b, proc...)
	case pid > 0:
		return strconv.AppendInt(append(b, "pid "...), int64(pid), 10)
	}
	return append(b, unknownOwner...)
}

const unknownOwner = "an unknown process"

// Groups are the aggregates of one sample that rules run over.
type Groups struct {
	Snapshot     *Group
	Processes    []*Group
	Listeners    []*Group
	Ports        []*Group
	Destinations []*Group
}

// ByKind returns the groups of one kind.
func (gs *Groups) ByKind(kind string) []*Group {
	switch kind {
	case "snapshot":
		return []*Group{gs.Snapshot}
	case "process":
		return gs.Processes
	case "listener":
		return gs.Listeners
	case "port":
		return gs.Ports
	case "destination":
		return gs.Destinations
	}
	return nil
}

// listenerIndex answers "is this local endpoint a listening port?".
type listenerIndex struct {
	socks   []model.Socket
	listens []int       // indices of the listening sockets, ascending
	exact   *exactIndex // local endpoint -> its first listeners, made when first asked
	// byPort: by port, 1 + the position in portList of what the
	// listeners on it need in common (0: none); nil without listeners.
	// An array, not a map: with 60,000 listening ports a map cost more
	// to fill than the rest of the index.
	byPort   []int32
	portList []portListen
	ports    [65536 / 64]uint64 // the ports of byPort as a bitmap, a quicker "no"
	// ownedPorts: the ports with a listener whose owner is known.
	ownedPorts [65536 / 64]uint64
	// one holds, by port, the port's only listener, when the listing
	// listens on many ports (60,000 ports: one lookup a socket instead of
	// two hash probes that miss the cache); nil otherwise.
	one []portOne
	// ahead: the port groups of the listening ports, made ahead
	// (portsAhead); nil: none.
	ahead *portsAhead
	// fallbackBelow: when the listing has no listeners at all (netstat
	// without -a), a local port below the ephemeral range counts as a
	// server port.
	noListeners   bool
	fallbackBelow int
	synRecv       bool // some socket is in SYN_RECV (a million quiet listeners: none to count)
}

// portListen is what the listeners on one port have in common: the
// wildcard listeners (unspecified address, or a name netstat printed)
// and the first listener whose owner is known. Positions are in
// listenerIndex.listens; -1 when there is none. Lookups stay constant
// time however many listeners share a port (a crafted listing may hold
// a million).
type portListen struct {
	firstWild, lastWild4, lastWildOther int
	firstOwned                          int
	// firstOwnedWild is the first listener whose owner is known on an
	// unspecified address or none (a name): the one owner inference
	// lends a port's sockets.
	firstOwnedWild int
}

// exactListen is what a listener index knows of one local endpoint: 1 +
// the position in listens of the first listener on exactly it, and of
// the first whose owner is known (0: none).
type exactListen struct {
	first, owned int32
}

// An exactIndex holds, by local endpoint, its first listeners. It is made
// when a socket first asks for it: a listing of a million listeners and
// nothing else would fill a million entries no socket reads (the pass
// that asks runs on two cores; the first to ask makes it). Copies of a
// listener index share it.
type exactIndex struct {
	once sync.Once
	m    model.ApMap[exactListen]
}

// exactOf returns the index of exact endpoints, made on first use.
func (li *listenerIndex) exactOf() *model.ApMap[exactListen] {
	x := li.exact
	x.once.Do(func() {
		x.m.Reserve(len(li.listens))
		for k, i := range li.listens {
			l := &li.socks[i]
			at := x.m.At(&l.Local)
			if at.first == 0 {
				at.first = int32(k) + 1
			}
			if at.owned == 0 && l.Owned() {
				at.owned = int32(k) + 1
			}
		}
	})
	return &x.m
}

// NewListenerIndex indexes the listening sockets socks[i] for i in
// listens (ascending). Their owners must not change while it is in use.
func NewListenerIndex(socks []model.Socket, listens []int, ephLow int) *listenerIndex {
	var ports [65536 / 64]uint64
	for _, i := range listens {
		p := socks[i].Local.Port()
		ports[p/64] |= 1 << (p % 64)
	}
	return newListenerIndex(socks, listens, ephLow, &ports)
}

// newListenerIndex is NewListenerIndex given the bitmap of the listeners'
// ports (which the scan that found them made on two cores).
func newListenerIndex(socks []model.Socket, listens []int, ephLow int, ports *[65536 / 64]uint64) *listenerIndex {
	li := &listenerIndex{socks: socks, listens: listens, fallbackBelow: ephLow, exact: &exactIndex{}, ports: *ports}
	var one chan []portOne
	if len(listens) > 0 {
		li.byPort = make([]int32, 65536)
		// The ports known first size portList once (60,000 ports: no
		// doubling into fresh memory).
		n := model.Popcount(li.ports[:])
		li.portList = make([]portListen, 0, n)
		if n > manyPorts {
			// By port, the first listener, on the other core: a million
			// listeners take 10 ms each way.
			one = make(chan []portOne, 1)
			go func() { one <- portOnes(socks, listens) }()
		}
	}
	for k, i := range listens {
		l := &socks[i]
		p := l.Local.Port()
		if li.byPort[p] == 0 {
			li.portList = append(li.portList, portListen{firstWild: -1, lastWild4: -1, lastWildOther: -1, firstOwned: -1, firstOwnedWild: -1})
			li.byPort[p] = int32(len(li.portList))
		}
		pl := &li.portList[li.byPort[p]-1]
		owned := l.Owned()
		if owned {
			li.ownedPorts[p/64] |= 1 << (p % 64)
			if a := l.Local; pl.firstOwnedWild < 0 && (a.IsUnspecified() || !a.IsValid()) {
				pl.firstOwnedWild = k
			}
		}
		if l.Local.ZeroIP() { // unspecified, or a name (netstat without -n)
			if pl.firstWild < 0 {
				pl.firstWild = k
			}
			if l.Local.Is4() {
				pl.lastWild4 = k
			} else {
				pl.lastWildOther = k
			}
		}
		if pl.firstOwned < 0 && owned {
			pl.firstOwned = k
		}
	}
	li.noListeners = len(li.portList) == 0
	if one != nil {
		li.one = <-one
	}
	return li
}

// portOnes returns, by port, the first of the listening sockets
// socks[i] for i in listens and how many share its port; k is the
// position in listens.
func portOnes(socks []model.Socket, listens []int) []portOne {
	one := make([]portOne, 65536)
	for k, i := range listens {
		o := &one[socks[i].Local.Port()]
		if o.n == 0 {
			o.local, o.k = socks[i].Local, int32(k)
		}
		o.n = min(o.n+1, 2)
	}
	return one
}

// manyPorts is the number of listening ports past which a listener index
// keeps a table by port.
const manyPorts = 256

// portOne is a port's first listener and how many there are (2: several).
type portOne struct {
	local model.AddrPort
	n     uint8
	k     int32
}

// listener returns the position in li.listens of the listening socket a
// socket was accepted from, or -1: the first listener on exactly its
// local address and port, else a wildcard listener on its port — the
// last one of its family, or the first one when none is of its family.
func (li *listenerIndex) listener(s *model.Socket) int {
	k, _ := li.listenerExact(s)
	return k
}

// listenerExact is listener, and whether the listener's address and port
// are exactly the socket's (known on the way, without reading the
// listening socket: with 200,000 listeners that read is a cache miss).
func (li *listenerIndex) listenerExact(s *model.Socket) (int, bool) {
	p := s.Local.Port()
	if li.ports[p/64]&(1<<(p%64)) == 0 {
		return -1, false
	}
	if li.one != nil {
		// A port's only listener takes what is on exactly its address,
		// or anything when it is a wildcard one.
		if o := &li.one[p]; o.n == 1 {
			if o.local == s.Local || o.local.ZeroIP() {
				return int(o.k), o.local == s.Local
			}
			return -1, false
		}
	}
	if e, ok := li.exactOf().Get(&s.Local); ok {
		return int(e.first) - 1, true
	}
	pl := li.port(p)
	same := pl.lastWildOther
	if s.Local.Is4() {
		same = pl.lastWild4
	}
	if same < 0 {
		same = pl.firstWild
	}
	return same, same >= 0 && li.listenerAt(same).Local == s.Local
}

// port returns what the listeners on port p have in common, nil when
// none listens on it.
func (li *listenerIndex) port(p uint16) *portListen {
	if li.byPort == nil || li.byPort[p] == 0 {
		return nil
	}
	return &li.portList[li.byPort[p]-1]
}

// listenerAt returns the listening socket at position k of li.listens.
func (li *listenerIndex) listenerAt(k int) *model.Socket { return &li.socks[li.listens[k]] }

// Server reports whether a socket is the server side of its connection.
func (li *listenerIndex) Server(s *model.Socket) bool {
	if li.noListeners {
		return int(s.Local.Port()) < li.fallbackBelow && int(s.Remote.Port()) >= li.fallbackBelow
	}
	return li.listener(s) >= 0
}

// Aggregate groups one sample's sockets. ephLow and ephHigh bound the
// ephemeral port range. first is the first sample when the snapshot has
// more than one (nil otherwise), for the two-sample fields.
func Aggregate(smp *model.Sample, first *model.Sample, procs map[int]*model.Process, ephLow, ephHigh int) *Groups {
	socks := smp.Sockets
	scan := keptScan(smp)
	li := scan.withFallback(ephLow)
	listens, loopCloseWait := li.listens, scan.loopCloseWait
	prev := newPrevIndex(first)
	gs := &Groups{Snapshot: newGroup("snapshot", "")}
	listeners := make([]*Group, len(listens)) // parallel to listens
	// Loopback FIN_WAIT2 sockets, to tell which loopback CLOSE_WAIT still
	// has its other end (P15); built only when there is such a CLOSE_WAIT.
	var fw2 map[prevKey]bool
	fw2Unknown := false
	if loopCloseWait {
		fw2 = map[prevKey]bool{}
		for i := range socks {
			if s := &socks[i]; s.State == model.FinWait2 && s.Remote.IsLoopback() {
				if len(fw2) >= maxTracked {
					fw2Unknown = true
					break
				}
				fw2[prevKey{s.Local, s.Remote}] = true
			}
		}
	}
	if fw2Unknown {
		fw2 = nil
	}
	// Pass 1: each socket's role and two-sample facts, computed once for
	// both passes below, in two halves on two cores.
	// It also collects the host's own addresses (local addresses of
	// connected sockets) for the destination groups.
	roles := make([]sockRole, len(socks))
	model.AdviseHugePages(roles)
	var locals [2]*model.AddrSet
	model.Parallel(len(socks), func(half, lo, hi int) {
		local := &model.AddrSet{}
		locals[half] = local
		for i := lo; i < hi; i++ {
			s := &socks[i]
			r := &roles[i]
			exact := false // accepted from a listener on exactly its address, which is in the set already
			if s.State != model.Listen {
				if k, ex := li.listenerExact(s); k >= 0 {
					r.listener, r.x.server = int32(k)+1, true
					exact = ex
				} else if li.noListeners {
					r.x.server = li.Server(s)
				}
			}
			if !exact && s.State != model.Listen && s.Local.IsValid() && !s.Local.IsUnspecified() {
				local.Add(&s.Local) // listeners' addresses: see hostAddrs
			}
			if prev != nil {
				server := r.x.server
				r.x = prev.facts(s)
				r.x.server = server
			}
			r.x.lastRcv = -1
			if in := smp.Info(s); in != nil {
				r.x.lastRcv = int32(max(min(in.LastRcv, math.MaxInt32), -1))
				if s.State == model.Established && in.LastRcv >= 300000 && s.Timer != model.TimerKeepalive && !s.Remote.IsLoopback() {
					r.x.idleNoKA = true
				}
			}
			if s.Remote.IsPublic() {
				r.x.external = true
			}
			if fw2 != nil && s.State == model.CloseWait && s.Remote.IsLoopback() && !fw2[prevKey{s.Remote, s.Local}] {
				r.x.noPeer = true
			}
		}
	})

	// Pass 2, in two goroutines that touch disjoint groups: the snapshot
	// and process groups, and the listener (made there too), port and
	// destination groups.
	local := locals[0]
	if locals[1] != nil {
		locals[1].Each(func(a model.AddrPort) { local.Add(&a) })
	}
	var maxDestPorts int
	done := make(chan struct{})
	go func() {
		defer close(done)
		maxDestPorts = aggregateServices(gs, socks, roles, listeners, li, &hostAddrs{conn: local, socks: socks, listens: listens}, ephLow, ephHigh)
	}()
	unknown := aggregateProcesses(gs, socks, roles, procs, ephLow, ephHigh)
	<-done
	unknown.finish(gs, socks, roles)
	gs.Snapshot.MaxDestPortsUsed = maxDestPorts
	if smp.CountsOnly() {
		addCounts(gs, smp, procs)
	}
	snapshotOwners(gs)
	if fw2Unknown {
		for _, list := range [][]*Group{{gs.Snapshot}, gs.Processes, gs.Listeners, gs.Ports, gs.Destinations} {
			for _, g := range list {
				if g.CloseWait > 0 {
					g.CloseWaitNoPeer = -1
				}
			}
		}
	}

	for _, list := range [][]*Group{gs.Processes, gs.Listeners, gs.Ports, gs.Destinations} {
		sortGroups(list)
	}
	return gs
}

// sortGroups orders groups by sockets, most first, then by key (groups
// alike in both keep their order), sorting copies of those beside the
// groups (60,000 port groups are 50 MB): a long list in two halves on
// two cores, then merged.
func sortGroups(list []*Group) {
	type sortKey struct {
		sockets int
		key     string
		g       *Group
		at      int // place in list: groups alike keep their order
	}
	cmp := func(a, b sortKey) int {
		if a.sockets != b.sockets {
			return b.sockets - a.sockets
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.at - b.at
	}
	keys := make([]sortKey, len(list))
	halves := [2][]sortKey{}
	model.Parallel(len(list), func(half, lo, hi int) {
		for i := lo; i < hi; i++ {
			g := list[i]
			keys[i] = sortKey{g.Sockets, g.Key, g, i}
		}
		slices.SortFunc(keys[lo:hi], cmp)
		halves[half] = keys[lo:hi]
	})
	a, b := halves[0], halves[1]
	for i := range list {
		if len(b) == 0 || len(a) > 0 && cmp(a[0], b[0]) <= 0 {
			list[i], a = a[0].g, a[1:]
		} else {
			list[i], b = b[0].g, b[1:]
		}
	}
}

// maxListenerGroups bounds the listener groups of one sample. Past it
// (a host with 200,000 listeners), the listeners in which nothing waits —
// an empty accept queue, no SYN_RECV, a backlog above 128 or unknown,
// which no listener rule can fire on — are rolled up per owner into one
// group whose Listen counts them; the others keep their own groups.
const maxListenerGroups = 10_000

// makeListenerGroups makes listeners[k], the group of the listening
// socket socks[listens[k]]: its own, or past maxListenerGroups a
// rolled-up one shared by the quiet listeners of its owner.
func makeListenerGroups(gs *Groups, socks []model.Socket, roles []sockRole, listens []int, listeners []*Group, anySynRecv bool) {
	roll := len(listens) > maxListenerGroups
	var synRecv []int32 // by listener, its SYN_RECV sockets (none when the sample has none)
	if roll && anySynRecv {
		synRecv = make([]int32, len(listens))
		for i := range roles {
			if r := &roles[i]; r.listener != 0 && socks[i].State == model.SynRecv {
				synRecv[r.listener-1]++
			}
		}
	}
	// The rolled-up groups by owner: by packed owner in a table (a
	// million quiet listeners: one probe each, no hashing of a struct),
	// the owners that do not pack in a map.
	var rolled model.IntTable[*Group]
	other := map[model.Owner]*Group{}
	var order []*Group
	var slab groupSlab
	for k, i := range listens {
		s := &socks[i]
		quiet := roll && s.RecvQ == 0 && (synRecv == nil || synRecv[k] == 0) && (!s.BacklogKnown || s.SendQ > 128)
		if quiet {
			o := model.Owner{PID: s.PID, Name: s.Process, Inferred: s.OwnerInferred}
			pk, packs := o.Packed()
			var lg *Group
			if packs {
				lg, _ = rolled.Get(pk)
			} else {
				lg = other[o]
			}
			if lg == nil {
				lg = newGroup("listener", "")
				lg.setOwner(s)
				lg.LocalPort = int(s.Local.Port())
				if packs {
					*rolled.At(pk) = lg
				} else {
					other[o] = lg
				}
				order = append(order, lg)
			} else if lg.LocalPort != int(s.Local.Port()) {
				lg.LocalPort = -1 // several ports; named below
			}
			lg.rolled++
			listeners[k] = lg
			continue
		}
		lg := slab.new("listener", s.Local.String())
		lg.setOwner(s)
		lg.LocalAddr, lg.LocalPort = AddrString(s.Local.Addr()), int(s.Local.Port())
		listeners[k] = lg
		gs.Listeners = append(gs.Listeners, lg)
	}
	// The rolled-up groups are named once their members are counted.
	for _, lg := range order {
		where := fmt.Sprintf(":%d", lg.LocalPort)
		if lg.LocalPort < 0 {
			lg.LocalPort = 0
			where = "several ports"
		}
		lg.LocalAddr = model.Thousands(int(lg.rolled)) + " addresses"
		lg.Key = fmt.Sprintf("%s: %s quiet listeners on %s", lg.Owner, model.Thousands(int(lg.rolled)), where)
		gs.Listeners = append(gs.Listeners, lg)
	}
}

// sockRole is what pass 1 of aggregate learns about one socket.
//
// A million of them are made per sample: 16 bytes, the server flag kept
// in the facts' padding.
type sockRole struct {
	listener int32 // 1 + position in listens of the listener it was accepted from; 0 none
	x        sockFacts
}

// procKey identifies a process group without building its display name
// for every socket (unknown owners of server-side sockets are counted by
// their local port instead, in unknownPorts).
type procKey struct {
	name model.Name
	pid  int
}

// packed returns the key as one integer for a table: the name's number
// and the pid side by side, when both fit (a pid is below 2^22 on Linux,
// 2^32 on Windows; a listing could print anything).
func (k procKey) packed() (uint64, bool) {
	if k.pid < 0 || k.pid >= 1<<32 || uint32(k.name) >= 1<<30 {
		return 0, false
	}
	return uint64(k.name)<<32 | uint64(k.pid), true
}

// maxProcessGroups bounds the process groups of one sample. Past it (a
// listing of a million processes, one socket each), the quiet processes
// — whose sockets no built-in process rule looks at: established, in
// TIME_WAIT, listening or opening, with empty queues, no retransmission,
// and no descriptor counts in the snapshot — are rolled up per program
// into one group, "app (750 processes)"; the others keep their own
// groups.
const maxProcessGroups = 10_000

// aggregateProcesses fills the snapshot group and the process groups.
func aggregateProcesses(gs *Groups, socks []model.Socket, roles []sockRole, procs map[int]*model.Process, ephLow, ephHigh int) *unknownPorts {
	var ephSeen [65536 / 64]uint64 // distinct ephemeral local ports, no allocation per socket
	snapshot := func(s *model.Socket, r *sockRole) {
		// Ephemeral ports are spent by client sockets: a server's accepted
		// sockets share their listener's port, even one inside the range.
		if p := int(s.Local.Port()); s.State != model.Listen && !r.x.server && p >= ephLow && p <= ephHigh && ephSeen[p/64]&(1<<(p%64)) == 0 {
			ephSeen[p/64] |= 1 << (p % 64)
			gs.Snapshot.LocalPortsUsed++
		}
		gs.Snapshot.add(s, r.x.server, &r.x)
	}
	procOf := make([]int32, len(socks)) // socket -> its process group's number
	pg := &procGrouper{procs: procs, procOf: procOf, limit: maxProcessGroups}
	for i := range socks {
		s, r := &socks[i], &roles[i]
		snapshot(s, r)
		if !pg.add(socks, i, r) {
			// Too many processes: the snapshot counted to the end, the
			// process groups over again with the quiet ones rolled up.
			for j := i + 1; j < len(socks); j++ {
				snapshot(&socks[j], &roles[j])
			}
			expect := min(len(socks), pg.owned*(len(socks)/(i+1)+1)) // as many again in each part of the listing
			pg = &procGrouper{procs: procs, procOf: procOf, limit: -1, quiet: quietProcesses(socks, roles, procOf, procs, expect)}
			for j := range socks {
				pg.add(socks, j, &roles[j])
			}
			break
		}
	}
	pg.finish(gs, socks, roles)
	gs.Snapshot.src = &tallySource{socks, func(_ *Group, i int) (bool, bool, bool) { return true, roles[i].x.server, true }}
	pg.unknown.makeGroups(gs, socks, roles)
	return pg.unknown
}

// A procGrouper makes the process groups, socket by socket: one per
// owner, and for unknown owners of server-side sockets one per local port
// (unknownPorts). With quiet set, the quiet processes share their
// program's group.
type procGrouper struct {
	procs   map[int]*model.Process
	procOf  []int32 // socket -> its process group's number
	limit   int     // at most this many groups by owner (< 0: no bound); add fails past it
	slab    groupSlab
	groups  map[procKey]*Group
	byKey   model.IntTable[*Group] // the same, for the keys packed fits (nearly all): one probe, no hashing of a struct
	keyed   []*Group               // byKey's groups, in the order made
	unknown *unknownPorts          // unknown owners' server-side sockets, by local port
	nprocs  int32                  // process groups made so far: their numbers in procOf
	owned   int                    // groups by owner made so far
	recent  [4]recentGroup
	quiet   *quietSet             // nil: every process its own group
	rolled  map[model.Name]*Group // a program's quiet processes
	order   []*Group              // the rolled groups, in the order made
}

type recentGroup struct {
	k procKey
	g *Group
}

// add counts socket i into its process group; false when that group
// would be one more than the limit.
func (p *procGrouper) add(socks []model.Socket, i int, r *sockRole) bool {
	s := &socks[i]
	// Process groups: the owner, or for unknown owners the local
	// service port (server side) or "client side".
	if unknownServerSide(s, r) {
		// Unknown owners of server-side sockets are only counted here,
		// by port; their groups are made when the port groups are
		// done (see unknownPorts.finish).
		if p.unknown == nil {
			p.unknown = &unknownPorts{ports: make([]unknownPort, 65536), procOf: p.procOf}
		}
		u := &p.unknown.ports[s.Local.Port()]
		if u.n == 0 {
			u.num = p.nprocs
			p.nprocs++
		}
		u.n++
		u.inferred = u.inferred || s.OwnerInferred
		u.loud = u.loud || !quietSocket(s)
		p.procOf[i] = u.num
		return true
	}
	if p.quiet != nil {
		// Rolling up: the quiet set left the socket's process entry in
		// procOf.
		e := &p.quiet.entries[p.procOf[i]]
		if e.g == nil {
			e.g = p.group(s, e.f)
		}
		p.count(i, s, r, e.g)
		return true
	}
	k := procKey{name: s.Process, pid: s.PID}
	// Sockets of one owner come in runs and few owners hold most
	// sockets: a short list of recent groups saves hashing the key.
	var pg *Group
	hit := len(p.recent) - 1 // where the group sits in recent; a miss replaces the last
	for j, rg := range p.recent {
		if rg.g != nil && rg.k == k {
			pg, hit = rg.g, j
			break
		}
	}
	if pg == nil {
		if pk, ok := k.packed(); ok {
			pg, _ = p.byKey.Get(pk)
		} else {
			pg = p.groups[k]
		}
	}
	if pg == nil {
		if p.limit >= 0 && p.owned >= p.limit {
			return false
		}
		pg = p.group(s, 0)
		if pk, ok := k.packed(); ok {
			*p.byKey.At(pk) = pg
		} else {
			if p.groups == nil {
				p.groups = map[procKey]*Group{}
			}
			p.groups[k] = pg
		}
	}
	copy(p.recent[1:hit+1], p.recent[:hit]) // move to the front
	p.recent[0] = recentGroup{k, pg}
	p.count(i, s, r, pg)
	return true
}

// count counts socket i into its process group pg.
func (p *procGrouper) count(i int, s *model.Socket, r *sockRole, pg *Group) {
	if s.OwnerInferred {
		pg.OwnerInferred = true
	}
	p.procOf[i] = pg.num
	pg.add(s, r.x.server, &r.x)
}

// group returns the group of a process first seen with socket s: its
// own, or when rolling up and it is quiet (its flags f), its program's.
func (p *procGrouper) group(s *model.Socket, f uint8) *Group {
	if p.quiet != nil && p.quiet.quiet(s, f) {
		if p.rolled == nil {
			p.rolled = map[model.Name]*Group{}
		}
		// The program: as listed, else as the process table names it
		// (netstat -ano lists pids only).
		prog := s.Process
		if pr := p.procs[s.PID]; prog == model.NoName && pr != nil && s.PID != 0 && pr.Name != "" {
			prog = model.Intern(pr.Name)
		}
		pg := p.rolled[prog]
		if pg == nil {
			pg = newGroup("process", "") // named in finish, once its processes are counted
			pg.Process, pg.OwnerKnown = prog.String(), true
			// Its first process, as its own group would name it, should
			// it stay alone.
			pg.PID, pg.Owner = s.PID, OwnerName(s.Process.String(), s.PID)
			pg.num = p.nprocs
			p.nprocs++
			p.rolled[prog] = pg
			p.order = append(p.order, pg)
		}
		pg.rolled++
		if f&procInferred == 0 {
			pg.listed++
		}
		return pg
	}
	name := OwnerName(s.Process.String(), s.PID)
	pg := p.slab.new("process", name)
	pg.Owner, pg.Process, pg.PID = name, s.Process.String(), s.PID
	pg.OwnerKnown = s.Owned()
	if pr := p.procs[s.PID]; pr != nil && s.PID != 0 {
		pg.FDs, pg.FDLimit = pr.FDs, pr.FDLimit
		if pg.Process == "" {
			pg.Process = pr.Name
		}
	}
	pg.num = p.nprocs
	p.nprocs++
	p.owned++
	p.keyed = append(p.keyed, pg)
	return pg
}

// finish adds the groups to gs.Processes, naming the rolled ones.
func (p *procGrouper) finish(gs *Groups, socks []model.Socket, roles []sockRole) {
	gs.Processes = append(gs.Processes, p.keyed...)
	for _, pg := range p.order {
		n := model.Thousands(int(pg.rolled))
		switch {
		case pg.rolled == 1:
			// A program with one quiet process: that process's own group
			// (its Owner set when it was made).
			pg.rolled = 0
		case pg.Process == "":
			pg.Owner = n + " processes without a name"
			pg.PID = 0
		default:
			pg.Owner = pg.Process + " (" + n + " processes)"
			pg.PID = 0
		}
		pg.Key = pg.Owner
		pg.OwnerInferred = pg.listed == 0
		gs.Processes = append(gs.Processes, pg)
	}
	src := processSource(socks, roles, p.procOf)
	for _, pg := range gs.Processes {
		pg.src = src
	}
}

// A quietSet holds, per process, whether it is quiet (see
// maxProcessGroups), whether one of its sockets has an inferred owner,
// and, once made, its group.
type quietSet struct {
	entries []quietEntry
	// byPID: by pid, 1 + the position in entries of the first process
	// seen with it (0: none), for pids below pidLimit: dense pids (a
	// million processes) probed a 32 MB hash table, a cache miss each;
	// sparse ones (up to pid_max, 2^22) go by key.
	byPID    []int32
	pidLimit int
	byKey    model.IntTable[int32] // packed procKey -> its position in entries: a pid seen with a second name, or past pidLimit
	expect   int                   // processes expected: byKey's size once it is used
	other    map[procKey]int32     // the keys packed does not fit
	procs    map[int]*model.Process
}

// pidDirect bounds the pids quietSet finds by pid: Linux's pid_max is at
// most 2^22.
const pidDirect = 1 << 22

type quietEntry struct {
	g    *Group
	name model.Name // the process's name (byPID holds the first name of a pid)
	f    uint8      // procLoud|procInferred
}

const (
	procLoud     = 1
	procInferred = 2
)

// quietProcesses notes, per process, whether a socket of it is not quiet
// (quietSocket) and whether one has an inferred owner; about expect
// processes are expected. Each socket's process entry is left in
// procOf, for the pass that groups them to find without hashing the key
// again (except for unknown owners' server-side sockets, which are
// grouped by port).
func quietProcesses(socks []model.Socket, roles []sockRole, procOf []int32, procs map[int]*model.Process, expect int) *quietSet {
	// By pid below four per process expected (4 bytes each: as much as
	// the table by key holds per process), by key above.
	q := &quietSet{procs: procs, entries: make([]quietEntry, 0, expect), expect: expect, pidLimit: min(pidDirect, 4*expect+1<<16)}
	last, lastAt := procKey{}, int32(-1) // sockets of one owner come in runs
	for i := range socks {
		s := &socks[i]
		if unknownServerSide(s, &roles[i]) {
			continue
		}
		var f uint8
		if !quietSocket(s) {
			f |= procLoud
		}
		if s.OwnerInferred {
			f |= procInferred
		}
		k := procKey{name: s.Process, pid: s.PID}
		if lastAt < 0 || k != last {
			last, lastAt = k, q.at(k)
		}
		procOf[i] = lastAt
		q.entries[lastAt].f |= f
	}
	return q
}

// at returns the position of process k's entry, made when new.
func (q *quietSet) at(k procKey) int32 {
	if k.pid > 0 && k.pid < q.pidLimit {
		if k.pid >= len(q.byPID) {
			q.byPID = slices.Grow(q.byPID, min(q.pidLimit, max(2*len(q.byPID), k.pid+1))-len(q.byPID))
			q.byPID = q.byPID[:min(cap(q.byPID), q.pidLimit)] // what Grow added is zero
		}
		switch at := q.byPID[k.pid]; {
		case at == 0:
			q.entries = append(q.entries, quietEntry{name: k.name})
			q.byPID[k.pid] = int32(len(q.entries))
			return int32(len(q.entries) - 1)
		case q.entries[at-1].name == k.name:
			return at - 1
		}
		// The pid's first name is another: by key below.
	}
	if pk, ok := k.packed(); ok {
		if q.byKey.Len() == 0 {
			q.byKey.Reserve(q.expect - len(q.entries)) // sized once, not grown key by key
		}
		at := q.byKey.At(pk) // 1 + the position; 0 new
		if *at == 0 {
			q.entries = append(q.entries, quietEntry{name: k.name})
			*at = int32(len(q.entries))
		}
		return *at - 1
	}
	at, ok := q.other[k]
	if !ok {
		if q.other == nil {
			q.other = map[procKey]int32{}
		}
		q.entries = append(q.entries, quietEntry{name: k.name})
		at = int32(len(q.entries) - 1)
		q.other[k] = at
	}
	return at
}

// quiet reports whether the process of socket s, with flags f, is quiet:
// its sockets all quiet and no descriptor counts in the snapshot
// (fd-exhaustion reads them). The unknown client side, no pid and no
// name, is never rolled up.
func (q *quietSet) quiet(s *model.Socket, f uint8) bool {
	if !s.Owned() {
		return false
	}
	if pr := q.procs[s.PID]; pr != nil && s.PID != 0 && (pr.FDs > 0 || pr.FDLimit > 0) {
		return false
	}
	return f&procLoud == 0
}

// quietSocket reports whether no built-in process rule looks at a socket
// like s: established, in TIME_WAIT, listening with nothing waiting, or
// opening, with empty queues and no retransmission. (CLOSE_WAIT,
// FIN_WAIT2, LAST_ACK, queued data and retransmissions are what they
// count.)
func quietSocket(s *model.Socket) bool {
	switch s.State {
	case model.Listen:
		return s.RecvQ == 0 && s.Retransmits <= 0 // a listener's Send-Q is its backlog
	case model.Established, model.TimeWait, model.SynSent, model.SynRecv:
		return s.RecvQ == 0 && s.SendQ == 0 && s.Retransmits <= 0
	}
	return false
}

// unknownServerSide reports whether a socket is server side and no
// listing names its owner: its process group is its port's, "an unknown
// process on :PORT".
func unknownServerSide(s *model.Socket, r *sockRole) bool {
	return !s.Owned() && (s.State == model.Listen || r.x.server)
}

// processSource finds the process groups' sockets again: a group's are
// those whose group number (procOf) is its num.
func processSource(socks []model.Socket, roles []sockRole, procOf []int32) *tallySource {
	return &tallySource{socks, func(g *Group, i int) (bool, bool, bool) { return procOf[i] == g.num, roles[i].x.server, true }}
}

// unknownPorts counts, by local port, the server-side sockets no listing
// names an owner of: each port's are a process group, "an unknown
// process on :PORT". They are a subset of the port's group, and on a
// listing without owners (/proc/net/tcp with 60,000 listening ports)
// the same sockets: then the process group copies the port group's
// counts instead of counting a million sockets again into 60,000 groups
// far apart in memory.
type unknownPorts struct {
	ports  []unknownPort // by local port
	procOf []int32       // socket -> its process group's number
	groups []*Group      // the groups, in port order, counted by finish
	// quiet holds, past maxProcessGroups ports, the ports whose sockets
	// are all quiet, rolled up: "an unknown process on 34,000 quiet
	// ports" (a /proc/net/tcp of a million listeners on 62,500 ports
	// made as many groups, copies of the port groups). nil otherwise.
	quiet *Group
}

type unknownPort struct {
	n        int32 // sockets
	num      int32 // the group's number in procOf
	inferred bool  // one of them has an inferred owner
	loud     bool  // one of them is not quiet (quietSocket)
}

// makeGroups makes the unknown owners' process groups, without their
// counts, and adds them to gs.Processes in port order: while the port
// groups are still being counted, on another core.
func (u *unknownPorts) makeGroups(gs *Groups, socks []model.Socket, roles []sockRole) {
	if u == nil {
		return
	}
	var slab groupSlab
	src := processSource(socks, roles, u.procOf)
	ports := 0
	for port := range u.ports {
		if u.ports[port].n > 0 {
			ports++
		}
	}
	for port := range u.ports {
		c := &u.ports[port]
		if c.n == 0 {
			continue
		}
		if ports > maxProcessGroups && !c.loud {
			if u.quiet == nil {
				u.quiet = newGroup("process", "") // named in finish
				u.quiet.num = c.num               // its sockets' procOf is set in finish
				u.quiet.LocalPort = port          // should it stay its only port
				u.quiet.src = src
				u.groups = append(u.groups, u.quiet)
			}
			u.quiet.rolled++
			u.quiet.OwnerInferred = u.quiet.OwnerInferred || c.inferred
			c.num = u.quiet.num
			continue
		}
		name := fmt.Sprintf("an unknown process on :%d", port)
		pg := slab.new("process", name)
		pg.Owner = name
		pg.LocalPort = port // the subject of an unknown owner is its port
		pg.OwnerInferred = c.inferred
		pg.num = c.num
		pg.src = src
		u.groups = append(u.groups, pg)
	}
	gs.Processes = append(gs.Processes, u.groups...)
}

// finish counts the unknown owners' process groups once the port groups
// are counted: a port's group holds the same sockets when none of them
// has an owner, and its counts are copied; the others are counted
// socket by socket.
func (u *unknownPorts) finish(gs *Groups, socks []model.Socket, roles []sockRole) {
	if u == nil {
		return
	}
	var portGroups [65536]*Group
	for _, g := range gs.Ports {
		portGroups[g.LocalPort] = g
	}
	var recount []*Group // by port: the groups counted socket by socket
	if q := u.quiet; q != nil {
		if q.rolled == 1 {
			q.rolled = 0 // one quiet port: its own group
			q.Owner = fmt.Sprintf("an unknown process on :%d", q.LocalPort)
		} else {
			q.Owner = "an unknown process on " + model.Thousands(int(q.rolled)) + " quiet ports"
			q.LocalPort = 0
		}
		q.Key = q.Owner
		recount = make([]*Group, 65536)
		for port := range u.ports {
			if c := &u.ports[port]; c.n > 0 && c.num == q.num {
				recount[port] = q
			}
		}
	}
	for _, pg := range u.groups {
		if pg == u.quiet {
			continue
		}
		if from := portGroups[pg.LocalPort]; from != nil && from.Sockets == int(u.ports[pg.LocalPort].n) {
			pg.mergeCounts(from) // a new group: its counts become from's
			continue
		}
		if recount == nil {
			recount = make([]*Group, 65536)
		}
		recount[pg.LocalPort] = pg
	}
	if recount == nil {
		return
	}
	for i := range socks {
		s, r := &socks[i], &roles[i]
		if unknownServerSide(s, r) {
			if pg := recount[s.Local.Port()]; pg != nil {
				pg.add(s, r.x.server, &r.x)
				u.procOf[i] = pg.num // the quiet ports' sockets: their group's
			}
		}
	}
}

// aggregateServices makes the listener groups (listeners[k], of the
// listening socket li.listens[k]), fills them, the port and the
// destination groups, and returns the largest destination's PortsUsed.
func aggregateServices(gs *Groups, socks []model.Socket, roles []sockRole, listeners []*Group, li *listenerIndex, local *hostAddrs, ephLow, ephHigh int) int {
	// Destinations on a core of their own: they touch no listener or port
	// group, and with a million peers they are the longest pass.
	var dests []*Group
	maxDestPorts := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		dests, maxDestPorts = aggregateDestinations(socks, roles, li, local, ephLow, ephHigh)
	}()
	makeListenerGroups(gs, socks, roles, li.listens, listeners, li.synRecv)
	// The listener groups on a core of their own too: with 60,000
	// listening ports, a group per listener and per port, each socket
	// updates one of each, far apart in memory.
	lsDone := make(chan struct{})
	go func() {
		defer close(lsDone)
		k := 0 // position in li.listens of the next listening socket
		for i := range socks {
			s, r := &socks[i], &roles[i]
			switch {
			case s.State == model.Listen:
				for li.listens[k] != i {
					k++
				}
				listeners[k].add(s, false, &r.x)
			case r.listener != 0:
				listeners[r.listener-1].add(s, true, &r.x) // the listener's own traffic
			}
		}
	}()
	// The port groups: with many listening ports (60,000: a group each,
	// each socket's far from the last) the odd and the even ports on two
	// cores, each counting only its own.
	var ports [65536]*Group
	countPorts := func(half, halves int) {
		var slab groupSlab
		if halves == 2 {
			slab.free = li.ahead.take(half)
		}
		for i := range socks {
			s, r := &socks[i], &roles[i]
			port := int(s.Local.Port())
			if halves > 1 && port&1 != half {
				continue
			}
			if isServerSide(s, r, li, ephLow) {
				leftover := s.State != model.Listen && !r.x.server
				pg := ports[port]
				if pg == nil {
					pg = slab.new("port", ":"+strconv.Itoa(port))
					pg.LocalPort = port
					ports[port] = pg
				}
				if s.State == model.Listen {
					pg.Listening = true
					if !pg.OwnerKnown {
						pg.setOwner(s)
					}
				}
				pg.add(s, r.x.server || leftover, &r.x)
			}
		}
	}
	if len(li.portList) > manyPorts {
		odd := make(chan struct{})
		go func() {
			defer close(odd)
			countPorts(1, 2)
		}()
		countPorts(0, 2)
		<-odd
	} else {
		countPorts(0, 1)
	}
	<-lsDone
	portSrc := &tallySource{socks, func(g *Group, i int) (bool, bool, bool) {
		in := int(socks[i].Local.Port()) == g.LocalPort && isServerSide(&socks[i], &roles[i], li, ephLow)
		return in, true, true
	}}
	listenerSrc := &tallySource{socks, func(g *Group, i int) (bool, bool, bool) {
		if socks[i].State == model.Listen {
			k := sort.SearchInts(li.listens, i)
			return k < len(li.listens) && li.listens[k] == i && listeners[k] == g, false, false
		}
		r := roles[i].listener
		return r != 0 && listeners[r-1] == g, true, true
	}}
	for _, pg := range ports {
		if pg == nil {
			continue
		}
		pg.src = portSrc
		gs.Ports = append(gs.Ports, pg)
	}
	for _, lg := range gs.Listeners {
		lg.src = listenerSrc
	}
	<-done
	pickOwners(dests)
	for _, dg := range dests {
		maxDestPorts = max(maxDestPorts, dg.PortsUsed)
		if pl := li.port(uint16(dg.RemotePort)); pl != nil && pl.firstOwned >= 0 && (dg.Loopback || dg.LocalPeer) {
			l := li.listenerAt(pl.firstOwned)
			dg.RemoteOwner = OwnerName(l.Process.String(), l.PID)
		}
		gs.Destinations = append(gs.Destinations, dg)
	}
	return maxDestPorts
}

// aggregateDestinations makes the destination groups (individual, then
// rolled up) and returns them with the largest PortsUsed counted.
func aggregateDestinations(socks []model.Socket, roles []sockRole, li *listenerIndex, local *hostAddrs, ephLow, ephHigh int) ([]*Group, int) {
	// A group per destination, while there are at most maxDestGroups of
	// them (nearly every host); past that, over again with the roll-up,
	// whose counting pass the usual host then never pays for.
	// A prefix of the listing that already holds more than
	// maxDestGroups destinations skips the attempt, and the groups it
	// would make and drop.
	if !manyDestinations(socks, roles, li, ephLow) {
		if gs, maxPorts, ok := boundedDestGroups(socks, roles, li, local, ephLow, ephHigh); ok {
			return gs, maxPorts
		}
	}
	// The roll-up counts destinations by digest: when two of them share
	// one (a crafted listing can make them), it may find no more than
	// maxDestGroups and roll nothing up; then every destination keeps its
	// group, as before.
	roll := newDestRollup(socks, roles, li, ephLow, ephHigh)
	if roll == nil {
		gs, maxPorts, _ := destGroups(socks, roles, li, local, ephLow, ephHigh, nil, false, nil, -1, nil)
		return gs, maxPorts
	}
	// Rolled up, the two halves on two cores: by then the other passes
	// are done, and this one would run alone. The rolled-up groups of
	// the halves are merged.
	var out [2][]*Group
	var maxPorts [2]int
	done := make(chan struct{})
	go func() {
		defer close(done)
		out[1], maxPorts[1], _ = destGroups(socks, roles, li, local, ephLow, ephHigh, roll, false, roll.halfOf, 1, nil)
	}()
	out[0], maxPorts[0], _ = destGroups(socks, roles, li, local, ephLow, ephHigh, roll, false, roll.halfOf, 0, nil)
	<-done
	roll.merge(socks, roles, li, local, ephLow)
	return append(append(out[0], out[1]...), roll.finish()...), max(maxPorts[0], maxPorts[1])
}

// boundedDestGroups is destGroups, bounded and without roll-up: for a
// big listing in two halves of the destinations (by a bit of their
// digest) on two cores, each destination's sockets counted by one.
// Client sockets to a few hundred services were one core's longest pass
// while the other waited.
func boundedDestGroups(socks []model.Socket, roles []sockRole, li *listenerIndex, local *hostAddrs, ephLow, ephHigh int) ([]*Group, int, bool) {
	if len(socks) < 1<<16 {
		return destGroups(socks, roles, li, local, ephLow, ephHigh, nil, true, nil, -1, nil)
	}
	halfOf := make([]uint8, len(socks))
	model.Parallel(len(socks), func(_, lo, hi int) {
		var dig model.Digester
		for i := lo; i < hi; i++ {
			halfOf[i] = destNone
			if ds, ok := destSocket(&socks[i], &roles[i], li, ephLow); ok {
				halfOf[i] = uint8(dig.Dest(&ds.Local, &ds.Remote) & 1)
			}
		}
	})
	var out [2][]*Group
	var maxPorts [2]int
	var ok [2]bool
	var made atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		out[1], maxPorts[1], ok[1] = destGroups(socks, roles, li, local, ephLow, ephHigh, nil, true, halfOf, 1, &made)
	}()
	out[0], maxPorts[0], ok[0] = destGroups(socks, roles, li, local, ephLow, ephHigh, nil, true, halfOf, 0, &made)
	<-done
	if !ok[0] || !ok[1] {
		return nil, 0, false
	}
	return append(out[0], out[1]...), max(maxPorts[0], maxPorts[1]), true
}

// destNone marks, in a per-socket half, a socket with no destination.
const destNone = 2

// manyDestinations reports whether the first destSample sockets already
// talk to more than maxDestGroups destinations (by digest: a collision
// can only make it say false, and the bounded attempt then finds out).
func manyDestinations(socks []model.Socket, roles []sockRole, li *listenerIndex, ephLow int) bool {
	const destSample = 1 << 17
	if len(socks) <= maxDestGroups {
		return false
	}
	var seen model.IntTable[struct{}]
	var dig model.Digester
	for i := range socks[:min(len(socks), destSample)] {
		if ds, ok := destSocket(&socks[i], &roles[i], li, ephLow); ok {
			seen.At(dig.Dest(&ds.Local, &ds.Remote))
			if seen.Len() > maxDestGroups {
				return true
			}
		}
	}
	return false
}

// destGroups counts the destination sockets into their groups, rolled up
// by roll: all of them, or with halfOf (each socket's half) those of
// one half. When bounded, it gives up (false) past maxDestGroups groups,
// made by both halves when they count them in made.
func destGroups(socks []model.Socket, roles []sockRole, li *listenerIndex, local *hostAddrs, ephLow, ephHigh int, roll *destRollup, bounded bool, halfOf []uint8, half int, made *atomic.Int32) ([]*Group, int, bool) {
	var dests destIndex
	var slab groupSlab
	var later ownersLater
	maxDestPorts := 0
	for i := range socks {
		if made != nil && i&(1<<12-1) == 0 && made.Load() > maxDestGroups {
			return nil, 0, false // the other half gave up
		}
		if halfOf != nil && int(halfOf[i]) != half || roll != nil && roll.info[i] == 0 {
			continue // the other half's, or no destination
		}
		s, r := &socks[i], &roles[i]
		ds, ok := destSocket(s, r, li, ephLow)
		if !ok {
			continue
		}
		if dg := roll.group(ds, i, local, max(half, 0)); dg != nil {
			dg.add(ds, false, &r.x)
			continue
		}
		dg := dests.get(&ds.Local, &ds.Remote)
		if dg == nil {
			if bounded && (made == nil && len(dests.all) == maxDestGroups || made != nil && made.Add(1) > maxDestGroups) {
				return nil, 0, false
			}
			dg = slab.new("destination", ds.Local.Addr().String()+">"+ds.Remote.String())
			dg.LocalAddr = AddrString(ds.Local.Addr())
			dg.RemoteAddr, dg.RemotePort = AddrString(ds.Remote.Addr()), int(ds.Remote.Port())
			dg.Remote = ds.Remote.String()
			dg.RemoteHosts = 1
			dg.Loopback = ds.Remote.IsLoopback()
			dg.LocalPeer = local.has(&ds.Remote)
			dests.put(&ds.Local, &ds.Remote, dg)
		}
		dg.addCounts(ds, false, &r.x)
		later.tally(dg, ds)
		if p := int(ds.Local.Port()); p >= ephLow && p <= ephHigh {
			dg.PortsUsed++
			maxDestPorts = max(maxDestPorts, dg.PortsUsed)
		}
	}
	later.finish(halfOf == nil) // one pass: its notes on two cores
	return dests.all, maxDestPorts, true
}

// ownersLater counts the owners of destinations that have many after the
// pass, destination by destination (each socket probed another one's
// 256 KB table, a cache miss), in the sockets' order: the same tally.
type ownersLater struct {
	later []laterOwners // by Group.later-1
	odd   []laterOwner  // owners that do not pack
}

type laterOwners struct {
	g      *Group
	chunks [][]uint64 // the notes, in chunks (grown by copying, 20,000 notes a destination were 40 MB of fresh memory): packed owner | ownerLive, or ownerOdd | a position in odd
	n      int        // notes in all
}

// laterChunk is the notes a chunk holds; laterMin the owners a tally has
// before the rest are counted later (smaller tables fit a cache).
const (
	laterChunk = 4096
	laterMin   = 4096
)

type laterOwner struct {
	o    model.Owner
	live int
}

const (
	ownerLive = 1 << 62 // the socket is live (see tallyOwner)
	ownerOdd  = 1 << 63 // an owner that does not pack: its place in odd
)

// tally counts the owner of ds into dg now, or notes it for later once
// dg's owners are many.
func (l *ownersLater) tally(dg *Group, ds *model.Socket) {
	if dg.later == 0 {
		if dg.owners.PackedLen() < laterMin {
			dg.tallyOwner(ds)
			return
		}
		l.later = append(l.later, laterOwners{g: dg})
		dg.later = int32(len(l.later))
	}
	o, live := socketOwner(ds)
	var note uint64
	if k, ok := o.Packed(); ok && k < ownerLive {
		note = k
		if live > 0 {
			note |= ownerLive
		}
	} else {
		note = ownerOdd | uint64(len(l.odd))
		l.odd = append(l.odd, laterOwner{o, live})
	}
	lo := &l.later[dg.later-1]
	if lo.n%laterChunk == 0 {
		lo.chunks = append(lo.chunks, make([]uint64, 0, laterChunk))
	}
	c := &lo.chunks[len(lo.chunks)-1]
	*c = append(*c, note)
	lo.n++
}

// finish counts the noted owners, destination by destination.
// With split (the pass ran alone: no other half on the other core), two
// goroutines take about half the notes each.
func (l *ownersLater) finish(split bool) {
	replay := func(los []laterOwners) {
		for _, lo := range los {
			t := &lo.g.owners
			for _, c := range lo.chunks {
				for _, note := range c {
					if note&ownerOdd != 0 {
						e := l.odd[note&^ownerOdd]
						t.Add(e.o, 1, e.live, maxOwners)
						continue
					}
					live := 0
					if note&ownerLive != 0 {
						live = 1
					}
					t.Add(model.UnpackOwner(note&^ownerLive), 1, live, maxOwners)
				}
			}
			lo.g.later = 0
		}
	}
	if !split {
		replay(l.later)
		return
	}
	model.Weighed(len(l.later), func(i int) int { return l.later[i].n }, 1<<16, func(_, lo, hi int) { replay(l.later[lo:hi]) })
}

// isServerSide reports whether a socket counts toward its local port's
// group: a listener, a socket accepted from one, or a leftover of a
// server that no longer listens — a local port below the ephemeral range
// talking to an ephemeral remote port, while the listing does show
// listeners (pathologies.md P07).
func isServerSide(s *model.Socket, r *sockRole, li *listenerIndex, ephLow int) bool {
	leftover := s.State != model.Listen && !r.x.server && !li.noListeners &&
		int(s.Local.Port()) < ephLow && int(s.Remote.Port()) >= ephLow
	return s.State == model.Listen || r.x.server || leftover
}

// destSocket returns the socket as its destination group counts it, and
// false when it belongs to no destination: client-side sockets as they
// are, and — on loopback both ends are this host — a portmapper's
// TIME_WAIT (local :111) turned around, as the local client that made
// the lookup saw it (rpc-lookup-churn). Unconnected sockets and names
// that cannot be resolved have no destination.
func destSocket(s *model.Socket, r *sockRole, li *listenerIndex, ephLow int) (*model.Socket, bool) {
	if isServerSide(s, r, li, ephLow) {
		if s.State != model.TimeWait || s.Local.Port() != 111 || !s.Remote.IsLoopback() {
			return nil, false
		}
		m := *s
		m.Local, m.Remote = s.Remote, s.Local
		s = &m
	}
	if !s.Remote.IsValid() || s.Remote.IsUnspecified() {
		return nil, false
	}
	return s, true
}

// maxDestGroups bounds the destination groups of one sample. A proxy or
// crawler talks to a million hosts a socket or two each; a group each
// would cost a gigabyte and say nothing a group per service does not.
// Past the bound the destinations with the most sockets keep their own
// groups and the rest are rolled up per (local address, remote port):
// one group "to :443 on 312,004 hosts" that sums their sockets, with
// PortsUsed the largest of any one of them (Linux budgets ports per
// destination, so a sum would invent an exhaustion).
const maxDestGroups = 10_000

// destRollup decides which destinations are rolled up, and holds the
// rolled-up groups. Its zero value (nil) rolls up nothing.
type destRollup struct {
	min    uint64   // destinations with fewer sockets are rolled up
	info   []uint64 // per socket: its destination's sockets | ephemeral<<32 | rollFirst; 0 for none
	halfOf []uint8  // per socket: its destination's half (a bit of its digest)
	halves [2]rollHalf
}

// rollHalf holds the rolled-up groups of one half of the destinations
// (by digest), counted on a core of its own; merged, half 0 holds them
// all.
type rollHalf struct {
	groups map[rollKey]*Group     // rolled-up groups
	byV4   model.IntTable[*Group] // the same, for IPv4 local addresses: by rollKey.v4
	few6   []rollEntry            // the first few for IPv6 local addresses: compared, not hashed
	tops   [][]rollMember         // their largest members, by Group.num
}

type rollEntry struct {
	k rollKey
	g *Group
}

type rollKey struct {
	local            model.AddrPort // port 0
	port             uint16
	loopback, local2 bool
}

// v4 packs a key with an IPv4 local address: the address and remote
// port (model.V4Key) and the two flags above them.
func (k rollKey) v4() uint64 {
	v := model.V4Key(k.local) | uint64(k.port)
	if k.loopback {
		v |= 1 << 48
	}
	if k.local2 {
		v |= 1 << 49
	}
	return v
}

type rollMember struct {
	remote model.AddrPort
	n      int
}

const (
	rollFirst = 1 << 62 // in info: the destination's first socket
	rollMask  = 1<<62 - 1
	// While counting, info holds a socket's destination digest (62
	// bits), rollEph when its local port is ephemeral and rollPresent.
	rollPresent = 1 << 63
	rollEph     = 1 << 62
)

// markSingletons gives each destination socket whose destination has no
// other socket (by digest) its final info — one socket, ephemeral or
// not, the destination's first — and returns how many it found; the
// others keep their digests, to be counted. Two bitsets of the digests'
// top 23 bits (1 MiB each, per half) decide it: a bit seen twice may be
// two destinations, whose sockets are then counted as usual.
func markSingletons(info []uint64) int {
	const bits = 23
	bit := func(v uint64) uint64 { return (v & rollMask) >> (62 - bits) }
	var sets [2][2][]uint64 // [half][seen, twice]
	model.Parallel(len(info), func(half, lo, hi int) {
		seen, twice := make([]uint64, 1<<bits/64), make([]uint64, 1<<bits/64)
		for _, v := range info[lo:hi] {
			if v == 0 {
				continue
			}
			b := bit(v)
			w, m := b/64, uint64(1)<<(b%64)
			twice[w] |= seen[w] & m
			seen[w] |= m
		}
		sets[half] = [2][]uint64{seen, twice}
	})
	twice := sets[0][1]
	if other := sets[1]; other[0] != nil {
		for j := range twice {
			twice[j] |= other[1][j] | sets[0][0][j]&other[0][j]
		}
	}
	var ns [2]int
	model.Parallel(len(info), func(half, lo, hi int) {
		for i := lo; i < hi; i++ {
			v := info[i]
			if v == 0 {
				continue
			}
			if b := bit(v); twice[b/64]&(1<<(b%64)) == 0 {
				c := uint64(1) | rollFirst
				if v&rollEph != 0 {
					c += 1 << 32
				}
				info[i] = c
				ns[half]++
			}
		}
	})
	return ns[0] + ns[1]
}

// newDestRollup counts the sockets of every destination when there may be
// more than maxDestGroups of them, and picks the smallest socket count a
// destination needs to keep its own group: the largest maxDestGroups
// destinations (ties at the bound are rolled up together).
//
// A million distinct destinations do not fit a cache: a hash table of
// them costs a cache and TLB miss a socket, twice (counting, then
// grouping), which on a virtual machine was 0.9 s. So the sockets are
// first partitioned by their destination's digest, in socket order, and
// each partition — a few thousand destinations — is counted in a table
// that stays in cache. Each socket gets its destination's counts.
func newDestRollup(socks []model.Socket, roles []sockRole, li *listenerIndex, ephLow, ephHigh int) *destRollup {
	if len(socks) <= maxDestGroups {
		return nil
	}
	// Each destination socket's digest (62 bits), whether its local port
	// is ephemeral (rollEph), and a mark that it is one (rollPresent): 0
	// for other sockets.
	info := make([]uint64, len(socks))
	model.AdviseHugePages(info)
	halfOf := make([]uint8, len(socks)) // each destination socket's half (the digest's low bit); a byte each, written by both cores
	// Counted straight into one table while it stays small (a few hundred
	// peers, the usual host); partitioned once it grows past what a cache
	// holds.
	const direct = 1 << 15
	var t model.IntTable[uint64] // sockets | ephemeral<<32 | 1<<63 once its first socket is seen
	count := func(c *uint64, v uint64) {
		*c++
		if v&rollEph != 0 {
			*c += 1 << 32
		}
	}
	var ns [2]int
	model.Parallel(len(socks), func(half, lo, hi int) {
		var dig model.Digester
		for i := lo; i < hi; i++ {
			ds, ok := destSocket(&socks[i], &roles[i], li, ephLow)
			if !ok {
				continue
			}
			dv := dig.Dest(&ds.Local, &ds.Remote)
			v := rollPresent | dv>>1
			if p := int(ds.Local.Port()); p >= ephLow && p <= ephHigh {
				v |= rollEph
			}
			info[i] = v
			// Halves by destination, not by service: a proxy's five
			// services would split 4:1. A destination's own group is
			// then in one half; the rolled-up groups are in both, and
			// merged.
			halfOf[i] = uint8(dv & 1)
			ns[half]++
		}
	})
	n := ns[0] + ns[1]
	overflow := false
	for _, v := range info {
		if v != 0 {
			if t.Len() >= direct {
				overflow = true
				break
			}
			count(t.At(v&rollMask), v)
		}
	}
	if n <= maxDestGroups || !overflow && t.Len() <= maxDestGroups {
		return nil
	}
	const buckets = 1 << 12
	var hist [buckets + 1]int
	// first gives each socket its destination's counts, and the first
	// mark at the destination's first socket.
	first := func(t *model.IntTable[uint64], i int) {
		c := t.At(info[i] & rollMask)
		v := *c & rollMask
		if *c&rollPresent == 0 {
			*c |= rollPresent
			v |= rollFirst
		}
		info[i] = v
	}
	distinct := t.Len()
	if !overflow {
		t.Each(func(_ uint64, v uint64) { hist[min(v&0xffffffff, buckets)]++ })
		for i, v := range info {
			if v != 0 {
				first(&t, i)
			}
		}
	} else {
		// A destination of one socket needs no table to count it: past a
		// quarter of a million sockets, bitsets find them first (a
		// proxy's million peers are each one socket's), and only the
		// others are partitioned.
		singles := 0
		if n > 1<<18 {
			singles = markSingletons(info)
		}
		order, start := model.PartitionsOf(info, rollPresent, n-singles, func(v uint64) uint64 { return (v & rollMask) << 2 }) // the digest's top bits
		var halves [2]struct {
			hist     [buckets + 1]int
			distinct int
		}
		model.EachPartition(start, func(half, lo, hi int) {
			var t model.IntTable[uint64]
			h := &halves[half]
			for p := lo; p < hi; p++ {
				part := order[start[p]:start[p+1]]
				t.Clear()
				t.Reserve(len(part))
				for _, i := range part {
					count(t.At(info[i]&rollMask), info[i])
				}
				h.distinct += t.Len()
				t.Each(func(_ uint64, v uint64) { h.hist[min(v&0xffffffff, buckets)]++ })
				for _, i := range part {
					first(&t, int(i))
				}
			}
		})
		distinct = halves[0].distinct + halves[1].distinct + singles
		for c := range hist {
			hist[c] = halves[0].hist[c] + halves[1].hist[c]
		}
		hist[1] += singles
	}
	if distinct <= maxDestGroups {
		return nil
	}
	d := &destRollup{info: info, halfOf: halfOf}
	for h := range d.halves {
		d.halves[h].groups = map[rollKey]*Group{}
		d.halves[h].few6 = make([]rollEntry, 0, 8)
	}
	d.min = 1
	kept := 0
	for c := buckets; c >= 1; c-- {
		if kept+hist[c] > maxDestGroups {
			d.min = uint64(c) + 1
			break
		}
		kept += hist[c]
	}
	return d
}

// group returns the rolled-up group a destination socket (socks[i], or
// its portmapper mirror s) counts in, or nil when its destination keeps
// its own group.
func (d *destRollup) group(s *model.Socket, i int, local *hostAddrs, half int) *Group {
	if d == nil {
		return nil
	}
	h := &d.halves[half]
	info := d.info[i]
	n := info & 0xffffffff
	if n >= d.min {
		return nil
	}
	k := rollKeyOf(s, local)
	// One probe of a small table for an IPv4 local address, rather than
	// hashing the whole key for a map, a million times.
	var g *Group
	var at **Group
	if k.local.Is4() {
		at = h.byV4.At(k.v4())
		g = *at
	} else {
		// A host has few IPv6 addresses and services: a short list,
		// rather than hashing the key a million times.
		for j := range h.few6 {
			if h.few6[j].k == k {
				g = h.few6[j].g
				break
			}
		}
		if g == nil && len(h.few6) == cap(h.few6) {
			g = h.groups[k]
		}
	}
	if g == nil {
		// The flags split a (local address, remote port) in up to four
		// groups; the key tells them apart.
		key := s.Local.Addr().String() + ">*:" + fmt.Sprint(k.port)
		switch {
		case k.loopback && k.local2:
			key += " (loopback, local peer)"
		case k.loopback:
			key += " (loopback)"
		case k.local2:
			key += " (local peer)"
		}
		g = newGroup("destination", key)
		g.LocalAddr = AddrString(s.Local.Addr())
		g.RemotePort = int(k.port)
		g.Loopback, g.LocalPeer = k.loopback, k.local2
		g.num = int32(len(h.tops))
		h.tops = append(h.tops, nil)
		h.groups[k] = g
		if at != nil {
			*at = g
		} else if len(h.few6) < cap(h.few6) {
			h.few6 = append(h.few6, rollEntry{k, g})
		}
	}
	if info&rollFirst != 0 { // the destination's first socket
		g.RemoteHosts++
		g.PortsUsed = max(g.PortsUsed, int(info&^rollFirst>>32))
		h.offer(g, rollMember{s.Remote, int(n)})
	}
	return g
}

// offer keeps a rolled-up group's three largest members, ties by address.
func (h *rollHalf) offer(g *Group, m rollMember) {
	top := h.tops[g.num]
	before := func(a, b rollMember) bool {
		if a.n != b.n {
			return a.n > b.n
		}
		return a.remote.Compare(b.remote) < 0
	}
	if len(top) == 3 && !before(m, top[2]) {
		return
	}
	if len(top) < 3 {
		top = append(top, m)
	} else {
		top[2] = m
	}
	for j := len(top) - 1; j > 0 && before(top[j], top[j-1]); j-- {
		top[j], top[j-1] = top[j-1], top[j]
	}
	h.tops[g.num] = top
}

// rollKeyOf is the key of the rolled-up group a destination socket may
// count in.
func rollKeyOf(s *model.Socket, local *hostAddrs) rollKey {
	return rollKey{local: s.Local.WithPort(0), port: s.Remote.Port(), loopback: s.Remote.IsLoopback(), local2: local.has(&s.Remote)}
}

// merge adds half 1's rolled-up groups to half 0's. Counts, hosts and
// largest members merge exactly; so do owner tallies unless a bound
// drops owners (past maxOwners, the owners kept depend on the order they
// come in): those groups' owners are counted again, in socket order, as
// one pass would have.
func (d *destRollup) merge(socks []model.Socket, roles []sockRole, li *listenerIndex, local *hostAddrs, ephLow int) {
	h0, h1 := &d.halves[0], &d.halves[1]
	// Half 1's groups in the order they were made (by num), not the
	// map's: what merging does must not hang on an order that changes
	// from run to run (below the bound it does not: sums, and tops
	// ranked by a total order; keep it so).
	type one struct {
		k    rollKey
		g    *Group
		tops []rollMember
	}
	ones := make([]one, len(h1.tops))
	for k, g1 := range h1.groups {
		ones[g1.num] = one{k, g1, h1.tops[g1.num]}
	}
	*h1 = rollHalf{} // its tables are done with
	var recount map[*Group]bool
	for _, e := range ones {
		k, g1 := e.k, e.g
		tops := e.tops
		g0 := h0.groups[k]
		if g0 == nil {
			g1.num = int32(len(h0.tops))
			h0.tops = append(h0.tops, tops)
			h0.groups[k] = g1
			continue
		}
		g0.mergeCounts(g1)
		g0.RemoteHosts += g1.RemoteHosts
		g0.PortsUsed = max(g0.PortsUsed, g1.PortsUsed)
		for _, m := range tops {
			h0.offer(g0, m)
		}
		full := func(g *Group) bool { return g.owners.Full() || g.owners.FullLive() }
		if !full(g0) && !full(g1) {
			g1.owners.Each(func(o model.Owner, c model.LiveCount) { g0.owners.Add(o, int(c.N), int(c.Live), maxOwners) })
		}
		if full(g0) || full(g1) {
			if recount == nil {
				recount = map[*Group]bool{}
			}
			recount[g0] = true
		}
	}
	if recount == nil {
		return
	}
	for g := range recount {
		g.owners = model.OwnerTally{}
	}
	for i := range socks {
		if v := d.info[i]; v == 0 || v&0xffffffff >= d.min {
			continue // no destination, or one with its own group
		}
		if ds, ok := destSocket(&socks[i], &roles[i], li, ephLow); ok {
			if g := h0.groups[rollKeyOf(ds, local)]; recount[g] {
				g.tallyOwner(ds)
			}
		}
	}
}

// mergeCounts adds the socket counts of o to g's, as if o's sockets were
// added to g (but for the owners): every field add counts into, none
// that names the group (TestCopyCounts and TestMergeCounts hold the
// lists to Group's fields). Into a new group it copies them.
func (g *Group) mergeCounts(o *Group) {
	for _, f := range [...]struct{ to, from *int }{
		{&g.Sockets, &o.Sockets}, {&g.Established, &o.Established}, {&g.SynSent, &o.SynSent}, {&g.SynRecv, &o.SynRecv},
		{&g.FinWait1, &o.FinWait1}, {&g.FinWait2, &o.FinWait2}, {&g.TimeWait, &o.TimeWait}, {&g.Close, &o.Close},
		{&g.CloseWait, &o.CloseWait}, {&g.LastAck, &o.LastAck}, {&g.Listen, &o.Listen}, {&g.Closing, &o.Closing},
		{&g.Bound, &o.Bound}, {&g.RecvQ, &o.RecvQ}, {&g.SendQ, &o.SendQ}, {&g.RecvQSockets, &o.RecvQSockets},
		{&g.SendQSockets, &o.SendQSockets}, {&g.CloseWaitRecvQ0, &o.CloseWaitRecvQ0}, {&g.CloseWaitRecvQ1, &o.CloseWaitRecvQ1},
		{&g.CloseWaitRecvQMore, &o.CloseWaitRecvQMore}, {&g.CloseWaitServer, &o.CloseWaitServer},
		{&g.CloseWaitClient, &o.CloseWaitClient}, {&g.CloseWaitNoPeer, &o.CloseWaitNoPeer},
		{&g.TimeWaitServer, &o.TimeWaitServer}, {&g.TimeWaitClient, &o.TimeWaitClient}, {&g.TimeWaitTimers, &o.TimeWaitTimers},
		{&g.TimeWaitLast10, &o.TimeWaitLast10}, {&g.SynSentRetrans, &o.SynSentRetrans}, {&g.Orphans, &o.Orphans},
		{&g.AcceptQueue, &o.AcceptQueue}, {&g.CloseWaitPersistent, &o.CloseWaitPersistent},
		{&g.FinWait1Persistent, &o.FinWait1Persistent}, {&g.FinWait2Persistent, &o.FinWait2Persistent},
		{&g.LastAckPersistent, &o.LastAckPersistent}, {&g.RecvQStuck, &o.RecvQStuck}, {&g.SendQStuck, &o.SendQStuck},
		{&g.IdleNoKeepalive, &o.IdleNoKeepalive}, {&g.SynSentExternal, &o.SynSentExternal},
	} {
		*f.to += *f.from
	}
	g.MaxRecvQ, g.MaxSendQ = max(g.MaxRecvQ, o.MaxRecvQ), max(g.MaxSendQ, o.MaxSendQ)
	g.MaxRetransmits = max(g.MaxRetransmits, o.MaxRetransmits)
	g.CloseWaitIdleMS, g.IdleMaxMS = max(g.CloseWaitIdleMS, o.CloseWaitIdleMS), max(g.IdleMaxMS, o.IdleMaxMS)
	g.TimeWaitNewest = max(g.TimeWaitNewest, o.TimeWaitNewest)
	if o.TimeWaitOldest >= 0 && (g.TimeWaitOldest < 0 || o.TimeWaitOldest < g.TimeWaitOldest) {
		g.TimeWaitOldest = o.TimeWaitOldest
	}
	if o.BacklogKnown {
		g.Backlog = max(g.Backlog, 0) + o.Backlog
		g.BacklogKnown = true
	}
}

// finish names the rolled-up groups (merged) and returns them.
func (d *destRollup) finish() []*Group {
	if d == nil {
		return nil
	}
	h := &d.halves[0]
	var out []*Group
	for _, g := range h.groups {
		hosts := "hosts"
		if g.RemoteHosts == 1 {
			hosts = "host"
		}
		g.Remote = fmt.Sprintf(":%d on %s %s", g.RemotePort, model.Thousands(g.RemoteHosts), hosts)
		var parts []string
		for _, m := range h.tops[g.num] {
			parts = append(parts, fmt.Sprintf("%s (%d)", m.remote, m.n))
		}
		g.TopRemotes = strings.Join(parts, ", ")
		out = append(out, g)
	}
	return out
}

// destIndex finds the destination group of a (local address, remote
// endpoint) pair: by remote endpoint, then among the local addresses
// talking to it — a short list, or a map past destFew (a crafted listing
// may have a million local addresses talk to one peer).
type destIndex struct {
	byRemote model.ApMap[*destBucket]
	all      []*Group
}

type destBucket struct {
	few  []destEntry
	many map[model.AddrPort]*Group
}

type destEntry struct {
	local model.AddrPort // port 0
	g     *Group
}

const destFew = 8

func (d *destIndex) get(localp, remote *model.AddrPort) *Group {
	local := localp.WithPort(0)
	b, _ := d.byRemote.Get(remote)
	if b == nil {
		return nil
	}
	if b.many != nil {
		return b.many[local]
	}
	for _, e := range b.few {
		if e.local == local {
			return e.g
		}
	}
	return nil
}

func (d *destIndex) put(localp, remote *model.AddrPort, g *Group) {
	local := localp.WithPort(0)
	d.all = append(d.all, g)
	at := d.byRemote.At(remote)
	if *at == nil {
		*at = &destBucket{}
	}
	b := *at
	switch {
	case b.many != nil:
		b.many[local] = g
	case len(b.few) < destFew:
		b.few = append(b.few, destEntry{local, g})
	default:
		b.many = map[model.AddrPort]*Group{local: g}
		for _, e := range b.few {
			b.many[e.local] = e.g
		}
		b.few = nil
	}
}

// hostAddrs are the host's own addresses: the local addresses of its
// connected sockets, collected in pass 1, and of its listeners, collected
// when first asked. A host with 200,000 listeners, each on an address of
// its own, and no client socket never asks.
type hostAddrs struct {
	conn    *model.AddrSet
	socks   []model.Socket
	listens []int // the listening sockets
	once    sync.Once
	lis     *model.AddrSet
}

// has reports whether *ap's address is one of the host's. Safe for
// concurrent use.
func (h *hostAddrs) has(ap *model.AddrPort) bool {
	if h.conn.Has(ap) {
		return true
	}
	h.once.Do(func() {
		h.lis = &model.AddrSet{}
		for _, i := range h.listens {
			if l := &h.socks[i].Local; l.IsValid() && !l.IsUnspecified() {
				h.lis.Add(l)
			}
		}
	})
	return h.lis.Has(ap)
}

func (g *Group) setOwner(s *model.Socket) {
	g.Owner, g.Process, g.PID = OwnerName(s.Process.String(), s.PID), s.Process.String(), s.PID
	g.OwnerKnown = s.Owned()
	g.OwnerInferred = s.OwnerInferred
}

// pickOwner names the process owning most of a destination's sockets,
// counting a process once whether the listing named it or it was inferred
// (ties: by display name).
func (g *Group) pickOwner() { g.pickOwnerWith(&ownerScratch{}) }

// pickOwners picks the owner of each group, of many owners on two cores.
func pickOwners(gs []*Group) {
	model.Weighed(len(gs), func(i int) int { return int(gs[i].owners.Owners()) }, 1<<15, func(_, lo, hi int) {
		var scratch ownerScratch
		for _, g := range gs[lo:hi] {
			g.pickOwnerWith(&scratch)
		}
	})
}

// An ownerScratch holds pickOwner's temporaries for the next group (50
// destinations of 10,000 owners made 30 MB of fresh memory).
type ownerScratch struct {
	procs []weighedProc
	at    model.IntTable[int32] // 1 + a process's place in procs, by packed key
}

// pickOwnerWith is pickOwner with the temporaries of sc.
func (g *Group) pickOwnerWith(sc *ownerScratch) {
	procs := g.ownerWeights(sc)
	var best model.Owner
	n := 0
	// The display names compared, in two buffers: a destination of
	// 500 processes with a socket each compares 500 names.
	var bestName, name []byte
	for _, e := range procs {
		p, w := e.p, e.w
		if w.n < n {
			continue
		}
		o := model.Owner{PID: p.pid, Name: p.name, Inferred: 2*w.inferred > w.n} // inferred for most of its sockets
		name = appendOwnerName(name[:0], o.Name.String(), o.PID)
		if w.n > n || ownerLess(o, name, best, bestName) {
			best, n = o, w.n
			bestName, name = name, bestName
		}
	}
	if n == 0 {
		g.Owner = unknownOwner
		return
	}
	g.Owner, g.Process, g.PID, g.OwnerKnown = OwnerName(best.Name.String(), best.PID), best.Name.String(), best.PID, true
	g.OwnerInferred = best.Inferred
	if shared, many := sharedOwner(g.Process, procs, g.owners.Full()); shared != "" {
		g.Owner, g.manyPrograms = shared, many
	}
}

// ManyPrograms reports whether the group's sockets are spread over the
// processes of several programs, none of which holds most of them (its
// Owner reads "a group of 100 processes (worker1, worker2, ...)"; Process
// names only the largest).
func ManyPrograms(g *Group) bool { return g.manyPrograms }

// ownerProc is a process that owns sockets, whether the listing named it
// for them or it was inferred.
type ownerProc struct {
	name model.Name
	pid  int
}

// ownerWeight is an ownerProc's sockets, and how many of them it was
// inferred for.
type ownerWeight struct{ n, inferred int }

// ownerWeights sums the group's owner tally by process: the listed and
// the inferred sockets of a process are tallied apart
// (model.Owner.Inferred). TIME_WAIT has no owner: Linux prints none, Windows
// pid 0 (the System Idle Process).
func (g *Group) ownerWeights(sc *ownerScratch) []weighedProc {
	procs := slices.Grow(sc.procs[:0], int(g.owners.Owners()))
	// A process's place in procs, by packed key (a destination of 10,000
	// processes: one probe each), or for keys that do not pack by key.
	at := &sc.at // 1 + the place
	if at.Len() > 0 {
		at.Clear()
	}
	at.Reserve(int(g.owners.Owners()))
	defer func() { sc.procs = procs[:0] }()
	var other map[ownerProc]int32
	g.owners.Each(func(o model.Owner, c model.LiveCount) {
		if c.N == 0 || o.PID == 0 && (o.Name == model.NoName || o.Name.String() == model.WindowsSystemPIDs[0]) {
			return
		}
		p := ownerProc{o.Name, o.PID}
		var i int32
		if k, ok := (procKey{p.name, p.pid}).packed(); ok {
			slot := at.At(k)
			if *slot == 0 {
				procs = append(procs, weighedProc{p: p})
				*slot = int32(len(procs))
			}
			i = *slot
		} else {
			if other == nil {
				other = map[ownerProc]int32{}
			}
			if other[p] == 0 {
				procs = append(procs, weighedProc{p: p})
				other[p] = int32(len(procs))
			}
			i = other[p]
		}
		w := &procs[i-1].w
		w.n += int(c.N)
		if o.Inferred {
			w.inferred += int(c.N)
		}
	})
	return procs
}

// weighedProc is a process and its weight.
type weighedProc struct {
	p ownerProc
	w ownerWeight
}

// ownerLess orders owners of equal weight: by display name, then pid
// and name (two owners may display alike: "pid 5").
// The display names come with them, an and bn.
func ownerLess(a model.Owner, an []byte, b model.Owner, bn []byte) bool {
	if c := bytes.Compare(an, bn); c != 0 {
		return c < 0
	}
	if a.PID != b.PID {
		return a.PID < b.PID
	}
	return a.Name.String() < b.Name.String()
}

// sharedOwner names the owners of a destination (procs, the largest
// of them a process of program prog) that no one process holds more
// than half of: "nginx (8 processes)" for workers of one program, "a
// group of 200 processes (worker1, worker2, worker3, 7 more programs)"
// for several. "" when one process holds more than half of the owned
// sockets, or there is one: that process is the owner. A finding that
// named the largest of eight equal workers sent the reader after one pid
// of eight.
//
// With more, the tally dropped owners past its bound: the numbers of
// processes and programs read "1,000+".
func sharedOwner(prog string, procs []weighedProc, more bool) (name string, manyPrograms bool) {
	if len(procs) < 2 {
		return "", false
	}
	plus := ""
	if more {
		plus = "+"
	}
	byName := map[model.Name]int{}
	owned, top := 0, 0
	for _, e := range procs {
		owned += e.w.n
		top = max(top, e.w.n)
		byName[e.p.name] += e.w.n
	}
	if 2*top > owned {
		return "", false
	}
	if len(byName) == 1 && prog != "" {
		return prog + " (" + model.Thousands(len(procs)) + plus + " processes)", false
	}
	if len(byName) == 1 { // no names, pids only (netstat -ano): the pids
		var ps []int
		for _, e := range procs {
			ps = append(ps, e.p.pid)
		}
		slices.Sort(ps)
		list := make([]string, 0, 4)
		for _, p := range ps[:min(3, len(ps))] {
			list = append(list, strconv.Itoa(p))
		}
		if len(ps) > 3 {
			list = append(list, model.Thousands(len(ps)-3)+plus+" more")
		}
		return "a group of " + model.Thousands(len(ps)) + plus + " processes (pids " + strings.Join(list, ", ") + ")", false
	}
	names := make([]model.Name, 0, len(byName))
	for nm := range byName {
		names = append(names, nm)
	}
	slices.SortFunc(names, func(a, b model.Name) int {
		if byName[a] != byName[b] {
			return byName[b] - byName[a]
		}
		return strings.Compare(a.String(), b.String())
	})
	var list []string
	for _, nm := range names[:min(3, len(names))] {
		if nm == model.NoName {
			list = append(list, "unnamed")
		} else {
			list = append(list, nm.String())
		}
	}
	if len(names) > 3 {
		list = append(list, model.Thousands(len(names)-3)+plus+" more programs")
	}
	return "a group of " + model.Thousands(len(procs)) + plus + " processes (" + strings.Join(list, ", ") + ")", true
}

func AddrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// maxPrevTracked bounds the first-sample index (sockets in the states it
// tracks), so a pathological first sample cannot exhaust memory.
const maxPrevTracked = 1 << 20

type prevKey struct{ l, r model.AddrPort }

type prevSock struct {
	state        model.State
	recvQ, sendQ int32
	inode        uint32
}

// prevIndex holds the first sample's sockets that two-sample diagnoses
// compare: half-closed states, and connected sockets with queued data.
type prevIndex map[prevKey]prevSock

func newPrevIndex(first *model.Sample) prevIndex {
	if first == nil {
		return nil
	}
	idx := prevIndex{}
	for i := range first.Sockets {
		s := &first.Sockets[i]
		if !tracksPrev(s) || len(idx) >= maxPrevTracked {
			continue
		}
		idx[prevKey{s.Local, s.Remote}] = prevSock{s.State, s.RecvQ, s.SendQ, s.Inode}
	}
	return idx
}

func tracksPrev(s *model.Socket) bool {
	switch s.State {
	case model.CloseWait, model.FinWait1, model.FinWait2, model.LastAck:
		return true
	case model.Established:
		return s.RecvQ > 0 || s.SendQ > 0
	}
	return false
}

// facts compares a latest-sample socket with the first sample.
func (idx prevIndex) facts(s *model.Socket) sockFacts {
	var x sockFacts
	if !tracksPrev(s) {
		return x
	}
	p, ok := idx[prevKey{s.Local, s.Remote}]
	if !ok || p.state != s.State || (p.inode != 0 && s.Inode != 0 && p.inode != s.Inode) {
		return x
	}
	switch s.State {
	case model.CloseWait, model.FinWait1, model.LastAck:
		x.persistent = true
	case model.FinWait2:
		x.persistent = s.PID != 0 || s.Inode != 0 // held by the application, not an orphan
	}
	x.recvStuck = p.recvQ > 0 && s.RecvQ >= p.recvQ && (s.State != model.CloseWait || s.RecvQ > 1)
	x.sendStuck = p.sendQ > 0 && s.SendQ >= p.sendQ
	return x
}

// addCounts adds a counts-only sample (uniq -c summaries, no socket
// table) to the snapshot group and to the process groups of the owners
// the counts name, marking them CountsOnly. Only the per-state fields
// are set: a count says nothing about ports, queues, peers or timers.
func addCounts(gs *Groups, smp *model.Sample, procs map[int]*model.Process) {
	procs2 := map[string]*Group{}
	for _, pg := range gs.Processes {
		procs2[pg.Key] = pg
	}
	gs.Snapshot.CountsOnly = true
	for st, n := range CountStates(smp) {
		gs.Snapshot.addCount(st, n)
	}
	// States a process must end (CLOSE_WAIT, LAST_ACK) counted without
	// their owners belong to some process: an unknown one, so that
	// process rules judge them ("3856 CLOSE_WAIT" alone is a leak).
	var unknown *Group
	for _, st := range []string{model.CloseWait.String(), model.LastAck.String()} {
		if n := smp.StateCounts[st]; n > 0 && len(smp.OwnerCounts[st]) == 0 {
			if unknown == nil {
				unknown = newGroup("process", OwnerName("", 0))
				unknown.Owner, unknown.CountsOnly = unknown.Key, true
				gs.Processes = append(gs.Processes, unknown)
			}
			unknown.addCount(st, n)
		}
	}
	for _, st := range model.SortedKeys(smp.OwnerCounts) {
		for _, o := range model.SortedKeys(smp.OwnerCounts[st]) {
			prog, pid := model.ParseOwner(o)
			pkey := OwnerName(prog, pid)
			pg := procs2[pkey]
			if pg == nil {
				pg = newGroup("process", pkey)
				pg.Owner, pg.Process, pg.PID = pkey, prog, pid
				pg.OwnerKnown = prog != "" || pid != 0
				if p := procs[pid]; p != nil && pid != 0 {
					pg.FDs, pg.FDLimit = p.FDs, p.FDLimit
				}
				procs2[pkey] = pg
				gs.Processes = append(gs.Processes, pg)
			}
			pg.CountsOnly = true
			pg.addCount(st, smp.OwnerCounts[st][o])
		}
	}
}

// addCount counts n sockets in a state, without any per-socket detail.
func (g *Group) addCount(name string, n int) {
	g.Sockets += n
	state, _ := model.CanonicalState(name)
	if c := g.stateCount(state); c != nil {
		*c += n
	}
}

// stateCount points to the group's count of sockets in a state, nil for
// a state the group does not count.
func (g *Group) stateCount(st model.State) *int {
	switch st {
	case model.Established:
		return &g.Established
	case model.SynSent:
		return &g.SynSent
	case model.SynRecv:
		return &g.SynRecv
	case model.FinWait1:
		return &g.FinWait1
	case model.FinWait2:
		return &g.FinWait2
	case model.TimeWait:
		return &g.TimeWait
	case model.Close:
		return &g.Close
	case model.CloseWait:
		return &g.CloseWait
	case model.LastAck:
		return &g.LastAck
	case model.Listen:
		return &g.Listen
	case model.Closing:
		return &g.Closing
	case model.Bound:
		return &g.Bound
	}
	return nil
}

// snapshotOwners fills the snapshot group's owner tallies (Owners,
// LiveOwners) from the process groups, instead of counting every socket
// into one more map.
func snapshotOwners(gs *Groups) {
	g := gs.Snapshot
	g.owners = model.OwnerTally{}
	for _, pg := range gs.Processes {
		if pg.rolled > 0 && pg.OwnerKnown {
			// Quiet processes rolled up: an owner named as the group is,
			// "app (750 processes)", whose sockets are live.
			g.owners.Add(model.Owner{PID: 0, Name: model.Intern(pg.Owner), Inferred: pg.OwnerInferred}, pg.Sockets, pg.Sockets-pg.TimeWait, math.MaxInt)
			continue
		}
		if (pg.Process == "" && pg.PID == 0) || pg.Sockets == 0 {
			continue // the unknown-owner groups
		}
		live := 0
		if pg.PID > 0 {
			live = pg.Sockets - pg.TimeWait
		}
		g.owners.Add(model.Owner{PID: pg.PID, Name: model.Intern(pg.Process), Inferred: pg.OwnerInferred}, pg.Sockets, live, math.MaxInt)
	}
}

// EachRemote calls fn for every remote address g tracked in state st,
// with its socket count, in no particular order. (A function, not a
// method: methods of Group are rule helpers.)
func EachRemote(g *Group, st model.State, fn func(model.AddrPort, int)) {
	g.remoteTally(st).each(fn)
}

// A tallySource finds a group's sockets again: member says whether
// socket i belongs to group g, whether it counts as the server side
// (its local port is tallied) and whether its peer is tallied. The
// groups of a kind share one: 60,000 port groups made 60,000 closures.
type tallySource struct {
	socks  []model.Socket
	member func(g *Group, i int) (in, server, peer bool)
}

// tallies are a group's lazy tallies (see Group.src).
type tallies struct {
	portsOnce  sync.Once
	ports      model.IntTable[int] // state<<16 | local port -> count
	remoteOnce [model.NumStates]sync.Once
	remotes    [model.NumStates]*remoteCounts // state -> remote -> count; nil for none
	ownersOnce [2]sync.Once
	owners     [2]string // Owners, LiveOwners
}

// lazy returns the group's tallies, made on first use; nil for a group
// without sockets to count (counts only, a ticket's words).
func (g *Group) lazy() *tallies {
	if g.src == nil {
		return nil
	}
	g.tallyOnce.Do(func() { g.t = &tallies{} })
	return g.t
}

// portTally counts the local ports of the group's server-side and
// listening sockets, by state, once; nil when there is nothing to count.
func (g *Group) portTally() *model.IntTable[int] {
	t := g.lazy()
	if t == nil {
		return nil
	}
	t.portsOnce.Do(func() {
		for i := range g.src.socks {
			in, server, _ := g.src.member(g, i)
			if s := &g.src.socks[i]; in && (server || s.State == model.Listen) {
				*t.ports.At(uint64(s.State)<<16 | uint64(s.Local.Port()))++
			}
		}
	})
	return &t.ports
}

// remoteTally counts the peers of the group's sockets in state st, once,
// in socket order (the first maxTracked distinct peers are kept, as a
// count while aggregating would keep them); nil when there are none.
func (g *Group) remoteTally(st model.State) *remoteCounts {
	t := g.lazy()
	if t == nil || st == model.Listen {
		return nil
	}
	t.remoteOnce[st].Do(func() {
		for i := range g.src.socks {
			s := &g.src.socks[i]
			if s.State != st {
				continue
			}
			if in, _, peer := g.src.member(g, i); in && peer {
				if t.remotes[st] == nil {
					t.remotes[st] = &remoteCounts{}
				}
				t.remotes[st].add(s.Remote, 1)
			}
		}
	})
	return t.remotes[st]
}
