package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// MarkdownLimit is the most bytes WriteMarkdown writes: under the
// comment limits of the ticket systems a report is pasted into (Jira
// 32,767 characters, GitHub 65,536). Past it the findings are shortened,
// then the least severe left out, and the report says so.
const MarkdownLimit = 30_000

// WriteMarkdown writes the report as Markdown for a ticket or an issue
// (GitHub, GitLab, Jira's Markdown, Zendesk): the findings first, each
// with its evidence as a table and why / fix / what to ignore, the long
// parts folded in <details>; then the states, what could not be checked
// and the sources. Text from the input is escaped, so a process name
// cannot inject markup.
func WriteMarkdown(w io.Writer, r *engine.Report) error {
	var out []byte
	for _, mode := range []mdMode{mdFull, mdShort} {
		out = markdown(r, mode, len(r.Findings))
		if len(out) <= MarkdownLimit {
			_, err := w.Write(out)
			return err
		}
	}
	// Still too long: keep the findings that fit, most severe first.
	lo, hi := 0, len(r.Findings)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if len(markdown(r, mdShort, mid)) <= MarkdownLimit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	_, err := w.Write(markdown(r, mdShort, lo))
	return err
}

type mdMode int

const (
	mdFull  mdMode = iota
	mdShort        // findings without why / fix / ignore and basis
)

