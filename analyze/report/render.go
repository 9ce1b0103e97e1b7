package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// WriteJSON writes the report as indented JSON (schema tcpsnap.report/v1).
func WriteJSON(w io.Writer, r *engine.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

const textWidth = 80

// WriteText writes the report for a terminal 80 columns wide: the states
// by count, the findings, most severe first, what could not be checked,
// then what was read.
// Strings from the input are stripped of control characters, so a
// hostile process name cannot drive the terminal.
func WriteText(w io.Writer, r *engine.Report) error {
	tw := &textWriter{w: w}
	h := r.Snapshot.Host
	title := "tcpsnap report"
	if h.Name != "" {
		title += " for " + clean(h.Name)
	}
	tw.line(title)
	var about []string
	if h.OS != "" {
		about = append(about, strings.TrimSpace(clean(h.OS)+" "+clean(h.Kernel)))
	}
	about = append(about, plural(r.Snapshot.Samples, "sample"), plural(r.Snapshot.Sockets, "TCP socket"))
	if h.Redacted {
		about = append(about, "redacted")
	}
	if h.NonRoot {
		about = append(about, "collected without root")
	}
	tw.line(strings.TrimSpace(strings.Join(about, ", ")))
	tw.blank()

	tw.line("States")
	if r.Snapshot.Sockets == 0 {
		tw.line("  no TCP sockets")
	}
	for _, st := range sortedStates(r.Summary.States) {
		tw.line(fmt.Sprintf("  %-12s %8d", st, r.Summary.States[st]))
	}
	tw.blank()

	counts := []string{}
	for _, sev := range []string{engine.Critical, engine.Warning, engine.Info} {
		n := map[string]int{engine.Critical: r.Summary.Critical, engine.Warning: r.Summary.Warning, engine.Info: r.Summary.Info}[sev]
		if n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	if len(r.Findings) == 0 {
		if r.Summary.Insufficient {
			tw.line("Findings: none, because the input holds too little to judge (see Could not check).")
		} else {
			tw.line("Findings: none. Nothing in this snapshot matches a known TCP pathology.")
		}
	} else {
		tw.line("Findings (" + strings.Join(counts, ", ") + ")")
	}
	for _, f := range r.Findings {
		tw.blank()
		tw.wrap("", "  ", "["+strings.ToUpper(f.Severity)+"] "+clean(f.Title))
		tw.wrap("  ", "  ", "rule: "+f.Rule)
		switch {
		case f.CountsOnly && len(f.Basis) == 0:
			tw.wrap("  ", "    ", "basis: state counts only (uniq -c), no socket listing; run ss -tanp for ports, queues and peers")
		case f.CountsOnly:
			tw.wrap("  ", "    ", "basis: counts and the ticket's words, no socket listing; run ss -tanp for ports, queues and peers")
		}
		for _, b := range f.Basis {
			tw.wrap("  ", "    ", "basis: "+clean(b))
		}
		if len(f.Evidence) > 0 {
			var ev []string
			for _, e := range f.Evidence {
				if unknown(e.Value) {
					continue // -1 means unknown: not a number to show
				}
				ev = append(ev, e.Name+"="+clean(engine.FormatValue(e.Value)))
			}
			if len(ev) > 0 {
				tw.wrap("  evidence: ", "    ", strings.Join(ev, ", "))
			}
		}
		if f.Explanation != "" {
			tw.wrap("  why: ", "    ", clean(f.Explanation))
		}
		if f.Remedy != "" {
			tw.wrap("  fix: ", "    ", clean(f.Remedy))
		}
		for _, wa := range f.WrongAdvice {
			tw.wrap("  ignore: ", "    ", clean(wa))
		}
	}
	if len(r.CouldNotCheck) > 0 {
		tw.blank()
		tw.line("Could not check")
		for _, g := range r.CouldNotCheck {
			tw.wrap("  ", "    ", clean(g.What)+": "+clean(g.Why)+"; run: "+clean(g.Command))
		}
	}
	tw.blank()
	prefix := commonDir(r.Snapshot.Sources)
	if prefix != "" {
		tw.wrap("", "  ", "Sources (in "+clean(strings.TrimSuffix(prefix, "/"))+")")
	} else {
		tw.line("Sources")
	}
	for _, s := range r.Snapshot.Sources {
		s.Path = strings.TrimPrefix(s.Path, prefix)
		tw.wrap("  ", "    ", clean(s.Path)+" ("+sourceSummary(s, plural)+")")
	}
	if len(r.Notes) > 0 {
		tw.blank()
		tw.line("Notes")
		for _, n := range r.Notes {
			tw.wrap("  ", "    ", clean(n))
		}
	}
	if len(r.Problems) > 0 {
		tw.blank()
		tw.line("Problems (parts of the input that could not be used)")
		for _, p := range r.Problems {
			tw.wrap("  ", "    ", clean(p.String()))
		}
	}
	return tw.err
}

// sourceSummary describes a source for people: its format and what was
// used of it ("ss, 801 sockets", "not recognized, not used").
func sourceSummary(s model.Source, plural func(int, string) string) string {
	desc := s.Format
	switch {
	case desc == "":
		desc = "not recognized, not used"
	case s.Role == "merged":
		desc += ", duplicate of a richer listing: fills in its gaps"
	case s.Sockets > 0 || s.Role == "primary":
		desc += ", " + plural(s.Sockets, "socket")
	}
	if s.Format != "" && s.Confidence > 0 && s.Confidence < 90 {
		desc += fmt.Sprintf(", detected with confidence %d", s.Confidence)
	}
	if s.Lines != "" {
		desc += ", lines " + s.Lines
	}
	return desc
}

func sortedStates(m map[string]int) []string {
	var out []string
	for _, s := range model.States {
		if st := s.String(); m[st] > 0 {
			out = append(out, st)
		}
	}
	// Most sockets first; canonical order breaks ties.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && m[out[j]] > m[out[j-1]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func plural(n int, word string) string { return model.Plural(n, word) }

// clean removes control characters (ANSI escapes, NULs) from input text.
func clean(s string) string { return model.CleanText(s) }

type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(s string) {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, strings.TrimRight(s, " ")+"\n")
	}
}

func (t *textWriter) blank() { t.line("") }

// wrap writes text word-wrapped to textWidth: the first line starts with
// first, the following ones with indent.
func (t *textWriter) wrap(first, indent, text string) {
	words := strings.Fields(text)
	line := first
	empty := true
	for _, w := range words {
		if !empty && len(line)+1+len(w) > textWidth {
			t.line(line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	t.line(line)
}

// commonDir returns the folder (ending in "/" or ":") all source paths
// share, when there are several sources; "" otherwise.
func commonDir(srcs []model.Source) string {
	if len(srcs) < 2 {
		return ""
	}
	p := srcs[0].Path
	for _, s := range srcs[1:] {
		for !strings.HasPrefix(s.Path, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndexAny(p, "/:"); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// unknown reports whether an evidence value is the rules' "unknown" (-1).
func unknown(v any) bool {
	switch x := v.(type) {
	case int:
		return x == -1
	case int64:
		return x == -1
	case float64:
		return x == -1
	case string:
		return x == "" // nothing to name (no owners in a ticket's words)
	}
	return false
}
