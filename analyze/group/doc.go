// Package group aggregates a sample's sockets into the groups rules run
// over: the whole snapshot, each process, listener, local port and
// destination, with per-state counts, queues, timers, remotes and owners.
// It attributes sockets no listing assigned to a process (TIME_WAIT never
// is) to the listener's owner or to the process holding live connections
// to the same destination (InferOwners), and summarizes tables
// (Summarize). Cost follows the number of sockets: passes run on every
// core, lookups are constant time.
//
// Imports: model. Imported by engine, report and analyze.
//
// Recipe — a new per-group number for rules: a field or method on Group
// filled in add or addCount, documented in docs/rules.md (a test checks
// that every field and method is).
package group
