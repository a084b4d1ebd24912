#!/bin/sh
# fleet-sweep.sh - the distribution of test_fleet_outage's recovery peak over
# many jitter streams (issue 13): runs BUILD/tests/unit/test_sip_reg's fleet
# case once per seed (DSA_FLEET_SEED), one process at a time, and prints the
# per-run lines, then min / median / p95 / max of the busiest second (REGISTER
# packets), how many runs went over LIMIT, and the causes summed over the
# runs' busiest seconds. Not part of `make check` (about 2 s of CPU per seed).
# Usage: fleet-sweep.sh BUILD/tests/unit [SEEDS [OUTAGE_S [LIMIT]]]
set -u
bdir=${1:?usage: fleet-sweep.sh BUILD/tests/unit [SEEDS [OUTAGE_S [LIMIT]]]}
n=${2:-200}
out=${3:-40}
limit=${4:-40}
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT
i=1
while [ "$i" -le "$n" ]; do
	DSA_FLEET_SEED=$i DSA_FLEET_OUT_S=$out CMOCKA_MESSAGE_OUTPUT=STDOUT \
		"$bdir/test_sip_reg" test_fleet_outage 2>&1 | grep '^FLEET ' >>"$tmp" ||
		echo "FLEET seed=$i no result" >>"$tmp"
	i=$((i + 1))
done
cat "$tmp"
awk -v limit="$limit" -v out="$out" '
	/no result/ { bad++; next }
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		p[++n] = v["peak"] + 0
		over += (v["peak"] > limit)
		cp += v["probe"]; cl += v["late"]; cr += v["refresh"]; cs += v["straddle"]; co += v["other"]
		if (v["max_txns"] > mt) mt = v["max_txns"]
		if (v["back_s"] > bk) bk = v["back_s"]
		ot += v["outage_txns"]
	}
	END {
		if (!n) { print "no runs"; exit 1 }
		# sort p[1..n]
		for (i = 2; i <= n; i++) { x = p[i]; for (j = i - 1; j >= 1 && p[j] > x; j--) p[j + 1] = p[j]; p[j + 1] = x }
		printf "%d runs (outage %d s): busiest second min %d, median %d, p95 %d, max %d; over %d: %d; ", n, out, p[1], p[int((n + 1) / 2)], p[int(n * 0.95 + 0.999)], p[n], limit, over
		printf "runs without a result: %d\n", bad + 0
		printf "busiest seconds by cause (sum over runs): probe %d, late probe %d, refresh %d, straddle %d, other %d\n", cp, cl, cr, cs, co
		printf "REGISTER transactions in the outage: %.1f per run, at most %d per phone; all registered again within %.1f s of the return\n", ot / n, mt, bk
	}' "$tmp"
