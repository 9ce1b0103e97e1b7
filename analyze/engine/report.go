package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Schema is the JSON report's schema name; docs/report-schema.md
// documents it. Additive changes keep the name; others bump it.
const Schema = "tcpsnap.report/v1"

// Severity names, most severe first.
const (
	Critical = "critical"
	Warning  = "warning"
	Info     = "info"
)

// SeverityRank orders severities: critical 3, warning 2, info 1, else 0.
func SeverityRank(s string) int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// A Report is the diagnosis of one snapshot.
type Report struct {
	Schema   string          `json:"schema"`
	Snapshot SnapshotInfo    `json:"snapshot"`
	Summary  Summary         `json:"summary"`
	Findings []Finding       `json:"findings"`
	Problems []model.Problem `json:"problems"`
	Notes    []string        `json:"notes"`
	// CouldNotCheck says what the input cannot show that a diagnosis
	// would need, and the command that would show it.
	CouldNotCheck []Gap `json:"could_not_check,omitempty"`
	// Top names the processes, local ports and destinations holding the
	// most sockets in the latest sample, with their states (at most
	// maxTop each).
	Top Top `json:"top"`
	// Timeline has each sample's sockets by state, in order, when the
	// snapshot has more than one sample.
	Timeline []SampleStates `json:"timeline,omitempty"`
}

// Top lists the largest groups of each kind.
type Top struct {
	Processes    []TopEntry `json:"processes"`
	Ports        []TopEntry `json:"ports"`
	Destinations []TopEntry `json:"destinations"`
}

// A TopEntry is one group: its name, sockets and sockets by state.
type TopEntry struct {
	Name    string         `json:"name"`
	Sockets int            `json:"sockets"`
	States  map[string]int `json:"states"`
}

// SampleStates is one sample's sockets by state.
type SampleStates struct {
	Sample int            `json:"sample"`
	Time   string         `json:"time,omitempty"` // RFC 3339, when known
	States map[string]int `json:"states"`
}

// maxTop bounds each list of Top.
const maxTop = 10

// topOf lists the largest groups (gs is sorted, most sockets first).
func topOf(gs []*group.Group, name func(*group.Group) string) []TopEntry {
	out := []TopEntry{}
	for _, g := range gs {
		if len(out) == maxTop {
			break
		}
		if g.Sockets == 0 {
			continue
		}
		out = append(out, TopEntry{Name: name(g), Sockets: g.Sockets, States: group.StateCounts(g)})
	}
	return out
}

// A Gap is something the input cannot show.
type Gap struct {
	What    string `json:"what"`
	Why     string `json:"why"`
	Command string `json:"command"`
}

// SnapshotInfo says what was analyzed.
type SnapshotInfo struct {
	Host    model.Host     `json:"host"`
	Sources []model.Source `json:"sources"`
	Samples int            `json:"samples"`
	Sockets int            `json:"sockets"` // in the latest sample
}

// Summary holds the counts a reader looks at first.
type Summary struct {
	States    map[string]int `json:"states"` // canonical state -> sockets, latest sample
	Listeners int            `json:"listeners"`
	Processes int            `json:"processes"` // distinct known socket owners
	// Findings by severity.
	Critical int `json:"critical"`
	Warning  int `json:"warning"`
	Info     int `json:"info"`
	// Insufficient is true when nothing in the input could be judged (no
	// socket listing, counters, settings or reported messages) and no rule
	// fired: the report says what to collect, and analyze exits with 3.
	Insufficient bool `json:"insufficient,omitempty"`
}

// A Finding is one rule firing for one subject.
type Finding struct {
	Rule        string   `json:"rule"`
	Severity    string   `json:"severity"`
	Title       string   `json:"title"`
	Subject     Subject  `json:"subject"`
	Evidence    Evidence `json:"evidence"`
	Explanation string   `json:"explanation"`
	Remedy      string   `json:"remedy"`
	WrongAdvice []string `json:"wrong_advice,omitempty"`
	// CountsOnly is true when the finding rests on uniq -c counts alone,
	// not on a socket listing.
	CountsOnly bool `json:"counts_only,omitempty"`
	// Basis says where numbers other than a listing's rows came from:
	// count lines, the reporter's words, messages, each with its line.
	Basis []string `json:"basis,omitempty"`
	// Also lists the other subjects with the same cause, folded into
	// this finding (workers of one program, destinations of one service,
	// ports of one program: see mergeCauses), largest first, at most
	// maxAlso; AlsoCount counts them all.
	Also      []Subject `json:"also,omitempty"`
	AlsoCount int       `json:"also_count,omitempty"`
	key       string    // group key, for ordering
	order     int       // rule order, for ordering
}

