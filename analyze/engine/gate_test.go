package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/rules"
)

// TestExactGatesMatchExpressions generates severity expressions of the
// shapes a rule file may hold — fields, sums, comparisons with constants,
// facts and other fields, booleans, PortReserved, negations, && and || —
// and checks on random groups, with and without reserved ports, that a
// gate never rejects a group its expression accepts, and that an exact
// gate accepts exactly those. (Contributed by a review.)
func TestExactGatesMatchExpressions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := []string{"Sockets", "TimeWait", "Established", "Backlog", "AcceptQueue", "LocalPort", "IdleMaxMS"}
	floats := []string{"TimeWaitNewest", "TimeWaitOldest", "UpstreamRate"}
	bools := []string{"Listening", "Loopback", "LocalPeer", "BacklogKnown"}
	consts := []string{"0", "1", "-1", "2.5", "100", "PortRangeLow", "PortRangeSize * 0.25", "8080", "1500", "0.0"}
	ops := []string{">=", ">", "==", "<=", "<"}
	num := func() string {
		if r.IntN(3) == 0 {
			return floats[r.IntN(len(floats))]
		}
		return ints[r.IntN(len(ints))]
	}
	atom := func() string {
		switch r.IntN(7) {
		case 0:
			return bools[r.IntN(len(bools))]
		case 1:
			return "!" + bools[r.IntN(len(bools))]
		case 2:
			return "PortReserved(" + []string{"LocalPort", "Sockets", "Backlog"}[r.IntN(3)] + ")"
		case 3:
			return "!PortReserved(LocalPort)"
		case 4:
			return num() + " " + ops[r.IntN(len(ops))] + " " + num()
		case 5:
			return num() + " + " + num() + " " + ops[r.IntN(3)] + " " + consts[r.IntN(len(consts))]
		}
		return num() + " " + ops[r.IntN(len(ops))] + " " + consts[r.IntN(len(consts))]
	}
	vals := []int{-1, 0, 1, 2, 3, 100, 1500, 8080, 40000}
	fvals := []float64{-1, 0, 0.5, 2.5, 3, math.NaN(), math.Inf(1)}
	for _, reserved := range []string{"", "8080,1000-2000"} {
		snap := &model.Snapshot{Samples: []*model.Sample{{}}, Sysctls: map[string]string{"net.ipv4.ip_local_reserved_ports": reserved}}
		facts := NewFacts(snap)
		m := &vm.VM{MemoryBudget: memoryBudget}
		exacts, checked := 0, 0
		for e := 0; e < 3000; e++ {
			src := atom()
			for k := r.IntN(3); k > 0; k-- {
				src = "(" + src + ") " + []string{"&&", "||"}[r.IntN(2)] + " (" + atom() + ")"
			}
			p, err := compileExpr(src, expr.AsBool())
			if err != nil {
				continue
			}
			g := deriveGate(src)
			if g == nil {
				continue
			}
			pred, ok, exact := instantiate(g, m, &Env{Group: &group.Group{}, Facts: facts})
			if !ok {
				continue
			}
			if exact {
				exacts++
			}
			for q := 0; q < 200; q++ {
				grp := &group.Group{}
				grp.Sockets, grp.TimeWait, grp.Established = vals[r.IntN(len(vals))], vals[r.IntN(len(vals))], vals[r.IntN(len(vals))]
				grp.Backlog, grp.AcceptQueue, grp.LocalPort = vals[r.IntN(len(vals))], vals[r.IntN(len(vals))], vals[r.IntN(len(vals))]
				grp.IdleMaxMS = int64(vals[r.IntN(len(vals))])
				grp.TimeWaitNewest, grp.TimeWaitOldest, grp.UpstreamRate = fvals[r.IntN(len(fvals))], fvals[r.IntN(len(fvals))], fvals[r.IntN(len(fvals))]
				grp.Listening, grp.Loopback, grp.LocalPeer, grp.BacklogKnown = r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0
				v, err := m.Run(p, &Env{Group: grp, Facts: facts})
				if err != nil {
					continue
				}
				checked++
				want, _ := v.(bool)
				if pass := pred(unsafe.Pointer(grp)); want && !pass || exact && want != pass {
					t.Fatalf("%q (exact %v, reserved %q): expression %v, gate %v, on Sockets %d TimeWait %d Established %d Backlog %d AcceptQueue %d LocalPort %d IdleMaxMS %d TimeWaitNewest %v TimeWaitOldest %v UpstreamRate %v",
						src, exact, reserved, want, pass, grp.Sockets, grp.TimeWait, grp.Established, grp.Backlog, grp.AcceptQueue, grp.LocalPort, grp.IdleMaxMS, grp.TimeWaitNewest, grp.TimeWaitOldest, grp.UpstreamRate)
				}
			}
		}
		if exacts < 300 {
			t.Errorf("reserved %q: only %d of the generated expressions have exact gates", reserved, exacts)
		}
		t.Logf("reserved %q: %d exact gates, %d groups checked", reserved, exacts, checked)
	}
}

