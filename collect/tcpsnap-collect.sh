#!/bin/sh
# tcpsnap-collect.sh: collect a host's TCP state into a tcpsnap bundle
# (format tcpsnap.bundle/v1, see collect/doc.go) for `tcpsnap analyze`.
#
# Usage: sh tcpsnap-collect.sh [-o FILE] [-n SAMPLES] [-i INTERVAL_SECONDS]
#                              [-t COMMAND_TIMEOUT_SECONDS] [-m MAX_FILE_BYTES]
#
# POSIX sh. Linux (ss, netstat, /proc), Solaris, AIX, FreeBSD and macOS
# (native netstat -an and the tunables). Safe to run on a sick host:
#  - never resolves names (-n everywhere; /proc is read directly) and never
#    looks up user or group names (ls -n; tar --numeric-owner where tar has
#    it, else the manifest says tar looked up the collector's own ids);
#  - never loads a kernel module: ss autoloads inet_diag/tcp_diag, so ss is
#    only run when they are loaded or built in, else /proc/net/tcp is used;
#  - read-only, every command under a time limit, every file under a size cap;
#  - works as non-root (collects less and says so in manifest.json).
# Output: ./tcpsnap-<host>-<UTC time>.tar.gz (or -o FILE), path printed.
# The bundle is written under a temporary name in the output's folder and
# moved into place only when complete; an interrupt (INT, TERM, HUP) or an
# error removes the work folder and the temporary file and leaves no bundle.

set -u
LC_ALL=C
export LC_ALL
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

VERSION="sh-1"
SAMPLES=2
INTERVAL=5
TIMEOUT=30
MAXFILE=134217728
OUT=""

usage() {
	echo "usage: $0 [-o FILE] [-n SAMPLES] [-i INTERVAL] [-t TIMEOUT] [-m MAX_FILE_BYTES]" >&2
	exit 80
}

isnum() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

while getopts "o:n:i:t:m:h" opt; do
	case $opt in
	o) OUT=$OPTARG ;;
	n) SAMPLES=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	m) MAXFILE=$OPTARG ;;
	*) usage ;;
	esac
done
for v in "$SAMPLES" "$INTERVAL" "$TIMEOUT" "$MAXFILE"; do
	isnum "$v" || usage
done
[ "$SAMPLES" -ge 1 ] || usage

umask 077
HOST=$(uname -n 2>/dev/null || hostname)
SAFEHOST=$(printf '%s' "$HOST" | tr -c 'A-Za-z0-9._-' '_')
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
BASE="tcpsnap-$SAFEHOST-$STAMP"
[ -n "$OUT" ] || OUT="./$BASE.tar.gz"
if [ -e "$OUT" ]; then
	echo "tcpsnap-collect: $OUT exists" >&2
	exit 2
fi

# Nothing is left behind but a whole bundle: the work folder and TMPOUT
# (the bundle's temporary name in OUT's folder) go on every exit, and
# background commands (KIDS) are stopped.
WORK=""
TMPOUT=""
KIDS=""
cleanup() {
	for k in $KIDS; do
		kill "$k" 2>/dev/null
	done
	[ -z "$TMPOUT" ] || rm -f "$TMPOUT"
	[ -z "$WORK" ] || rm -rf "$WORK"
}
# interrupted SIGNAL STATUS
# A trap runs in whatever redirections the interrupted function call had
# (run's stderr goes to a file), so it writes to fd 9: the script's own
# stderr, saved before anything is redirected.
exec 9>&2
interrupted() {
	echo "tcpsnap-collect: interrupted by SIG$1: no bundle written" >&9
	exit "$2"
}
trap cleanup EXIT
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'interrupted HUP 129' HUP
case $OUT in
*/*) OUTDIR=${OUT%/*} ;;
*) OUTDIR=. ;;
esac
[ -n "$OUTDIR" ] || OUTDIR=/
TMPOUT=$(mktemp "$OUTDIR/.${OUT##*/}.tmp-XXXXXX") || {
	TMPOUT=""
	echo "tcpsnap-collect: cannot create a file in $OUTDIR" >&2
	exit 2
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpsnap.XXXXXX") || {
	WORK=""
	exit 2
}
D="$WORK/$BASE"
mkdir -p "$D" || exit 2
SOURCES="$WORK/sources.json"
NOTES="$WORK/notes.json"
SAMPLESF="$WORK/samples.json"
: >"$SOURCES"
: >"$NOTES"
: >"$SAMPLESF"

