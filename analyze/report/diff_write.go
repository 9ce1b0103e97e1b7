package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// WriteDiffJSON writes the diff as indented JSON (schema tcpsnap.diff/v1).
func WriteDiffJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteDiffText writes the diff for a terminal 80 columns wide, in the
// text report's style: what each side was, notes that change what the
// rest means, the states, the findings (resolved, new, changed,
// unchanged), then what moved most. Strings from the input are stripped
// of control characters.
func WriteDiffText(w io.Writer, d *Diff) error {
	tw := &textWriter{w: w}
	title := "tcpsnap diff"
	if b, a := clean(d.Before.Host.Name), clean(d.After.Host.Name); b != "" && a == b {
		title += " for " + b
	}
	tw.line(title)
	for _, s := range []struct {
		name string
		side DiffSide
	}{{"before", d.Before}, {"after", d.After}} {
		tw.wrap(fmt.Sprintf("%-8s", s.name), "          ", diffInput(s.side.Input))
		tw.wrap("        ", "          ", diffSideText(s.side))
	}
	tw.blank()
	if notes := diffNotes(d); len(notes) > 0 {
		// First: they change what the rest means.
		tw.line("Notes")
		for _, n := range notes {
			tw.wrap("  ", "    ", n)
		}
		tw.blank()
	}

	tw.line(fmt.Sprintf("%-16s %7s %7s %7s", "States", "before", "after", "change"))
	states := diffStateOrder(d.States)
	if len(states) == 0 {
		tw.line("  no TCP sockets on either side")
	}
	for _, st := range states {
		c := d.States[st]
		tw.line(fmt.Sprintf("  %-14s %7d %7d %7s", st, c.Before, c.After, diffSigned(c.Change)))
	}
	tw.blank()

	fc := d.Findings
	tw.wrap("", "  ", "Findings: "+diffVerdict(d))
	if len(fc.Resolved) > 0 {
		tw.blank()
		tw.line(fmt.Sprintf("Resolved (%d): in before, not after", len(fc.Resolved)))
		for _, f := range fc.Resolved {
			tw.blank()
			diffTextFinding(tw, "["+strings.ToUpper(f.Severity)+"] ", f)
		}
	}
	if len(fc.New) > 0 {
		tw.blank()
		tw.line(fmt.Sprintf("New (%d): in after, not before", len(fc.New)))
		for _, f := range fc.New {
			tw.blank()
			diffTextFinding(tw, "["+strings.ToUpper(f.Severity)+"] ", f)
			diffTextEvidence(tw, f.Evidence)
		}
	}
	if len(fc.Changed) > 0 {
		tw.blank()
		tw.line(fmt.Sprintf("Changed (%d): in both, severity, numbers or folded subjects moved", len(fc.Changed)))
		for _, c := range fc.Changed {
			tw.blank()
			sev := strings.ToUpper(c.After.Severity)
			if c.Before.Severity != c.After.Severity {
				sev = strings.ToUpper(c.Before.Severity) + " → " + sev
			}
			diffTextFinding(tw, "["+sev+"] ", c.After)
			if moves := diffMoves(c); len(moves) > 0 {
				tw.wrap("  moved: ", "    ", strings.Join(moves, ", "))
			}
			if c.Before.Title != c.After.Title {
				tw.wrap("  before: ", "    ", clean(c.Before.Title))
			}
		}
	}
	if len(fc.Unchanged) > 0 {
		tw.blank()
		tw.line(fmt.Sprintf("Unchanged (%d): still present, same severity and numbers", len(fc.Unchanged)))
		for _, f := range fc.Unchanged {
			tw.blank()
			diffTextFinding(tw, "["+strings.ToUpper(f.Severity)+"] ", f)
		}
	}
	if len(fc.New)+len(fc.Changed)+len(fc.Unchanged) > 0 {
		tw.blank()
		tw.wrap("", "  ", "Why and how to fix each finding: tcpsnap analyze "+diffArg(d.After.Input))
	}

	tw.blank()
	m := d.Moved
	if len(m.Processes)+len(m.Ports)+len(m.Destinations) == 0 {
		tw.line("Moved most: no process, port or destination changed its sockets.")
	} else {
		tw.line("Moved most (sockets by process, local port and destination)")
		width := len("Destinations")
		for _, ms := range [][]Movement{m.Processes, m.Ports, m.Destinations} {
			for _, x := range ms {
				width = max(width, len(clean(x.Name)))
			}
		}
		width = min(width, 40)
		diffTextMoved(tw, "Processes", m.Processes, width)
		diffTextMoved(tw, "Local ports", m.Ports, width)
		diffTextMoved(tw, "Destinations", m.Destinations, width)
	}
	return tw.err
}

