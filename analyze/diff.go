package analyze

import (
	"io"

	"github.com/tcpsnap/tcpsnap/analyze/report"
)

// The comparison of two snapshots (tcpsnap diff), schema tcpsnap.diff/v1.
type (
	Diff           = report.Diff           // two analyzed snapshots compared
	DiffInput      = report.DiffInput      // one side: the input's name, its snapshot and report
	FindingChanges = report.FindingChanges // findings new, resolved, changed, unchanged
	FindingChange  = report.FindingChange  // one problem on both sides that changed
	Movement       = report.Movement       // a process, port or destination whose sockets moved
)

// Compare compares two snapshots analyzed with the same rules (Run), say
// before and after a fix. Findings are the same problem when they share
// the rule, the kind of subject, the program name (not the pid), the
// local port and the remote (see report.SameProblem).
func Compare(before, after DiffInput) *Diff { return report.Compare(before, after) }

// WriteDiffText writes the diff for an 80-column terminal.
func WriteDiffText(w io.Writer, d *Diff) error { return report.WriteDiffText(w, d) }

// WriteDiffMarkdown writes the diff as GitHub/GitLab Markdown.
func WriteDiffMarkdown(w io.Writer, d *Diff) error { return report.WriteDiffMarkdown(w, d) }

// WriteDiffJSON writes the diff as JSON (schema tcpsnap.diff/v1).
func WriteDiffJSON(w io.Writer, d *Diff) error { return report.WriteDiffJSON(w, d) }
