// Package report renders an engine.Report: WriteText for an 80-column
// terminal, WriteJSON for tools (schema tcpsnap.report/v1, documented in
// docs/report-schema.md), and Profile, the snapshot's sockets as a pprof
// profile (go tool pprof -http=: socks.pb.gz).
//
// Imports: engine, group and model. Imported by analyze.
//
// Recipe — add an output: a file here with func WriteX(w io.Writer, r
// *engine.Report) error, a wrapper in analyze (analyze.go), a --format
// value in cmd/tcpsnap/analyze.go, and a golden over the samples.
package report