// Subject names what a finding is about, as far as known.
type Subject struct {
	Kind          string `json:"kind"` // process, listener, port, destination, snapshot
	Process       string `json:"process,omitempty"`
	PID           int    `json:"pid,omitempty"`
	OwnerInferred bool   `json:"owner_inferred,omitempty"`
	LocalAddress  string `json:"local_address,omitempty"`
	LocalPort     int    `json:"local_port,omitempty"`
	Remote        string `json:"remote,omitempty"`
}

// Evidence is the named numbers behind a finding, in the rule's order.
// It encodes to JSON as an object.
type Evidence []EvidenceItem

// An EvidenceItem is one named value.
type EvidenceItem struct {
	Name  string
	Value any
}

// MarshalJSON writes the evidence as an object in rule order.
func (e Evidence) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, it := range e {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(it.Name)
		v, err := json.Marshal(jsonValue(it.Value))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// memoryBudget bounds what one expression may allocate (expr counts
// elements of ranges, literals, map/filter results and strings built by
// repeat). Rules see aggregates, not socket lists, so real rules use a
// few dozen; untrusted rules cannot build a range of millions.
const memoryBudget = 100_000

// Run evaluates the rules on a snapshot. Analysis reads no clock and no
// environment: the same snapshot and rules always give the same report.
func Run(s *model.Snapshot, rs []*Rule) *Report {
	facts := NewFacts(s)
	gs := GroupsOf(s, facts)
	group.ApplyEvidence(gs, s.Latest(), s.Evidence)
	rep := &Report{
		Schema: Schema,
		Snapshot: SnapshotInfo{Host: s.Host, Sources: s.Sources, Samples: len(s.Samples),
			Sockets: facts.TotalSockets},
		Summary:  Summary{States: facts.States, Listeners: listenerCount(gs)},
		Problems: append([]model.Problem{}, s.Problems...),
		Findings: []Finding{},
		Notes:    append([]string{}, s.Notes...),
	}
	if facts.CountsOnly {
		rep.Notes = append(rep.Notes, "This diagnosis comes from state counts alone (uniq -c summaries): ports, queues, peers and timers are unknown. A full listing (ss -tanp, or netstat -tanp) would add them.")
	}
	if rep.Snapshot.Sources == nil {
		rep.Snapshot.Sources = []model.Source{}
	}
	for _, pg := range gs.Processes {
		rep.Summary.Processes += group.ListedProcesses(pg)
	}
	// The rules run on both cores, each rule on one, taken in turn; what
	// each gives is kept by its position and joined in rule order, so the
	// report does not depend on which core ran what.
	outs := make([]ruleOut, len(rs))
	levels, visit := prefilter(rs, gs, facts)
	var next atomic.Int64
	work := func() {
		m := &vm.VM{MemoryBudget: memoryBudget}
		var hits []fired
		for {
			k := int(next.Add(1)) - 1
			if k >= len(rs) {
				return
			}
			hits = runRule(rs[k], k, m, visit[k], levels[k], facts, hits[:0], &outs[k])
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 2) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for _, o := range outs {
		rep.Findings = append(rep.Findings, o.findings...)
		rep.Notes = append(rep.Notes, o.notes...)
		rep.Problems = append(rep.Problems, o.problems...)
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if SeverityRank(a.Severity) != SeverityRank(b.Severity) {
			return SeverityRank(a.Severity) > SeverityRank(b.Severity)
		}
		return a.order < b.order
	})
	rep.CouldNotCheck = gaps(s, facts)
	rep.Top = Top{
		Processes: topOf(gs.Processes, func(g *group.Group) string { return g.Owner }),
		Ports:     topOf(gs.Ports, func(g *group.Group) string { return g.Key }),
		Destinations: topOf(gs.Destinations, func(g *group.Group) string {
			if g.LocalAddr == "" {
				return g.Remote
			}
			return g.LocalAddr + " → " + g.Remote
		}),
	}
	if len(s.Samples) > 1 {
		for i, smp := range s.Samples {
			ss := SampleStates{Sample: i, States: group.CountStates(smp)}
			if len(smp.Sockets) > 0 {
				ss.States = group.Summarize(smp.Sockets).StateMap()
			}
			if !smp.Time.IsZero() {
				ss.Time = smp.Time.UTC().Format(time.RFC3339)
			}
			rep.Timeline = append(rep.Timeline, ss)
		}
	}
	switch {
	case len(rep.Findings) > 0:
	case facts.TotalSockets == 0:
		rep.Summary.Insufficient = true
		rep.Notes = append(rep.Notes, "The input holds no socket listing tcpsnap can judge, and nothing else in it points to a known pathology: the data is insufficient for a diagnosis, not a sign of health (see Could not check for what to collect).")
	case facts.CountsOnly:
		rep.Summary.Insufficient = true
		rep.Notes = append(rep.Notes, "State counts alone show no known pathology, but they cannot show ports, owners, queues or peers: the data is insufficient to call the host healthy (see Could not check).")
	}
	for _, f := range rep.Findings {
		switch f.Severity {
		case Critical:
			rep.Summary.Critical++
		case Warning:
			rep.Summary.Warning++
		case Info:
			rep.Summary.Info++
		}
	}
	return rep
}

// GroupsOf aggregates the latest sample, comparing it with the first.
func GroupsOf(s *model.Snapshot, facts *Facts) *group.Groups {
	var first *model.Sample
	if len(s.Samples) > 1 {
		first = s.First()
	}
	return group.Aggregate(s.Latest(), first, s.Processes, facts.PortRangeLow, facts.PortRangeHigh)
}

// listenerCount counts the listeners: one a group, or the number a
// rolled-up group stands for (its Listen).
func listenerCount(gs *group.Groups) int {
	n := 0
	for _, g := range gs.Listeners {
		n += max(1, g.Listen)
	}
	return n
}

// A fired is a rule's hit on a group before it is rendered; also holds
// the groups of the same cause folded into it.
type fired struct {
	g         *group.Group
	sev       string
	fromWords bool
	also      []*group.Group // the first maxAlso folded groups
	alsoN     int            // how many were folded
	// A rule that folds all its findings (fold: rule): the programs of
	// the folded groups, at most maxPrograms of them, whether there were
	// more, and whether some owners were unknown; nil when none folded.
	progs              map[string]bool
	progsMore, unknown bool
	// byProgram: folded by program (fold: program), across ports.
	byProgram bool
	// lead: the rule's lead (Spec.Lead) on g; a folded hit with a larger
	// one takes g's place.
	lead float64
}

// maxPrograms bounds the programs a finding folded by rule counts.
const maxPrograms = 1000

// maxAlso bounds the subjects a folded finding lists.
const maxAlso = 50

// causeKey says which hits of one rule share a cause: the same program
// at the same severity, and for destinations the same remote port, for
// listeners the same local port. A process known only by its pid is its
// own program. Hits of unknown owners on local ports fold together too
// (a listing without owners, /proc/net/tcp, gives 28,000 ports inside
// the ephemeral range 28,000 owners "an unknown process on :PORT"): the
// finding says "of unknown processes", not one program. Hits of the
// unknown owners' client side, of a group made from a ticket's words,
// and of the snapshot stay apart.
//
// A rule whose cause is the host's, not a program's (fold: rule), folds
// all its hits of one severity, whatever their owners. A destination rule
// whose cause is the client program's however it talks to whom (fold:
// program: it opens a connection per request) folds a program's
// destinations whatever their ports, the destinations spread over
// several programs (ManyPrograms) together, and those of unknown owners
// together (a /proc/net/tcp listing names no owner: its 25 services'
// churn is one finding "of unknown processes", not 25).
func causeKey(h fired, fold string) (string, bool) {
	g := h.g
	if g.FromEvidence || g.Kind == "snapshot" {
		return "", false
	}
	if fold == "rule" {
		return h.sev + "\x00" + g.Kind + "\x00rule", true
	}
	if fold == "program" && g.Kind == "destination" {
		// Loopback apart: its remedies differ (tcp_tw_reuse is on for
		// loopback by default) and its service is this host's.
		k := h.sev + "\x00" + g.Kind + "\x00" + strconv.FormatBool(g.Loopback)
		switch {
		case group.ManyPrograms(g):
			return k + "\x00programs", true
		case unknownOwner(g):
			return k + "\x00unknown", true
		case g.Process != "":
			return k + "\x00program\x00" + g.Process, true
		default:
			return k + "\x00pid\x00" + g.Owner, true // known by its pid alone (netstat -ano)
		}
	}
	var k string
	switch {
	case unknownOwner(g) && g.Kind != "destination" && g.LocalPort != 0:
		k = h.sev + "\x00" + g.Kind + "\x00" // unknown: owner names differ by port ("an unknown process on :8443")
	case unknownOwner(g) && g.Kind == "process":
		return "", false // the client side of unknown owners: a group of its own
	case g.Process == "" || g.PID == 0:
		k = h.sev + "\x00" + g.Kind + "\x00" + g.Owner // by pid alone, or unknown toward one service port
	default:
		k = h.sev + "\x00" + g.Kind + "\x00" + g.Process // the program, whatever its pid
	}
	switch g.Kind {
	case "destination":
		k += "\x00" + strconv.Itoa(g.RemotePort) + "\x00" + strconv.FormatBool(g.Loopback)
	case "listener":
		k += "\x00" + strconv.Itoa(g.LocalPort)
	}
	return k, true
}

// program names the program of a group's owner, for counting them: its
// name, its pid when the listing names none, "" when unknown.
func program(g *group.Group) string {
	switch {
	case unknownOwner(g):
		return ""
	case g.Process != "":
		return g.Process
	}
	return g.Owner
}

// unknownOwner reports whether no listing named the group's owner, by
// name or pid.
func unknownOwner(g *group.Group) bool {
	return !g.OwnerKnown || (g.Process == "" && g.PID == 0)
}

// causes folds the hits that share a cause (causeKey) into the first
// of them, in the groups' order, the largest first: eight nginx workers
// with the same leak are one finding naming the program and its pids, a
// program listening on 28,000 ports inside the ephemeral range one
// finding naming the ports. It folds as the hits come, so that 28,000
// of them are not kept first (a key's hits share a severity: ordering
// the folded hits by severity afterwards gives what folding the ordered
// hits gave).
type causes struct {
	first map[string]int // key -> its hit's position
	fold  string         // the rule's fold: "owner", "rule" or "program"
	lead  bool           // the rule has a lead: the largest leads its fold
}

// add appends h to hits, or folds it into the hit of its cause.
func (c *causes) add(hits []fired, h fired) []fired {
	k, ok := causeKey(h, c.fold)
	if !ok {
		return append(hits, h)
	}
	if c.first == nil {
		c.first = map[string]int{}
	}
	if i, seen := c.first[k]; seen {
		f := &hits[i]
		folded := h.g
		if c.lead && h.lead > f.lead {
			// The new hit leads: the one it replaces is folded, first.
			folded = f.g
			f.g, f.lead, f.fromWords = h.g, h.lead, h.fromWords
			f.also = slices.Insert(f.also[:min(len(f.also), maxAlso-1)], 0, folded)
			f.alsoN++
		} else if f.alsoN++; len(f.also) < maxAlso {
			f.also = append(f.also, h.g)
		}
		f.byProgram = c.fold == "program"
		if c.fold == "rule" {
			if f.progs == nil {
				f.progs = map[string]bool{}
			}
			f.noteProgram(folded)
		}
		return hits
	}
	c.first[k] = len(hits)
	return append(hits, h)
}

// noteProgram counts the program of g among a finding's folded ones (an
// unknown owner is not a program: it is said apart).
func (h *fired) noteProgram(g *group.Group) {
	switch p := program(g); {
	case p == "":
		h.unknown = true
	case h.progs[p]:
	case len(h.progs) < maxPrograms:
		h.progs[p] = true
	default:
		h.progsMore = true
	}
}

// foldAlso records the folded subjects on a rendered finding and says so
// in its title.
func foldAlso(f *Finding, h fired) {
	if h.alsoN == 0 {
		return
	}
	f.AlsoCount = h.alsoN
	var names []string
	seen := map[string]bool{h.g.Remote: true} // destinations' remotes named so far
	for i, g := range h.also {
		f.Also = append(f.Also, findingSubject(g))
		if i < 3 {
			switch g.Kind {
			case "process":
				if g.PID == 0 {
					names = append(names, ":"+strconv.Itoa(g.LocalPort)) // an unknown owner's subject is its port
				} else {
					names = append(names, "pid "+strconv.Itoa(g.PID))
				}
			case "destination":
				// The same remote from another local address names the
				// address too (as the top destinations do).
				if seen[g.Remote] && g.LocalAddr != "" {
					names = append(names, g.LocalAddr+" → "+g.Remote)
				} else {
					names = append(names, g.Remote)
				}
				seen[g.Remote] = true
			default:
				names = append(names, ":"+strconv.Itoa(g.LocalPort))
			}
		}
	}
	if h.alsoN > 3 {
		names = append(names, model.Thousands(h.alsoN-3)+" more")
	}
	g := h.g
	prog := g.Process
	if prog == "" {
		prog = g.Owner
	}
	what := map[string]string{"process": prog + " processes", "destination": "destinations of " + prog,
		"listener": "listeners of " + prog, "port": "ports of " + prog}[g.Kind]
	if unknownOwner(g) && g.Kind != "destination" {
		what = map[string]string{"process": "unknown processes", "listener": "listeners of unknown processes",
			"port": "ports of unknown processes"}[g.Kind]
	}
	switch {
	case g.Kind == "destination" && group.ManyPrograms(g):
		what = "destinations of several programs" // its Process is only the largest of them
	case g.Kind == "destination" && unknownOwner(g) && h.byProgram:
		what = "destinations of unknown processes" // toward several services: as many programs, perhaps
	}
	if h.progs != nil {
		// Folded by rule: the programs of the folded groups, whatever the
		// first one's.
		var whose []string
		switch n := len(h.progs); {
		case n > 1 && h.progsMore:
			whose = append(whose, model.Thousands(n)+"+ programs")
		case n > 1:
			whose = append(whose, model.Thousands(n)+" programs")
		case n == 1:
			for p := range h.progs {
				whose = append(whose, p)
			}
		}
		if h.unknown {
			whose = append(whose, "unknown processes")
		}
		what = map[string]string{"process": "processes", "destination": "destinations", "listener": "listeners",
			"port": "ports"}[g.Kind] + " of " + strings.Join(whose, " and ")
	}
	if h.alsoN == 1 {
		what = singular(what)
	}
	f.Title += fmt.Sprintf("; the same in %s more %s (%s)", model.Thousands(h.alsoN), what, strings.Join(names, ", "))
}

// singular turns the first plural noun of a folded finding's "what" into
// the singular: "1 more port of java", "1 more nginx process".
func singular(what string) string {
	at, word := len(what), ""
	for _, w := range []string{"processes", "destinations", "listeners", "ports"} {
		if i := strings.Index(what, w); i >= 0 && i < at {
			at, word = i, w
		}
	}
	if word == "" {
		return what
	}
	one := strings.TrimSuffix(word, "s")
	if word == "processes" {
		one = "process"
	}
	return what[:at] + one + what[at+len(word):]
}

func findingSubject(g *group.Group) Subject {
	return Subject{Kind: g.Kind, Process: g.Process, PID: g.PID, OwnerInferred: g.OwnerInferred,
		LocalAddress: g.LocalAddr, LocalPort: g.LocalPort, Remote: g.Remote}
}

// severity evaluates the rule's levels (and its reported block) on a
// group: the severity it fires at, "" when none, and whether the finding
// rests on the ticket's words alone.
func (r *Rule) severity(m *vm.VM, env *Env, levels []levelGate) (sev string, fromWords bool, err error) {
	for i := range r.Spec.Levels {
		if levels != nil {
			if !levels[i].pass(unsafe.Pointer(env.Group)) {
				continue // its gate rejects the group: the level cannot accept it
			}
			if levels[i].exact {
				sev = r.Spec.Levels[i].Name // the gate is the expression
				break
			}
		}
		p, err := r.level(i)
		if err != nil {
			return "", false, err
		}
		v, err := m.Run(p, env)
		if err != nil {
			return "", false, err
		}
		if b, _ := v.(bool); b {
			sev = r.Spec.Levels[i].Name
			break
		}
	}
	if rp := r.Spec.Reported; rp != nil && env.Group.Reported(rp.Message) {
		// A message in the ticket says the failure happened. Only in the
		// title, it is the reporter's summary: one severity lower (see
		// Facts.TitleOnly).
		rs := rp.Severity
		if env.Facts.TitleOnly(rp.Message) != "" {
			rs = severityBelow(rs)
		}
		if rs != "" && SeverityRank(rs) > SeverityRank(sev) && r.reportedApplies(m, env) {
			fromWords = sev == ""
			sev = rs
		}
	}
	return sev, fromWords, nil
}

// ruleOut is what one rule gives a report.
type ruleOut struct {
	findings []Finding
	notes    []string
	problems []model.Problem
}

// prefilter returns each rule's level gates for the snapshot and the
// groups it is to visit: those of its kind, or — for a kind with many
// groups that several gated rules read — only those its gates let
// through, noted in one pass over the groups (in two halves, on two
// cores). 62,500 port groups lie 792 bytes apart: reading a group is a
// cache miss, once for all rules rather than once per rule.
func prefilter(rs []*Rule, gs *group.Groups, facts *Facts) ([][]levelGate, [][]*group.Group) {
	const many = 1 << 12
	levels := make([][]levelGate, len(rs))
	visit := make([][]*group.Group, len(rs))
	byKind := map[string][]int{} // gated rules by kind, in rule order
	for k, r := range rs {
		levels[k] = r.levelGates(facts)
		visit[k] = gs.ByKind(r.Spec.For)
		if levels[k] != nil && len(visit[k]) >= many {
			byKind[r.Spec.For] = append(byKind[r.Spec.For], k)
		}
	}
	for _, ks := range byKind {
		if len(ks) < 2 {
			continue // one rule reads the groups once anyway
		}
		groups := visit[ks[0]]
		var halves [2][][]*group.Group // [half][position in ks]
		model.Parallel(len(groups), func(half, lo, hi int) {
			lists := make([][]*group.Group, len(ks))
			for _, g := range groups[lo:hi] {
				msgs := len(g.Messages) > 0 // gates read Reported(...) as false: every level runs
				for j, k := range ks {
					if msgs || anyPasses(levels[k], g) {
						lists[j] = append(lists[j], g)
					}
				}
			}
			halves[half] = lists
		})
		for j, k := range ks {
			visit[k] = halves[0][j]
			if halves[1] != nil { // two halves: the second follows
				visit[k] = append(visit[k], halves[1][j]...)
			}
		}
	}
	return levels, visit
}

// runRule evaluates rule r (at position order) on groups, those of its
// kind (or of them the ones its gates let through, see prefilter), into
// out: severity first, over the groups the rule's gate lets through
// (levels, the gates for the snapshot); only the findings shown are
// rendered (a rule may fire on 200,000 listeners and show 10). It
// returns hits for reuse.
func runRule(r *Rule, order int, m *vm.VM, groups []*group.Group, levels []levelGate, facts *Facts, hits []fired, out *ruleOut) []fired {
	fold := causes{fold: r.Spec.Fold, lead: r.lead != nil}
	for _, g := range groups {
		lv := levels
		if len(g.Messages) > 0 {
			lv = nil // gates read Reported(...) as false: every level runs
		}
		if lv != nil && !anyPasses(lv, g) {
			continue
		}
		env := &Env{Group: g, Facts: facts}
		sev, fromWords, err := r.severity(m, env, lv)
		if err != nil {
			out.problems = append(out.problems, model.Problem{Path: r.Spec.Path, Message: fmt.Sprintf("rule %s on %s: %v", r.Spec.ID, g.Key, oneLine(err))})
			continue
		}
		if sev != "" {
			h := fired{g: g, sev: sev, fromWords: fromWords}
			if r.lead != nil {
				v, err := m.Run(r.lead, env)
				if err != nil {
					out.problems = append(out.problems, model.Problem{Path: r.Spec.Path, Message: fmt.Sprintf("rule %s on %s: lead: %v", r.Spec.ID, g.Key, oneLine(err))})
				}
				h.lead, _ = v.(float64)
			}
			hits = fold.add(hits, h)
		}
	}
	hits = bySeverity(hits)
	if len(hits) > r.Spec.Limit {
		out.notes = append(out.notes, fmt.Sprintf("%s: %d more findings not shown (limit %d)", r.Spec.ID, len(hits)-r.Spec.Limit, r.Spec.Limit))
		hits = hits[:r.Spec.Limit]
	}
	for _, h := range hits {
		f, err := r.render(m, &Env{Group: h.g, Facts: facts}, h.sev, h.fromWords)
		if err != nil {
			out.problems = append(out.problems, model.Problem{Path: r.Spec.Path, Message: fmt.Sprintf("rule %s on %s: %v", r.Spec.ID, h.g.Key, oneLine(err))})
			continue
		}
		f.order = order
		foldAlso(f, h)
		out.findings = append(out.findings, *f)
	}
	return hits
}

// bySeverity orders hits by severity, highest first, keeping the order
// within a severity: a stable sort of four keys, in two passes (28,000
// hits took a stable comparison sort 20 ms).
func bySeverity(hits []fired) []fired {
	var n [4]int
	for _, h := range hits {
		n[SeverityRank(h.sev)]++
	}
	if max(n[0], n[1], n[2], n[3]) == len(hits) {
		return hits // one severity: already in order
	}
	at := [4]int{n[3] + n[2] + n[1], n[3] + n[2], n[3], 0} // where each rank starts
	out := make([]fired, len(hits))
	for _, h := range hits {
		r := SeverityRank(h.sev)
		out[at[r]] = h
		at[r]++
	}
	return out
}

// anyPasses reports whether some level's gate lets the group through.
func anyPasses(levels []levelGate, g *group.Group) bool {
	v := unsafe.Pointer(g)
	for _, p := range levels {
		if p.pass(v) {
			return true
		}
	}
	return false
}

// severityBelow is the severity one level below sev: "" below info.
func severityBelow(sev string) string {
	switch sev {
	case Critical:
		return Warning
	case Warning:
		return Info
	}
	return ""
}

// render builds the finding a rule fired at severity sev on a group.
func (r *Rule) render(m *vm.VM, env *Env, sev string, fromWords bool) (*Finding, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	title, explanation := r.title, r.explanation
	if fromWords {
		title = r.repTitle
		if r.repExplanation != nil {
			explanation = r.repExplanation
		}
	}
	g := env.Group
	f := &Finding{Rule: r.Spec.ID, Severity: sev, key: g.Key, Subject: findingSubject(g)}
	var err error
	if f.Title, err = title.render(m, env); err != nil {
		return nil, fmt.Errorf("title: %w", err)
	}
	if rp := r.Spec.Reported; fromWords && rp != nil && env.Facts.TitleOnly(rp.Message) != "" {
		f.Title += " (by the ticket's title; its text does not say it)"
	}
	if f.Explanation, err = explanation.render(m, env); err != nil {
		return nil, fmt.Errorf("explanation: %w", err)
	}
	if f.Remedy, err = r.remedy.render(m, env); err != nil {
		return nil, fmt.Errorf("remedy: %w", err)
	}
	for _, w := range r.wrong {
		text, err := w.render(m, env)
		if err != nil {
			return nil, fmt.Errorf("wrong_advice: %w", err)
		}
		if text != "" {
			f.WrongAdvice = append(f.WrongAdvice, text)
		}
	}
	f.Basis = append([]string(nil), g.Basis...)
	if g.CountsOnly {
		f.CountsOnly = true
		if g.Sockets == 0 {
			f.Explanation += " (This comes from the ticket's words alone, no listing or count: anything said here about Recv-Q, ports or peers is not established; run ss -tanp for ports, queues and peers.)"
		} else {
			f.Explanation += " (This comes from counts alone, no listing: anything said here about Recv-Q, ports or peers is not established; run ss -tanp for ports, queues and peers.)"
		}
	}
	f.Evidence = Evidence{}
	for i, p := range r.evidence {
		v, err := m.Run(p, env)
		if err != nil {
			return nil, fmt.Errorf("evidence.%s: %w", r.Spec.Evidence[i].Name, err)
		}
		if fromWords && (g.FromEvidence || env.Facts.TotalSockets == 0) && isZero(v) {
			continue // a group made from words alone, or a ticket without sockets: its zeros are not counts
		}
		f.Evidence = append(f.Evidence, EvidenceItem{Name: r.Spec.Evidence[i].Name, Value: v})
	}
	return f, nil
}

// gaps lists what the input cannot show, with the command that would,
// for inputs that are not tcpsnap bundles (a bundle's manifest notes say
// what its collector missed).
func gaps(s *model.Snapshot, f *Facts) []Gap {
	if s.Host.Collector != "" {
		return nil
	}
	win := f.OS == "windows"
	bsd := f.OS == "darwin" || f.OS == "freebsd"
	pick := func(linux, windows, other string) string {
		switch {
		case win:
			return windows
		case bsd:
			return other
		}
		return linux
	}
	var out []Gap
	switch {
	case f.TotalSockets == 0:
		out = append(out, Gap{What: "the sockets themselves", Why: "the input holds no socket listing",
			Command: pick("ss -tanpo (as root)", "netstat -ano", "netstat -an -p tcp; lsof -nP -iTCP")})
	case f.CountsOnly:
		out = append(out, Gap{What: "ports, queues, peers and timers", Why: "the input holds counts, not a listing",
			Command: pick("ss -tanpo (as root)", "netstat -ano", "netstat -an -p tcp; lsof -nP -iTCP")})
	default:
		if !f.HasListeners {
			out = append(out, Gap{What: "listening sockets and their accept queues", Why: pick("the listing shows no LISTEN socket: it was taken without -a or -l, or cut, so nothing can be said about what listens",
				"the listing shows no LISTENING socket: it was taken without -a, or cut, so nothing can be said about what listens",
				"the listing shows no LISTEN socket: it was taken without -a, or cut, so nothing can be said about what listens"),
				Command: pick("ss -tlnp", "netstat -ano", "netstat -Lan; netstat -an -p tcp")})
		}
		if !f.HasOwners {
			out = append(out, Gap{What: "which process holds each socket", Why: "the listing names no process",
				Command: pick("ss -tanp (as root)", "netstat -ano", "lsof -nP -iTCP")})
		}
	}
	for _, src := range s.Sources {
		base, rest, piped := strings.Cut(src.Command, "|")
		if !piped {
			continue
		}
		base, rest = strings.TrimSpace(base), strings.TrimSpace(rest)
		switch {
		case strings.Contains(rest, "head") || strings.Contains(rest, "tail"):
			out = append(out, Gap{What: "the rest of " + src.Path, Why: "the listing was cut (" + rest + "): its counts are lower bounds",
				Command: base})
		case strings.Contains(rest, "grep") || strings.Contains(rest, "findstr") || strings.Contains(rest, "Select-String") || strings.Contains(rest, "find ") ||
			strings.Contains(rest, "awk") && (strings.Contains(rest, "~") || strings.Contains(rest, "==") || strings.Contains(rest, "/ {") || strings.Contains(rest, "/{")):
			out = append(out, Gap{What: "sockets the filter left out of " + src.Path, Why: "the listing was filtered (" + rest + "): other ports, states and processes are not in it",
				Command: base})
		}
	}
	if !f.HasCounters {
		out = append(out, Gap{What: "kernel counters (listen overflows, retransmissions, resets)", Why: "no counters in the input",
			Command: pick("nstat -az", "netstat -s -p tcp", "netstat -s -p tcp")})
	}
	if len(s.Sysctls) == 0 {
		out = append(out, Gap{What: "settings (port range, backlog limits, TIME_WAIT and keepalive timers)", Why: "no settings in the input",
			Command: pick("sysctl -a", "netsh int ipv4 show dynamicport tcp", "sysctl net.inet.tcp kern.ipc")})
	}
	return out
}

func isZero(v any) bool {
	switch x := v.(type) {
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

// reportedApplies evaluates the rule's reported.when, true when it has none.
func (r *Rule) reportedApplies(m *vm.VM, env *Env) bool {
	if r.repWhen == nil {
		return true
	}
	v, err := m.Run(r.repWhen, env)
	b, _ := v.(bool)
	return err == nil && b
}
