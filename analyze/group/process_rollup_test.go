package group

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Past maxProcessGroups, quiet processes roll up per program; a process
// with a socket a process rule counts (CLOSE_WAIT, queued data, a
// retransmission) or with descriptor counts keeps its group, and every
// socket is still in exactly one process group.
func TestProcessRollup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		procs  int // quiet processes, besides the four notable ones below
		rolled bool
	}{
		{"at the bound", maxProcessGroups - 11, false}, // with the eleven below: maxProcessGroups
		{"past the bound", maxProcessGroups + 3000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var socks []model.Socket
			n := 0
			sock := func(state model.State, name string, pid int) *model.Socket {
				s := model.NewSocket()
				s.State, s.Process, s.PID = state, model.Intern(name), pid
				s.Local = model.AddrPortOf(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(32768+n%28000)))
				s.Remote = model.AddrPortOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + n%50)}), 5432))
				n++
				socks = append(socks, s)
				return &socks[len(socks)-1]
			}
			for i := range tc.procs {
				name := "app"
				if i%3 == 0 {
					name = "web"
				}
				sock(model.Established, name, 100000+i)
				if i%2 == 0 {
					sock(model.Established, name, 100000+i) // two sockets: quiet still
				}
			}
			for range 30 {
				sock(model.CloseWait, "app", 1) // a leak
			}
			sock(model.Established, "app", 2).RecvQ = 70000
			sock(model.Established, "app", 3).Retransmits = 4
			sock(model.Established, "app", 4) // descriptor counts below
			for range 100 {
				sock(model.TimeWait, "", 0) // the unknown client side
			}
			sock(model.Established, "sshd", 5) // a program of one quiet process
			for pid := 7001; pid <= 7003; pid++ {
				sock(model.Established, "", pid) // pids only; the process table names them
			}
			sock(model.Established, "huge", 1<<33) // pids no table key packs (Windows
			sock(model.Established, "huge", 1<<33+4)
			sock(model.Established, "huge", 1<<33) // allows 32 bits; a listing anything)
			procs := map[int]*model.Process{4: {PID: 4, Name: "app", FDs: 900, FDLimit: 1024},
				7001: {PID: 7001, Name: "svchost"}, 7002: {PID: 7002, Name: "svchost"}, 7003: {PID: 7003, Name: "svchost"}}
			gs := Aggregate(&model.Sample{Sockets: socks}, nil, procs, rollEphLow, rollEphHigh)
			sockets, listed := 0, 0
			byOwner := map[string]*Group{}
			for _, g := range gs.Processes {
				sockets += g.Sockets
				listed += ListedProcesses(g)
				byOwner[g.Owner] = g
			}
			if sockets != len(socks) {
				t.Errorf("the process groups hold %d sockets, want %d", sockets, len(socks))
			}
			if want := tc.procs + 4 + 1 + 3 + 2; listed != want {
				t.Errorf("%d listed processes, want %d", listed, want)
			}
			for _, o := range []string{"app (pid 1)", "app (pid 2)", "app (pid 3)", "app (pid 4)", "an unknown process", "sshd (pid 5)"} {
				if byOwner[o] == nil {
					t.Errorf("no group of its own for %s", o)
				}
			}
			if g := byOwner["app (pid 1)"]; g != nil && g.CloseWait != 30 {
				t.Errorf("app (pid 1): %d CLOSE_WAIT, want 30", g.CloseWait)
			}
			if g := byOwner["app (pid 4)"]; g != nil && g.FDs != 900 {
				t.Errorf("app (pid 4): %d descriptors, want 900", g.FDs)
			}
			if g := byOwner["sshd (pid 5)"]; g != nil && (g.PID != 5 || g.Key != "sshd (pid 5)" || ListedProcesses(g) != 1) {
				t.Errorf("sshd alone: pid %d, key %q, %d listed", g.PID, g.Key, ListedProcesses(g))
			}
			if !tc.rolled {
				if want := tc.procs + 5 + 1 + 3 + 2; len(gs.Processes) != want {
					t.Errorf("%d process groups, want %d (one a process)", len(gs.Processes), want)
				}
				return
			}
			if want := 5 + 1 + 4; len(gs.Processes) != want {
				t.Errorf("%d process groups, want %d (5 notable, sshd alone, one rolled-up per program)", len(gs.Processes), want)
			}
			if g := byOwner["huge (2 processes)"]; g == nil || g.Sockets != 3 {
				t.Errorf("processes whose keys do not pack: %+v, want them rolled up", g)
			}
			if g := byOwner["svchost (3 processes)"]; g == nil || g.Process != "svchost" || g.Sockets != 3 {
				t.Errorf("pid-only processes the process table names: %+v, want them rolled up as svchost", g)
			}
			webs := (tc.procs + 2) / 3
			apps := tc.procs - webs
			for _, want := range []struct {
				owner        string
				procs, socks int
			}{
				{"web (" + model.Thousands(webs) + " processes)", webs, webs + (webs+1)/2},
				{"app (" + model.Thousands(apps) + " processes)", apps, 0},
			} {
				g := byOwner[want.owner]
				if g == nil {
					t.Errorf("no rolled-up group %q", want.owner)
					continue
				}
				if g.Kind != "process" || g.Key != want.owner || g.Process == "" || g.PID != 0 || !g.OwnerKnown || g.OwnerInferred {
					t.Errorf("rolled-up %q: kind %q key %q process %q pid %d known %v inferred %v", want.owner, g.Kind, g.Key, g.Process, g.PID, g.OwnerKnown, g.OwnerInferred)
				}
				if ListedProcesses(g) != want.procs {
					t.Errorf("%q stands for %d processes, want %d", want.owner, ListedProcesses(g), want.procs)
				}
				if want.socks > 0 && g.Sockets != want.socks {
					t.Errorf("%q holds %d sockets, want %d", want.owner, g.Sockets, want.socks)
				}
				if g.CloseWait != 0 || g.MaxRecvQ != 0 || g.MaxRetransmits > 0 {
					t.Errorf("%q is not quiet: CLOSE_WAIT %d, Recv-Q %d, retransmits %d", want.owner, g.CloseWait, g.MaxRecvQ, g.MaxRetransmits)
				}
			}
			// The snapshot's owners name the roll-ups as owners.
			if o := gs.Snapshot.Owners(); !strings.HasPrefix(o, "app ("+model.Thousands(apps)+" processes) (") {
				t.Errorf("snapshot owners %q, want the app roll-up first", o)
			}
		})
	}
}

