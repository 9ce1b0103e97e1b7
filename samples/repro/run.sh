#!/usr/bin/env bash
# Reproduce one TCP socket-state pathology in a throwaway network namespace and
# capture it the way the tcpsnap collector would.
#
#   sudo samples/repro/run.sh SCENARIO OUTDIR
#
# Scenarios: closewait-leak timewait-churn server-closes-first port-exhaustion
#            accept-queue-full rpc-churn stalled-reader healthy
#            orphan-finwait2 syn-sent-dropped syn-flood-small-backlog
#            dead-peer-queued tw-bucket-overflow closewait-two-samples
#            healthy-partial
#
# Needs root, iproute2 (ip, ss), net-tools (netstat), procps (sysctl) and Go.
# All traffic stays on loopback inside the namespace tcpsnap-<scenario>-<pid>,
# or (scenarios with a remote peer) on a veth pair between it and a second
# namespace tcpsnap-<scenario>-<pid>-peer, addressed 192.0.2.1/24 and
# 192.0.2.2/24 (documentation range); only the first namespace is captured.
# sysctls are only written inside that namespace (fs.* are read, never written).
# Every peer is started by pid, has a hard -duration deadline, and is killed by
# pid on exit; the namespace is deleted on exit, error or interrupt.
set -euo pipefail

SCENARIOS="closewait-leak timewait-churn server-closes-first port-exhaustion accept-queue-full rpc-churn stalled-reader healthy orphan-finwait2 syn-sent-dropped syn-flood-small-backlog dead-peer-queued tw-bucket-overflow closewait-two-samples healthy-partial"

die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '[%5.1fs] %s\n' "$(( SECONDS - START ))" "$*" >&2; }

