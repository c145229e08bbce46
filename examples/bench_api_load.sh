#!/usr/bin/env bash
# The web API under load while the monitor polls a simulated fleet.
#
# Everything runs in a namespace of its own (`sb-load`: loopback only, no
# route out): `sim_agents` serves AGENTS x IFACES SNMPv2c agents on
# 127.1.x.y; `nocmap serve` discovers and polls them every POLL_S seconds
# (no ICMP); STREAMS clients hold `/api/events` open (each first gets the
# whole map); then `wrk` sends CONNS concurrent connections for SECS seconds
# at `/api/alerts` (a small answer), and 10 connections at `/api/topology`
# (the whole map: about 22 MB for 1,000 agents x 50 interfaces), and prints
# latency percentiles. The monitor's own counters, read before and after,
# tell whether polls were skipped or late.
#
# With TLS=1 in the environment the server speaks HTTPS (a self-signed
# certificate made by openssl for 127.0.0.1; curl trusts it, wrk does not
# check): the same load over TLS, handshakes included (wrk keeps its
# connections open, the event streams and curl calls each do one).
#
#   cargo build --release --bin nocmap --example sim_agents --example bench_poll
#   sudo [TLS=1] examples/bench_api_load.sh [AGENTS 1000] [IFACES 50] [STREAMS 200] [CONNS 200] [SECS 60] [POLL_S 60]
set -u
cd "$(dirname "$0")/.."
AGENTS=${1:-1000} IFACES=${2:-50} STREAMS=${3:-200} CONNS=${4:-200} SECS=${5:-60} POLL_S=${6:-60}
NS=sb-load
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

# The config: the agents as seeds (depth 0), no rate limit (every client
# here is 127.0.0.1), enough event streams for one address.
$BIN/examples/bench_poll "$AGENTS" "$IFACES" 1 "$POLL_S" --write-config "$work/nocmap.toml" >/dev/null
sed -i "s/^snmp_interval_s = .*/snmp_interval_s = $POLL_S/; s/^listen = .*/listen = \"127.0.0.1:18090\"/" "$work/nocmap.toml"
sed -i "/^\[server\]/a rate_limit_per_s = 0\nmax_streams_per_client = $((STREAMS + 10))" "$work/nocmap.toml"
URL=http://127.0.0.1:18090
CURL=(curl)
if [ "${TLS:-0}" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=nocmap-bench -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
  sed -i "/^\[server\]/a tls_cert = \"$work/tls.crt\"\ntls_key = \"$work/tls.key\"" "$work/nocmap.toml"
  URL=https://127.0.0.1:18090
  CURL=(curl --cacert "$work/tls.crt")
fi

in_ns $BIN/examples/sim_agents "$AGENTS" "$IFACES" > "$work/sim.log" 2>&1 &
for _ in $(seq 1 120); do grep -q '^ready' "$work/sim.log" && break; sleep 0.5; done
ip netns exec "$NS" $BIN/nocmap serve --config "$work/nocmap.toml" --db "$work/load.db" --no-icmp \
  --rediscover-interval 0 > "$work/serve.out" 2> "$work/serve.err" &
serve_pid=$!
echo "waiting for discovery of $AGENTS agents ..."
for _ in $(seq 1 600); do
  n=$(in_ns "${CURL[@]}" -s -m 2 $URL/metrics 2>/dev/null | awk '/^nocmap_snmp_polls_total /{print $2}' || true)
  [ -n "${n:-}" ] && [ "${n%.*}" -ge "$AGENTS" ] && break
  sleep 1
done
metrics() { in_ns "${CURL[@]}" -s -m 60 $URL/metrics || true; }
before=$(metrics)
echo "first poll cycle done; opening $STREAMS event streams"
for _ in $(seq 1 "$STREAMS"); do
  in_ns "${CURL[@]}" -s -N -m $((SECS + 30)) -o /dev/null $URL/api/events &
done
sleep 3
bytes=$(in_ns "${CURL[@]}" -s -m 30 $URL/api/topology | wc -c)
echo "/api/topology answer: $bytes bytes"
( while kill -0 "$serve_pid" 2>/dev/null; do grep VmRSS /proc/$serve_pid/status 2>/dev/null; sleep 10; done ) > "$work/rss.txt" &
echo "== wrk: $CONNS connections for $SECS s at /api/alerts"
in_ns wrk -t2 -c"$CONNS" -d"${SECS}s" --latency --timeout 10s $URL/api/alerts
echo "== wrk: 10 connections for $SECS s at /api/topology"
in_ns wrk -t1 -c10 -d"${SECS}s" --latency --timeout 30s $URL/api/topology
after=$(metrics)
echo "serve RSS every 10 s during the load: $(awk '{print $2/1024 " MiB"}' "$work/rss.txt" | paste -sd' ')"
dmesg 2>/dev/null | tail -3 | grep -i -E 'oom|killed' || true
pick() { awk -v k="$1" '$1==k{print $2}'; }
for k in nocmap_snmp_polls_total nocmap_polls_skipped_total nocmap_snmp_poll_failures_total nocmap_snmp_timeouts_total nocmap_poll_lag_seconds_max nocmap_store_up; do
  printf '%-34s before %-12s after %s\n' "$k" "$(echo "$before" | pick $k)" "$(echo "$after" | pick $k)"
done
if kill -0 "$serve_pid" 2>/dev/null; then
  grep -E '^(VmRSS|VmHWM)' /proc/$serve_pid/status
else
  wait "$serve_pid"; echo "nocmap serve is gone (exit status $?); the end of its log:"; tail -5 "$work/serve.err"
fi
