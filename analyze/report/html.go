package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Bounds on what WriteHTML shows, so that a report with thousands of
// findings, sources or notes stays a file a browser opens at once. What
// is left out is counted on the page; -f json has everything.
const (
	htmlPerRule     = 10  // findings shown per rule
	htmlMaxFindings = 100 // findings shown in all
	htmlMaxSources  = 200
	htmlMaxNotes    = 50 // notes, and problems
	htmlMaxAlso     = 50
	htmlNameRunes   = 48 // a top list's name in a chart; the table has it whole
)

// WriteHTML writes the report as one self-contained HTML5 page: the
// findings first, each a card with its severity in colour and in words,
// its evidence as a table and why / fix / ignore, the long parts folded
// in <details>; then what could not be checked, the states, each
// sample's states, the largest processes, ports and destinations, the
// sources, notes and problems. Charts are inline SVG. The page loads
// nothing (no script, font, image or style from anywhere: a
// Content-Security-Policy says so to the browser), reads well on a
// phone and in print, and is the same bytes for the same report. Text
// from the input is HTML-escaped by html/template wherever it lands.
func WriteHTML(w io.Writer, r *engine.Report) error {
	return htmlTemplate.Execute(w, htmlViewOf(r))
}

// The view the template renders: every string already cleaned of
// control characters (the template escapes it), every number formatted.
type htmlView struct {
	Title, H1    string
	About        []string
	Counts       []htmlCount
	NoFindings   string
	Findings     []htmlFinding
	LeftOut      string
	Gaps         []engine.Gap
	NoSockets    bool
	States       *svgChart
	StateRows    []htmlRow
	Timeline     *svgChart
	TimeLegend   []htmlLegend
	TimeRows     []htmlTimeRow
	TimeStates   []string
	Tops         []htmlTop
	SourcesIn    string
	Sources      []htmlSource
	SourcesTotal int
	SourcesMore  int
	Notes        []string
	NotesMore    int
	Problems     []string
	ProblemsMore int
	Schema       string
}

type htmlCount struct {
	Severity string
	N        int
}

type htmlFinding struct {
	Severity, Label string
	Title, Rule     string
	CountsOnly      bool
	Evidence        []htmlRow
	Why, Fix        string
	Ignore, Basis   []string
	Also            []string
	AlsoCount       int
	AlsoMore        int
}

type htmlRow struct{ Name, Value string }

type htmlTop struct {
	ID, Title, What string
	Chart           *svgChart
	Legend          []htmlLegend
	Rows            []htmlTopRow
}

type htmlTopRow struct{ Name, Sockets, States string }

type htmlTimeRow struct {
	Sample string
	Counts []string
}

type htmlLegend struct{ Class, Name string }

type htmlSource struct{ Path, Desc string }

// An svgChart is a chart as rectangles, lines and text in a viewBox
// W×H; each rect is one bar (data-bar), Bars counts them.
type svgChart struct {
	ID, Label string
	W, H      int
	Bars      int
	Rects     []svgRect
	Lines     []svgLine
	Texts     []svgText
}

type svgRect struct{ X, Y, W, H, Class, Title string }

type svgLine struct{ X1, Y1, X2, Y2 string }

type svgText struct{ X, Y, Anchor, Class, Text string }

