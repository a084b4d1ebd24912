# tap.sh - tiny TAP producer for shell tests; source it.
#   plan N | skip_all "reason" | ok COND "name" | pass "name" | fail "name" "why"
#   tap_relay < results  (diag-assert.py lines as results)
#   done_testing  (prints the plan at the end when none was given)
_tap_n=0
_tap_failed=0
_tap_planned=0
plan() { echo "1..$1"; _tap_planned=1; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# ok "name" CMD...: passes when CMD succeeds.
ok() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }
# tap_relay: "ok - NAME" / "not ok - NAME" / "# ..." lines on stdin (diag-assert.py) as results.
tap_relay() {
	local line
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) pass "${line#ok - }" ;;
		"not ok - "*) fail "${line#not ok - }" ;;
		"# "*) echo "$line" ;;
		esac
	done
}
done_testing() { [ "$_tap_planned" = 1 ] || echo "1..$_tap_n"; [ "$_tap_failed" = 0 ]; }