[[ $# -eq 2 ]] || die "usage: $0 SCENARIO OUTDIR   (scenarios: $SCENARIOS)"
SCENARIO=$1
OUTDIR=$2
[[ " $SCENARIOS " == *" $SCENARIO "* ]] || die "unknown scenario '$SCENARIO' (one of: $SCENARIOS)"
[[ $EUID -eq 0 ]] || die "needs root (ip netns, sysctl inside the namespace)"
GO=${GO:-go}
for t in ip ss netstat sysctl "$GO"; do
	command -v "$t" >/dev/null || die "missing tool: $t"
done

START=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NS="tcpsnap-${SCENARIO}-$$"
NS2="$NS-peer"      # second namespace, only for scenarios with a remote peer
BUDGET=50           # seconds after which waiting gives up (cleanup needs < 10 s more)
PEER_DURATION=50s   # hard deadline of every peer: they end by themselves even if we die
PIDS=()
NAMES=()
ARGS=()
PEER_NS=()          # namespace of each peer
WORK=""
NS_CREATED=0
NS2_CREATED=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid i alive
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do   # at most 5 s
		alive=0
		for pid in "${PIDS[@]}"; do
			if [[ -e /proc/$pid ]] && ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; then
				alive=1
			fi
		done
		[[ $alive -eq 0 ]] && break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# Deleting a namespace also deletes the veth end inside it (and so the pair).
	if [[ $NS2_CREATED -eq 1 ]]; then
		ip netns del "$NS2" 2>/dev/null || echo "run.sh: could not delete namespace $NS2" >&2
	fi
	if [[ $NS_CREATED -eq 1 ]]; then
		ip netns del "$NS" 2>/dev/null || echo "run.sh: could not delete namespace $NS" >&2
	fi
	[[ -n $WORK ]] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { ip netns exec "$NS" "$@"; }
nsx2() { ip netns exec "$NS2" "$@"; }
# Capture commands only switch the network namespace (nsenter) and keep the
# host's mounts: `ip netns exec` remounts /sys, which hides the cgroup2 mount
# and makes `ss -e` print "Failed to find cgroup2 mount" once per socket.
if command -v nsenter >/dev/null; then
	capx() { nsenter --net="/run/netns/$NS" "$@"; }
else
	capx() { nsx "$@"; }
fi

# start_peer NOFILE NAME SUBCOMMAND ARGS... : runs the peer binary as NAME inside the namespace.
start_peer() { start_peer_in "$NS" "$@"; }
# start_remote_peer NOFILE NAME SUBCOMMAND ARGS... : the same in the second namespace.
start_remote_peer() { start_peer_in "$NS2" "$@"; }
start_peer_in() {
	local ns=$1 nofile=$2 name=$3
	shift 3
	ln -sf "$WORK/peer" "$WORK/bin/$name"
	local log="$WORK/log/$name.${#PIDS[@]}.log"
	# ulimit sets soft and hard RLIMIT_NOFILE (the Go runtime raises soft to hard).
	# `ip netns exec` execs in place, so $! is the peer's own pid.
	( ulimit -n "$nofile"; exec ip netns exec "$ns" "$WORK/bin/$name" "$@" -duration "$PEER_DURATION" ) \
		>"$log" 2>&1 </dev/null &
	PIDS+=("$!")
	NAMES+=("$name")
	ARGS+=("$*")
	PEER_NS+=("$ns")
	say "started $name pid $! in $ns : $*"
}

# wait_until DESC TIMEOUT_S CMD... : poll (every 0.2 s, bounded) until CMD succeeds.
wait_until() {
	local desc=$1 timeout=$2 i why
	shift 2
	why="timeout after ${timeout}s"
	for i in $(seq 1 $(( timeout * 5 ))); do
		# Overall budget: a scenario (build included) must end well within 60 s.
		if (( SECONDS - START >= BUDGET )); then
			why="scenario budget of ${BUDGET}s used up"
			break
		fi
		if "$@"; then
			say "reached: $desc"
			return 0
		fi
		sleep 0.2
	done
	echo "run.sh: state counts now:" >&2
	nsx ss -Htan | awk '{n[$1]++} END {for (s in n) print "  " s, n[s]}' >&2 || true
	tail -n 3 "$WORK"/log/*.log >&2 || true
	die "$why waiting for: $desc"
}

# count STATE [ss filter...] : number of sockets in STATE inside the namespace.
count() {
	local st=$1
	shift
	nsx ss -Htan state "$st" "$@" | wc -l
}
listening() { [[ $(nsx ss -Hltn "sport = :$1" | wc -l) -ge 1 ]]; }
remote_listening() { [[ $(nsx2 ss -Hltn "sport = :$1" | wc -l) -ge 1 ]]; }
# retrans_atleast N R STATE [filter...] : at least N sockets in STATE whose timer shows >= R retransmits.
retrans_atleast() {
	local n=$1 r=$2
	shift 2
	[[ $(nsx ss -Htano state "$@" | grep -oE 'timer:\(on,[^,]*,[0-9]+\)' | awk -F'[,)]' -v r="$r" '$3 >= r' | wc -l) -ge $n ]]
}
wait_listen() { local p; for p; do wait_until "listener on :$p" 10 listening "$p"; done; }
atleast() { local n=$1; shift; [[ $(count "$@") -ge $n ]]; }
log_has() { grep -q -- "$2" "$WORK"/log/"$1".*.log 2>/dev/null; }
counter() { # counter FILE PREFIX NAME : a value from /proc/net/snmp|netstat in the namespace
	nsx awk -v p="$2:" -v n="$3" '$1==p { if (!h) { for (i=2;i<=NF;i++) k[i]=$i; h=1 } else { for (i=2;i<=NF;i++) if (k[i]==n) print $i; h=0 } }' "/proc/net/$1"
}
counter_in() { # counter_in FILE PREFIX NAME : the same from a captured copy
	awk -v p="$2:" -v n="$3" '$1==p { if (!h) { for (i=2;i<=NF;i++) k[i]=$i; h=1 } else { for (i=2;i<=NF;i++) if (k[i]==n) print $i; h=0 } }' "$1"
}
peers_alive() {
	local pid
	for pid in "${PIDS[@]}"; do
		[[ -e /proc/$pid ]] || die "peer pid $pid died early; see logs"
	done
}

# ---------------------------------------------------------------- setup
WORK=$(mktemp -d /tmp/tcpsnap-repro.XXXXXX)
mkdir -p "$WORK/bin" "$WORK/log"
say "building peer"
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$WORK/peer" ./samples/repro/peer)

ip netns add "$NS"
NS_CREATED=1
nsx ip link set lo up
say "namespace $NS created"

SYSCTL_SET=()
set_sysctl() { nsx sysctl -q -w "$1=$2"; SYSCTL_SET+=("$1 = $2"); }

# make_remote: a second namespace NS2 joined to NS by a veth pair,
# NS veth0 192.0.2.1/24 <-> NS2 veth1 192.0.2.2/24. Both ends get permanent
# neighbour entries for each other, so no ARP is needed and a scenario can
# re-point one to an unused MAC to make packets vanish.
NET_NOTES=()
make_remote() {
	ip netns add "$NS2"
	NS2_CREATED=1
	ip -n "$NS2" link set lo up
	ip -n "$NS" link add veth0 type veth peer name veth1 netns "$NS2"
	ip -n "$NS" addr add 192.0.2.1/24 dev veth0
	ip -n "$NS2" addr add 192.0.2.2/24 dev veth1
	ip -n "$NS" link set veth0 up
	ip -n "$NS2" link set veth1 up
	local mac0 mac1
	mac0=$(ip -n "$NS" -br link show dev veth0 | awk '{print $3}')
	mac1=$(ip -n "$NS2" -br link show dev veth1 | awk '{print $3}')
	ip -n "$NS" neigh replace 192.0.2.2 lladdr "$mac1" dev veth0 nud permanent
	ip -n "$NS2" neigh replace 192.0.2.1 lladdr "$mac0" dev veth1 nud permanent
	NET_NOTES+=("veth pair: $NS veth0 192.0.2.1/24 ($mac0) <-> $NS2 veth1 192.0.2.2/24 ($mac1), permanent neighbour entries both ways")
	say "namespace $NS2 created, veth 192.0.2.1 <-> 192.0.2.2"
}
# blackhole IP : in NS, send packets for IP to an unused MAC (they are dropped by the receiver).
blackhole() {
	ip -n "$NS" neigh replace "$1" lladdr 02:00:00:00:00:99 dev veth0 nud permanent
	NET_NOTES+=("in $NS: ip neigh replace $1 lladdr 02:00:00:00:00:99 dev veth0 nud permanent (packets to $1 go to an unused MAC and are dropped)")
}

DESCRIPTION=""
NSSWITCH=""
SAMPLES=1       # two-sample scenarios: samples/0 and samples/1 plus manifest.json
SAMPLE_GAP=0    # seconds between the two samples
case $SCENARIO in
closewait-leak)
	DESCRIPTION="P12 CLOSE_WAIT leak: leaky-server on :8443 reads each request until EOF but never calls close(); every 10th connection is never read at all. loadgen opened and closed 400 connections (client closes first)."
	start_peer 1024 leaky-server leak-server -addr :8443 -unread-every 10 -max-conns 1000
	wait_listen 8443
	start_peer 4096 loadgen client -mode short -n 400 -interval 5ms -addr 127.0.0.1:8443
	wait_until "400 CLOSE-WAIT" 25 atleast 400 close-wait
	sleep 1
	;;
timewait-churn)
	DESCRIPTION="P01/P06 loopback connection churn: apiclient opens and closes 2000 short connections to pgserver on 127.0.0.1:5432 (client closes first, no pooling) while holding 2 long-lived connections to the same destination. Default sysctls of a new namespace."
	start_peer 4096 pgserver echo-server -addr :5432
	wait_listen 5432
	start_peer 4096 apiclient client -mode short -keep 2 -n 2000 -interval 2ms -addr 127.0.0.1:5432
	wait_until "apiclient finished its churn" 30 log_has apiclient "short connections:"
	wait_until "1800 TIME-WAIT to :5432" 10 atleast 1800 time-wait dport = :5432
	;;
server-closes-first)
	DESCRIPTION="P03 server-side TIME_WAIT: webserver on :8080 answers one HTTP/1.0 request per connection and closes first; loadgen sent 1000 requests, one connection each."
	start_peer 4096 webserver close-server -addr :8080
	wait_listen 8080
	start_peer 4096 loadgen client -mode http -n 1000 -interval 3ms -addr 127.0.0.1:8080
	wait_until "loadgen finished" 30 log_has loadgen "http connections:"
	# Not all 1000: a new connection whose port pair matches a TIME_WAIT the
	# server holds takes it over (the kernel accepts the SYN), and on a busy
	# machine the client's port choice repeats a few dozen times.
	wait_until "900 server-side TIME-WAIT on :8080" 10 atleast 900 time-wait sport = :8080
	;;
port-exhaustion)
	DESCRIPTION="P01 ephemeral-port exhaustion toward one destination: ip_local_port_range narrowed to 40000-40099 (100 ports) and tcp_tw_reuse=0 inside the namespace; batchjob holds 60 connections to cachesrv 127.0.0.1:6379 and then opens/closes short connections (client closes first) until connect() fails with EADDRNOTAVAIL."
	set_sysctl net.ipv4.ip_local_port_range "40000 40099"
	set_sysctl net.ipv4.tcp_tw_reuse 0
	start_peer 4096 cachesrv echo-server -addr :6379
	wait_listen 6379
	start_peer 4096 batchjob client -mode short -keep 60 -n 300 -interval 20ms -addr 127.0.0.1:6379
	wait_until "batchjob finished" 30 log_has batchjob "short connections:"
	wait_until "batchjob saw EADDRNOTAVAIL" 5 log_has batchjob "error-count EADDRNOTAVAIL"
	;;
accept-queue-full)
	DESCRIPTION="P16 accept-queue overflow: slow-app listens on :9000 with backlog 4 and never calls accept(); loadgen starts 20 connections to 127.0.0.1:9000 (dial timeout 60 s), later ones stay in SYN-SENT while their SYNs are dropped."
	start_peer 4096 slow-app backlog-server -addr :9000 -backlog 4
	wait_listen 9000
	start_peer 4096 loadgen client -mode hold -n 20 -interval 50ms -dial-timeout 60s -addr 127.0.0.1:9000
	wait_until "10 SYN-SENT to :9000" 15 atleast 10 syn-sent dport = :9000
	overflow_gt() { [[ $(counter netstat TcpExt ListenOverflows) -gt "$1" ]]; }
	wait_until "ListenOverflows > 20" 15 overflow_gt 20
	sleep 2
	;;
rpc-churn)
	DESCRIPTION="P05 loopback TIME_WAIT to sunrpc: rpcbind listens on 127.0.0.1:111; nislookup (standing in for a name lookup through NIS, as netstat without -n does with 'hosts: files nis') made 800 short connect/close calls to it (client closes first) and then went idle, holding no connection to :111. etc/nsswitch.conf in this capture is the scenario's synthetic host config, not the build machine's."
	NSSWITCH=1
	start_peer 4096 rpcbind echo-server -addr 127.0.0.1:111
	wait_listen 111
	start_peer 4096 nislookup client -mode short -n 800 -interval 3ms -addr 127.0.0.1:111
	wait_until "nislookup finished" 30 log_has nislookup "short connections:"
	wait_until "700 TIME-WAIT to :111" 10 atleast 700 time-wait dport = :111
	;;
stalled-reader)
	DESCRIPTION="P24/P25 stalled receiver: slow-reader on :7000 accepts and never reads; producer opened 12 connections and wrote to each until its send buffer was full (write blocked for 1.5 s)."
	start_peer 4096 slow-reader sink-server -addr :7000
	wait_listen 7000
	start_peer 4096 producer client -mode fill -n 12 -fill-timeout 1500ms -addr 127.0.0.1:7000
	wait_until "producer send buffers full" 30 log_has producer "fill connections:"
	big_recvq() { [[ $(nsx ss -Htan state established '( sport = :7000 )' | awk '$1 >= 65536' | wc -l) -ge 12 ]]; }
	wait_until "12 server sockets with Recv-Q >= 64 KiB" 5 big_recvq
	;;
healthy | healthy-partial)
	DESCRIPTION="Baseline, nothing wrong: webserver on :8080, pgserver on 127.0.0.1:5432 and metrics on [::1]:9100 (all close after the client); apiclient holds 4 pooled connections to pgserver and made 3 short ones (3 TIME_WAIT), frontend holds 3 connections to webserver, scraper holds 2 to metrics over ::1."
	start_peer 4096 webserver echo-server -addr :8080
	start_peer 4096 pgserver echo-server -addr 127.0.0.1:5432
	start_peer 4096 metrics echo-server -addr '[::1]:9100'
	wait_listen 8080 5432 9100
	start_peer 4096 apiclient client -mode short -keep 4 -n 3 -interval 100ms -addr 127.0.0.1:5432
	start_peer 4096 frontend client -mode hold -n 3 -addr 127.0.0.1:8080
	start_peer 4096 scraper client -mode hold -n 2 -addr '[::1]:9100'
	wait_until "apiclient finished" 10 log_has apiclient "short connections:"
	wait_until "18 ESTAB and 3 TIME-WAIT" 10 eval 'atleast 18 established && atleast 3 time-wait'
	sleep 1
	;;
orphan-finwait2)
	DESCRIPTION="Orphaned FIN_WAIT2 on the side that closes first: leaky-backend (in the second namespace $NS2, not captured) on 192.0.2.2:8443 reads each connection until EOF and never closes (its sockets stay in CLOSE_WAIT there); apiclient in the captured namespace opened and closed 600 connections to it, so this host keeps 600 orphaned FIN_WAIT2 sockets (timer timewait, no owner) until tcp_fin_timeout."
	make_remote
	start_remote_peer 4096 leaky-backend leak-server -addr 192.0.2.2:8443 -max-conns 1000
	wait_until "listener on 192.0.2.2:8443" 10 remote_listening 8443
	start_peer 4096 apiclient client -mode short -n 600 -interval 3ms -addr 192.0.2.2:8443
	wait_until "apiclient finished" 30 log_has apiclient "short connections:"
	wait_until "580 FIN-WAIT-2 to 192.0.2.2:8443" 10 atleast 580 fin-wait-2 dst 192.0.2.2
	;;
syn-sent-dropped)
	DESCRIPTION="SYNs silently dropped: 192.0.2.99 is on the veth subnet with a permanent neighbour entry pointing to an unused MAC, so SYNs to it leave and are discarded by the other end (no RST, no ICMP). payments starts 20 connections to 192.0.2.99:5432 (dial timeout 60 s); they stay in SYN-SENT, retransmitting."
	make_remote
	blackhole 192.0.2.99
	start_peer 4096 payments client -mode hold -n 20 -interval 20ms -dial-timeout 60s -addr 192.0.2.99:5432
	wait_until "20 SYN-SENT to 192.0.2.99 with >= 2 SYN retransmits" 15 retrans_atleast 20 2 syn-sent dst 192.0.2.99
	;;
syn-flood-small-backlog)
	DESCRIPTION="Half-open connections on a listener with a tiny backlog: authsvc listens on :9443 with backlog 2 (it never needs to accept: no handshake completes). 60 clients in the second namespace $NS2 (not captured) connect to 192.0.2.1:9443 every 100 ms, but the SYN-ACKs never reach them (the captured namespace's neighbour entry for 192.0.2.2 points to an unused MAC), so the SYN queue stays full of SYN-RECV and further SYNs (and the clients' SYN retransmits) are answered with syncookies (tcp_syncookies = 1, the default). Two samples."
	make_remote
	blackhole 192.0.2.2
	start_peer 4096 authsvc backlog-server -addr :9443 -backlog 2
	wait_listen 9443
	start_remote_peer 4096 webclient client -mode hold -n 60 -interval 100ms -dial-timeout 40s -addr 192.0.2.1:9443
	cookies_gt() { [[ $(counter netstat TcpExt SyncookiesSent) -gt "$1" ]]; }
	wait_until "SyncookiesSent > 10" 15 cookies_gt 10
	wait_until "2 SYN-RECV on :9443" 5 atleast 2 syn-recv sport = :9443
	SAMPLES=2
	SAMPLE_GAP=3
	;;
dead-peer-queued)
	DESCRIPTION="Peer vanished with data queued: orderfeed opened 12 connections to backend on 192.0.2.2:6000 (second namespace $NS2, not captured; SO_SNDBUF 1 MiB); then the backend's interface went down (ip link set veth1 down in $NS2) and orderfeed wrote 256 KiB to each connection. Nothing is acknowledged any more: Send-Q 262144 on each socket, retransmission timer backing off."
	make_remote
	start_remote_peer 4096 backend echo-server -addr 192.0.2.2:6000
	wait_until "listener on 192.0.2.2:6000" 10 remote_listening 6000
	start_peer 4096 orderfeed client -mode queue -n 12 -interval 10ms -sndbuf 1048576 -write-bytes 262144 -addr 192.0.2.2:6000
	FEED_PID=${PIDS[-1]}
	wait_until "orderfeed holds its 12 connections" 10 log_has orderfeed "waiting for SIGUSR1"
	ip -n "$NS2" link set veth1 down
	NET_NOTES+=("in $NS2: ip link set veth1 down after the 12 connections were established (the peer vanishes)")
	say "backend interface down; telling orderfeed to write"
	kill -USR1 "$FEED_PID"
	wait_until "orderfeed wrote" 5 log_has orderfeed "after SIGUSR1"
	wait_until "12 connections to 192.0.2.2 with >= 5 retransmits" 20 retrans_atleast 12 5 established dst 192.0.2.2
	;;
tw-bucket-overflow)
	DESCRIPTION="TIME_WAIT table full: net.ipv4.tcp_max_tw_buckets = 64 inside the namespace (lowered by hand, as tuning guides suggest); apiclient opens and closes 3000 short connections to pgserver on 127.0.0.1:5432 (client closes first), so the TIME_WAIT count is pinned at 64 and every further close skips TIME_WAIT (TcpExt.TCPTimeWaitOverflow). Two samples a few seconds apart during the churn."
	set_sysctl net.ipv4.tcp_max_tw_buckets 64
	start_peer 4096 pgserver echo-server -addr :5432
	wait_listen 5432
	start_peer 4096 apiclient client -mode short -n 3000 -interval 3ms -addr 127.0.0.1:5432
	twoverflow_gt() { [[ $(counter netstat TcpExt TCPTimeWaitOverflow) -gt "$1" ]]; }
	wait_until "TCPTimeWaitOverflow > 100" 15 twoverflow_gt 100
	SAMPLES=2
	SAMPLE_GAP=3
	;;
closewait-two-samples)
	DESCRIPTION="P12 CLOSE_WAIT leak seen twice: leaky-server on :8443 reads each request until EOF but never calls close(); every 10th connection is never read at all. loadgen opened and closed 300 connections (client closes first). Two samples 10 s apart show the same CLOSE_WAIT sockets in both."
	start_peer 1024 leaky-server leak-server -addr :8443 -unread-every 10 -max-conns 1000
	wait_listen 8443
	start_peer 4096 loadgen client -mode short -n 300 -interval 5ms -addr 127.0.0.1:8443
	wait_until "300 CLOSE-WAIT" 20 atleast 300 close-wait
	SAMPLES=2
	SAMPLE_GAP=10
	;;
esac
peers_alive

# ---------------------------------------------------------------- capture
say "capturing into $OUTDIR"
mkdir -p "$OUTDIR"
rm -rf "$OUTDIR/proc" "$OUTDIR/etc" "$OUTDIR/samples"
rm -f "$OUTDIR"/{scenario.txt,ss-tanpoeim.txt,ss-tan.txt,netstat-antpo.txt,netstat-ant.txt,ss-s.txt,sysctl.txt,processes.txt,manifest.json,ss-tn.txt,ss-tnp.txt,netstat-tn.txt,netstat-tnp.txt,lsof-established.txt}

# capture_sample DIR : the per-instant sources (socket tables, ss -s, /proc/net).
capture_sample() {
	local dir=$1 f
	if [[ $SCENARIO == healthy-partial ]]; then
		# The views people paste into tickets, which cannot show listeners
		# (and, for ss without -a, TIME-WAIT): each must stay quiet.
		capx ss -tn >"$dir/ss-tn.txt"
		capx ss -tnp >"$dir/ss-tnp.txt"
		capx netstat -tn >"$dir/netstat-tn.txt"
		capx netstat -tnp >"$dir/netstat-tnp.txt" 2>&1 || true
		if command -v lsof >/dev/null; then
			capx lsof -nP -iTCP -sTCP:ESTABLISHED >"$dir/lsof-established.txt" 2>/dev/null || true
		fi
		return
	fi
	mkdir -p "$dir/proc/net"
	capx ss -tanpoeim >"$dir/ss-tanpoeim.txt" 2>&1 || true
	capx ss -tan >"$dir/ss-tan.txt"
	capx netstat -antpo >"$dir/netstat-antpo.txt" 2>&1 || true
	capx netstat -ant >"$dir/netstat-ant.txt"
	capx ss -s >"$dir/ss-s.txt"
	for f in tcp tcp6 snmp netstat sockstat sockstat6; do
		capx cat "/proc/net/$f" >"$dir/proc/net/$f"
	done
}

CAPTURED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SAMPLE_DIRS=()
SAMPLE_TIMES=()
SAMPLE_EPOCHS=()
if [[ $SAMPLES -eq 1 ]]; then
	SAMPLE_DIRS=("$OUTDIR")
	capture_sample "$OUTDIR"
else
	for i in $(seq 0 $(( SAMPLES - 1 ))); do
		if [[ $i -gt 0 ]]; then
			say "waiting ${SAMPLE_GAP}s before sample $i"
			sleep "$SAMPLE_GAP"
			peers_alive
		fi
		SAMPLE_TIMES+=("$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)")
		SAMPLE_EPOCHS+=("$(date +%s.%N)")
		SAMPLE_DIRS+=("$OUTDIR/samples/$i")
		capture_sample "$OUTDIR/samples/$i"
		say "sample $i captured"
	done
	# The manifest (collect/manifest.go) gives the analyzer the samples' times.
	{
		printf '{"format":"tcpsnap.bundle/v1","version":"repro","host":{"hostname":"%s","os":"linux","kernel":"%s"},' "$NS" "$(uname -r)"
		printf '"start":"%s","end":"%s","root":true,"samples":[' "${SAMPLE_TIMES[0]}" "${SAMPLE_TIMES[-1]}"
		for i in "${!SAMPLE_TIMES[@]}"; do
			[[ $i -gt 0 ]] && printf ','
			printf '{"index":%d,"dir":"samples/%d","time":"%s","elapsed_seconds":%s}' "$i" "$i" "${SAMPLE_TIMES[$i]}" \
				"$(awk -v a="${SAMPLE_EPOCHS[0]}" -v b="${SAMPLE_EPOCHS[$i]}" 'BEGIN {printf "%.3f", b - a}')"
		done
		printf '],"sources":[]}\n'
	} >"$OUTDIR/manifest.json"
fi
# Read inside the namespace; a key that does not exist there is global
# (net.ipv4.tcp_max_orphans on recent kernels), so read it in the host namespace.
HOST_SYSCTLS=()
for key in net.ipv4.ip_local_port_range net.ipv4.ip_local_reserved_ports \
	net.ipv4.tcp_fin_timeout net.ipv4.tcp_tw_reuse net.ipv4.tcp_max_tw_buckets \
	net.ipv4.tcp_max_orphans net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_syncookies \
	net.ipv4.tcp_timestamps net.core.somaxconn net.ipv4.tcp_keepalive_time \
	fs.file-nr fs.file-max; do
	if ! nsx sysctl "$key" 2>/dev/null; then
		sysctl "$key" && HOST_SYSCTLS+=("$key")
	fi
done >"$OUTDIR/sysctl.txt"
for i in "${!PIDS[@]}"; do
	[[ ${PEER_NS[$i]} == "$NS" ]] || continue   # peers in the second namespace own no captured socket
	pid=${PIDS[$i]}
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	lim=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
	echo "$pid $(cat "/proc/$pid/comm") $fds $lim"
done >"$OUTDIR/processes.txt"
if [[ -n $NSSWITCH ]]; then
	mkdir -p "$OUTDIR/etc"
	cat >"$OUTDIR/etc/nsswitch.conf" <<'EOF'
# /etc/nsswitch.conf (synthetic, written by samples/repro/run.sh for the rpc-churn scenario)
#
# Host and service lookups fall through to NIS: every lookup that misses
# /etc/hosts or /etc/services asks ypbind/portmap on 127.0.0.1:111.

passwd:         files nis
group:          files nis
shadow:         files nis

hosts:          files nis
networks:       files nis
protocols:      files
services:       files nis
ethers:         files
rpc:            files

netgroup:       nis
EOF
fi

{
	echo "scenario: $SCENARIO"
	echo "description: $DESCRIPTION"
	echo "command: samples/repro/run.sh $SCENARIO $OUTDIR"
	echo "date: $CAPTURED_AT"
	echo "kernel: $(uname -r)"
	echo "ss: $(ss -V)"
	echo "netstat: $(netstat --version 2>&1 | head -1)"
	if [[ $NS2_CREATED -eq 1 ]]; then
		echo "namespace: $NS (created for this run, deleted afterwards; captured)"
		echo "peer namespace: $NS2 (created for this run, deleted afterwards; not captured)"
	else
		echo "namespace: $NS (created for this run, loopback only, deleted afterwards)"
	fi
	for s in "${NET_NOTES[@]}"; do echo "network: $s"; done
	if [[ ${#SYSCTL_SET[@]} -gt 0 ]]; then
		for s in "${SYSCTL_SET[@]}"; do echo "sysctl set in namespace: $s"; done
	else
		echo "sysctl set in namespace: none (defaults of a new network namespace)"
	fi
	[[ ${#HOST_SYSCTLS[@]} -gt 0 ]] && echo "sysctl read in the host namespace (global, not visible inside the namespace): ${HOST_SYSCTLS[*]}"
	if [[ $SCENARIO == healthy-partial ]]; then
		echo "capture: the partial views people paste — ss -tn, ss -tnp, netstat -tn, netstat -tnp, lsof -nP -iTCP -sTCP:ESTABLISHED (no listeners; ss without -a also hides TIME-WAIT); sysctl; all numeric, run inside the namespace"
	else
		echo "capture: ss -tanpoeim, ss -tan, netstat -antpo, netstat -ant, ss -s, /proc/net/{tcp,tcp6,snmp,netstat,sockstat,sockstat6}, sysctl; all numeric (-n), run inside the namespace"
	fi
	[[ -n $NSSWITCH ]] && echo "etc/nsswitch.conf: synthetic host config of this scenario (hosts: files nis), not read from the build machine"
	for i in "${!PIDS[@]}"; do
		where=""
		[[ ${PEER_NS[$i]} == "$NS" ]] || where=" (in $NS2, not captured)"
		echo "peer: pid ${PIDS[$i]} name ${NAMES[$i]}$where args: ${ARGS[$i]} -duration $PEER_DURATION"
	done
	if [[ $SAMPLES -gt 1 ]]; then
		echo "samples: $SAMPLES, ${SAMPLE_GAP}s apart (samples/N/, times in manifest.json): ${SAMPLE_TIMES[*]}"
	fi
	for i in "${!SAMPLE_DIRS[@]}"; do
		d=${SAMPLE_DIRS[$i]}
		label=""
		[[ $SAMPLES -gt 1 ]] && label=" sample $i"
		if [[ ! -f $d/ss-tan.txt ]]; then
			echo "state counts$label (ss -tn):"
			awk 'NR > 1 {n[$1]++} END {for (s in n) printf "  %s %d\n", s, n[s]}' "$d/ss-tn.txt" | sort
			continue
		fi
		echo "state counts$label (ss -tan):"
		awk 'NR > 1 {n[$1]++} END {for (s in n) printf "  %s %d\n", s, n[s]}' "$d/ss-tan.txt" | sort
		c() { counter_in "$d/proc/net/$1" "$2" "$3"; }
		echo "counters$label: ListenOverflows $(c netstat TcpExt ListenOverflows) ListenDrops $(c netstat TcpExt ListenDrops) ActiveOpens $(c snmp Tcp ActiveOpens) PassiveOpens $(c snmp Tcp PassiveOpens) RetransSegs $(c snmp Tcp RetransSegs) TCPSynRetrans $(c netstat TcpExt TCPSynRetrans) TCPTimeouts $(c netstat TcpExt TCPTimeouts) SyncookiesSent $(c netstat TcpExt SyncookiesSent) SyncookiesRecv $(c netstat TcpExt SyncookiesRecv) TCPReqQFullDoCookies $(c netstat TcpExt TCPReqQFullDoCookies) TCPTimeWaitOverflow $(c netstat TcpExt TCPTimeWaitOverflow)"
		echo "sockstat$label: $(grep '^TCP:' "$d/proc/net/sockstat")"
	done
	echo "peer log summaries:"
	for f in "$WORK"/log/*.log; do
		grep -hE 'connections:|error-count|wrote|holding|listening' "$f" | sed 's/^/  /' || true
	done
} >"$OUTDIR/scenario.txt"

say "captured $(($(cat "${SAMPLE_DIRS[-1]}/ss-tan.txt" "${SAMPLE_DIRS[-1]}/ss-tn.txt" 2>/dev/null | wc -l) - 1)) sockets; cleaning up"