func htmlViewOf(r *engine.Report) *htmlView {
	v := &htmlView{Title: "tcpsnap report", Schema: engine.Schema}
	h := r.Snapshot.Host
	if h.Name != "" {
		v.Title += " for " + oneLine(h.Name)
	}
	v.H1 = v.Title
	if h.OS != "" {
		v.About = append(v.About, oneLine(strings.TrimSpace(h.OS+" "+h.Kernel)))
	}
	v.About = append(v.About, pluralK(r.Snapshot.Samples, "sample"), pluralK(r.Snapshot.Sockets, "TCP socket"))
	if h.Redacted {
		v.About = append(v.About, "redacted")
	}
	if h.NonRoot {
		v.About = append(v.About, "collected without root")
	}
	var titleCounts []string
	for _, c := range []htmlCount{{engine.Critical, r.Summary.Critical}, {engine.Warning, r.Summary.Warning}, {engine.Info, r.Summary.Info}} {
		if c.N > 0 {
			v.Counts = append(v.Counts, c)
			titleCounts = append(titleCounts, fmt.Sprintf("%d %s", c.N, c.Severity))
		}
	}
	switch {
	case len(r.Findings) > 0:
		v.Title += ": " + strings.Join(titleCounts, ", ")
	case r.Summary.Insufficient:
		v.NoFindings = "No findings: the input holds too little to judge (see Could not check for what to collect)."
	default:
		v.NoFindings = "No findings: nothing in this snapshot matches a known TCP pathology."
	}
	v.Findings, v.LeftOut = htmlFindings(r.Findings)
	for _, g := range r.CouldNotCheck {
		v.Gaps = append(v.Gaps, engine.Gap{What: oneLine(g.What), Why: oneLine(g.Why), Command: oneLine(g.Command)})
	}

	states := sortedStates(r.Summary.States)
	v.NoSockets = len(states) == 0
	if !v.NoSockets {
		v.States = statesChart(r.Summary.States, states)
		for _, st := range states {
			v.StateRows = append(v.StateRows, htmlRow{st, model.Thousands(r.Summary.States[st])})
		}
	}
	if len(r.Timeline) > 1 {
		v.Timeline, v.TimeStates = timelineChart(r.Timeline)
		for _, st := range v.TimeStates {
			v.TimeLegend = append(v.TimeLegend, htmlLegend{stateClass(st), st})
		}
		for _, s := range r.Timeline {
			row := htmlTimeRow{Sample: sampleLabel(s, true)}
			for _, st := range v.TimeStates {
				row.Counts = append(row.Counts, model.Thousands(s.States[st]))
			}
			v.TimeRows = append(v.TimeRows, row)
		}
	}
	for _, t := range []struct {
		id, title, what string
		entries         []engine.TopEntry
	}{
		{"top-processes", "Processes", "process", r.Top.Processes},
		{"top-ports", "Local ports", "port", r.Top.Ports},
		{"top-destinations", "Destinations", "destination", r.Top.Destinations},
	} {
		if len(t.entries) == 0 {
			continue
		}
		top := htmlTop{ID: t.id, Title: t.title, What: t.what}
		top.Chart, top.Legend = topChart(t.id, "Sockets by state of the "+strings.ToLower(t.title)+" holding the most", t.entries)
		for _, e := range t.entries {
			var by []string
			for _, st := range sortedStates(e.States) {
				by = append(by, st+" "+model.Thousands(e.States[st]))
			}
			top.Rows = append(top.Rows, htmlTopRow{oneLine(e.Name), model.Thousands(e.Sockets), strings.Join(by, ", ")})
		}
		v.Tops = append(v.Tops, top)
	}

	prefix := commonDir(r.Snapshot.Sources)
	if prefix != "" {
		v.SourcesIn = oneLine(strings.TrimSuffix(prefix, "/"))
	}
	v.SourcesTotal = len(r.Snapshot.Sources)
	for i, s := range r.Snapshot.Sources {
		if i == htmlMaxSources {
			v.SourcesMore = len(r.Snapshot.Sources) - i
			break
		}
		v.Sources = append(v.Sources, htmlSource{Path: oneLine(strings.TrimPrefix(s.Path, prefix)), Desc: sourceDesc(s)})
	}
	for i, n := range r.Notes {
		if i == htmlMaxNotes {
			v.NotesMore = len(r.Notes) - i
			break
		}
		v.Notes = append(v.Notes, oneLine(n))
	}
	for i, p := range r.Problems {
		if i == htmlMaxNotes {
			v.ProblemsMore = len(r.Problems) - i
			break
		}
		v.Problems = append(v.Problems, oneLine(p.String()))
	}
	return v
}

