package group

import (
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// tableSummary is what newFacts needs from every socket of a table.
type tableSummary struct {
	states               [model.NumStates]int
	Owners, Timers, Info bool // any socket names an owner, has a timer, has tcp_info
}

// Summarize reads a socket table once, each half on its own core.
func Summarize(socks []model.Socket) tableSummary {
	var halves [2]tableSummary
	model.Parallel(len(socks), func(half, lo, hi int) {
		var t tableSummary // local: the halves would share a cache line
		for i := lo; i < hi; i++ {
			so := &socks[i]
			t.states[so.State]++
			t.Owners = t.Owners || so.Process != model.NoName || (so.PID != 0 && !so.OwnerInferred)
			t.Timers = t.Timers || so.Timer != model.TimerNone || so.TimerMS >= 0
			t.Info = t.Info || so.HasInfo()
		}
		halves[half] = t
	})
	t := halves[0]
	for st, n := range halves[1].states {
		t.states[st] += n
	}
	t.Owners = t.Owners || halves[1].Owners
	t.Timers = t.Timers || halves[1].Timers
	t.Info = t.Info || halves[1].Info
	return t
}

// StateMap returns the non-zero state counts by canonical name.
func (t tableSummary) StateMap() map[string]int {
	m := map[string]int{}
	for st, c := range t.states {
		if c > 0 {
			m[model.State(st).String()] = c
		}
	}
	return m
}

// CountStates returns a counts-only sample's sockets per state: the state
// counts, or the sum of the owner counts where that is larger (an owner
// summary filtered on one state says how many there are at least).
func CountStates(smp *model.Sample) map[string]int {
	st := map[string]int{}
	for k, n := range smp.StateCounts {
		st[k] = n
	}
	for k, m := range smp.OwnerCounts {
		sum := 0
		for _, n := range m {
			sum += n
		}
		st[k] = max(st[k], sum)
	}
	return st
}

// StateCounts returns a group's non-zero socket counts by canonical state.
// (A function, not a method: methods of Group are rule helpers.)
func StateCounts(g *Group) map[string]int {
	m := map[string]int{}
	for _, st := range model.States {
		if c := g.stateCount(st); c != nil && *c > 0 {
			m[st.String()] = *c
		}
	}
	return m
}