case $(uname -s) in
Linux) OS=linux ;;
SunOS) OS=solaris ;;
AIX) OS=aix ;;
FreeBSD) OS=freebsd ;;
Darwin) OS=darwin ;;
*) OS=$(uname -s | tr '[:upper:]' '[:lower:]') ;;
esac

# json STRING: the string as a JSON string literal (first line only).
json() {
	printf '%s' "$1" | head -n 1 | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' |
		tr -d '\000-\037' | awk 'BEGIN{printf "\""} {printf "%s", $0} END{printf "\""}'
}

note() {
	[ -s "$NOTES" ] && printf ',\n' >>"$NOTES"
	printf '    %s' "$(json "$1")" >>"$NOTES"
}

now_s() { date -u +%s; }

# item PATH COMMAND FILE STATUS SECONDS BYTES TRUNCATED ERROR SAMPLE
item() {
	[ -s "$SOURCES" ] && printf ',\n' >>"$SOURCES"
	printf '    {"path": %s' "$(json "$1")" >>"$SOURCES"
	[ -n "$2" ] && printf ', "command": %s' "$(json "$2")" >>"$SOURCES"
	[ -n "$3" ] && printf ', "file": %s' "$(json "$3")" >>"$SOURCES"
	printf ', "exit_status": %d, "duration_ms": %d, "bytes": %d' "$4" "$(($5 * 1000))" "$6" >>"$SOURCES"
	[ "$7" = true ] && printf ', "truncated": true' >>"$SOURCES"
	[ -n "$8" ] && printf ', "error": %s' "$(json "$8")" >>"$SOURCES"
	printf ', "sample": %d}' "$9" >>"$SOURCES"
}

# cap FILE: cut FILE to MAXFILE bytes; prints true when it was cut.
cap() {
	size=$(wc -c <"$1" | tr -d ' ')
	if [ "$size" -gt "$MAXFILE" ]; then
		dd if="$1" of="$1.cut" bs=1024 count=$((MAXFILE / 1024)) 2>/dev/null
		mv "$1.cut" "$1"
		echo true
	else
		echo false
	fi
}

if command -v timeout >/dev/null 2>&1; then
	HAVE_TIMEOUT=1
else
	HAVE_TIMEOUT=0
fi

# bounded CMD ARGS...: run with the time limit, stdout and stderr as given.
# The command runs in the background so that an interrupt is handled at
# once (a shell runs traps only between foreground commands, but during a
# wait).
bounded() {
	if [ "$HAVE_TIMEOUT" = 1 ]; then
		timeout "$TIMEOUT" "$@" &
		bpid=$!
		KIDS=$bpid
		wait "$bpid"
		brc=$?
		KIDS=""
		return $brc
	fi
	"$@" &
	bpid=$!
	(sleep "$TIMEOUT" && kill "$bpid" 2>/dev/null) </dev/null >/dev/null 2>&1 &
	wpid=$!
	KIDS="$bpid $wpid"
	wait "$bpid"
	brc=$?
	kill "$wpid" 2>/dev/null
	KIDS=""
	return $brc
}

