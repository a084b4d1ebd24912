#!/bin/sh
# check-timing-models.sh - the real-time tests (tests/e2e, tests/lab,
# tests/phone) may assert a wall-clock bound or a count in a wall-clock window
# only with the model its tolerance comes from (issue 12): a comment
#   # Model: <where the number comes from>
# within the 30 lines before the assertion. A timed assertion is an `ok "TITLE"`
# line whose title speaks of time: "within", "interval", "Timer X", "in ~",
# "per second", or a number with s/ms. Unit tests run on the virtual clock and
# are audited by check-no-wallclock.sh instead.
# Output is TAP; exit 1 when a check failed. Usage: check-timing-models.sh
# [top_srcdir]. It first checks itself on planted lines.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${1:-${top_srcdir:-$here/../..}}

# scan FILE...: print "file:line: title" for every timed assertion without a model
scan() {
	awk '
		FNR == 1 { last = -1000 }
		/^[ \t]*#.*[Mm]odel( \([^)]*\))?:/ { last = FNR }
		/^[ \t]*ok[ \t]+"/ {
			t = $0
			sub(/^[ \t]*ok[ \t]+"/, "", t)
			sub(/".*/, "", t)
			if (t ~ /(within|interval|in ~|Timer [A-Z]|per (second|minute)|seconds|minutes|[0-9.]+ ?(ms|s)([^A-Za-z]|$))/ && FNR - last > 30) {
				printf "%s:%d: %s\n", FILENAME, FNR, t
				bad = 1
			}
		}
		END { exit bad }
	' "$@"
}

echo "1..2"
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-timing-models.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# 1: planted: four timed assertions without a model are caught, the modelled
#    one and the untimed one pass
cat >"$tmp/planted.sh" <<'EOF'
ok "registered within 5 s" wait_reg east 5
ok "keepalive interval 2 s +- 0.3 s" python3 -c "x"
ok "moved within Timer F" wait_target x 40
ok "only $n REGISTERs in ~8 s" [ "$n" -le 2 ]
ok "the binding's Contact is ours" grep -q x y
# Model: the fall-back time (2 s) plus four round trips and eight 0.25 s wake-ups.
ok "over IPv4 within 5 s" wait_target y 5
EOF
found=$(scan "$tmp/planted.sh" | wc -l)
if [ "$found" -eq 4 ]; then
	echo "ok 1 - the audit catches the 4 planted timed assertions without a model, and only them"
else
	failed=1
	echo "not ok 1 - the audit caught $found of 4 planted timed assertions without a model"
	scan "$tmp/planted.sh" | sed 's/^/# /'
fi

# 2: the real-time tests themselves
set --
for f in "$top"/tests/e2e/*.sh "$top"/tests/lab/*.sh "$top"/tests/phone/*.sh; do
	[ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
	failed=1
	echo "not ok 2 - no real-time tests under $top/tests (wrong top_srcdir?)"
elif out=$(scan "$@"); then
	echo "ok 2 - every timed assertion in tests/e2e, tests/lab, tests/phone ($#) states its model"
else
	failed=1
	echo "not ok 2 - timed assertions without a stated model (add '# Model: ...' above each):"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
exit $failed
