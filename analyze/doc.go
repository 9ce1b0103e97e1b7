// Package analyze is tcpsnap's front door: Load reads inputs into a
// Snapshot, Compile and Run apply rules to it, and WriteText, WriteJSON
// and Profile render the result. cmd/ and the tests outside analyze use
// only this package; the rooms below it are an implementation detail.
//
// The pipeline, one package per room (docs/architecture.md draws it):
//
//	input   → untrusted bytes: arguments, folders, archives, stdin, limits, decoding
//	ticket  → a pasted text cut into segments, each a listing with its command line
//	formats → detection and parsers (formats/linux, formats/unix, formats/windows), built from parse
//	model   → Socket, State, AddrPort, Name, Listing, Snapshot: the data every room shares
//	group   → sockets aggregated per process, listener, port and destination; owner inference
//	engine  → the rule environment, compilation, evaluation and explain; the Report it yields
//	report  → the Report as text, JSON and a pprof profile
//
// This package owns the loader (load.go, bundles.go): it walks the
// inputs with input, splits tickets with ticket, detects and parses with
// formats, merges listings of one instant into samples, reads manifests
// and collector layouts (sosreport, supportconfig, pt-stalk, OSWatcher),
// and infers owners with group. It may import every room; no room
// imports it.
//
// Recipes: a new output is a file in report/ plus one wrapper here; a new
// input layout (a collector's bundle) is a case in bundles.go; anything
// else belongs to a room, whose doc.go says how.
package analyze