// diffTextFinding writes a finding's title and rule as the report does.
func diffTextFinding(tw *textWriter, prefix string, f engine.Finding) {
	tw.wrap("", "  ", prefix+clean(f.Title))
	tw.wrap("  ", "  ", "rule: "+f.Rule)
}

func diffTextEvidence(tw *textWriter, ev engine.Evidence) {
	if s := diffEvidence(ev); s != "" {
		tw.wrap("  evidence: ", "    ", s)
	}
}

// diffTextMoved writes one table of movements: name, before, after,
// change, and the states that moved, on the same line when they fit and
// on the next otherwise. A name too long for its column gets a line of
// its own. Names are width wide.
func diffTextMoved(tw *textWriter, title string, ms []Movement, width int) {
	if len(ms) == 0 {
		return
	}
	tw.blank()
	tw.line(fmt.Sprintf("  %-*s %7s %7s %7s  %s", width, title, "before", "after", "change", "states"))
	for _, m := range ms {
		name := clean(m.Name)
		if len(name) > width {
			tw.line("  " + name)
			name = ""
		}
		row := fmt.Sprintf("  %-*s %7d %7d %7s", width, name, m.Before, m.After, diffSigned(m.Change))
		states := diffMovedStates(m)
		if len(row)+2+len(states) <= textWidth {
			tw.line(row + "  " + states)
			continue
		}
		tw.line(row)
		tw.wrap("      ", "      ", states)
	}
}

// WriteDiffMarkdown writes the diff as GitHub/GitLab-flavoured Markdown:
// a heading, tables of the sides and the states, the findings by change,
// and tables of what moved most. Strings from the input are escaped.
func WriteDiffMarkdown(w io.Writer, d *Diff) error {
	mw := &textWriter{w: w}
	mw.line("# tcpsnap diff")
	mw.blank()
	mw.line("| | before | after |")
	mw.line("|---|---|---|")
	row := func(name, b, a string) { mw.line("| " + name + " | " + b + " | " + a + " |") }
	row("input", diffMD(diffInput(d.Before.Input)), diffMD(diffInput(d.After.Input)))
	known := func(s string) string {
		if s == "" {
			return "—"
		}
		return diffMD(s)
	}
	if d.Before.Host.Name != "" || d.After.Host.Name != "" {
		row("host", known(d.Before.Host.Name), known(d.After.Host.Name))
	}
	row("system", known(diffSystem(d.Before.Host)), known(diffSystem(d.After.Host)))
	row("samples", strconv.Itoa(d.Before.Samples), strconv.Itoa(d.After.Samples))
	row("TCP sockets", strconv.Itoa(d.Before.Sockets), strconv.Itoa(d.After.Sockets))
	row("findings", diffCounts(d.Before), diffCounts(d.After))
	mw.blank()
	mw.line("**Findings:** " + diffMD(diffVerdict(d)))
	mw.blank()
	for _, n := range diffNotes(d) {
		mw.line("> **Note:** " + diffMD(n))
		mw.blank()
	}

	mw.line("## States")
	mw.blank()
	states := diffStateOrder(d.States)
	if len(states) == 0 {
		mw.line("No TCP sockets on either side.")
	} else {
		mw.line("| state | before | after | change |")
		mw.line("|---|--:|--:|--:|")
		for _, st := range states {
			c := d.States[st]
			mw.line(fmt.Sprintf("| %s | %d | %d | %s |", st, c.Before, c.After, diffSigned(c.Change)))
		}
	}
	mw.blank()

	fc := d.Findings
	mw.line("## Findings")
	mw.blank()
	if len(fc.Resolved)+len(fc.New)+len(fc.Changed)+len(fc.Unchanged) == 0 {
		mw.line("None on either side.")
		mw.blank()
	}
	table := func(heading string, fs []engine.Finding, evidence bool) {
		if len(fs) == 0 {
			return
		}
		mw.line(fmt.Sprintf("### %s (%d)", heading, len(fs)))
		mw.blank()
		if evidence {
			mw.line("| severity | rule | finding | evidence |")
			mw.line("|---|---|---|---|")
		} else {
			mw.line("| severity | rule | finding |")
			mw.line("|---|---|---|")
		}
		for _, f := range fs {
			r := "| " + diffMDSeverity(f.Severity) + " | `" + diffMDCode(f.Rule) + "` | " + diffMD(f.Title) + " |"
			if evidence {
				r += " " + diffMDCodes(diffEvidenceItems(f.Evidence)) + " |"
			}
			mw.line(r)
		}
		mw.blank()
	}
	table("Resolved", fc.Resolved, false)
	table("New", fc.New, true)
	if len(fc.Changed) > 0 {
		mw.line(fmt.Sprintf("### Changed (%d)", len(fc.Changed)))
		mw.blank()
		mw.line("| severity | rule | finding (after) | moved |")
		mw.line("|---|---|---|---|")
		for _, c := range fc.Changed {
			sev := diffMDSeverity(c.After.Severity)
			if c.Before.Severity != c.After.Severity {
				sev = c.Before.Severity + " → " + sev
			}
			mw.line("| " + sev + " | `" + diffMDCode(c.After.Rule) + "` | " + diffMD(c.After.Title) + " | " + diffMDCodes(diffMoves(c)) + " |")
		}
		mw.blank()
	}
	table("Unchanged", fc.Unchanged, false)
	if len(fc.New)+len(fc.Changed)+len(fc.Unchanged) > 0 {
		mw.line("Why and how to fix each finding: `tcpsnap analyze " + diffMDCode(diffArg(d.After.Input)) + "`.")
		mw.blank()
	}

	mw.line("## Moved most")
	mw.blank()
	m := d.Moved
	if len(m.Processes)+len(m.Ports)+len(m.Destinations) == 0 {
		mw.line("No process, port or destination changed its sockets.")
	}
	moved := func(heading, col string, ms []Movement) {
		if len(ms) == 0 {
			return
		}
		mw.line("### " + heading)
		mw.blank()
		mw.line("| " + col + " | before | after | change | states |")
		mw.line("|---|--:|--:|--:|---|")
		for _, m := range ms {
			mw.line(fmt.Sprintf("| %s | %d | %d | %s | %s |", diffMD(m.Name), m.Before, m.After, diffSigned(m.Change), diffMovedStates(m)))
		}
		mw.blank()
	}
	moved("Processes", "process", m.Processes)
	moved("Local ports", "port", m.Ports)
	moved("Destinations", "destination", m.Destinations)
	return mw.err
}