// TestExactGateLimits: sums of float fields and constants floating point
// does not hold exactly leave a gate a bound, not the expression.
func TestExactGateLimits(t *testing.T) {
	facts := NewFacts(&model.Snapshot{Samples: []*model.Sample{{}}})
	m := &vm.VM{MemoryBudget: memoryBudget}
	for src, want := range map[string]bool{
		"Sockets + Established >= 1":                            true,
		"TimeWaitNewest >= 1":                                   true,
		"TimeWaitNewest + TimeWaitOldest >= 1":                  false,
		"UpstreamRate + (TimeWaitNewest + TimeWaitOldest) >= 1": false,
		"Sockets >= 9007199254740993":                           false,
		"Sockets - TimeWait >= 1":                               false,
		"Listening && LocalPort >= PortRangeLow":                true,
		"Listening && Owners() != \"\"":                         false,
		"Listening && !PortReserved(LocalPort)":                 true,
	} {
		g := deriveGate(src)
		if g == nil {
			t.Errorf("%q: no gate", src)
			continue
		}
		_, ok, exact := instantiate(g, m, &Env{Group: &group.Group{}, Facts: facts})
		if !ok || exact != want {
			t.Errorf("%q: gate ok %v, exact %v, want exact %v", src, ok, exact, want)
		}
	}
}

