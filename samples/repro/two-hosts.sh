#!/usr/bin/env bash
# two-hosts.sh OUTDIR: a real two-host reproduction for tcpsnap fleet.
#
# Two network namespaces joined by a veth pair stand for two hosts:
#   srv-1  (192.0.2.1): leaky-server on :8443 reads each request until EOF
#                       and never closes: CLOSE_WAIT piles up;
#   app-1  (192.0.2.2): loadgen opens 300 short connections to
#                       192.0.2.1:8443 and closes first: the other ends
#                       wait in FIN_WAIT2.
# Each side is then captured with `tcpsnap collect` run inside its own
# namespace (and its own UTS namespace, so each bundle names its host):
# OUTDIR/srv-1.tar.gz and OUTDIR/app-1.tar.gz. `tcpsnap fleet OUTDIR`
# should match the two ends.
#
# Needs root, iproute2, util-linux (unshare) and Go. Addresses are from the
# documentation range and route nowhere else; every process is started by
# pid with a hard deadline and killed by pid; the namespaces are deleted on
# exit, error or interrupt.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUTDIR=$1
[[ $EUID -eq 0 ]] || { echo "two-hosts.sh: needs root" >&2; exit 1; }
GO=${GO:-go}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NS1="tcpsnap-srv-$$"
NS2="tcpsnap-app-$$"
WORK=$(mktemp -d /tmp/tcpsnap-two-hosts.XXXXXX)
PIDS=()
START=$SECONDS
say() { printf '[%5.1fs] %s\n' "$((SECONDS - START))" "$*" >&2; }

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS1" 2>/dev/null || true
	ip netns del "$NS2" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "building the peer and tcpsnap"
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$WORK/leaky-server" ./samples/repro/peer)
cp "$WORK/leaky-server" "$WORK/loadgen"
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$WORK/tcpsnap" ./cmd/tcpsnap)

ip netns add "$NS1"
ip netns add "$NS2"
ip -n "$NS1" link set lo up
ip -n "$NS2" link set lo up
ip -n "$NS1" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$NS1" addr add 192.0.2.1/24 dev veth0
ip -n "$NS2" addr add 192.0.2.2/24 dev veth1
ip -n "$NS1" link set veth0 up
ip -n "$NS2" link set veth1 up
say "namespaces $NS1 (192.0.2.1) and $NS2 (192.0.2.2) joined by a veth pair"

( exec ip netns exec "$NS1" "$WORK/leaky-server" leak-server -addr 192.0.2.1:8443 -max-conns 1000 -duration 50s ) \
	>"$WORK/server.log" 2>&1 </dev/null &
PIDS+=("$!")
for _ in $(seq 50); do
	ip netns exec "$NS1" ss -Hltn 'sport = :8443' | grep -q . && break
	sleep 0.2
done
say "leaky-server pid ${PIDS[0]} listens on 192.0.2.1:8443"

( exec ip netns exec "$NS2" "$WORK/loadgen" client -mode short -n 300 -interval 5ms -addr 192.0.2.1:8443 -duration 50s ) \
	>"$WORK/client.log" 2>&1 </dev/null &
PIDS+=("$!")
for _ in $(seq 150); do
	n=$(ip netns exec "$NS1" ss -Htn state close-wait | wc -l)
	[[ $n -ge 300 ]] && break
	sleep 0.2
done
say "CLOSE_WAIT on srv-1: $(ip netns exec "$NS1" ss -Htn state close-wait | wc -l); FIN_WAIT2 on app-1: $(ip netns exec "$NS2" ss -Htn state fin-wait-2 | wc -l)"

mkdir -p "$OUTDIR"
capture() { # capture NS HOSTNAME
	rm -f "$OUTDIR/$2.tar.gz"
	ip netns exec "$1" unshare --uts sh -c 'hostname "$1" && exec "$2" collect --samples 1 -o "$3"' sh \
		"$2" "$WORK/tcpsnap" "$OUTDIR/$2.tar.gz" >/dev/null
	say "captured $OUTDIR/$2.tar.gz"
}
capture "$NS1" srv-1
capture "$NS2" app-1