// diffInput names an input for people: stdin for "-".
func diffInput(in string) string {
	if in == "-" {
		return "stdin"
	}
	return clean(in)
}

// diffArg writes an input as a shell argument, quoted when it needs to be.
func diffArg(in string) string {
	in = clean(in)
	if in != "" && !strings.ContainsFunc(in, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:@%+=,", r))
	}) {
		return in
	}
	return "'" + strings.ReplaceAll(in, "'", `'\''`) + "'"
}

func diffSystem(h model.Host) string {
	return strings.TrimSpace(h.OS + " " + h.Kernel)
}

// diffSideText says what one side held, in one line.
func diffSideText(s DiffSide) string {
	var about []string
	if s.Host.Name != "" {
		about = append(about, clean(s.Host.Name))
	}
	if sys := clean(diffSystem(s.Host)); sys != "" {
		about = append(about, sys)
	}
	about = append(about, plural(s.Samples, "sample"), plural(s.Sockets, "TCP socket"), diffCounts(s))
	return strings.Join(about, ", ")
}

// diffCounts counts one side's findings by severity.
func diffCounts(s DiffSide) string {
	var parts []string
	for _, c := range []struct {
		n    int
		name string
	}{{s.Critical, engine.Critical}, {s.Warning, engine.Warning}, {s.Info, engine.Info}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	switch {
	case s.Insufficient:
		return "too little to judge"
	case len(parts) == 0:
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

// diffVerdict sums up the findings' changes in a sentence.
func diffVerdict(d *Diff) string {
	fc := d.Findings
	var worse, better int
	for _, c := range fc.Changed {
		switch {
		case c.Worse():
			worse++
		case c.Better():
			better++
		}
	}
	if len(fc.Resolved)+len(fc.New)+len(fc.Changed)+len(fc.Unchanged) == 0 {
		return "none before, none after."
	}
	changed := fmt.Sprintf("%d changed", len(fc.Changed))
	var how []string
	if worse > 0 {
		how = append(how, fmt.Sprintf("%d worse", worse))
	}
	if better > 0 {
		how = append(how, fmt.Sprintf("%d better", better))
	}
	if len(how) > 0 {
		changed += " (" + strings.Join(how, ", ") + ")"
	}
	return fmt.Sprintf("%d resolved, %d new, %s, %d unchanged.", len(fc.Resolved), len(fc.New), changed, len(fc.Unchanged))
}

// diffStateOrder lists the states present on either side, those that
// moved most first; the report's state order breaks ties.
func diffStateOrder(m map[string]StateChange) []string {
	var out []string
	for _, s := range model.States {
		if _, ok := m[s.String()]; ok {
			out = append(out, s.String())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return abs(m[out[i]].Change) > abs(m[out[j]].Change) })
	return out
}

func diffSigned(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// diffEvidence lists a finding's evidence as the report does, unknown
// values (-1) left out.
func diffEvidence(ev engine.Evidence) string {
	return strings.Join(diffEvidenceItems(ev), ", ")
}

func diffEvidenceItems(ev engine.Evidence) []string {
	var out []string
	for _, e := range ev {
		if unknown(e.Value) {
			continue
		}
		out = append(out, clean(e.Name)+"="+clean(engine.FormatValue(e.Value)))
	}
	return out
}

// diffMoves says what moved in a changed finding: its evidence numbers
// and the count of folded subjects.
func diffMoves(c FindingChange) []string {
	var out []string
	if !SameLead(c.Before, c.After) {
		// Shown by another of its subjects: the evidence is another's.
		out = append(out, "shown_by="+clean(SubjectName(c.Before.Subject))+"→"+clean(SubjectName(c.After.Subject)))
	} else {
		for _, m := range EvidenceMoves(c.Before.Evidence, c.After.Evidence) {
			out = append(out, m.Name+"="+diffNumber(m.Before)+"→"+diffNumber(m.After))
		}
	}
	if c.Before.AlsoCount != c.After.AlsoCount {
		out = append(out, fmt.Sprintf("also_count=%d→%d", c.Before.AlsoCount, c.After.AlsoCount))
	}
	return out
}

func diffNumber(v float64) string {
	if math.IsNaN(v) {
		return "none"
	}
	return clean(engine.FormatValue(v))
}

// diffMovedStates lists the states that moved in a movement, most first.
func diffMovedStates(m Movement) string {
	var parts []string
	for _, st := range diffStateOrder(m.States) {
		parts = append(parts, st+" "+diffSigned(m.States[st].Change))
	}
	return strings.Join(parts, ", ")
}

// diffNotes says what makes a diff less than it seems: a side with too
// little to judge, inputs of two hosts, input that could not be used.
func diffNotes(d *Diff) []string {
	var out []string
	for _, s := range []struct {
		name string
		side DiffSide
	}{{"before", d.Before}, {"after", d.After}} {
		if s.side.Insufficient {
			out = append(out, fmt.Sprintf("The %s input (%s) holds too little to judge: its lack of findings is no sign of health (tcpsnap analyze %s says what to collect).",
				s.name, diffInput(s.side.Input), diffArg(s.side.Input)))
		}
		if s.side.Problems > 0 {
			out = append(out, fmt.Sprintf("%s of the %s input (%s) could not be used (tcpsnap analyze %s lists them).",
				plural(s.side.Problems, "part"), s.name, diffInput(s.side.Input), diffArg(s.side.Input)))
		}
	}
	if b, a := d.Before.Host.Name, d.After.Host.Name; b != "" && a != "" && b != a {
		out = append(out, fmt.Sprintf("The inputs name two hosts (%s before, %s after): the diff compares different machines.", clean(b), clean(a)))
	}
	return out
}

func diffMDSeverity(s string) string {
	if s == engine.Critical {
		return "**critical**"
	}
	return s
}

// diffMD escapes text from the input for Markdown: no control
// characters, no markup, no table cell breaks. An underscore inside a
// word (CLOSE_WAIT) is no markup and stays as it is.
func diffMD(s string) string {
	rs := []rune(clean(s))
	var b strings.Builder
	word := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))
	}
	for i, r := range rs {
		if strings.ContainsRune("\\`*[]<>|~#&!{}", r) || r == '_' && !(word(i-1) && word(i+1)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// diffMDCodes writes items as code spans: `close_wait=400`, ...
func diffMDCodes(items []string) string {
	for i, it := range items {
		items[i] = "`" + diffMDCode(it) + "`"
	}
	return strings.Join(items, ", ")
}

// diffMDCode makes text safe inside a code span in a table: no
// backticks, no cell breaks.
func diffMDCode(s string) string {
	return strings.NewReplacer("`", "'", "|", "\\|").Replace(clean(s))
}
