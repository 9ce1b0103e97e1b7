// Package linux parses Linux listings: iproute2 ss (every flag
// combination, -s summaries), net-tools netstat, /proc/net/tcp and tcp6,
// /proc/net/snmp, netstat and nstat counters, /proc/net/sockstat, and
// sysctl settings.
//
// Imports: parse and model. Registered in analyze/formats, which also
// holds these parsers' tests and testdata; its doc.go has the recipe.
package linux
