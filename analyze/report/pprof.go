package report

import (
	"fmt"
	"sort"

	"github.com/google/pprof/profile"
	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// maxProfileLeaves bounds distinct stacks: past it remote endpoints are
// folded into "remote (other)" so a million peers stay viewable.
const maxProfileLeaves = 20000

// Profile builds a pprof profile of the latest sample's sockets, viewable
// with `go tool pprof`: sample types sockets/count, recv_q/bytes and
// send_q/bytes; each stack reads, root first, "state X" → "proc Y" →
// "local :PORT" (or "local ephemeral") → "remote ADDR[:PORT]"; labels
// state and process, numeric label pid.
func Profile(s *model.Snapshot) *profile.Profile {
	smp := s.Latest()
	facts := engine.NewFacts(s)
	li := group.ListenerIndexOf(smp, facts.PortRangeLow)
	type key struct{ state, proc, local, remote string }
	type agg struct {
		n, rq, sq int64
		pid       int
	}
	stacks := map[key]*agg{}
	remoteOf := func(so *model.Socket, server bool) string {
		switch {
		case so.State == model.Listen:
			return ""
		case so.RemoteName != model.NoName:
			return "remote " + so.RemoteName.String()
		case server:
			return "remote " + group.AddrString(so.Remote.Addr())
		}
		return "remote " + so.Remote.String()
	}
	for i := range smp.Sockets {
		so := &smp.Sockets[i]
		server := so.State != model.Listen && li.Server(so)
		local := "local ephemeral"
		if so.State == model.Listen || server || int(so.Local.Port()) < facts.PortRangeLow || int(so.Local.Port()) > facts.PortRangeHigh {
			local = fmt.Sprintf("local :%d", so.Local.Port())
		}
		k := key{"state " + so.State.String(), "proc " + group.OwnerName(so.Process.String(), so.PID), local, remoteOf(so, server)}
		if _, ok := stacks[k]; !ok && len(stacks) >= maxProfileLeaves {
			k.remote = "remote (other)"
		}
		a := stacks[k]
		if a == nil {
			a = &agg{pid: so.PID}
			stacks[k] = a
		}
		a.n++
		if so.State != model.Listen {
			a.rq += int64(so.RecvQ)
			a.sq += int64(so.SendQ)
		}
	}
	keys := make([]key, 0, len(stacks))
	for k := range stacks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.state != b.state {
			return a.state < b.state
		}
		if a.proc != b.proc {
			return a.proc < b.proc
		}
		if a.local != b.local {
			return a.local < b.local
		}
		return a.remote < b.remote
	})
	mapping := &profile.Mapping{ID: 1, File: "tcpsnap-snapshot", HasFunctions: true}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "sockets", Unit: "count"}, {Type: "recv_q", Unit: "bytes"}, {Type: "send_q", Unit: "bytes"},
		},
		DefaultSampleType: "sockets",
		PeriodType:        &profile.ValueType{Type: "snapshot", Unit: "count"},
		Period:            1,
		Mapping:           []*profile.Mapping{mapping},
	}
	if !smp.Time.IsZero() {
		p.TimeNanos = smp.Time.UnixNano()
	}
	if s.Host.Name != "" {
		p.Comments = append(p.Comments, "host="+s.Host.Name)
	}
	p.Comments = append(p.Comments, fmt.Sprintf("sockets=%d", len(smp.Sockets)))
	locs := map[string]*profile.Location{}
	loc := func(name string) *profile.Location {
		if l := locs[name]; l != nil {
			return l
		}
		fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name}
		p.Function = append(p.Function, fn)
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: mapping, Line: []profile.Line{{Function: fn}}}
		p.Location = append(p.Location, l)
		locs[name] = l
		return l
	}
	for _, k := range keys {
		a := stacks[k]
		var stack []*profile.Location // leaf first
		for _, frame := range []string{k.remote, k.local, k.proc, k.state} {
			if frame != "" {
				stack = append(stack, loc(frame))
			}
		}
		smpl := &profile.Sample{
			Location: stack,
			Value:    []int64{a.n, a.rq, a.sq},
			Label:    map[string][]string{"state": {k.state[len("state "):]}, "process": {k.proc[len("proc "):]}},
		}
		if a.pid > 0 {
			smpl.NumLabel = map[string][]int64{"pid": {int64(a.pid)}}
		}
		p.Sample = append(p.Sample, smpl)
	}
	return p
}