// htmlFindings keeps at most htmlPerRule findings of each rule and
// htmlMaxFindings in all (the most severe: findings come sorted), and
// says what it left out.
func htmlFindings(fs []engine.Finding) ([]htmlFinding, string) {
	var out []htmlFinding
	perRule := map[string]int{}
	leftOut := map[string]int{}
	var leftOrder []string
	for _, f := range fs {
		if perRule[f.Rule] >= htmlPerRule || len(out) >= htmlMaxFindings {
			if leftOut[f.Rule] == 0 {
				leftOrder = append(leftOrder, f.Rule)
			}
			leftOut[f.Rule]++
			continue
		}
		perRule[f.Rule]++
		hf := htmlFinding{Severity: f.Severity, Label: strings.ToUpper(f.Severity), Title: oneLine(f.Title),
			Rule: oneLine(f.Rule), CountsOnly: f.CountsOnly, Why: oneLine(f.Explanation), Fix: oneLine(f.Remedy),
			AlsoCount: f.AlsoCount}
		if engine.SeverityRank(f.Severity) == 0 {
			hf.Severity, hf.Label = "info", strings.ToUpper(oneLine(f.Severity))
		}
		for _, e := range f.Evidence {
			if !unknown(e.Value) {
				hf.Evidence = append(hf.Evidence, htmlRow{oneLine(e.Name), oneLine(engine.FormatValue(e.Value))})
			}
		}
		for _, wa := range f.WrongAdvice {
			hf.Ignore = append(hf.Ignore, oneLine(wa))
		}
		for _, b := range f.Basis {
			hf.Basis = append(hf.Basis, oneLine(b))
		}
		for i, s := range f.Also {
			if i == htmlMaxAlso {
				break
			}
			hf.Also = append(hf.Also, subjectText(s))
		}
		hf.AlsoMore = max(0, f.AlsoCount-len(hf.Also))
		out = append(out, hf)
	}
	if len(leftOrder) == 0 {
		return out, ""
	}
	n := 0
	var per []string
	for _, rule := range leftOrder {
		n += leftOut[rule]
		per = append(per, oneLine(rule)+": "+model.Thousands(leftOut[rule]))
	}
	return out, fmt.Sprintf("%s not shown here (%s), to keep this page small: at most %d per rule and %d in all, the most severe first. tcpsnap analyze -f json lists them all.",
		pluralK(n, "more finding"), strings.Join(per, ", "), htmlPerRule, htmlMaxFindings)
}

// subjectText names a folded subject: its owner, local and remote end.
func subjectText(s engine.Subject) string {
	var parts []string
	switch {
	case s.Process != "" && s.PID > 0:
		parts = append(parts, fmt.Sprintf("%s (pid %d)", s.Process, s.PID))
	case s.Process != "":
		parts = append(parts, s.Process)
	case s.PID > 0:
		parts = append(parts, fmt.Sprintf("pid %d", s.PID))
	}
	if s.OwnerInferred && len(parts) > 0 {
		parts[0] += ", owner inferred"
	}
	if s.LocalPort > 0 {
		addr := s.LocalAddress
		if strings.Contains(addr, ":") {
			addr = "[" + addr + "]"
		}
		parts = append(parts, addr+":"+strconv.Itoa(s.LocalPort))
	}
	if s.Remote != "" {
		parts = append(parts, "→ "+s.Remote)
	}
	if len(parts) == 0 {
		return oneLine(s.Kind)
	}
	return oneLine(strings.Join(parts, " "))
}

func sourceDesc(s model.Source) string {
	desc := sourceSummary(s, pluralK)
	if s.Command != "" {
		desc += ", from " + s.Command
	}
	return oneLine(desc)
}

// Chart geometry, in viewBox units: a chart is chartW wide and scales to
// the page's width (at most 500 px, so its 13-unit text stays
// between 12 and 16 px from a phone to a desktop).
const (
	chartW   = 400
	chartPad = 2
)

