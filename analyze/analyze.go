package analyze

import (
	"fmt"
	"io"
	"os"

	"github.com/google/pprof/profile"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/formats"
	"github.com/tcpsnap/tcpsnap/analyze/input"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
	"github.com/tcpsnap/tcpsnap/analyze/report"
	"github.com/tcpsnap/tcpsnap/rules"
)

// The data that crosses the front door. They are the rooms' own types,
// named here so that callers need only this package.
type (
	Snapshot    = model.Snapshot     // one host's sockets, samples, settings and counters
	Socket      = model.Socket       // one normalized TCP socket
	Listing     = model.Listing      // what one parser made of one input
	Source      = model.Source       // an input that was read, with its format
	Format      = parse.Format       // one input format: detection and parser
	Rule        = engine.Rule        // a compiled rule
	Report      = engine.Report      // the diagnosis (schema tcpsnap.report/v1)
	Finding     = engine.Finding     // one diagnosis in a report
	Subject     = engine.Subject     // what a finding is about
	Explanation = engine.Explanation // what one rule saw, group by group
	Limits      = input.Limits       // what one analysis may read
)

// DefaultLimits are the limits Load applies when Options.Limits is zero.
var DefaultLimits = input.DefaultLimits

// Severities, highest first.
const (
	Critical = engine.Critical
	Warning  = engine.Warning
	Info     = engine.Info
)

// Values that callers compare sockets with.
const (
	NoName    = model.NoName
	TimerNone = model.TimerNone
)

// Compile type-checks and compiles rule specifications.
func Compile(specs []*rules.Spec) ([]*Rule, error) { return engine.Compile(specs) }

// Run applies the rules to a snapshot and returns the report.
func Run(s *Snapshot, rs []*Rule) *Report { return engine.Run(s, rs) }

// Explain shows what one rule saw in each group it ran over.
func Explain(s *Snapshot, r *Rule) *Explanation { return engine.Explain(s, r) }

// SeverityRank orders severities: critical 3, warning 2, info 1, else 0.
func SeverityRank(s string) int { return engine.SeverityRank(s) }

// FormatValue renders an expression result as reports do.
func FormatValue(v any) string { return engine.FormatValue(v) }

// WriteText writes the report for an 80-column terminal.
func WriteText(w io.Writer, r *Report) error { return report.WriteText(w, r) }

// WriteJSON writes the report as JSON (schema tcpsnap.report/v1).
func WriteJSON(w io.Writer, r *Report) error { return report.WriteJSON(w, r) }

// WriteMarkdown writes the report as Markdown for a ticket, under
// report.MarkdownLimit bytes.
func WriteMarkdown(w io.Writer, r *Report) error { return report.WriteMarkdown(w, r) }

// WriteHTML writes the report as one self-contained HTML page: inline
// CSS and SVG charts, nothing loaded from anywhere.
func WriteHTML(w io.Writer, r *Report) error { return report.WriteHTML(w, r) }

// Profile returns the snapshot's sockets as a pprof profile.
func Profile(s *Snapshot) *profile.Profile { return report.Profile(s) }

// Formats lists every input format tcpsnap detects, in detection order.
func Formats() []*Format { return formats.Formats() }

// LoadRules compiles the built-in rules plus the *.yaml rules in dir
// ("" for none), which replace built-in rules with the same id.
func LoadRules(dir string) ([]*Rule, error) {
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	if dir != "" {
		user, err := rules.Load(os.DirFS(dir))
		if err != nil {
			return nil, fmt.Errorf("rules in %s: %w", dir, err)
		}
		if len(user) == 0 {
			return nil, fmt.Errorf("rules in %s: no *.yaml files", dir)
		}
		byID := map[string]int{}
		for i, s := range specs {
			byID[s.ID] = i
		}
		for _, s := range user {
			s.Path = dir + "/" + s.Path
			if i, ok := byID[s.ID]; ok {
				specs[i] = s
			} else {
				specs = append(specs, s)
			}
		}
	}
	compile := engine.CompileLazy // the built-in rules compile (rules tests check it all)
	if dir != "" {
		compile = engine.Compile // a user's rules: every error now, all together
	}
	compiled, err := compile(specs)
	if err != nil {
		return nil, fmt.Errorf("compiling rules:\n%w", err)
	}
	return compiled, nil
}
