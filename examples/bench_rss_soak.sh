#!/usr/bin/env bash
# Does the monitor's memory level off? `nocmap serve` polls a simulated
# fleet for MINUTES with a few event streams open and the whole map fetched
# every 30 s (as a handful of browsers would), and serve's VmRSS is sampled
# every 30 s. Prints the samples and, for the second half of the run, the
# lowest and highest RSS and the growth per hour fitted by least squares.
#
# Everything runs in a namespace of its own (`sb-soak`: loopback only, no
# route out); `sim_agents` serves AGENTS x IFACES SNMPv2c agents on 127.1.x.y.
#
#   cargo build --release --bin nocmap --example sim_agents --example bench_poll
#   sudo examples/bench_rss_soak.sh [AGENTS 1000] [IFACES 50] [POLL_S 60] [MINUTES 30] [STREAMS 10]
set -u
cd "$(dirname "$0")/.."
AGENTS=${1:-1000} IFACES=${2:-50} POLL_S=${3:-60} MINUTES=${4:-30} STREAMS=${5:-10}
NS=sb-soak
PORT=18092
BIN=target/release
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

$BIN/examples/bench_poll "$AGENTS" "$IFACES" 1 "$POLL_S" --write-config "$work/nocmap.toml" >/dev/null
sed -i "s/^snmp_interval_s = .*/snmp_interval_s = $POLL_S/; s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" "$work/nocmap.toml"
sed -i "/^\[server\]/a rate_limit_per_s = 0\nmax_streams_per_client = $((STREAMS + 10))" "$work/nocmap.toml"

in_ns $BIN/examples/sim_agents "$AGENTS" "$IFACES" > "$work/sim.log" 2>&1 &
for _ in $(seq 1 120); do grep -q '^ready' "$work/sim.log" && break; sleep 0.5; done
ip netns exec "$NS" $BIN/nocmap serve --config "$work/nocmap.toml" --db "$work/soak.db" --no-icmp \
  --rediscover-interval 900 > "$work/serve.out" 2> "$work/serve.err" &
serve_pid=$!
url=http://127.0.0.1:$PORT
echo "waiting for discovery of $AGENTS agents ..."
for _ in $(seq 1 600); do
  n=$(in_ns curl -s -m 2 $url/metrics 2>/dev/null | awk '/^nocmap_snmp_polls_total /{print $2}' || true)
  [ -n "${n:-}" ] && [ "${n%.*}" -ge "$AGENTS" ] && break
  sleep 1
done
for _ in $(seq 1 "$STREAMS"); do
  in_ns curl -s -N -m $((MINUTES * 60 + 60)) -o /dev/null $url/api/events &
done
( while kill -0 "$serve_pid" 2>/dev/null; do
    in_ns curl -s -m 30 -o /dev/null $url/api/topology
    sleep 30
  done ) &
start=$(date +%s)
printf '%8s %10s %10s %12s\n' seconds rss_mib polls samples
: > "$work/rss.txt"
while [ $(( $(date +%s) - start )) -lt $((MINUTES * 60)) ]; do
  kill -0 "$serve_pid" 2>/dev/null || { echo "serve exited"; tail -5 "$work/serve.err"; exit 1; }
  rss=$(awk '/^VmRSS/{print $2}' /proc/$serve_pid/status)
  m=$(in_ns curl -s -m 30 $url/metrics)
  polls=$(echo "$m" | awk '$1=="nocmap_snmp_polls_total"{print $2}')
  samples=$(echo "$m" | awk '$1=="nocmap_samples_written_total"{print $2}')
  t=$(( $(date +%s) - start ))
  echo "$t $rss" >> "$work/rss.txt"
  printf '%8d %10.1f %10s %12s\n' "$t" "$(echo "$rss / 1024" | bc -l)" "$polls" "$samples"
  sleep 30
done
m=$(in_ns curl -s -m 30 $url/metrics)
for k in nocmap_polls_skipped_total nocmap_snmp_timeouts_total nocmap_poll_lag_seconds_max nocmap_discoveries_total; do
  printf '%-30s %s\n' "$k" "$(echo "$m" | awk -v k=$k '$1==k{print $2}')"
done
grep -E '^(VmRSS|VmHWM)' /proc/$serve_pid/status
# The second half: range and least-squares slope (MiB per hour).
awk -v half=$((MINUTES * 30)) '$1 >= half {n++; x+=$1; y+=$2/1024; xx+=$1*$1; xy+=$1*$2/1024;
    if (min=="" || $2<min) min=$2; if ($2>max) max=$2}
  END { if (n < 2) { print "too few samples"; exit }
        slope=(n*xy - x*y)/(n*xx - x*x);
        printf "second half: %d samples, RSS %.1f-%.1f MiB, trend %+.1f MiB/hour\n", n, min/1024, max/1024, slope*3600 }' "$work/rss.txt"