// statesChart draws the latest sample's states as horizontal bars.
func statesChart(counts map[string]int, states []string) *svgChart {
	const labelW, countW, rowH, barH = 100, 60, 24, 16
	c := &svgChart{ID: "chart-states", Label: "Sockets by state, latest sample", W: chartW, H: len(states)*rowH + 2*chartPad}
	most := counts[states[0]]
	for i, st := range states {
		n := counts[st]
		y := chartPad + i*rowH
		w := barLen(n, most, chartW-labelW-countW)
		c.Texts = append(c.Texts, svgText{X: num(labelW - 6), Y: num(y + 17), Anchor: "end", Text: st})
		c.Rects = append(c.Rects, svgRect{X: num(labelW), Y: num(y + (rowH-barH)/2), W: num(w), H: num(barH),
			Class: stateClass(st), Title: st + ": " + model.Thousands(n)})
		c.Texts = append(c.Texts, svgText{X: num(labelW + w + 4), Y: num(y + 17), Anchor: "start", Text: model.Thousands(n)})
	}
	c.Bars = len(c.Rects)
	return c
}

// topChart draws a top list as one bar per entry, stacked by state, the
// name above its bar and the total at its right.
func topChart(id, label string, entries []engine.TopEntry) (*svgChart, []htmlLegend) {
	const rowH, barY, barH = 40, 18, 14
	c := &svgChart{ID: "chart-" + id, Label: label, W: chartW, H: len(entries)*rowH + 2*chartPad}
	most := 0
	present := map[string]bool{}
	for _, e := range entries {
		most = max(most, e.Sockets)
		for st, n := range e.States {
			if n > 0 {
				present[st] = true
			}
		}
	}
	for i, e := range entries {
		y := chartPad + i*rowH
		name := oneLine(e.Name)
		c.Texts = append(c.Texts, svgText{X: "0", Y: num(y + 13), Anchor: "start", Text: truncRunes(name, htmlNameRunes)})
		c.Texts = append(c.Texts, svgText{X: num(chartW), Y: num(y + 13), Anchor: "end", Class: "total", Text: model.Thousands(e.Sockets)})
		x := 0.0
		for _, st := range canonicalStates(e.States) {
			w := math.Min(barLen(e.States[st], most, chartW), chartW-x)
			c.Rects = append(c.Rects, svgRect{X: num(x), Y: num(y + barY), W: num(w), H: num(barH),
				Class: stateClass(st), Title: name + ": " + st + " " + model.Thousands(e.States[st])})
			x += w
		}
	}
	c.Bars = len(c.Rects)
	var legend []htmlLegend
	for _, st := range canonicalStates(presentCounts(present)) {
		legend = append(legend, htmlLegend{stateClass(st), st})
	}
	return c, legend
}

