package report

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// DiffSchema is the JSON diff's schema name; docs/report-schema.md
// documents it. Additive changes keep the name; others bump it.
const DiffSchema = "tcpsnap.diff/v1"

// maxMoved bounds each list of Moved.
const maxMoved = 10

// A Diff compares two snapshots of one host analyzed with the same rules,
// typically before and after a fix: the states, the findings (new,
// resolved, changed, unchanged) and the processes, local ports and
// destinations whose socket counts moved most.
type Diff struct {
	Schema   string                 `json:"schema"`
	Before   DiffSide               `json:"before"`
	After    DiffSide               `json:"after"`
	States   map[string]StateChange `json:"states"` // every state present in either
	Findings FindingChanges         `json:"findings"`
	Moved    Moved                  `json:"moved"`
}

// A DiffInput is one side of a comparison: the input as the user named
// it, its snapshot, and the report the rules made of it.
type DiffInput struct {
	Input    string
	Snapshot *model.Snapshot
	Report   *engine.Report
}

// DiffSide says what one side of a Diff was made from.
type DiffSide struct {
	Input   string         `json:"input"` // the argument as given, "-" for stdin
	Host    model.Host     `json:"host"`
	Sources []model.Source `json:"sources"`
	Samples int            `json:"samples"`
	Sockets int            `json:"sockets"` // in the latest sample
	// Findings by severity, and the parts of the input that could not be
	// used (the report's problems).
	Critical int `json:"critical"`
	Warning  int `json:"warning"`
	Info     int `json:"info"`
	Problems int `json:"problems"`
	// Insufficient is true when the input holds too little to judge
	// (the report's summary.insufficient): its findings say nothing.
	Insufficient bool `json:"insufficient,omitempty"`
}

// A StateChange is a count before and after.
type StateChange struct {
	Before int `json:"before"`
	After  int `json:"after"`
	Change int `json:"change"` // After - Before
}

// FindingChanges sorts the findings of both sides. Findings are the
// reports' own (schema tcpsnap.report/v1), matched as SameProblem says.
type FindingChanges struct {
	New       []engine.Finding `json:"new"`       // in after only, in the after report's order
	Resolved  []engine.Finding `json:"resolved"`  // in before only, in the before report's order
	Changed   []FindingChange  `json:"changed"`   // in both, severity or a number moved
	Unchanged []engine.Finding `json:"unchanged"` // in both, as they are after
}

// A FindingChange is one problem present on both sides that changed.
type FindingChange struct {
	Before engine.Finding `json:"before"`
	After  engine.Finding `json:"after"`
}

// Worse reports whether the problem's severity rose.
func (c FindingChange) Worse() bool {
	return engine.SeverityRank(c.After.Severity) > engine.SeverityRank(c.Before.Severity)
}

// Better reports whether the problem's severity fell.
func (c FindingChange) Better() bool {
	return engine.SeverityRank(c.After.Severity) < engine.SeverityRank(c.Before.Severity)
}

// Moved lists the groups whose socket counts moved most, most first (see
// moved), at most ten each.
type Moved struct {
	Processes    []Movement `json:"processes"`    // by program name, all its pids together
	Ports        []Movement `json:"ports"`        // server-side local ports, ":8443"
	Destinations []Movement `json:"destinations"` // remote address and port
}

// A Movement is one process, port or destination whose sockets moved.
type Movement struct {
	Name   string                 `json:"name"`
	Before int                    `json:"before"`
	After  int                    `json:"after"`
	Change int                    `json:"change"`
	States map[string]StateChange `json:"states"` // the states that moved
}