// markdown renders the report with the first n findings.
func markdown(r *engine.Report, mode mdMode, n int) []byte {
	var b bytes.Buffer
	h := r.Snapshot.Host
	title := "tcpsnap report"
	if h.Name != "" {
		title += " for " + mdInline(h.Name)
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	var about []string
	if h.OS != "" {
		about = append(about, mdInline(strings.TrimSpace(h.OS+" "+h.Kernel)))
	}
	about = append(about, plural(r.Snapshot.Samples, "sample"), plural(r.Snapshot.Sockets, "TCP socket"))
	if h.Redacted {
		about = append(about, "redacted")
	}
	if h.NonRoot {
		about = append(about, "collected without root")
	}
	var counts []string
	for _, c := range []struct {
		n   int
		sev string
	}{{r.Summary.Critical, "critical"}, {r.Summary.Warning, "warning"}, {r.Summary.Info, "info"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("**%d %s**", c.n, c.sev))
		}
	}
	switch {
	case len(r.Findings) > 0:
		about = append(about, strings.Join(counts, ", "))
	case r.Summary.Insufficient:
		about = append(about, "**no findings: the input holds too little to judge** (see Could not check)")
	default:
		about = append(about, "**no findings**: nothing matches a known TCP pathology")
	}
	b.WriteString(strings.Join(about, " · ") + "\n")

	for _, f := range r.Findings[:n] {
		fmt.Fprintf(&b, "\n#### %s %s\n\n", severityBadge(f.Severity), mdInline(f.Title))
		fmt.Fprintf(&b, "rule `%s`", f.Rule)
		if f.CountsOnly {
			b.WriteString(" · from counts, no socket listing")
		}
		b.WriteString("\n")
		var ev []engine.EvidenceItem
		for _, e := range f.Evidence {
			if !unknown(e.Value) {
				ev = append(ev, e)
			}
		}
		if len(ev) > 0 {
			b.WriteString("\n| evidence | value |\n|---|---:|\n")
			for _, e := range ev {
				fmt.Fprintf(&b, "| %s | %s |\n", mdInline(e.Name), mdInline(engine.FormatValue(e.Value)))
			}
		}
		if f.AlsoCount > 0 {
			fmt.Fprintf(&b, "\nThe same in %s more (listed in the JSON report's `also`).\n", plural(f.AlsoCount, "subject"))
		}
		if mode == mdShort {
			continue
		}
		if f.Explanation != "" {
			fmt.Fprintf(&b, "\n**Why.** %s\n", mdInline(f.Explanation))
		}
		if f.Remedy != "" {
			fmt.Fprintf(&b, "\n**Fix.** %s\n", mdInline(f.Remedy))
		}
		if len(f.WrongAdvice) > 0 {
			b.WriteString("\n**Ignore:**\n")
			for _, wa := range f.WrongAdvice {
				fmt.Fprintf(&b, "- %s\n", mdInline(wa))
			}
		}
		if len(f.Basis) > 0 {
			b.WriteString("\n<details><summary>Where the numbers came from</summary>\n\n")
			for _, bs := range f.Basis {
				fmt.Fprintf(&b, "- %s\n", mdInline(bs))
			}
			b.WriteString("\n</details>\n")
		}
	}
	if left := len(r.Findings) - n; left > 0 {
		fmt.Fprintf(&b, "\n_%s not shown to keep this under %d characters: run `tcpsnap analyze -f json` for all._\n", plural(left, "less severe finding"), MarkdownLimit)
	}
	if mode == mdShort && n > 0 {
		b.WriteString("\n_Explanations and fixes are left out to keep this short: `tcpsnap analyze` prints them._\n")
	}

	b.WriteString("\n<details><summary>States</summary>\n\n| state | sockets |\n|---|---:|\n")
	for _, st := range sortedStates(r.Summary.States) {
		fmt.Fprintf(&b, "| %s | %d |\n", st, r.Summary.States[st])
	}
	if r.Snapshot.Sockets == 0 {
		b.WriteString("| (no TCP sockets) | 0 |\n")
	}
	b.WriteString("\n</details>\n")

	if len(r.CouldNotCheck) > 0 {
		b.WriteString("\n**Could not check**\n\n")
		for _, g := range r.CouldNotCheck {
			fmt.Fprintf(&b, "- %s: %s; run `%s`\n", mdInline(g.What), mdInline(g.Why), mdCode(g.Command))
		}
	}
	sources := r.Snapshot.Sources
	if len(sources) > 50 {
		sources = sources[:50]
	}
	if len(sources) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Sources (%d)</summary>\n\n", len(r.Snapshot.Sources))
		for _, s := range sources {
			desc := s.Format
			if desc == "" {
				desc = "not recognized, not used"
			} else if s.Sockets > 0 {
				desc += ", " + plural(s.Sockets, "socket")
			}
			fmt.Fprintf(&b, "- `%s` (%s)\n", mdCode(s.Path), mdInline(desc))
		}
		if len(r.Snapshot.Sources) > len(sources) {
			fmt.Fprintf(&b, "- and %d more\n", len(r.Snapshot.Sources)-len(sources))
		}
		b.WriteString("\n</details>\n")
	}
	if len(r.Notes)+len(r.Problems) > 0 {
		b.WriteString("\n<details><summary>Notes and problems</summary>\n\n")
		for i, nt := range r.Notes {
			if i == 20 {
				fmt.Fprintf(&b, "- and %d more notes\n", len(r.Notes)-20)
				break
			}
			fmt.Fprintf(&b, "- %s\n", mdInline(nt))
		}
		for i, p := range r.Problems {
			if i == 20 {
				fmt.Fprintf(&b, "- and %d more problems\n", len(r.Problems)-20)
				break
			}
			fmt.Fprintf(&b, "- problem: %s\n", mdInline(p.String()))
		}
		b.WriteString("\n</details>\n")
	}
	return b.Bytes()
}

func severityBadge(sev string) string {
	switch sev {
	case engine.Critical:
		return "🔴 CRITICAL:"
	case engine.Warning:
		return "🟠 WARNING:"
	}
	return "🔵 INFO:"
}

// mdInline escapes text from the input for Markdown prose and cells.
func mdInline(s string) string { return model.MarkdownText(s) }

// mdCode makes text safe inside a `code span`: backticks would end it.
func mdCode(s string) string { return strings.ReplaceAll(clean(s), "`", "'") }
