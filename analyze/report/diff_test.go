package report

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/group"
)

func finding(rule, sev string, s engine.Subject, ev ...any) engine.Finding {
	f := engine.Finding{Rule: rule, Severity: sev, Subject: s, Title: rule + " " + s.Process}
	for i := 0; i+1 < len(ev); i += 2 {
		f.Evidence = append(f.Evidence, engine.EvidenceItem{Name: ev[i].(string), Value: ev[i+1]})
	}
	return f
}

func proc(name string, pid int) engine.Subject {
	return engine.Subject{Kind: "process", Process: name, PID: pid}
}

func dest(name string, pid int, local, remote string) engine.Subject {
	return engine.Subject{Kind: "destination", Process: name, PID: pid, LocalAddress: local, Remote: remote}
}

func listener(name string, pid int, addr string, port int) engine.Subject {
	return engine.Subject{Kind: "listener", Process: name, PID: pid, LocalAddress: addr, LocalPort: port}
}

func TestSameProblem(t *testing.T) {
	folded := finding("close-wait-leak", "critical", proc("nginx", 10))
	folded.Also = []engine.Subject{proc("nginx", 11), proc("nginx", 12)}
	port := func(prog string, p int) engine.Subject {
		return engine.Subject{Kind: "port", Process: prog, PID: 1, LocalPort: p}
	}
	byRule := finding("port-range-overlaps-listener", "info", port("nginx", 40000)) // fold: rule
	byRule.Also = []engine.Subject{port("java", 40010), port("java", 40011)}
	byRuleAfter := finding("port-range-overlaps-listener", "info", port("java", 40010))
	byRuleAfter.Also = []engine.Subject{port("java", 40011)}
	foldedDest := finding("time-wait-churn", "warning", dest("app", 5, "10.0.0.1", "10.0.0.9:5432"))
	foldedDest.Also = []engine.Subject{dest("app", 5, "10.0.0.1", "10.0.0.8:5432")}
	tests := []struct {
		name          string
		before, after engine.Finding
		want          int
	}{
		{"identical subject", finding("close-wait-leak", "critical", proc("java", 100)),
			finding("close-wait-leak", "warning", proc("java", 100)), 3},
		{"restart: another pid, same program", finding("close-wait-leak", "critical", proc("java", 100)),
			finding("close-wait-leak", "critical", proc("java", 4242)), 2},
		{"another program", finding("close-wait-leak", "critical", proc("java", 100)),
			finding("close-wait-leak", "critical", proc("python", 100)), 0},
		{"another rule", finding("close-wait-leak", "critical", proc("java", 100)),
			finding("stale-close-wait", "critical", proc("java", 100)), 0},
		{"same rule, another kind", finding("x", "warning", engine.Subject{Kind: "port", Process: "web", LocalPort: 80}),
			finding("x", "warning", listener("web", 1, "0.0.0.0", 80)), 0},
		{"listener rebound from 0.0.0.0 to [::]", finding("accept-queue-overflow", "critical", listener("app", 1, "0.0.0.0", 9000)),
			finding("accept-queue-overflow", "critical", listener("app", 2, "::", 9000)), 2},
		{"listener on another port", finding("accept-queue-overflow", "critical", listener("app", 1, "0.0.0.0", 9000)),
			finding("accept-queue-overflow", "critical", listener("app", 1, "0.0.0.0", 9001)), 0},
		{"destination, another remote", finding("syn-sent-stall", "warning", dest("app", 1, "10.0.0.1", "10.0.0.9:443")),
			finding("syn-sent-stall", "warning", dest("app", 1, "10.0.0.1", "10.0.0.9:8443")), 0},
		{"destination, another local address", finding("syn-sent-stall", "warning", dest("app", 1, "10.0.0.1", "10.0.0.9:443")),
			finding("syn-sent-stall", "warning", dest("app", 1, "10.0.0.2", "10.0.0.9:443")), 2},
		{"rolled-up destination, another count of hosts", finding("x", "warning", dest("proxy", 1, "10.0.0.1", ":443 on 312,004 hosts")),
			finding("x", "warning", dest("proxy", 1, "10.0.0.1", ":443 on 1 host")), 2},
		{"folded workers: the largest is another worker", folded,
			finding("close-wait-leak", "critical", proc("nginx", 12)), 2},
		{"folded destinations: the largest is another one", foldedDest,
			finding("time-wait-churn", "warning", dest("app", 7, "10.0.0.1", "10.0.0.8:5432")), 1},
		{"folded after, not before", finding("time-wait-churn", "warning", dest("app", 7, "10.0.0.1", "10.0.0.8:5432")),
			foldedDest, 1},
		{"folded, but another program", foldedDest,
			finding("time-wait-churn", "warning", dest("db", 7, "10.0.0.1", "10.0.0.8:5432")), 0},
		{"folded by rule: the first program stopped listening", byRule, byRuleAfter, 1},
		{"snapshot findings", finding("orphaned-fin-wait-2", "warning", engine.Subject{Kind: "snapshot"}),
			finding("orphaned-fin-wait-2", "critical", engine.Subject{Kind: "snapshot"}), 3},
		{"owner unknown on both sides", finding("time-wait-churn", "warning", dest("", 0, "127.0.0.1", "127.0.0.1:111")),
			finding("time-wait-churn", "warning", dest("", 0, "127.0.0.1", "127.0.0.1:111")), 3},
		{"owner inferred on one side", finding("time-wait-churn", "warning", engine.Subject{Kind: "destination", Process: "api", PID: 1, OwnerInferred: true, Remote: "127.0.0.1:5432"}),
			finding("time-wait-churn", "warning", engine.Subject{Kind: "destination", Process: "api", PID: 2, Remote: "127.0.0.1:5432"}), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameProblem(tt.before, tt.after); got != tt.want {
				t.Errorf("SameProblem = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMatchFindings(t *testing.T) {
	cw := func(sev string, pid, n int) engine.Finding {
		return finding("close-wait-leak", sev, proc("java", pid), "close_wait", n, "fd_limit", 1024)
	}
	names := func(fs []engine.Finding) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Rule+":"+f.Subject.Process+":"+f.Severity)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name                                   string
		before, after                          []engine.Finding
		resolved, new, changed, unchanged      string
		worse                                  bool
		regressCritical, regressWarning, never int
	}{
		{name: "fixed", before: []engine.Finding{cw("critical", 1, 400)}, after: nil,
			resolved: "close-wait-leak:java:critical"},
		{name: "appeared", before: nil, after: []engine.Finding{cw("critical", 1, 400)},
			new: "close-wait-leak:java:critical", regressCritical: 1, regressWarning: 1},
		{name: "restart, same numbers", before: []engine.Finding{cw("critical", 1, 400)}, after: []engine.Finding{cw("critical", 2, 400)},
			unchanged: "close-wait-leak:java:critical"},
		{name: "restart, fewer", before: []engine.Finding{cw("critical", 1, 400)}, after: []engine.Finding{cw("warning", 2, 40)},
			changed: "close-wait-leak:java:warning"},
		{name: "got worse", before: []engine.Finding{cw("warning", 1, 40)}, after: []engine.Finding{cw("critical", 1, 400)},
			changed: "close-wait-leak:java:critical", worse: true, regressCritical: 1, regressWarning: 1},
		{name: "a number moved, same severity", before: []engine.Finding{cw("warning", 1, 40)}, after: []engine.Finding{cw("warning", 1, 41)},
			changed: "close-wait-leak:java:warning"},
		{name: "unknown (-1) on one side is no move",
			before:    []engine.Finding{finding("r", "info", proc("a", 1), "growth", -1, "n", 5)},
			after:     []engine.Finding{finding("r", "info", proc("a", 1), "growth", 3.5, "n", 5)},
			unchanged: "r:a:info"},
		{name: "strings and booleans are not numbers",
			before:    []engine.Finding{finding("r", "info", proc("a", 1), "nis", true, "who", "x")},
			after:     []engine.Finding{finding("r", "info", proc("a", 1), "nis", false, "who", "y")},
			unchanged: "r:a:info"},
		{name: "same problem twice: pids pair first",
			before:    []engine.Finding{cw("critical", 1, 400), cw("warning", 2, 40)},
			after:     []engine.Finding{cw("warning", 2, 40), cw("critical", 1, 400)},
			unchanged: "close-wait-leak:java:warning,close-wait-leak:java:critical"},
		{name: "one program fixed, another new",
			before:   []engine.Finding{cw("critical", 1, 400)},
			after:    []engine.Finding{finding("close-wait-leak", "warning", proc("python", 7), "close_wait", 40)},
			resolved: "close-wait-leak:java:critical", new: "close-wait-leak:python:warning", regressWarning: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := MatchFindings(tt.before, tt.after)
			var changedAfter []engine.Finding
			for _, c := range fc.Changed {
				changedAfter = append(changedAfter, c.After)
				if c.Worse() != tt.worse {
					t.Errorf("Worse() = %v, want %v", c.Worse(), tt.worse)
				}
			}
			for _, c := range []struct{ what, got, want string }{
				{"resolved", names(fc.Resolved), tt.resolved}, {"new", names(fc.New), tt.new},
				{"changed", names(changedAfter), tt.changed}, {"unchanged", names(fc.Unchanged), tt.unchanged},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if fc.New == nil || fc.Resolved == nil || fc.Changed == nil || fc.Unchanged == nil {
				t.Errorf("a list is nil (JSON null): %+v", fc)
			}
			d := &Diff{Findings: fc}
			for _, r := range []struct {
				failOn string
				want   int
			}{{"critical", tt.regressCritical}, {"warning", tt.regressWarning}, {"info", max(tt.regressWarning, tt.regressCritical)}, {"never", tt.never}} {
				if got := len(d.Regressions(r.failOn)); got != r.want {
					t.Errorf("Regressions(%s) = %d, want %d", r.failOn, got, r.want)
				}
			}
		})
	}
}

func TestEvidenceMoves(t *testing.T) {
	ev := func(kv ...any) engine.Evidence {
		var e engine.Evidence
		for i := 0; i+1 < len(kv); i += 2 {
			e = append(e, engine.EvidenceItem{Name: kv[i].(string), Value: kv[i+1]})
		}
		return e
	}
	got := EvidenceMoves(ev("a", 1, "b", 2.5, "c", 7, "gone", 3, "s", "x"), ev("a", 1, "b", 3.0, "c", int64(7), "added", 4, "s", "y"))
	want := []EvidenceMove{{"b", 2.5, 3}, {"added", math.NaN(), 4}, {"gone", 3, math.NaN()}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if g.Name != w.Name || !same(g.Before, w.Before) || !same(g.After, w.After) {
			t.Errorf("move %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestMoved(t *testing.T) {
	g := func(process string, pid, sockets, closeWait, est int) *group.Group {
		return &group.Group{Kind: "process", Process: process, PID: pid, Owner: process, Sockets: sockets, CloseWait: closeWait, Established: est}
	}
	before := []*group.Group{g("nginx", 1, 300, 300, 0), g("nginx", 2, 100, 100, 0), g("db", 3, 10, 0, 10), g("same", 4, 5, 0, 5),
		{Kind: "process", Owner: "an unknown process", Sockets: 3, Established: 3}}
	after := []*group.Group{g("nginx", 9, 50, 0, 50), g("db", 3, 10, 0, 10), g("same", 5, 5, 5, 0), g("new", 6, 20, 0, 20)}
	got := moved(before, after, processName)
	var rows []string
	for _, m := range got {
		var st []string
		for _, s := range diffStateOrder(m.States) {
			st = append(st, s+diffSigned(m.States[s].Change))
		}
		rows = append(rows, m.Name+" "+diffSigned(m.Change)+" "+strings.Join(st, ","))
	}
	want := []string{
		"nginx -350 CLOSE_WAIT-400,ESTABLISHED+50", // the pids of one program summed
		"new +20 ESTABLISHED+20",
		"same 0 ESTABLISHED-5,CLOSE_WAIT+5", // the total did not move, its states did
		"an unknown process -3 ESTABLISHED-3",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("moved:\n got %q\nwant %q", rows, want)
	}

	var many []*group.Group
	for i := range 15 {
		many = append(many, g(strings.Repeat("p", i+1), i, i+1, 0, i+1))
	}
	if got := moved(nil, many, processName); len(got) != maxMoved || got[0].Change != 15 {
		t.Errorf("moved keeps %d, first %+v; want %d, the largest first", len(got), got[0], maxMoved)
	}
}

func TestMatchFindingsAlsoCount(t *testing.T) {
	b := finding("close-wait-leak", "critical", proc("nginx", 1), "close_wait", 400)
	b.AlsoCount, b.Also = 7, []engine.Subject{proc("nginx", 2)}
	a := finding("close-wait-leak", "critical", proc("nginx", 9), "close_wait", 400)
	fc := MatchFindings([]engine.Finding{b}, []engine.Finding{a})
	if len(fc.Changed) != 1 || len(fc.Unchanged) != 0 {
		t.Fatalf("eight workers leaking, then one: want changed, got %+v", fc)
	}
	if got := strings.Join(diffMoves(fc.Changed[0]), ", "); got != "also_count=7→0" {
		t.Errorf("moves %q", got)
	}
}

// A folded finding whose lead destination was fixed is shown by the next
// one after: the pair is changed, by what shows it and the count, and the
// numbers of two different destinations are not compared.
func TestMatchFindingsLeadChanged(t *testing.T) {
	dest := func(remote string) engine.Subject {
		return engine.Subject{Kind: "destination", Process: "envoy", PID: 100, Remote: remote}
	}
	b := finding("time-wait-churn", "warning", dest("192.0.2.1:5432"), "time_wait", 1500)
	b.AlsoCount, b.Also = 1, []engine.Subject{dest("192.0.2.2:6379")}
	a := finding("time-wait-churn", "warning", dest("192.0.2.2:6379"), "time_wait", 1400)
	fc := MatchFindings([]engine.Finding{b}, []engine.Finding{a})
	if len(fc.Changed) != 1 {
		t.Fatalf("want one changed finding, got %+v", fc)
	}
	if got := strings.Join(diffMoves(fc.Changed[0]), ", "); got != "shown_by=192.0.2.1:5432→192.0.2.2:6379, also_count=1→0" {
		t.Errorf("moves %q", got)
	}
	// The same lead on both sides compares its numbers.
	a2 := finding("time-wait-churn", "warning", dest("192.0.2.1:5432"), "time_wait", 1400)
	fc = MatchFindings([]engine.Finding{b}, []engine.Finding{a2})
	if got := strings.Join(diffMoves(fc.Changed[0]), ", "); got != "time_wait=1500→1400, also_count=1→0" {
		t.Errorf("same lead: moves %q", got)
	}
}

// Names from the input cannot drive the terminal or break Markdown.
func TestDiffHostileNames(t *testing.T) {
	evil := "ev|l\x1b[31m`*<b>_x_"
	f := finding("close-wait-leak", "critical", proc(evil, 1), "close_wait", 400)
	f.Title = evil + " holds 400 CLOSE_WAIT sockets"
	d := &Diff{Schema: DiffSchema, Before: DiffSide{Input: "-"}, After: DiffSide{Input: evil},
		States:   map[string]StateChange{"CLOSE_WAIT": {After: 400, Change: 400}},
		Findings: FindingChanges{New: []engine.Finding{f}},
		Moved:    Moved{Processes: []Movement{{Name: evil, After: 400, Change: 400, States: map[string]StateChange{"CLOSE_WAIT": {After: 400, Change: 400}}}}}}
	var text, md strings.Builder
	if err := WriteDiffText(&text, d); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiffMarkdown(&md, d); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.ContainsRune(out, '\x1b') {
			t.Errorf("%s holds an escape character:\n%s", name, out)
		}
	}
	if !strings.Contains(text.String(), "stdin") {
		t.Errorf("text does not name stdin:\n%s", text.String())
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		// Cells: the unescaped pipes minus one (GFM splits cells on a pipe
		// inside a code span too).
		cells := -1
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '|':
				cells++
			}
		}
		if cells < 3 || cells > 5 {
			t.Errorf("row has %d cells: %s", cells, line)
		}
		if strings.Contains(line, "<b>") {
			t.Errorf("unescaped HTML: %s", line)
		}
	}
}