// Compare compares two analyzed snapshots. Both reports must come from
// the same rules.
func Compare(before, after DiffInput) *Diff {
	d := &Diff{
		Schema: DiffSchema,
		Before: side(before),
		After:  side(after),
		States: map[string]StateChange{},
	}
	for st, n := range before.Report.Summary.States {
		c := d.States[st]
		c.Before = n
		d.States[st] = c
	}
	for st, n := range after.Report.Summary.States {
		c := d.States[st]
		c.After = n
		d.States[st] = c
	}
	for st, c := range d.States {
		c.Change = c.After - c.Before
		d.States[st] = c
	}
	d.Findings = MatchFindings(before.Report.Findings, after.Report.Findings)
	bg, ag := groupsOf(before.Snapshot), groupsOf(after.Snapshot)
	d.Moved = Moved{
		Processes:    moved(bg.Processes, ag.Processes, processName),
		Ports:        moved(bg.Ports, ag.Ports, func(g *group.Group) string { return g.Key }),
		Destinations: moved(bg.Destinations, ag.Destinations, func(g *group.Group) string { return stableRemote(g.Remote) }),
	}
	return d
}

// Regressions returns the findings that should fail a check at severity
// failOn: the new ones at or above it, and the changed ones whose
// severity rose to or above it (as they are after). None for "never" or
// an unknown severity.
func (d *Diff) Regressions(failOn string) []engine.Finding {
	floor := engine.SeverityRank(failOn)
	if floor == 0 {
		return nil
	}
	var out []engine.Finding
	for _, f := range d.Findings.New {
		if engine.SeverityRank(f.Severity) >= floor {
			out = append(out, f)
		}
	}
	for _, c := range d.Findings.Changed {
		if c.Worse() && engine.SeverityRank(c.After.Severity) >= floor {
			out = append(out, c.After)
		}
	}
	return out
}

func side(in DiffInput) DiffSide {
	r := in.Report
	s := DiffSide{Input: in.Input, Host: r.Snapshot.Host, Sources: r.Snapshot.Sources,
		Samples: r.Snapshot.Samples, Sockets: r.Snapshot.Sockets,
		Critical: r.Summary.Critical, Warning: r.Summary.Warning, Info: r.Summary.Info,
		Problems: len(r.Problems), Insufficient: r.Summary.Insufficient}
	if s.Sources == nil {
		s.Sources = []model.Source{}
	}
	return s
}

// groupsOf groups a snapshot's latest sample as the rules saw it (before
// the ticket's words raise any count: those are claims, not sockets).
func groupsOf(s *model.Snapshot) *group.Groups {
	if s == nil {
		return &group.Groups{}
	}
	return engine.GroupsOf(s, engine.NewFacts(s))
}

// processName names a process group by its program, not its pid, which
// a restart changes: the pids of one program are summed. A group whose
// program is not named keeps its owner ("pid 4120", "an unknown
// process").
func processName(g *group.Group) string {
	if g.Process != "" {
		return g.Process
	}
	return g.Owner
}

// stableRemote is a destination as it reads on both sides: a group
// rolled up from many small destinations reads ":443 on 312,004 hosts",
// and the count of hosts is not part of its identity.
func stableRemote(r string) string {
	if port, _, ok := strings.Cut(r, " on "); ok && strings.HasPrefix(r, ":") {
		return port + " on many hosts"
	}
	return r
}

// groupStates lists a group's state counts (the states a group counts).
func groupStates(g *group.Group) [model.NumStates]int {
	var c [model.NumStates]int
	c[model.Established] = g.Established
	c[model.SynSent] = g.SynSent
	c[model.SynRecv] = g.SynRecv
	c[model.FinWait1] = g.FinWait1
	c[model.FinWait2] = g.FinWait2
	c[model.TimeWait] = g.TimeWait
	c[model.Close] = g.Close
	c[model.CloseWait] = g.CloseWait
	c[model.LastAck] = g.LastAck
	c[model.Listen] = g.Listen
	c[model.Closing] = g.Closing
	c[model.Bound] = g.Bound
	return c
}

