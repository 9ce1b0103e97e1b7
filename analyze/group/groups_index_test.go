package group

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// refListener is the plain form of listenerIndex.listener: the first
// listener on exactly the socket's endpoint, else the last wildcard
// listener of its family on its port, else the first wildcard one.
func refListener(socks []model.Socket, listens []int, s *model.Socket) int {
	wildcard := -1
	for k, i := range listens {
		a := socks[i].Local
		if a.Port() != s.Local.Port() {
			continue
		}
		if a == s.Local {
			return k
		}
		if a.ZeroIP() {
			if wildcard < 0 || a.Is4() == s.Local.Is4() {
				wildcard = k
			}
		}
	}
	return wildcard
}

// The constant-time listener lookup picks the listener the plain scan
// picks, over random mixes of exact, wildcard and name listeners.
func TestListenerIndexMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	addrs := []model.AddrPort{
		model.MustParseAddrPort("0.0.0.0:0"), model.MustParseAddrPort("[::]:0"), {},
		model.MustParseAddrPort("10.0.0.1:0"), model.MustParseAddrPort("10.0.0.2:0"), model.MustParseAddrPort("[2001:db8::1]:0"),
	}
	for round := 0; round < 300; round++ {
		var socks []model.Socket
		var listens []int
		// Every tenth round listens on more than manyPorts ports, where
		// the index keeps a table by port.
		nl, spread := 2+r.IntN(12), 3
		if round%10 == 0 {
			nl, spread = 3*manyPorts, 2*manyPorts
		}
		for i := 0; i < nl; i++ {
			a := addrs[r.IntN(len(addrs))]
			a = a.WithPort(uint16(80 + r.IntN(spread)))
			s := model.NewSocket()
			s.State, s.Local = model.Listen, a
			if r.IntN(2) == 0 {
				s.PID = 100 + i
			}
			listens = append(listens, len(socks))
			socks = append(socks, s)
		}
		li := NewListenerIndex(socks, listens, 32768)
		if (li.one != nil) != (round%10 == 0) {
			t.Fatalf("round %d: %d listening ports, table by port %v", round, len(li.portList), li.one != nil)
		}
		for q := 0; q < 40+4*nl; q++ {
			a := addrs[r.IntN(len(addrs))]
			a = a.WithPort(uint16(79 + r.IntN(spread+2)))
			s := model.NewSocket()
			s.State, s.Local = model.Established, a
			if got, want := li.listener(&s), refListener(socks, listens, &s); got != want {
				t.Fatalf("round %d, socket %v: listener %d, scan says %d", round, s.Local, got, want)
			}
		}
	}
}

// inferOwners gives a server-side socket the owner of the first owned
// listener on its port that is a wildcard or on its address, as a plain
// scan of the listeners does.
func TestInferOwnersListenerMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	addrs := []model.AddrPort{model.MustParseAddrPort("0.0.0.0:0"), model.MustParseAddrPort("[::]:0"), {},
		model.MustParseAddrPort("10.0.0.1:0"), model.MustParseAddrPort("10.0.0.2:0")}
	for round := 0; round < 300; round++ {
		var socks []model.Socket
		// Every tenth round listens on more than manyPorts ports, every
		// other one of those with every listener owned (the index's
		// table by port serves owner inference as it is). Every third
		// round names some listeners' owners only through the inode
		// table of the processes.
		nl, spread := 1+r.IntN(10), 2
		if round%10 == 0 || round%10 == 5 {
			nl, spread = 4*manyPorts, 2*manyPorts
		}
		procs := map[int]*model.Process{}
		for i := 0; i < nl; i++ {
			s := model.NewSocket()
			s.State, s.Local = model.Listen, addrs[r.IntN(len(addrs))]
			s.Local = s.Local.WithPort(uint16(80 + r.IntN(spread)))
			switch {
			case round%10 == 5 || r.IntN(3) > 0:
				s.PID, s.Process = 100+i, model.Intern(fmt.Sprint("srv", i))
			case round%3 == 0 && r.IntN(2) == 0:
				s.Inode = uint32(1000 + i)
				procs[100+i] = &model.Process{PID: 100 + i, Name: fmt.Sprint("srv", i), Inodes: []uint64{uint64(1000 + i)}}
			}
			socks = append(socks, s)
		}
		nl = len(socks)
		for q := 0; q < 20+nl; q++ {
			s := model.NewSocket()
			s.State, s.Local = model.Established, addrs[3+r.IntN(2)]
			s.Local = s.Local.WithPort(uint16(80 + r.IntN(spread)))
			socks = append(socks, s)
		}
		want := make([]int, len(socks))
		for i := nl; i < len(socks); i++ {
			for _, l := range socks[:nl] {
				if l.PID == 0 && l.Inode != 0 {
					l.PID = int(l.Inode) - 900 // named by the inode table
				}
				if l.PID != 0 && l.Local.Port() == socks[i].Local.Port() &&
					(l.Local.ZeroIP() || l.Local == socks[i].Local) {
					want[i] = l.PID
					break
				}
			}
		}
		InferOwners(&model.Sample{Sockets: socks}, procs)
		for i := nl; i < len(socks); i++ {
			if socks[i].PID != want[i] {
				t.Fatalf("round %d: socket %v got pid %d, scan says %d", round, socks[i].Local, socks[i].PID, want[i])
			}
		}
	}
}

