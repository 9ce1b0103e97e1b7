// Package model is the data every room shares: a Socket (128 bytes, no
// pointers: states and timers as bytes, names interned as Name, addresses
// inline as AddrPort, tcp_info in a side table), its State and Timer, an
// Endpoint as a listing prints it, the Listing one parser makes of one
// input, and the Snapshot of a host (samples, sockets, processes,
// settings, counters, sources and problems).
//
// It also keeps the small tools those types need: name interning,
// open-addressing tables keyed by packed IPv4 endpoints (IntTable,
// ApMap), byte-slice number parsing (Atoi) and Clip for messages.
//
// Imports: the standard library only. Every other room imports model.
//
// Recipe — a new socket attribute: add the field to Socket (keep it
// pointer-free; a string becomes a Name), fill it in the parsers that
// know it, print it in dump.go (the format goldens show it), and merge it
// in analyze's loader (enrich) where two listings describe one socket.
package model