// moved sums the groups of each side by name and returns those whose
// sockets moved most (movedSockets), then by the change of their total,
// then by name.
func moved(before, after []*group.Group, name func(*group.Group) string) []Movement {
	type tally struct {
		sockets [2]int
		states  [2][model.NumStates]int
	}
	byName := map[string]*tally{}
	add := func(gs []*group.Group, i int) {
		for _, g := range gs {
			if g.FromEvidence {
				continue
			}
			n := name(g)
			t := byName[n]
			if t == nil {
				t = &tally{}
				byName[n] = t
			}
			t.sockets[i] += g.Sockets
			st := groupStates(g)
			for s := range st {
				t.states[i][s] += st[s]
			}
		}
	}
	add(before, 0)
	add(after, 1)
	out := []Movement{}
	for n, t := range byName {
		m := Movement{Name: n, Before: t.sockets[0], After: t.sockets[1],
			Change: t.sockets[1] - t.sockets[0], States: map[string]StateChange{}}
		for _, s := range model.States {
			if b, a := t.states[0][s], t.states[1][s]; a != b {
				m.States[s.String()] = StateChange{Before: b, After: a, Change: a - b}
			}
		}
		if m.Change != 0 || len(m.States) > 0 {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if am, bm := movedSockets(a), movedSockets(b); am != bm {
			return am > bm
		}
		if ac, bc := abs(a.Change), abs(b.Change); ac != bc {
			return ac > bc
		}
		return a.Name < b.Name
	})
	if len(out) > maxMoved {
		out = out[:maxMoved]
	}
	return out
}

