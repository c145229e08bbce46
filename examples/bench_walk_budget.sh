#!/usr/bin/env bash
# The worst case of discovery's memory budget. Every SNMP walk is capped at
# 500,000 varbinds and all walks together at 2,000,000 varbinds held until
# their device is parsed (`max_walked_varbinds_total`). Here every agent's
# lldpRemTable never ends (`sim_agents --endless-lldp`), so each walk of it
# runs until the walk cap or the shared budget stops it, and `nocmap
# discover` reads the agents at once. Measured per case: nocmap's peak RSS
# (`/usr/bin/time -v`, and VmRSS/VmHWM sampled every 0.2 s), its wall time,
# the reasons discovery gives for each device read in part, and how far each
# agent's lldpRemTable was walked (the highest remote index the agent
# answered, from sim_agents' exit lines).
#
# Cases: CASES is a list of AGENTSxCONCURRENCY (default "32x32 32x32 1x1":
# 32 endless agents all read at once, twice, then one endless agent).
# The budget itself is not configurable (neither the config file nor the
# command line sets it), so the comparison with a smaller share per walk is
# a lower --concurrency, e.g. "32x4".
#
# Everything runs in a namespace of its own (`sb-budget`: loopback only, no
# route out); `sim_agents` serves AGENTS x IFACES SNMPv2c agents on
# 127.1.x.y, community public.
#
#   cargo build --release --bin nocmap --example sim_agents
#   sudo examples/bench_walk_budget.sh [IFACES 4] [CASES "32x32 32x32 1x1"]
# (KEEP=DIR keeps each case's logs, RSS samples and topology in DIR.)
set -u
cd "$(dirname "$0")/.."
IFACES=${1:-4}
CASES=${2:-"32x32 32x32 1x1"}
NS=sb-budget
BIN=$PWD/target/release
work=$(mktemp -d)
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
# The address of agent k (0-based), as in sim_agents.rs.
agent_addr() { echo "127.1.$(($1 / 250)).$(($1 % 250 + 1))"; }

echo "nocmap $($BIN/nocmap --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
n=0
for case in $CASES; do
  n=$((n + 1))
  agents=${case%x*} conc=${case#*x}
  dir=$work/case$n
  mkdir -p "$dir"
  echo
  echo "== case $n: $agents endless agents x $IFACES interfaces, discover --concurrency $conc"
  # `ip netns exec` (not a shell function) so that $! is the process itself.
  ip netns exec "$NS" $BIN/examples/sim_agents "$agents" "$IFACES" --endless-lldp > "$dir/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 120); do grep -q '^ready' "$dir/sim.log" && break; sleep 0.5; done
  seeds=()
  for k in $(seq 0 $((agents - 1))); do seeds+=(--seed "$(agent_addr "$k")"); done
  # Depth 0 as in the other benchmarks: the endless rows carry no chassis
  # or port id, so they name no neighbour to follow anyway.
  t0=$(date +%s.%N)
  ip netns exec "$NS" /usr/bin/time -v -o "$dir/time.txt" $BIN/nocmap discover "${seeds[@]}" \
    --prefix 127.1.0.0/16 --depth 0 --concurrency "$conc" -c public \
    --out "$dir/topology.json" > "$dir/discover.out" 2> "$dir/discover.err" &
  time_pid=$!
  # VmRSS and VmHWM of nocmap itself (the child of /usr/bin/time) every 0.2 s.
  : > "$dir/rss.txt"
  pid=""
  while kill -0 "$time_pid" 2>/dev/null; do
    [ -z "$pid" ] && pid=$(ps -o pid=,comm= --ppid "$time_pid" 2>/dev/null | awk '$2 == "nocmap" {print $1; exit}')
    if [ -n "$pid" ]; then
      rss=$(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{if (r) print r, h}' /proc/$pid/status 2>/dev/null)
      [ -n "$rss" ] && echo "$(echo "$(date +%s.%N) - $t0" | bc -l) $rss" >> "$dir/rss.txt"
    fi
    sleep 0.2
  done
  wait "$time_pid"
  status=$?
  t1=$(date +%s.%N)
  kill -TERM "$sim_pid" 2>/dev/null
  wait "$sim_pid" 2>/dev/null

  printf 'exit status %s, wall %.1f s\n' "$status" "$(echo "$t1 - $t0" | bc -l)"
  grep -E 'Maximum resident set size|Elapsed \(wall clock\)|User time|System time' "$dir/time.txt" | sed 's/^\s*/  /'
  awk '{ if ($2 > max) { max = $2; at = $1 } last = $2; hwm = $3; end = $1 }
       END { if (NR) printf "  sampled: %d samples, VmRSS max %.1f MiB at %.1f s, last %.1f MiB at %.1f s, VmHWM %.1f MiB\n",
                            NR, max / 1024, at, last / 1024, end, hwm / 1024 }' "$dir/rss.txt"
  # RSS over time, one sample a second (or so).
  awk 'int($1) != prev { printf "%s%.0fs:%.0f", sep, $1, $2 / 1024; sep = " "; prev = int($1) }
       END { print "" }' "$dir/rss.txt" | fold -s -w 100 | sed 's/^/  RSS MiB /'
  if grep -q panicked "$dir/discover.err"; then
    echo "  PANIC:"; grep -B2 -A5 panicked "$dir/discover.err" | sed 's/^/    /'
  fi
  echo "  devices read in part: $(grep -c 'read in part' "$dir/discover.err")"
  # One line per device: the reasons, with the agents' numbers left out so
  # that equal reasons group.
  grep 'read in part' "$dir/discover.err" | sed 's/^nocmap: warning: [^ ]* read in part: //' \
    | sort | uniq -c | sed 's/^/  /'
  grep -v 'read in part' "$dir/discover.err" | sed 's/\x1b\[[0-9;]*m//g' \
    | sed -E 's/[0-9]{4}-[0-9-]+T[0-9:.]+Z //' | sed -E 's/127\.1\.[0-9]+\.[0-9]+(:161)?/ADDR/g' \
    | sort | uniq -c | sort -rn | head -8 | sed 's/^/  other stderr: /'
  # How far each lldpRemTable walk got (highest remote index answered).
  awk '/^lldp /{ split($4, h, "="); v = h[2] + 0; s += v; if (min == "" || v < min) min = v;
                  if (v > max) max = v; n++ }
       END { if (n) printf "  lldpRemTable rows walked per agent (highest index answered): min %d, max %d, sum %d over %d agents\n", min, max, s, n }' "$dir/sim.log"
  grep '^stats' "$dir/sim.log" | sed 's/^/  sim_agents /'
  if [ "$agents" -le 4 ]; then grep '^lldp' "$dir/sim.log" | sed 's/^/  /'; fi
  [ -s "$dir/topology.json" ] && python3 - "$dir/topology.json" <<'EOF' || true
import json, sys
t = json.load(open(sys.argv[1]))
devs = t.get("devices", [])
print(f"  topology: {len(devs)} devices, {len(t.get('links', []))} links, {sum(len(d.get('interfaces', [])) for d in devs)} interfaces")
EOF
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$dir" "$KEEP/"; fi
done