// timelineChart draws each sample's sockets by state as grouped bars: a
// group per sample, a bar per state present in any sample.
func timelineChart(tl []engine.SampleStates) (*svgChart, []string) {
	const left, right, top, bottom, plotH = 44, 4, 16, 34, 150
	present := map[string]bool{}
	most := 0
	for _, s := range tl {
		for st, n := range s.States {
			if n > 0 {
				present[st] = true
				most = max(most, n)
			}
		}
	}
	states := canonicalStates(presentCounts(present))
	c := &svgChart{ID: "chart-timeline", Label: "Sockets by state in each sample", W: chartW, H: top + plotH + bottom}
	plotW := float64(chartW - left - right)
	groupW := plotW / float64(len(tl))
	barW := groupW * 0.8 / float64(max(1, len(states)))
	base := float64(top + plotH)
	// Axis: 0, half and the most, with grid lines.
	for _, f := range []float64{0, 0.5, 1} {
		y := base - f*plotH
		c.Lines = append(c.Lines, svgLine{X1: num(left), Y1: num(y), X2: num(chartW - right), Y2: num(y)})
		c.Texts = append(c.Texts, svgText{X: num(left - 4), Y: num(y + 4), Anchor: "end", Text: model.Thousands(int(math.Round(f * float64(most))))})
	}
	every := (len(tl) + 11) / 12 // label at most 12 samples
	for i, s := range tl {
		gx := left + float64(i)*groupW + groupW*0.1
		for j, st := range states {
			n := s.States[st]
			if n <= 0 {
				continue
			}
			h := barLen(n, most, plotH)
			x := gx + float64(j)*barW
			c.Rects = append(c.Rects, svgRect{X: num(x), Y: num(base - h), W: num(math.Max(barW-1, 0.5)), H: num(h),
				Class: stateClass(st), Title: sampleLabel(s, true) + ": " + st + " " + model.Thousands(n)})
			if barW >= 22 {
				c.Texts = append(c.Texts, svgText{X: num(x + barW/2), Y: num(base - h - 3), Anchor: "middle", Class: "small", Text: model.Thousands(n)})
			}
		}
		if i%every == 0 {
			mid := left + float64(i)*groupW + groupW/2
			c.Texts = append(c.Texts, svgText{X: num(mid), Y: num(base + 14), Anchor: "middle", Text: "sample " + strconv.Itoa(s.Sample)})
			if t := clock(s.Time); t != "" && groupW*float64(every) >= 56 {
				c.Texts = append(c.Texts, svgText{X: num(mid), Y: num(base + 28), Anchor: "middle", Class: "small", Text: t})
			}
		}
	}
	c.Bars = len(c.Rects)
	return c, states
}

// barLen scales n of most to length full, at least 2 for any n > 0 so
// that a single socket stays visible.
func barLen(n, most int, full float64) float64 {
	if n <= 0 || most <= 0 {
		return 0
	}
	return math.Max(2, float64(n)/float64(most)*full)
}

// canonicalStates lists the states with sockets in model.States order
// (a stack's and a legend's order), then any other name sorted.
func canonicalStates(m map[string]int) []string {
	var out []string
	known := map[string]bool{}
	for _, s := range model.States {
		st := s.String()
		known[st] = true
		if m[st] > 0 {
			out = append(out, st)
		}
	}
	var other []string
	for st, n := range m {
		if !known[st] && n > 0 {
			other = append(other, st)
		}
	}
	for i := 1; i < len(other); i++ {
		for j := i; j > 0 && other[j] < other[j-1]; j-- {
			other[j], other[j-1] = other[j-1], other[j]
		}
	}
	return append(out, other...)
}

func presentCounts(p map[string]bool) map[string]int {
	m := map[string]int{}
	for st := range p {
		m[st] = 1
	}
	return m
}

// stateClass is the CSS class that colours a state (htmlCSS).
func stateClass(st string) string {
	for _, s := range model.States {
		if s.String() == st {
			return "s-" + st
		}
	}
	return "s-UNKNOWN"
}

func sampleLabel(s engine.SampleStates, withTime bool) string {
	l := "sample " + strconv.Itoa(s.Sample)
	if withTime && s.Time != "" {
		l += " (" + oneLine(s.Time) + ")"
	}
	return l
}

// clock is the time of day of an RFC 3339 time, "" if it has none.
func clock(t string) string {
	_, rest, ok := strings.Cut(t, "T")
	if !ok || len(rest) < 8 {
		return ""
	}
	return oneLine(rest[:8])
}

func num[T int | float64](v T) string {
	return strconv.FormatFloat(math.Round(float64(v)*10)/10, 'f', -1, 64)
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine cleans text from the input for HTML: no control characters,
// runs of white space as one space (html/template escapes the rest).
func oneLine(s string) string { return strings.Join(strings.Fields(clean(s)), " ") }

// pluralK is plural with thousands separators.
func pluralK(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return model.Thousands(n) + " " + word + "s"
}
