#!/usr/bin/env bash
# Reproduce every scenario live, one after the other, into OUTROOT/<scenario>.
#
#   sudo samples/repro/run_all.sh OUTROOT [SCENARIO...]
#
# With SCENARIO arguments only those run (in the order given). Each run.sh
# call is bounded (peers have a 50 s hard deadline, every wait is bounded, a
# scenario normally takes 3-15 s) and cleans up its own namespaces and
# processes, so the whole run takes 1-3 minutes (70 s on the build machine,
# about 40 s of it the six scenarios with a peer namespace or two samples) and can be
# repeated on the same machine. Exit status: number of failed scenarios.
set -uo pipefail

SCENARIOS=(closewait-leak timewait-churn server-closes-first port-exhaustion accept-queue-full rpc-churn stalled-reader healthy
	orphan-finwait2 syn-sent-dropped syn-flood-small-backlog dead-peer-queued tw-bucket-overflow closewait-two-samples healthy-partial)

[[ $# -ge 1 ]] || { echo "usage: $0 OUTROOT [SCENARIO...]" >&2; exit 2; }
OUTROOT=$1
shift
[[ $# -gt 0 ]] && SCENARIOS=("$@")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START=$SECONDS
failed=()
for s in "${SCENARIOS[@]}"; do
	t0=$SECONDS
	# timeout(1) is a last-resort guard; run.sh's own trap still cleans up on TERM.
	if timeout --signal=TERM --kill-after=10 90 "$HERE/run.sh" "$s" "$OUTROOT/$s"; then
		echo "run_all: $s ok ($(( SECONDS - t0 ))s)" >&2
	else
		echo "run_all: $s FAILED ($(( SECONDS - t0 ))s)" >&2
		failed+=("$s")
	fi
done
echo "run_all: ${#SCENARIOS[@]} scenarios in $(( SECONDS - START ))s; failed: ${failed[*]:-none}" >&2
pattern=$(IFS='|'; echo "^tcpsnap-(${SCENARIOS[*]})-[0-9]+")
leftover=$(ip netns list 2>/dev/null | grep -cE "$pattern" || true)
[[ $leftover -eq 0 ]] || echo "run_all: warning: $leftover scenario namespaces still exist (another run in progress?)" >&2
exit "${#failed[@]}"
