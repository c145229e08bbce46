#!/usr/bin/env bash
# Sweep benchmark: nocmap (release) vs fping -i 0 vs nmap -sn (and zmap, if
# installed) over a /16 in which every address answers, in namespaces of its
# own with no default route. Needs root. Prints one line per run with the
# 1-minute load average read just before it.
#
# Two setups (SETUP=lo|veth|both, default both):
#   lo    one namespace, `ip route add local PREFIX dev lo`: probes never
#         leave loopback (the setup of the first BENCHMARKS.md table).
#         zmap is skipped here: it sends frames on a packet socket, and frames
#         sent that way on `lo` are not received by the stack (0 answers).
#   veth  a scanner namespace and a responder namespace joined by a veth pair
#         (10.78.0.1/30 - 10.78.0.2/30); the responder has the local /16 route,
#         the scanner a route to it via 10.78.0.2. zmap runs here with
#         `-G <responder MAC> -b <empty blocklist>`, at ZMAP_RATE pps
#         (0 = as fast as it can).
# Usage: examples/bench_sweep.sh [RUNS]   (default 3)
set -euo pipefail
RUNS=${1:-3}
SETUP=${SETUP:-both}
PREFIX=${PREFIX:-10.79.0.0/16}
ZMAP_RATE=${ZMAP_RATE:-0}
BIN=${NOCMAP:-$(dirname "$0")/../target/release/nocmap}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
NS=ltsweep-lo-$$
SNS=ltsweep-s-$$
RNS=ltsweep-r-$$
OUT=$(mktemp)
EMPTY=$(mktemp)
cleanup() {
  for n in "$NS" "$SNS" "$RNS"; do ip netns del "$n" 2>/dev/null || true; done
  rm -f "$OUT" "$EMPTY"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
load1() { cut -d' ' -f1 /proc/loadavg; }
line() { printf '%-6s %-7s %-4s %6s %10.3f %8s\n' "$1" "$2" "$3" "$4" "$5" "$6"; }

bench() { # SETUP-NAME NAMESPACE [ZMAP-IFACE ZMAP-GW ZMAP-SRC]
  local setup=$1 ns=$2 i t0 t1 l found
  run() { ip netns exec "$ns" "$@"; }
  for i in $(seq 1 "$RUNS"); do
    l=$(load1); t0=$(now); run "$BIN" sweep "$PREFIX" --json > "$OUT"; t1=$(now)
    found=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["alive"]))' "$OUT")
    line "$setup" nocmap "$i" "$l" "$(elapsed "$t0" "$t1")" "$found"
    l=$(load1); t0=$(now); found=$(run fping -g "$PREFIX" -i 0 -q -a 2>/dev/null | wc -l || true); t1=$(now)
    line "$setup" fping "$i" "$l" "$(elapsed "$t0" "$t1")" "$found"
    l=$(load1); t0=$(now); found=$(run nmap -sn -n "$PREFIX" | sed -n 's/.*(\([0-9]*\) hosts\{0,1\} up).*/\1/p'); t1=$(now)
    line "$setup" nmap "$i" "$l" "$(elapsed "$t0" "$t1")" "$found"
    if [ $# -ge 5 ] && command -v zmap >/dev/null; then
      l=$(load1); t0=$(now)
      run zmap -q -i "$3" -G "$4" -S "$5" -b "$EMPTY" -M icmp_echoscan -r "$ZMAP_RATE" \
        -c 1 -o "$OUT" "$PREFIX" 2>/dev/null
      t1=$(now)
      found=$(sort -u "$OUT" | wc -l)
      line "$setup" zmap "$i" "$l" "$(elapsed "$t0" "$t1")" "$found"
    fi
  done
}

printf '%-6s %-7s %-4s %6s %10s %8s\n' setup tool run load1 seconds found
if [ "$SETUP" = lo ] || [ "$SETUP" = both ]; then
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" route add local "$PREFIX" dev lo
  bench lo "$NS"
fi
if [ "$SETUP" = veth ] || [ "$SETUP" = both ]; then
  ip netns add "$SNS"
  ip netns add "$RNS"
  ip link add lts0 netns "$SNS" type veth peer name ltr0 netns "$RNS"
  ip -n "$SNS" addr add 10.78.0.1/30 dev lts0
  ip -n "$RNS" addr add 10.78.0.2/30 dev ltr0
  for n in "$SNS" "$RNS"; do ip -n "$n" link set lo up; done
  ip -n "$SNS" link set lts0 up
  ip -n "$RNS" link set ltr0 up
  ip -n "$RNS" route add local "$PREFIX" dev lo
  ip -n "$SNS" route add "$PREFIX" via 10.78.0.2
  MAC=$(ip netns exec "$RNS" cat /sys/class/net/ltr0/address)
  bench veth "$SNS" lts0 "$MAC" 10.78.0.1
fi