// A million roles are made per sample: keep them at 16 bytes.
func TestSockRoleSize(t *testing.T) {
	if n := unsafe.Sizeof(sockRole{}); n != 16 {
		t.Errorf("a sockRole is %d bytes, want 16", n)
	}
}

// TestGroupInit checks that a new group, from either allocator, is the
// group its literal spells out: init writes only the fields that do not
// start at zero.
func TestGroupInit(t *testing.T) {
	want := &Group{Kind: "port", Key: ":80", tallied: true, Backlog: -1, FDs: -1, FDLimit: -1,
		CloseWaitIdleMS: -1, IdleMaxMS: -1, TimeWaitNewest: -1, TimeWaitOldest: -1}
	var slab groupSlab
	for _, g := range []*Group{newGroup("port", ":80"), slab.new("port", ":80"), slab.new("port", ":80")} {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("new group %+v, want %+v", g, want)
		}
	}
}

// TestKeptIndexAfterInference: an index made before owner inference (by
// a Profile or an Aggregate of a fresh sample) is not the one owner
// inference uses: the inode table names listeners first. And readers of
// a sample write nothing to it: two aggregations of one sample may run
// at once (go test -race).
func TestKeptIndexAfterInference(t *testing.T) {
	mk := func() *model.Sample {
		l := model.NewSocket()
		l.State, l.Local, l.Inode = model.Listen, model.MustParseAddrPort("0.0.0.0:80"), 7
		e := model.NewSocket()
		e.State, e.Local, e.Remote = model.Established, model.MustParseAddrPort("10.0.0.1:80"), model.MustParseAddrPort("192.0.2.9:5000")
		return &model.Sample{Sockets: []model.Socket{l, e}}
	}
	procs := map[int]*model.Process{42: {PID: 42, Name: "nginx", Inodes: []uint64{7}}}
	smp := mk()
	_ = ListenerIndexOf(smp, 32768)
	_ = Aggregate(smp, nil, nil, 32768, 60999)
	if smp.Index != nil {
		t.Fatal("a reader kept an index in the sample")
	}
	InferOwners(smp, procs)
	if s := smp.Sockets[1]; s.PID != 42 || !s.OwnerInferred {
		t.Fatalf("accepted socket got pid %d (inferred %v), want 42 from the listener the inode table names", s.PID, s.OwnerInferred)
	}
	done := make(chan bool)
	for range 2 {
		go func() { done <- len(Aggregate(smp, nil, nil, 32768, 60999).Listeners) == 1 }()
	}
	for range 2 {
		if !<-done {
			t.Error("an aggregation lost the listener")
		}
	}
}
