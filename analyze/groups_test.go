package analyze

import (
	"path/filepath"
	"testing"
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