// TestLeadCompiles: a rule's lead is a number; anything else fails at
// start with the file and line.
func TestLeadCompiles(t *testing.T) {
	spec := func(lead string) *rules.Spec {
		s, err := rules.Parse("x.yaml", []byte("id: x\nfor: destination\nfold: program\nlead: "+lead+"\nseverity:\n  info: TimeWait > 0\ntitle: t\nexplanation: e\nremedy: r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := Compile([]*rules.Spec{spec("TimeWait")}); err != nil {
		t.Errorf("lead: TimeWait: %v", err)
	}
	if _, err := Compile([]*rules.Spec{spec("TimeWait / 2.5")}); err != nil {
		t.Errorf("lead: TimeWait / 2.5: %v", err)
	}
	if _, err := Compile([]*rules.Spec{spec("Owner")}); err == nil || !strings.Contains(err.Error(), "x.yaml:4: lead:") {
		t.Errorf("lead: Owner: error %v, want x.yaml:4: lead: ...", err)
	}
}

// TestPrefilterVisitsWhatGatesPass: a kind with many groups and several
// gated rules is passed over once (in two halves); each gated rule then
// visits, in order, exactly the groups its gates let through, and every
// group with messages; a rule without gates, or any rule of a kind with
// few groups, visits every group.
func TestPrefilterVisitsWhatGatesPass(t *testing.T) {
	spec := func(id, sev string) *rules.Spec {
		s, err := rules.Parse(id+".yaml", []byte("id: "+id+"\nfor: port\nseverity:\n  warning: "+sev+"\ntitle: t\nexplanation: e\nremedy: r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rs, err := Compile([]*rules.Spec{
		spec("tw", "TimeWait >= 10"),
		spec("sockets", "Sockets > 1"),
		spec("range", "Listening && LocalPort >= PortRangeLow"),
		spec("ungated", `Ports("TIME-WAIT") != ""`),
		spec("tw2", "TimeWait >= 10 || CloseWait > 3"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{100, 5000, 40_000} {
		gs := &group.Groups{Snapshot: &group.Group{Kind: "snapshot"}}
		for i := range n {
			g := &group.Group{Kind: "port", Key: fmt.Sprint(i), LocalPort: r.IntN(65536), Listening: r.IntN(2) == 0,
				TimeWait: r.IntN(12), CloseWait: r.IntN(5), Sockets: r.IntN(3)}
			if r.IntN(500) == 0 {
				g.Messages = []string{"in use"}
			}
			gs.Ports = append(gs.Ports, g)
		}
		facts := NewFacts(&model.Snapshot{Samples: []*model.Sample{{}}})
		levels, visit := prefilter(rs, gs, facts)
		for k, rule := range rs {
			var want []*group.Group
			for _, g := range gs.Ports {
				if levels[k] == nil || len(g.Messages) > 0 || anyPasses(levels[k], g) {
					want = append(want, g)
				}
			}
			if n < 1<<12 {
				want = gs.Ports // few groups: runRule's gates judge them
			}
			if (levels[k] == nil) != (rule.Spec.ID == "ungated") {
				t.Errorf("%s: gated %v", rule.Spec.ID, levels[k] != nil)
			}
			if !slices.Equal(visit[k], want) {
				t.Errorf("%d groups, rule %s: visits %d groups, its gates pass %d (or not in order)", n, rule.Spec.ID, len(visit[k]), len(want))
			}
			if len(want) == 0 || len(want) == n && levels[k] != nil && n >= 1<<12 {
				t.Errorf("%d groups, rule %s: the gates pass %d: the test proves nothing", n, rule.Spec.ID, len(want))
			}
		}
	}
}

// TestLazyLevels: CompileLazy compiles a level when a group first needs
// it run, and no sooner: a level whose gate rejects every group, or
// stands for it (exact), is never compiled. A level that does not
// compile fails there, named by file and line, as Compile names it.
func TestLazyLevels(t *testing.T) {
	spec := func(sev string) *rules.Spec {
		s, err := rules.Parse("x.yaml", []byte("id: x\nfor: port\nseverity:\n  critical: TimeWait >= 100\n  warning: "+sev+"\ntitle: t\nexplanation: e\nremedy: r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	snap := &model.Snapshot{Samples: []*model.Sample{{Sockets: []model.Socket{
		{State: model.TimeWait, Local: model.AddrPortOf(netip.MustParseAddrPort("192.0.2.1:80")), Remote: model.AddrPortOf(netip.MustParseAddrPort("192.0.2.2:40000"))},
		{State: model.Listen, Local: model.AddrPortOf(netip.MustParseAddrPort("192.0.2.1:80"))},
	}}}}
	rs, err := CompileLazy([]*rules.Spec{spec(`TimeWait > 0 && Owners() != ""`)})
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(snap, rs)
	if rs[0].levels[0].p != nil {
		t.Error("the critical level was compiled: its gate (TimeWait >= 100) rejects the one port group")
	}
	if rs[0].levels[1].p == nil || len(rep.Findings) != 1 || rep.Findings[0].Severity != Warning {
		t.Errorf("the warning level: compiled %v, findings %+v", rs[0].levels[1].p != nil, rep.Findings)
	}
	rs, err = CompileLazy([]*rules.Spec{spec("TimeWait > 0")}) // exact gate
	if err != nil {
		t.Fatal(err)
	}
	if rep := Run(snap, rs); len(rep.Findings) != 1 || rs[0].levels[1].p != nil {
		t.Errorf("exact gate: %d findings, level compiled %v", len(rep.Findings), rs[0].levels[1].p != nil)
	}
	bad := spec(`TimeWait > "x"`)
	if _, err := Compile([]*rules.Spec{bad}); err == nil || !strings.Contains(err.Error(), "x.yaml:5: severity.warning:") {
		t.Errorf("Compile: %v", err)
	}
	rs, err = CompileLazy([]*rules.Spec{bad})
	if err != nil {
		t.Fatal(err)
	}
	rep = Run(snap, rs)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, "x.yaml:5: severity.warning:") {
		t.Errorf("lazily: problems %v", rep.Problems)
	}
}
