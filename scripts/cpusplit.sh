#!/usr/bin/env bash
# CPU seconds each command used over SECONDS, from /proc/*/stat: which
# process a load test's cores went to (docs/performance.md).
#
#   scripts/cpusplit.sh 5      # run while `make loadtest` is in a stage
set -euo pipefail
secs=${1:-5}
snap() {
	for p in /proc/[0-9]*; do
		# The command name may hold spaces: read the fields after its ")".
		awk '{ s = $0; o = index(s, "("); c = index(s, ") ")
		       split(substr(s, c + 2), f, " "); print substr(s, o + 1, c - o - 1), f[12] + f[13] }' "$p/stat" 2>/dev/null || true
	done | awk '{ t[$1] += $2 } END { for (k in t) print k, t[k] }' | sort
}
a=$(snap)
sleep "$secs"
b=$(snap)
join <(echo "$a") <(echo "$b") | awk -v hz="$(getconf CLK_TCK)" -v s="$secs" \
	'{ d = ($3 - $2) / hz; if (d > 0.05) printf "%-24s %6.2f s  (%4.0f%% of one core)\n", $1, d, 100 * d / s }' | sort -k2 -nr
