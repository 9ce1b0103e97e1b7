// Package collect gathers a host's TCP state into a bundle, and defines the
// bundle: the contract between the collector (this package, the
// tcpsnap-collect.sh and tcpsnap-collect.ps1 scripts) and the analyzer.
// It imports the standard library only.
//
// # Bundle layout (format tcpsnap.bundle/v1)
//
// A bundle is a gzip-compressed tar (or, from the PowerShell script, a zip)
// whose entries may sit under one top-level folder. Paths:
//
//	manifest.json                     Manifest: host, times, samples, every source attempted
//	sysctl.txt                        kernel settings, "name = value" lines (sysctl -a style)
//	processes.json                    []Process: socket owners with fd counts and limits
//	etc/nsswitch.conf                 name-service configuration (the sunrpc story)
//	uname.txt, uptime.txt             uname -a, /proc/uptime
//	samples/N/ss-tanpoeim.txt         ss -tanpoeim (or fewer options; see the manifest)
//	samples/N/netstat-antpo.txt       netstat -antpo, when ss is missing or unsafe
//	samples/N/ss-s.txt                ss -s
//	samples/N/proc/net/tcp, tcp6      copies of /proc/net/tcp{,6}
//	samples/N/proc/net/snmp, netstat  counters
//	samples/N/proc/net/sockstat, sockstat6
//	samples/N/proc/sys/net/netfilter/nf_conntrack_count   (when present)
//	samples/N/netstat-ano.txt         Windows netstat -ano (PowerShell script)
//	samples/N/netstat-an.txt          native netstat -an (sh script on Solaris, AIX, BSD, macOS)
//
// Sample N is the N-th pass (0-based); the manifest records each pass's time.
// Files outside samples/ describe the host and belong to every sample. The
// analyzer detects every file's format by content, so a file may also be
// named otherwise; the names above are what the collectors write.
package collect