# run PATH SAMPLE KEEP_ON_ERROR CMD ARGS...: run a command into bundle PATH.
# Returns the command's status.
run() {
	rpath=$1
	rsample=$2
	rkeep=$3
	shift 3
	mkdir -p "$(dirname "$D/$rpath")"
	t0=$(now_s)
	bounded "$@" >"$D/$rpath" 2>"$WORK/stderr"
	rc=$?
	t1=$(now_s)
	err=""
	[ "$rc" -ne 0 ] && err="exit status $rc: $(head -n 1 "$WORK/stderr")"
	[ "$rc" -eq 124 ] && [ "$HAVE_TIMEOUT" = 1 ] && err="timed out after ${TIMEOUT}s"
	if [ "$rc" -ne 0 ] && { [ "$rkeep" = no ] || [ ! -s "$D/$rpath" ]; }; then
		rm -f "$D/$rpath"
		item "" "$*" "" "$rc" $((t1 - t0)) 0 false "$err" "$rsample"
		return "$rc"
	fi
	tr=$(cap "$D/$rpath")
	item "$rpath" "$*" "" "$rc" $((t1 - t0)) "$(wc -c <"$D/$rpath" | tr -d ' ')" "$tr" "$err" "$rsample"
	return "$rc"
}

# copy PATH SRC SAMPLE: copy a host file into bundle PATH.
copy() {
	if [ ! -r "$2" ]; then
		if [ -e "$2" ]; then
			item "" "" "$2" 0 0 0 false "permission denied" "$3"
		else
			item "" "" "$2" 0 0 0 false "not present" "$3"
		fi
		return 1
	fi
	mkdir -p "$(dirname "$D/$1")"
	cat "$2" >"$D/$1" 2>/dev/null
	tr=$(cap "$D/$1")
	item "$1" "" "$2" 0 0 "$(wc -c <"$D/$1" | tr -d ' ')" "$tr" "" "$3"
}

ROOT=false
[ "$(id -u)" = 0 ] && ROOT=true
[ "$ROOT" = true ] || note "not running as root: the pids and fds of other users' sockets are missing"
[ "$HAVE_TIMEOUT" = 1 ] || note "no timeout command: commands are bounded by a background watchdog"

# GNU tar and bsdtar store numeric owners and skip the owner-name lookups
# (NSS: LDAP, sssd) with --numeric-owner; busybox, Solaris and AIX tar lack
# it and look up the names of the collector's own uid and gid.
case $(tar --version 2>/dev/null | head -n 1) in
*"GNU tar"* | *bsdtar*) NUMERIC_OWNER=--numeric-owner ;;
*)
	NUMERIC_OWNER=""
	note "tar without --numeric-owner: tar looked up the user and group names of the collector's own uid and gid"
	;;
esac

# --- Linux --------------------------------------------------------------

# diag_safe: ss may run without autoloading inet_diag or tcp_diag.
diag_safe() {
	[ -e /proc/modules ] || {
		note "ss used: kernel without loadable modules (/proc/modules absent)"
		return 0
	}
	rel=$(uname -r)
	for m in inet_diag tcp_diag; do
		if grep "^$m " /proc/modules >/dev/null 2>&1; then
			continue
		fi
		if [ -d "/sys/module/$m" ]; then
			continue
		fi
		if grep "/$m.ko" "/lib/modules/$rel/modules.builtin" >/dev/null 2>&1; then
			continue
		fi
		note "$m not loaded: used /proc/net/tcp instead of ss to avoid loading a kernel module"
		return 1
	done
	return 0
}

# tcp_count: TCP sockets of this network namespace (sockstat inuse + tw).
tcp_count() {
	cat /proc/net/sockstat /proc/net/sockstat6 2>/dev/null | awk '
		$1 == "TCP:" || $1 == "TCP6:" { for (i = 2; i < NF; i += 2) if ($i == "inuse" || $i == "tw") n += $(i + 1) }
		END { print n + 0 }'
}

