#!/usr/bin/env bash
# End-to-end comparison of `dilp run FILE > /dev/null` with SWI-Prolog (tabling) on the same
# facts and rules: transitive closure of a 1,000-node chain and of a seeded random graph
# (2,000 nodes, 6,000 distinct edges). Both print the whole model (edges and paths).
# Usage: experiments/engine/vs_swipl.sh [DILP_BINARY]   (needs `swipl`: apt-get install swi-prolog-nox)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dilp="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/dilp/target}/release/dilp}"
command -v swipl >/dev/null || { echo "swipl not found: apt-get install swi-prolog-nox" >&2; exit 1; }
[ -x "$dilp" ] || { echo "dilp binary not found at $dilp (cargo build --release)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/graphs.py" "$work"
best() { # best wall time and its peak RSS over 3 runs: "secs MiB"
  local b="" m=""
  for _ in 1 2 3; do
    local out; out=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -1)
    local s=${out% *} k=${out#* }
    if [ -z "$b" ] || awk "BEGIN{exit !($s < $b)}"; then b=$s; m=$((k / 1024)); fi
  done
  echo "$b $m"
}
printf '| %-6s | %-10s | %10s | %10s | %9s | %9s | %8s |\n' graph paths "dilp (s)" "swipl (s)" "dilp MiB" "swipl MiB" speed-up
printf '|%s|\n' "--------|------------|------------|------------|-----------|-----------|----------"
for g in chain random; do
  read -r ds dm < <(best "$dilp" run "$work/$g.dl")
  read -r ss sm < <(best swipl -q -g main -t halt "$work/$g.pl")
  paths=$("$dilp" run "$work/$g.dl" | grep -c '^path(')
  swi_paths=$(swipl -q -g main -t halt "$work/$g.pl" | grep -c '^path(')
  [ "$paths" = "$swi_paths" ] || { echo "$g: dilp found $paths paths, swipl $swi_paths" >&2; exit 1; }
  printf '| %-6s | %10s | %10s | %10s | %9s | %9s | %7.1fx |\n' "$g" "$paths" "$ds" "$ss" "$dm" "$sm" \
    "$(awk "BEGIN{print $ss / ($ds > 0 ? $ds : 0.01)}")"
done
