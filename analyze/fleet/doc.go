// Package fleet analyzes many hosts' snapshots at once (tcpsnap fleet):
// Expand turns arguments (bundles, folders of bundles or host folders,
// globs, a list on standard input) into one Job per host; Run analyzes
// the jobs in a worker pool, each in isolation, and keeps of each host
// only a bounded summary (Host): its counts, its findings, and a capped
// digest of its non-loopback connections (Conns); Summarize counts the
// findings per rule, what the affected hosts share, and matches both ends
// of connections across hosts (correlations); the writers render the
// summary as text, Markdown or JSON (schema tcpsnap.fleet/v1) and the
// hosts as NDJSON and Parquet tables.
//
// It returns data and prints nothing. It does not load snapshots itself:
// the analysis of one host is the caller's AnalyzeFunc (the front door's
// Load and Run), so this room imports only engine, report and model.
//
// Memory: the snapshots of at most Options.Workers hosts are alive at
// once; each finished host keeps its findings and at most MaxFlows
// connection flows, and its full JSON report goes to a spill file, not
// to memory.
package fleet
