package analyze

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/group"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
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
		facts := engine.NewFacts(snap)
		gs := engine.GroupsOf(snap, facts)
		var want [model.NumStates]map[model.AddrPort]int
		for _, s := range snap.Latest().Sockets {
			if s.State == model.Listen {
				continue
			}
			if want[s.State] == nil {
				want[s.State] = map[model.AddrPort]int{}
			}
			want[s.State][s.Remote]++
		}
		for st := range model.NumStates {
			got := map[model.AddrPort]int{}
			group.EachRemote(gs.Snapshot, st, func(a model.AddrPort, n int) { got[a] = n })
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
	rs, err := engine.Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		snap, err := Load([]string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		engine.Run(snap, rs)
	}
}