// movedSockets measures how much a movement moved: the sockets of the
// states that grew or of those that shrank, whichever are more. It is the
// change of the total when every state moved one way, and more when some
// went up and others down: a process that swapped 300 CLOSE_WAIT for 300
// ESTABLISHED moved 300 sockets, though its total did not move.
func movedSockets(m Movement) int {
	up, down := 0, 0
	for _, c := range m.States {
		if c.Change > 0 {
			up += c.Change
		} else {
			down -= c.Change
		}
	}
	return max(up, down, abs(m.Change))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// An identity is what names one problem on both sides of a diff: the
// rule, the kind of group it ran over, the program (not its pid, which a
// restart changes), the local port and the remote (a rolled-up remote
// without its count of hosts). The local address is left out too: a
// restarted server may bind [::] where it bound 0.0.0.0.
type identity struct {
	rule, kind, process string
	port                int
	remote              string
}

func identityOf(rule string, s engine.Subject) identity {
	return identity{rule: rule, kind: s.Kind, process: s.Process, port: s.LocalPort, remote: stableRemote(s.Remote)}
}

// SameProblem reports whether two findings, one from each side, are the
// same problem, and how closely: 3 the same rule and subject, pid and
// local address included; 2 the same identity (rule, kind, program,
// local port, remote); 1 the same rule and kind, and one finding's
// subject is among the other's folded subjects, or they fold one in
// common (also: eight workers of one program, the destinations of one
// program on one remote port, or for a rule folded whole, fold: rule,
// the ports of several programs), where a restart may have made another
// member the largest; 0 different problems.
func SameProblem(b, a engine.Finding) int {
	if b.Rule != a.Rule || b.Subject.Kind != a.Subject.Kind {
		return 0
	}
	if b.Subject == a.Subject {
		return 3
	}
	if identityOf(b.Rule, b.Subject) == identityOf(a.Rule, a.Subject) {
		return 2
	}
	bs := map[identity]bool{identityOf(b.Rule, b.Subject): true}
	for _, s := range b.Also {
		bs[identityOf(b.Rule, s)] = true
	}
	if bs[identityOf(a.Rule, a.Subject)] {
		return 1
	}
	for _, s := range a.Also {
		if bs[identityOf(a.Rule, s)] {
			return 1
		}
	}
	return 0
}

// MatchFindings pairs the findings of two reports: first the pairs that
// SameProblem rates 3, then 2, then 1, each before finding (in report
// order) with the first after finding not yet paired. Unpaired before
// findings are resolved, unpaired after ones new; a pair is changed when
// its severity differs, an evidence number moved or the count of folded
// subjects (also_count) moved, unchanged otherwise.
func MatchFindings(before, after []engine.Finding) FindingChanges {
	fc := FindingChanges{New: []engine.Finding{}, Resolved: []engine.Finding{},
		Changed: []FindingChange{}, Unchanged: []engine.Finding{}}
	pair := make([]int, len(before)) // before index -> 1 + after index
	taken := make([]bool, len(after))
	for level := 3; level >= 1; level-- {
		for i, b := range before {
			if pair[i] != 0 {
				continue
			}
			for j, a := range after {
				if !taken[j] && SameProblem(b, a) >= level {
					pair[i], taken[j] = j+1, true
					break
				}
			}
		}
	}
	byAfter := make([]int, len(after)) // after index -> 1 + before index
	for i, j := range pair {
		if j == 0 {
			fc.Resolved = append(fc.Resolved, before[i])
		} else {
			byAfter[j-1] = i + 1
		}
	}
	for j, a := range after {
		switch i := byAfter[j]; {
		case i == 0:
			fc.New = append(fc.New, a)
		case changed(before[i-1], a):
			fc.Changed = append(fc.Changed, FindingChange{Before: before[i-1], After: a})
		default:
			fc.Unchanged = append(fc.Unchanged, a)
		}
	}
	return fc
}

func changed(b, a engine.Finding) bool {
	return !SameLead(b, a) || b.Severity != a.Severity || b.AlsoCount != a.AlsoCount || len(EvidenceMoves(b.Evidence, a.Evidence)) > 0
}

// SameLead reports whether two findings of one problem are shown by the
// same subject (SameProblem 2 or 3). A folded finding paired through its
// folded subjects may be shown by another one on each side (the
// destination that led was fixed, and the next one leads): its evidence
// then describes another subject, and its numbers are not compared.
func SameLead(b, a engine.Finding) bool {
	return identityOf(b.Rule, b.Subject) == identityOf(a.Rule, a.Subject)
}

// SubjectName names a finding's subject for a diff: its remote, else its
// local port, else its program.
func SubjectName(s engine.Subject) string {
	switch {
	case s.Remote != "":
		return s.Remote
	case s.LocalPort != 0:
		return ":" + strconv.Itoa(s.LocalPort)
	case s.PID != 0 && s.Process != "":
		return s.Process + " (pid " + strconv.Itoa(s.PID) + ")"
	case s.PID != 0:
		return "pid " + strconv.Itoa(s.PID)
	}
	return s.Process
}

// An EvidenceMove is one evidence number that differs between two
// findings; a side where the number is absent (or not a number) is NaN.
type EvidenceMove struct {
	Name          string
	Before, After float64
}

// EvidenceMoves lists the evidence numbers that moved between two
// findings of one problem, in the after finding's order, then those only
// the before finding has. Strings and booleans are not numbers, and -1
// (unknown: a one-sample snapshot has no growth between samples) is not
// a number either: neither counts.
func EvidenceMoves(before, after engine.Evidence) []EvidenceMove {
	bv := map[string]float64{}
	unknownIn := map[string]bool{}
	for _, e := range before {
		if v, ok := number(e.Value); ok && v != -1 {
			bv[e.Name] = v
		} else if ok {
			unknownIn[e.Name] = true
		}
	}
	var out []EvidenceMove
	seen := map[string]bool{}
	for _, e := range after {
		seen[e.Name] = true
		a, aok := number(e.Value)
		b, bok := bv[e.Name]
		switch {
		case aok && a == -1 || unknownIn[e.Name]:
			// unknown on one side: nothing to compare
		case aok && bok && a != b:
			out = append(out, EvidenceMove{e.Name, b, a})
		case aok && !bok:
			out = append(out, EvidenceMove{e.Name, math.NaN(), a})
		case !aok && bok:
			out = append(out, EvidenceMove{e.Name, b, math.NaN()})
		}
	}
	for _, e := range before {
		if b, ok := bv[e.Name]; ok && !seen[e.Name] {
			out = append(out, EvidenceMove{e.Name, b, math.NaN()})
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