METHOD=""
SSOPT=""
linux_listing() {
	s=$1
	p="samples/$s"
	if [ -z "$METHOD" ]; then
		n=$(tcp_count)
		if [ "$n" -gt 50000 ]; then
			# ss and netstat with process columns take many seconds here; the
			# /proc copies and processes.json carry the same sockets and owners.
			METHOD=proc
			note "$n TCP sockets: read /proc/net/tcp and tcp6 and mapped owners from /proc/*/fd (processes.json) instead of running ss or netstat, which take many seconds on a host this busy"
		elif command -v ss >/dev/null 2>&1 && diag_safe; then
			for o in -tanpoeim -tanpoe -tanpo -tan; do
				if run "$p/ss-tanpoeim.txt" "$s" no ss "$o"; then
					METHOD=ss
					SSOPT=$o
					[ "$o" = -tanpoeim ] || note "ss rejected -tanpoeim: used ss $o"
					break
				fi
			done
		fi
		if [ -z "$METHOD" ]; then
			if command -v netstat >/dev/null 2>&1 && run "$p/netstat-antpo.txt" "$s" no netstat -antpo; then
				METHOD=netstat
			else
				METHOD=proc
				note "ss and netstat unavailable: the socket table is /proc/net/tcp{,6} alone (owners from /proc/*/fd)"
			fi
		fi
	else
		case $METHOD in
		ss) run "$p/ss-tanpoeim.txt" "$s" yes ss "$SSOPT" ;;
		netstat) run "$p/netstat-antpo.txt" "$s" yes netstat -antpo ;;
		esac
	fi
	[ "$METHOD" = ss ] && run "$p/ss-s.txt" "$s" yes ss -s
}

linux_sample() {
	s=$1
	linux_listing "$s"
	for f in tcp tcp6 snmp netstat sockstat sockstat6; do
		copy "samples/$s/proc/net/$f" "/proc/net/$f" "$s"
	done
	copy "samples/$s/proc/sys/net/netfilter/nf_conntrack_count" /proc/sys/net/netfilter/nf_conntrack_count "$s"
}

linux_host() {
	{
		for f in /proc/sys/net/ipv4/tcp_* /proc/sys/net/ipv4/ip_local_port_range \
			/proc/sys/net/ipv4/ip_local_reserved_ports /proc/sys/net/core/somaxconn \
			/proc/sys/net/core/netdev_max_backlog /proc/sys/net/netfilter/nf_conntrack_max \
			/proc/sys/net/netfilter/nf_conntrack_buckets /proc/sys/net/netfilter/nf_conntrack_count \
			/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_* /proc/sys/fs/file-nr \
			/proc/sys/fs/file-max /proc/sys/fs/nr_open /proc/sys/kernel/osrelease; do
			if [ ! -f "$f" ] || [ ! -r "$f" ]; then continue; fi
			v=$(tr '\n' ' ' <"$f" 2>/dev/null | sed 's/ *$//') || continue
			n=$(printf '%s' "${f#/proc/sys/}" | tr / .)
			printf '%s = %s\n' "$n" "$v"
		done
	} >"$D/sysctl.txt"
	item sysctl.txt "" /proc/sys 0 0 "$(wc -c <"$D/sysctl.txt" | tr -d ' ')" false "" -1
	copy uptime.txt /proc/uptime -1
	copy etc/nsswitch.conf /etc/nsswitch.conf -1
	copy etc/sysctl.conf /etc/sysctl.conf -1
	for f in /etc/sysctl.d/*.conf; do
		[ -f "$f" ] && copy "etc/sysctl.d/${f##*/}" "$f" -1
	done
}

