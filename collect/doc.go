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
//	sysctl.txt                        kernel settings, "name = value" lines (sysctl -a style; on
//	                                  Windows the Tcpip\Parameters registry values, "TcpTimedWaitDelay = 30")
//	processes.json                    []Process: socket owners with fd counts and limits
//	etc/nsswitch.conf                 name-service configuration (the sunrpc story)
//	etc/netsvc.conf                   AIX name-service configuration (sh script on AIX)
//	etc/sysctl.conf, etc/sysctl.d/*.conf   Linux persistent kernel settings
//	uname.txt                         uname -a (generated from /proc/sys/kernel on Linux;
//	                                  Win32_OperatingSystem from the PowerShell script)
//	uptime.txt                        /proc/uptime (Linux)
//	netsh-dynamicport.txt             Windows netsh int ipv4 show dynamicport tcp (the ephemeral range)
//	netsh-excludedportrange.txt       Windows netsh int ipv4 show excludedportrange protocol=tcp
//	samples/N/ss-tanpoeim.txt         ss -tanpoeim (or fewer options; see the manifest)
//	samples/N/netstat-antpo.txt       netstat -antpo, when ss is missing or unsafe
//	samples/N/ss-s.txt                ss -s
//	samples/N/proc/net/tcp, tcp6      copies of /proc/net/tcp{,6}
//	samples/N/proc/net/snmp, netstat  counters
//	samples/N/proc/net/sockstat, sockstat6
//	samples/N/proc/sys/net/netfilter/nf_conntrack_count   (when present)
//	samples/N/netstat-ano.txt         Windows netstat -ano
//	samples/N/get-nettcpconnection.csv   Windows Get-NetTCPConnection (PowerShell script)
//	samples/N/netstat-an.txt          native netstat -an (macOS, FreeBSD, Solaris, AIX)
//	samples/N/netstat-s.txt           netstat -s TCP counters (every system but Linux)
//	samples/N/netstat-Lan.txt         macOS and FreeBSD listen queues
//	samples/N/sockstat-46.txt         FreeBSD sockstat -46 -n (socket owners; Go collector)
//
// Sample N is the N-th pass (0-based); the manifest records each pass's time.
// Files outside samples/ describe the host and belong to every sample. The
// analyzer detects every file's format by content, so a file may also be
// named otherwise; the names above are what the collectors write.
//
// # Redaction
//
// With Options.Redact every text entry goes through a Redactor (see its
// documentation for the mapping) and the manifest's host name is
// RedactedHost. Addresses other than loopback and unspecified, and the
// host's names and domains, are replaced by keyed pseudonyms in every
// encoding the sources use (dotted and IPv6 text, IPv4-mapped IPv6,
// /proc/net/tcp{,6} hex, reverse-DNS names, addresses written into host
// names); the key is random per collection and never written, so the
// pseudonyms cannot be reversed. Classes, shared /24 and /64 subnets and
// ports survive, which is what the analyzer needs. Command lines in
// processes.json are cut to the process name.
package collect