// Unknown owners' server-side sockets are grouped by port; past
// maxProcessGroups ports, the ports whose sockets are all quiet share one
// group, whose sockets the lazy tallies find again.
func TestUnknownPortsRollup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ports  int
		rolled bool
	}{
		{"at the bound", maxProcessGroups, false},
		{"past the bound", maxProcessGroups + 700, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var socks []model.Socket
			add := func(state model.State, port int, peer int) { socks = append(socks, unownedSock(state, port, peer)) }
			for k := range tc.ports - 1 {
				add(model.Listen, 1024+k, 0)
				add(model.Established, 1024+k, 40000+k%20000)
			}
			loud := 1024 + tc.ports - 1 // a port with a CLOSE_WAIT
			add(model.Listen, loud, 0)
			add(model.CloseWait, loud, 50000)
			gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, rollEphLow, rollEphHigh)
			sockets := 0
			var quiet *Group
			for _, g := range gs.Processes {
				sockets += g.Sockets
				if strings.HasSuffix(g.Owner, "quiet ports") {
					quiet = g
				}
			}
			if sockets != len(socks) {
				t.Errorf("the process groups hold %d sockets, want %d", sockets, len(socks))
			}
			if !tc.rolled {
				if quiet != nil || len(gs.Processes) != tc.ports {
					t.Errorf("%d process groups (rolled up: %v), want one a port", len(gs.Processes), quiet != nil)
				}
				return
			}
			if len(gs.Processes) != 2 || quiet == nil {
				t.Fatalf("%d process groups, want the loud port's and the quiet ports'", len(gs.Processes))
			}
			if want := "an unknown process on " + model.Thousands(tc.ports-1) + " quiet ports"; quiet.Owner != want || quiet.Key != want {
				t.Errorf("quiet ports' group: owner %q key %q, want %q", quiet.Owner, quiet.Key, want)
			}
			if quiet.Sockets != 2*(tc.ports-1) || quiet.Listen != tc.ports-1 || quiet.CloseWait != 0 || quiet.OwnerKnown {
				t.Errorf("quiet ports' group: %d sockets, %d listening, %d CLOSE_WAIT, known %v", quiet.Sockets, quiet.Listen, quiet.CloseWait, quiet.OwnerKnown)
			}
			if want := model.Thousands(tc.ports-1-3) + " more"; !strings.HasSuffix(quiet.Ports("ESTABLISHED"), ", "+strings.ReplaceAll(want, ",", "")) {
				t.Errorf("quiet ports' ESTABLISHED ports %q, want them all (%s)", quiet.Ports("ESTABLISHED"), want)
			}
			for _, g := range gs.Processes {
				if g != quiet && (g.Owner != "an unknown process on :"+strconv.Itoa(loud) || g.CloseWait != 1) {
					t.Errorf("loud port's group: owner %q, %d CLOSE_WAIT", g.Owner, g.CloseWait)
				}
			}
			// The snapshot's owners leave unknown owners out.
			if o := gs.Snapshot.Owners(); o != "" {
				t.Errorf("snapshot owners %q, want none", o)
			}
		})
	}
}

// One quiet port among more than maxProcessGroups loud ones keeps its
// own group and name.
func TestUnknownPortsOneQuiet(t *testing.T) {
	var socks []model.Socket
	add := func(state model.State, port int) { socks = append(socks, unownedSock(state, port, 40000)) }
	for k := range maxProcessGroups + 1 {
		add(model.Listen, 1024+k)
		if k != 77 {
			add(model.CloseWait, 1024+k)
		}
	}
	gs := Aggregate(&model.Sample{Sockets: socks}, nil, nil, rollEphLow, rollEphHigh)
	if len(gs.Processes) != maxProcessGroups+1 {
		t.Fatalf("%d process groups, want one a port", len(gs.Processes))
	}
	for _, g := range gs.Processes {
		if g.LocalPort == 1024+77 {
			if g.Owner != "an unknown process on :1101" || g.Key != g.Owner || g.Sockets != 1 || g.Ports("LISTEN") != ":1101" {
				t.Errorf("the quiet port's group: owner %q key %q, %d sockets, ports %q", g.Owner, g.Key, g.Sockets, g.Ports("LISTEN"))
			}
			return
		}
	}
	t.Error("no group for the quiet port")
}

// unownedSock is a socket no listing names the owner of, on local port
// port of 10.0.0.1: listening, or toward peer port peer of 192.0.2.7.
func unownedSock(state model.State, port, peer int) model.Socket {
	s := model.NewSocket()
	s.State = state
	s.Local = model.AddrPortOf(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(port)))
	s.Remote = model.AddrPortOf(netip.MustParseAddrPort("0.0.0.0:0"))
	if state != model.Listen {
		s.Remote = model.AddrPortOf(netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), uint16(peer)))
	}
	return s
}