# linux_processes: processes.json from the /proc/*/fd links (read with
# ls -ln, never opened), keeping sockets listed in /proc/net/tcp{,6}.
linux_processes() {
	t0=$(now_s)
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk 'NR > 0 && $1 != "sl" && $10 != "" && $10 != 0 {print $10}' >"$WORK/inodes"
	# ls -ln reads the links without following them, and prints owners as
	# numbers: no user or group name lookups.
	# shellcheck disable=SC2012
	ls -ln /proc/[0-9]*/fd/ 2>/dev/null |
		awk -v inofile="$WORK/inodes" '
		BEGIN { while ((getline l < inofile) > 0) tcp[l] = 1 }
		/^\/proc\/[0-9]+\/fd\/?:$/ { flush(); split($0, a, "/"); pid = a[3]; fds = 0; socks = ""; next }
		/^total / { next }
		pid != "" && NF > 0 {
			fds++
			if (match($0, /socket:\[[0-9]+\]$/)) {
				ino = substr($0, RSTART + 8, RLENGTH - 9)
				if (ino in tcp) socks = socks (socks == "" ? "" : " ") ino
			}
		}
		function flush() { if (pid != "" && socks != "") print pid, fds, socks; pid = "" }
		END { flush() }' >"$WORK/owners"
	{
		printf '['
		first=1
		while read -r pid fds socks; do
			[ -d "/proc/$pid" ] || continue
			comm=$(cat "/proc/$pid/comm" 2>/dev/null)
			cmd=$(tr '\000' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c 1-256 | sed 's/ *$//')
			uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
			lim=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits" 2>/dev/null)
			isnum "$uid" || uid=-1
			isnum "$lim" || lim=-1
			# shellcheck disable=SC2086 # split the inode list on purpose
			inos=$(printf '%s\n' $socks | sort -n | tr '\n' ',' | sed 's/,$//')
			[ $first = 1 ] || printf ','
			first=0
			printf '\n {"pid": %d, "name": %s, "cmdline": %s, "uid": %d, "fds": %d, "fd_limit": %d, "socket_inodes": [%s]}' \
				"$pid" "$(json "$comm")" "$(json "$cmd")" "$uid" "$fds" "$lim" "$inos"
		done <"$WORK/owners"
		printf '\n]\n'
	} >"$D/processes.json"
	t1=$(now_s)
	item processes.json "" "/proc/*/fd" 0 $((t1 - t0)) "$(wc -c <"$D/processes.json" | tr -d ' ')" false "" -1
}

# --- Solaris, AIX, FreeBSD, macOS ----------------------------------------

other_sample() {
	s=$1
	p="samples/$s"
	case $OS in
	solaris)
		run "$p/netstat-an.txt" "$s" yes netstat -an -P tcp
		run "$p/netstat-s.txt" "$s" yes netstat -s -P tcp
		;;
	aix)
		run "$p/netstat-an.txt" "$s" yes netstat -an
		run "$p/netstat-s.txt" "$s" yes netstat -s -p tcp
		;;
	darwin)
		run "$p/netstat-an.txt" "$s" yes netstat -anv -p tcp
		run "$p/netstat-s.txt" "$s" yes netstat -s -p tcp
		run "$p/netstat-Lan.txt" "$s" yes netstat -Lan
		;;
	*)
		run "$p/netstat-an.txt" "$s" yes netstat -an -p tcp
		run "$p/netstat-s.txt" "$s" yes netstat -s -p tcp
		run "$p/netstat-Lan.txt" "$s" yes netstat -Lan
		;;
	esac
}

other_host() {
	case $OS in
	solaris)
		for n in tcp_time_wait_interval tcp_fin_wait_2_flush_interval tcp_conn_req_max_q \
			tcp_conn_req_max_q0 tcp_smallest_anon_port tcp_largest_anon_port \
			tcp_keepalive_interval tcp_ip_abort_interval; do
			v=$(bounded ndd -get /dev/tcp "$n" 2>/dev/null) && printf '%s = %s\n' "$n" "$v"
		done >"$D/sysctl.txt"
		item sysctl.txt "ndd -get /dev/tcp" "" 0 0 "$(wc -c <"$D/sysctl.txt" | tr -d ' ')" false "" -1
		copy etc/nsswitch.conf /etc/nsswitch.conf -1
		;;
	aix)
		run sysctl.txt -1 yes no -a
		copy etc/netsvc.conf /etc/netsvc.conf -1
		;;
	*)
		# BSD sysctl prints "name: value"; the bundle wants "name = value".
		if [ "$OS" = darwin ]; then
			set -- net.inet.tcp net.inet.ip.portrange kern.ipc.somaxconn kern.maxfiles kern.maxfilesperproc
		else
			set -- net.inet.tcp net.inet.ip.portrange kern.ipc.somaxconn kern.ipc.soacceptqueue kern.maxfiles
		fi
		bounded sysctl "$@" 2>/dev/null | sed -n 's/^\([A-Za-z0-9._-]*\): \(.*\)$/\1 = \2/p' >"$D/sysctl.txt"
		item sysctl.txt "sysctl $*" "" 0 0 "$(wc -c <"$D/sysctl.txt" | tr -d ' ')" false "" -1
		copy etc/nsswitch.conf /etc/nsswitch.conf -1
		;;
	esac
}

