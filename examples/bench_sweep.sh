#!/usr/bin/env bash
# Sweep benchmark: nocmap (release) vs fping -i 0 vs nmap -sn over a /16 in
# which every address answers (`ip route add local 10.99.0.0/16 dev lo`),
# inside a namespace of its own with no default route. Needs root.
# Usage: examples/bench_sweep.sh [RUNS]   (default 3)
set -euo pipefail
RUNS=${1:-3}
NS=nmicmp-bench-$$
PREFIX=10.99.0.0/16
BIN=${NOCMAP:-$(dirname "$0")/../target/release/nocmap}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
OUT=$(mktemp)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -f "$OUT"; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" route add local "$PREFIX" dev lo
run() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
printf '%-8s %-4s %10s %8s\n' tool run seconds found
for i in $(seq 1 "$RUNS"); do
  t0=$(now); run "$BIN" sweep "$PREFIX" --json > "$OUT"; t1=$(now)
  found=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["alive"]))' "$OUT")
  printf '%-8s %-4s %10.3f %8s\n' nocmap "$i" "$(elapsed "$t0" "$t1")" "$found"
  t0=$(now); found=$(run fping -g "$PREFIX" -i 0 -q -a 2>/dev/null | wc -l || true); t1=$(now)
  printf '%-8s %-4s %10.3f %8s\n' fping "$i" "$(elapsed "$t0" "$t1")" "$found"
  t0=$(now); found=$(run nmap -sn -n "$PREFIX" | sed -n 's/.*(\([0-9]*\) hosts up).*/\1/p'); t1=$(now)
  printf '%-8s %-4s %10.3f %8s\n' nmap "$i" "$(elapsed "$t0" "$t1")" "$found"
done
