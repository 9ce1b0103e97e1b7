// Package report renders an engine.Report: WriteText for an 80-column
// terminal, WriteMarkdown for a ticket (under MarkdownLimit bytes),
// WriteHTML for one self-contained page with inline SVG charts, WriteJSON
// for tools (schema tcpsnap.report/v1, documented in
// docs/report-schema.md), and Profile, the snapshot's sockets as a pprof
// profile (go tool pprof -http=: socks.pb.gz).
//
// Compare (diff.go) compares two analyzed snapshots, before and after a
// fix, as a Diff: states, findings new, resolved and changed (matched by
// SameProblem), and what moved most; WriteDiffText, WriteDiffMarkdown
// and WriteDiffJSON (schema tcpsnap.diff/v1) render it (diff_write.go).
//
// Imports: engine, group and model. Imported by analyze.
//
// Recipe — add an output: a file here with func WriteX(w io.Writer, r
// *engine.Report) error, a wrapper in analyze (analyze.go), a --format
// value in cmd/tcpsnap/analyze.go, and a golden over the samples.
package report