# --- main ---------------------------------------------------------------

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T0=$(now_s)
UP0=""
[ -r /proc/uptime ] && UP0=$(awk '{print $1}' /proc/uptime)

run uname.txt -1 yes uname -a
if [ "$OS" = linux ]; then
	note "platform linux (sh): per sample ss -tanpoeim (or netstat -antpo), ss -s, /proc/net/{tcp,tcp6,snmp,netstat,sockstat,sockstat6}, nf_conntrack_count; once sysctl.txt, /etc/nsswitch.conf, /etc/sysctl.conf, /etc/sysctl.d/*.conf, uname -a, /proc/uptime, processes.json"
	linux_host
else
	note "platform $OS (sh): per sample native netstat -an and netstat -s; once tunables (ndd, sysctl or no -a) as sysctl.txt, uname -a, name-service configuration"
	other_host
fi

i=0
while [ "$i" -lt "$SAMPLES" ]; do
	if [ "$i" -gt 0 ]; then
		sleep "$INTERVAL" &
		KIDS=$!
		wait "$KIDS"
		KIDS=""
	fi
	ST=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	if [ -n "$UP0" ]; then
		EL=$(awk -v u0="$UP0" '{printf "%.2f", $1 - u0}' /proc/uptime)
	else
		EL=$(($(now_s) - T0))
	fi
	[ -s "$SAMPLESF" ] && printf ',\n' >>"$SAMPLESF"
	printf '    {"index": %d, "dir": "samples/%d", "time": "%s", "elapsed_seconds": %s}' "$i" "$i" "$ST" "$EL" >>"$SAMPLESF"
	if [ "$OS" = linux ]; then
		linux_sample "$i"
	else
		other_sample "$i"
	fi
	i=$((i + 1))
done
[ "$OS" = linux ] && linux_processes

UPTIME=0
[ -r /proc/uptime ] && UPTIME=$(awk '{print $1}' /proc/uptime)
END=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
	printf '{\n  "format": "tcpsnap.bundle/v1",\n  "version": %s,\n' "$(json "$VERSION")"
	printf '  "host": {"hostname": %s, "os": %s, "kernel": %s, "arch": %s, "uptime_seconds": %s},\n' \
		"$(json "$HOST")" "$(json "$OS")" "$(json "$(uname -r)")" "$(json "$(uname -m)")" "$UPTIME"
	printf '  "start": "%s",\n  "end": "%s",\n  "root": %s,\n' "$START" "$END" "$ROOT"
	printf '  "samples": [\n'
	cat "$SAMPLESF"
	printf '\n  ],\n  "sources": [\n'
	cat "$SOURCES"
	printf '\n  ],\n  "notes": [\n'
	cat "$NOTES"
	printf '\n  ]\n}\n'
} >"$D/manifest.json"

# A tar failure is recorded in a file: the pipeline's status is gzip's.
# shellcheck disable=SC2086 # NUMERIC_OWNER is empty or one option
if ! { (cd "$WORK" && tar $NUMERIC_OWNER -cf - "$BASE") || : >"$WORK/tar-failed"; } |
	gzip -c >"$TMPOUT" || [ -e "$WORK/tar-failed" ]; then
	echo "tcpsnap-collect: writing $TMPOUT failed: no bundle written" >&2
	exit 2
fi
# The bundle is whole: from here the script finishes. ln moves it into place
# without replacing a file that appeared at OUT meanwhile; where the file
# system has no hard links, mv after checking again.
trap '' INT TERM HUP
if ln "$TMPOUT" "$OUT" 2>/dev/null; then
	rm -f "$TMPOUT"
elif [ -e "$OUT" ]; then
	echo "tcpsnap-collect: $OUT exists: no bundle written" >&2
	exit 2
elif ! mv "$TMPOUT" "$OUT"; then
	echo "tcpsnap-collect: moving $TMPOUT to $OUT failed: no bundle written" >&2
	exit 2
fi
TMPOUT=""
echo "$OUT"
