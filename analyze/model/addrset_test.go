package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAddrSetMatchesMap: the set answers as a map does, with up to four
// IPv4 addresses (answered from its recent adds), more, and IPv6 among
// them.
func TestAddrSetMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	addr := func(v6 bool, n int) AddrPort {
		if v6 {
			return MustParseAddrPort(fmt.Sprintf("[2001:db8::%x]:%d", n, 1+r.IntN(60000)))
		}
		return MustParseAddrPort(fmt.Sprintf("10.0.%d.%d:%d", n/250, n%250+1, 1+r.IntN(60000)))
	}
	for _, c := range []struct {
		distinct int
		v6       bool
	}{{1, false}, {3, false}, {4, false}, {5, false}, {40, false}, {2, true}, {4, true}} {
		var s AddrSet
		want := map[AddrPort]bool{}
		for i := 0; i < 200; i++ {
			a := addr(c.v6 && i%2 == 1, r.IntN(c.distinct))
			s.Add(&a)
			want[a.WithPort(0)] = true
		}
		for n := 0; n < c.distinct+10; n++ {
			for _, v6 := range []bool{false, true} {
				a := addr(v6, n)
				if got := s.Has(&a); got != want[a.WithPort(0)] {
					t.Errorf("%d distinct (v6 %v): has(%v) = %v, want %v", c.distinct, c.v6, a, got, !got)
				}
			}
		}
	}
}
