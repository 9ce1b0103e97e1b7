package analyze

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpsnap/tcpsnap/rules"
)

// The snapshot group's remote tallies are summed from the process groups;
// they must equal counting every socket directly, for every shipped
// capture.
func TestSnapshotRemotesEqualDirectCount(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "samples", "*"))
	tested := 0
	for _, dir := range dirs {
		snap, err := Load([]string{dir}, Options{})
		if err != nil || len(snap.Latest().Sockets) == 0 {
			continue
		}
		facts := newFacts(snap)
		gs := groupsOf(snap, facts)
		var want [numStates]map[AddrPort]int
		for _, s := range snap.Latest().Sockets {
			if s.State == Listen {
				continue
			}
			if want[s.State] == nil {
				want[s.State] = map[AddrPort]int{}
			}
			want[s.State][s.Remote]++
		}
		for st := range numStates {
			got := map[AddrPort]int{}
			gs.Snapshot.remotes[st].each(func(a AddrPort, n int) { got[a] = n })
			if len(got) != len(want[st]) {
				t.Fatalf("%s %v: %d remotes, want %d", dir, st, len(got), len(want[st]))
			}
			for a, n := range want[st] {
				if got[a] != n {
					t.Fatalf("%s %v %v: %d sockets, want %d", dir, st, a, got[a], n)
				}
			}
		}
		tested++
	}
	if tested < 10 {
		t.Fatalf("only %d captures tested", tested)
	}
}

// refListener is the plain form of listenerIndex.listener: the first
// listener on exactly the socket's endpoint, else the last wildcard
// listener of its family on its port, else the first wildcard one.
func refListener(socks []Socket, listens []int, s *Socket) int {
	wildcard := -1
	for k, i := range listens {
		a := socks[i].Local
		if a.Port() != s.Local.Port() {
			continue
		}
		if a == s.Local {
			return k
		}
		if a.ip == [16]byte{} {
			if wildcard < 0 || (a.bits == 4) == (s.Local.bits == 4) {
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
	addrs := []AddrPort{
		MustParseAddrPort("0.0.0.0:0"), MustParseAddrPort("[::]:0"), {},
		MustParseAddrPort("10.0.0.1:0"), MustParseAddrPort("10.0.0.2:0"), MustParseAddrPort("[2001:db8::1]:0"),
	}
	for round := 0; round < 300; round++ {
		var socks []Socket
		var listens []int
		for i := 0; i < 2+r.IntN(12); i++ {
			a := addrs[r.IntN(len(addrs))]
			a.port = uint16(80 + r.IntN(3))
			s := NewSocket()
			s.State, s.Local = Listen, a
			if r.IntN(2) == 0 {
				s.PID = 100 + i
			}
			listens = append(listens, len(socks))
			socks = append(socks, s)
		}
		li := newListenerIndex(socks, listens, 32768)
		for q := 0; q < 40; q++ {
			a := addrs[r.IntN(len(addrs))]
			a.port = uint16(79 + r.IntN(5))
			s := NewSocket()
			s.State, s.Local = Established, a
			if got, want := li.listener(&s), refListener(socks, listens, &s); got != want {
				t.Fatalf("round %d, socket %v: listener %d, scan says %d", round, s.Local, got, want)
			}
		}
	}
}

// BenchmarkManyListenersOnePort is a crafted listing: 100,000 listeners
// on one port, each on its own address, and 100,000 connections to them.
// Every lookup is constant time; a scan of the port's listeners made this
// quadratic (minutes at a million sockets).
func BenchmarkManyListenersOnePort(b *testing.B) {
	const n = 100_000
	var text bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&text, "LISTEN 0 128 10.%d.%d.%d:8080 0.0.0.0:*\n", i>>16&255, i>>8&255, i&255)
		fmt.Fprintf(&text, "ESTAB 0 0 10.%d.%d.%d:8080 192.0.2.1:%d\n", i>>16&255, i>>8&255, i&255, 1024+i%60000)
	}
	path := filepath.Join(b.TempDir(), "ss.txt")
	if err := os.WriteFile(path, text.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	specs, _ := rules.Load(rules.Builtin())
	rs, err := Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		snap, err := Load([]string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		Run(snap, rs)
	}
}

// inferOwners gives a server-side socket the owner of the first owned
// listener on its port that is a wildcard or on its address, as a plain
// scan of the listeners does.
func TestInferOwnersListenerMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	addrs := []AddrPort{MustParseAddrPort("0.0.0.0:0"), MustParseAddrPort("[::]:0"), {},
		MustParseAddrPort("10.0.0.1:0"), MustParseAddrPort("10.0.0.2:0")}
	for round := 0; round < 300; round++ {
		var socks []Socket
		for i := 0; i < 1+r.IntN(10); i++ {
			s := NewSocket()
			s.State, s.Local = Listen, addrs[r.IntN(len(addrs))]
			s.Local.port = uint16(80 + r.IntN(2))
			if r.IntN(3) > 0 {
				s.PID, s.Process = 100+i, Intern(fmt.Sprint("srv", i))
			}
			socks = append(socks, s)
		}
		nl := len(socks)
		for q := 0; q < 20; q++ {
			s := NewSocket()
			s.State, s.Local = Established, addrs[3+r.IntN(2)]
			s.Local.port = uint16(80 + r.IntN(2))
			socks = append(socks, s)
		}
		want := make([]int, len(socks))
		for i := nl; i < len(socks); i++ {
			for _, l := range socks[:nl] {
				if l.PID != 0 && l.Local.Port() == socks[i].Local.Port() &&
					(l.Local.ip == [16]byte{} || l.Local == socks[i].Local) {
					want[i] = l.PID
					break
				}
			}
		}
		inferOwners(socks, nil)
		for i := nl; i < len(socks); i++ {
			if socks[i].PID != want[i] {
				t.Fatalf("round %d: socket %v got pid %d, scan says %d", round, socks[i].Local, socks[i].PID, want[i])
			}
		}
	}
}
