#!/usr/bin/env bash
# Sites at scale: SITES site pollers, each polling AGENTS simulated agents of
# IFACES interfaces, into one central over one nats-server with JetStream.
#
# Everything runs in one namespace of its own (`nmscale`: only `lo` up, no
# route): nats-server (`-js`, store in a temporary directory) on
# 127.0.0.1:14222; one `nocmap serve` as the central (site `hq`, API on
# 127.0.0.1:18180); SITES `nocmap serve` as site pollers `s01`, `s02`, ...
# (API on 127.0.0.1:18181, ...), site k polling its own `sim_agents --net
# 80+k` fleet on 127.(80+k).0.0/16 (discovery seeds, depth 0), every POLL_S
# seconds, no ICMP; each process with its own store file.
#
# After every site's first samples reached the central and one more
# (warm-up) cycle, it measures CYCLES cycles of POLL_S seconds. Per cycle:
# the central's CPU seconds (utime + stime from /proc/PID/stat) and RSS
# (VmRSS), the pollers' CPU (all together, and the busiest one), and from the
# central's `/metrics` histogram `nocmap_site_delay_seconds{kind="live"}`
# (commit time minus poll time, one observation per sample, every site
# summed) the samples that arrived in the cycle and their poll-to-store
# latency p50/p99, interpolated inside the buckets as PromQL's
# histogram_quantile does; the backfilled samples that arrived; and the
# poll-to-map latency p50/p99 (`kind="verdict"`: the time a device's new
# verdict, which the map draws, reached the central's live map minus the
# time of the poll behind it).
#
#   cargo build --release --bin nocmap --example sim_agents
#   sudo examples/bench_sites_scale.sh [SITES 10] [AGENTS 200] [IFACES 50] [CYCLES 10] [POLL_S 60]
#
# CUT_S=S stops nats-server (SIGSTOP) for S seconds after the warm-up
# cycle, which every site sees as a WAN cut: what they poll meanwhile is
# journalled and sent afterwards from the backlog (at the default
# `backfill_per_s`), counted apart as `kind="backfill"`, while the live
# figure in the table shows whether the backfill delays live samples.
# KEEP=1 keeps the working directory (logs, stores) and prints its path.
set -u
cd "$(dirname "$0")/.."
SITES=${1:-10} AGENTS=${2:-200} IFACES=${3:-50} CYCLES=${4:-10} POLL_S=${5:-60}
NS=nmscale
BIN=target/release
NATS_PORT=14222 NATS_MON=18222 CENTRAL_PORT=18180
[ "$SITES" -ge 1 ] && [ "$SITES" -le 99 ] || { echo "SITES must be 1..99" >&2; exit 2; }
[ "$AGENTS" -ge 1 ] && [ "$AGENTS" -le 62500 ] || { echo "AGENTS must be 1..62500" >&2; exit 2; }
for b in $BIN/nocmap $BIN/examples/sim_agents; do
  [ -x "$b" ] || { echo "no $b: cargo build --release --bin nocmap --example sim_agents" >&2; exit 2; }
done
command -v nats-server >/dev/null || { echo "nats-server is needed (Debian package nats-server)" >&2; exit 2; }
work=$(mktemp -d /tmp/nmscale.XXXXXX)
cleanup() {
  trap - EXIT INT TERM
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
  # serve flushes its store at a stop: up to 10 s before SIGKILL.
  for _ in $(seq 1 20); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.5; done
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ip netns list | grep -qw "$NS"; then
  echo "namespace $NS exists already (another run?); not touching it" >&2
  trap - EXIT; rm -rf "$work"; exit 1
fi
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
site_name() { printf 's%02d' "$1"; }
net_of() { echo $((80 + $1)); }

# /proc figures of a process: CPU seconds (utime + stime) and VmRSS in KiB.
TICKS=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICKS" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
metrics() { in_ns curl -s -m 30 "http://127.0.0.1:$1/metrics" || true; }
pick() { awk -v k="$1" '$1==k{print $2}'; }

# The central: no devices of its own, the sites expected.
expect=$(for k in $(seq 1 "$SITES"); do printf '"%s",' "$(site_name "$k")"; done)
cat > "$work/central.toml" <<EOF
[nats]
url = "nats://127.0.0.1:$NATS_PORT"
site = "hq"
role = "central"
sites = [${expect%,}]
EOF
# A site: its fleet as discovery seeds (depth 0), SNMP every POLL_S s.
for k in $(seq 1 "$SITES"); do
  net=$(net_of "$k")
  seeds=$(for a in $(seq 0 $((AGENTS - 1))); do printf '"127.%d.%d.%d",' "$net" $((a / 250)) $((a % 250 + 1)); done)
  cat > "$work/$(site_name "$k").toml" <<EOF
[snmp]
timeout_ms = 1000
retries = 1
max_repetitions = 25

[[credentials]]
name = "sim"
version = "2c"
community = "public"

[discovery]
prefixes = ["127.$net.0.0/16"]
depth = 0
seeds = [${seeds%,}]

[poll]
snmp_interval_s = $POLL_S

[nats]
url = "nats://127.0.0.1:$NATS_PORT"
site = "$(site_name "$k")"
role = "poller"
EOF
done

echo "$(date -u +%H:%M:%S) starting nats-server, $SITES x $AGENTS simulated agents x $IFACES interfaces, the central and $SITES site pollers (poll every $POLL_S s) in namespace $NS; work dir $work"
# Started by `ip netns exec` itself (not through a function) so that $! is
# the process measured: ip execs the command.
ip netns exec "$NS" nats-server -js -sd "$work/js" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MON" > "$work/nats.log" 2>&1 &
nats_pid=$!
for k in $(seq 1 "$SITES"); do
  ip netns exec "$NS" $BIN/examples/sim_agents "$AGENTS" "$IFACES" --net "$(net_of "$k")" > "$work/sim-$k.log" 2>&1 &
  echo $! >> "$work/sim.pids"
done
for k in $(seq 1 "$SITES"); do
  for _ in $(seq 1 240); do grep -q '^ready' "$work/sim-$k.log" && break; sleep 0.5; done
  grep -q '^ready' "$work/sim-$k.log" || { echo "simulated agents of site $k not ready:"; tail -3 "$work/sim-$k.log"; exit 1; }
done
for _ in $(seq 1 40); do in_ns curl -s -m 1 "http://127.0.0.1:$NATS_MON/healthz" >/dev/null && break; sleep 0.5; done
ip netns exec "$NS" $BIN/nocmap --verbose serve --config "$work/central.toml" --db "$work/central.db" \
  --listen "127.0.0.1:$CENTRAL_PORT" --no-icmp --rediscover-interval 0 \
  > "$work/central.out" 2> "$work/central.err" &
central_pid=$!
poller_pids=()
for k in $(seq 1 "$SITES"); do
  s=$(site_name "$k")
  ip netns exec "$NS" $BIN/nocmap --verbose serve --config "$work/$s.toml" --db "$work/$s.db" \
    --listen "127.0.0.1:$((CENTRAL_PORT + k))" --no-icmp --rediscover-interval 0 \
    > "$work/$s.out" 2> "$work/$s.err" &
  poller_pids+=($!)
done

# Ready: every site's samples in the central's histogram.
live_counts() { metrics $CENTRAL_PORT | awk '/^nocmap_site_delay_seconds_count\{.*kind="live"/ && $2 > 0 {n++} END {print n+0}'; }
t0=$(date +%s)
until [ "$(live_counts)" -ge "$SITES" ]; do
  if [ $(($(date +%s) - t0)) -gt $((600 + 2 * POLL_S)) ]; then
    echo "not every site's samples reached the central in time; the central's log:"; tail -5 "$work/central.err"; exit 1
  fi
  kill -0 "$central_pid" 2>/dev/null || { echo "the central is gone:"; tail -5 "$work/central.err"; exit 1; }
  sleep 2
done
echo "$(date -u +%H:%M:%S) every site's first samples reached the central after $(($(date +%s) - t0)) s; one warm-up cycle of $POLL_S s"
sleep "$POLL_S"

# One snapshot: central CPU and RSS, pollers' CPU, the live histogram
# summed over the sites (le -> cumulative count).
snap() { # $1 = file prefix
  cpu_s "$central_pid" > "$1.ccpu"
  rss_kb "$central_pid" > "$1.crss"
  : > "$1.pcpu"
  for p in "${poller_pids[@]}"; do cpu_s "$p" >> "$1.pcpu"; done
  : > "$1.prss"
  for p in "${poller_pids[@]}"; do rss_kb "$p" >> "$1.prss"; done
  : > "$1.scpu"
  while read -r p; do cpu_s "$p" >> "$1.scpu"; done < "$work/sim.pids"
  cpu_s "$nats_pid" > "$1.ncpu"
  metrics $CENTRAL_PORT > "$1.metrics"
  hist live < "$1.metrics" > "$1.hist"
  hist backfill < "$1.metrics" > "$1.bhist"
  hist verdict < "$1.metrics" > "$1.vhist"
}
# One kind's buckets, every site summed: "le count" lines (+Inf as inf).
hist() {
  awk -F'[{}]' -v kind="kind=\"$1\"" '/^nocmap_site_delay_seconds_bucket\{/ && index($2, kind) {
      split($2, kv, ","); le = ""; for (i in kv) if (kv[i] ~ /^le=/) { le = kv[i]; gsub(/le=|"/, "", le) }
      sum[le] += $3 + 0 }
    END { for (le in sum) print (le == "+Inf" ? "inf" : le), sum[le] }' | sort -g
}
# p50 and p99 of the histogram between two snapshots (interpolated inside
# the bucket; "> 604800" when in +Inf); $3 = hist (live, the default) or
# bhist (backfill).
quantiles() {
  local h=${3:-hist}
  join <(sort "$1.$h") <(sort "$2.$h") | awk '{ print $1, $3 - $2 }' | sort -g | awk '
    { le[NR] = $1; c[NR] = $2; n = NR }
    END {
      total = c[n]; if (total <= 0) { print "0 - -"; exit }
      out = total
      split("0.5 0.99", qs, " ")
      for (j = 1; j <= 2; j++) {
        rank = qs[j] * total; lo = 0; prev = 0; q = "-"
        for (i = 1; i <= n; i++) {
          if (c[i] >= rank) {
            if (le[i] == "inf") q = "> " le[i-1]
            else q = sprintf("%.3f", lo + (le[i] - lo) * (rank - prev) / (c[i] - prev))
            break
          }
          lo = le[i]; prev = c[i]
        }
        out = out " " q
      }
      print out
    }'
}
sum_col() { awk '{s += $1} END {printf "%.2f", s}' "$1"; }
diff_cols() { paste "$1" "$2" | awk '{d = $2 - $1; s += d; if (d > m) m = d} END {printf "%.2f %.2f", s, m}'; }

if [ "${CUT_S:-0}" -gt 0 ]; then
  echo "$(date -u +%H:%M:%S) nats-server stopped for $CUT_S s (every site cut off)"
  kill -STOP "$nats_pid"; sleep "$CUT_S"; kill -CONT "$nats_pid"
  echo "$(date -u +%H:%M:%S) nats-server running again"
fi
printf '%s load average %s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"
row='%-5s %-8s %-8s %-8s %-9s %-7s %-7s %-9s %-8s %-8s %-9s %-8s %-8s %-7s\n'
printf "$row" cycle central central pollers busiest agents nats live live live backfill map map load
printf "$row" "" "CPU s" "RSS MiB" "CPU s" "poller s" "CPU s" "CPU s" samples "p50 s" "p99 s" samples "p50 s" "p99 s" "avg 1m"
snap "$work/c0"
for c in $(seq 1 "$CYCLES"); do
  sleep "$POLL_S"
  snap "$work/c$c"
  p="$work/c$((c - 1))" n="$work/c$c"
  ccpu=$(awk -v a="$(cat "$p.ccpu")" -v b="$(cat "$n.ccpu")" 'BEGIN {printf "%.2f", b - a}')
  crss=$(awk -v r="$(cat "$n.crss")" 'BEGIN {printf "%.0f", r / 1024}')
  read -r pall pmax <<< "$(diff_cols "$p.pcpu" "$n.pcpu")"
  read -r sall _ <<< "$(diff_cols "$p.scpu" "$n.scpu")"
  ncpu=$(awk -v a="$(cat "$p.ncpu")" -v b="$(cat "$n.ncpu")" 'BEGIN {printf "%.2f", b - a}')
  read -r arrived p50 p99 <<< "$(quantiles "$p" "$n")"
  read -r backfilled _ <<< "$(quantiles "$p" "$n" bhist)"
  read -r _ m50 m99 <<< "$(quantiles "$p" "$n" vhist)"
  printf "$row" "$c" "$ccpu" "$crss" "$pall" "$pmax" "$sall" "$ncpu" "$arrived" "$p50" "$p99" "$backfilled" "$m50" "$m99" "$(cut -d' ' -f1 /proc/loadavg)"
  kill -0 "$central_pid" 2>/dev/null || { echo "the central is gone:"; tail -5 "$work/central.err"; exit 1; }
done

n="$work/c$CYCLES"
echo "== over the $CYCLES measured cycles"
read -r arrived p50 p99 <<< "$(quantiles "$work/c0" "$n")"
echo "live samples at the central: $arrived, poll-to-store latency p50 $p50 s, p99 $p99 s"
read -r arrived p50 p99 <<< "$(quantiles "$work/c0" "$n" bhist)"
echo "backfilled samples at the central: $arrived, latency p50 $p50 s, p99 $p99 s"
read -r arrived p50 p99 <<< "$(quantiles "$work/c0" "$n" vhist)"
echo "new device verdicts at the central's map: $arrived, poll-to-map latency p50 $p50 s, p99 $p99 s"
awk '/^nocmap_site_delay_seconds_count\{/ {print "  " $0}' "$n.metrics"
echo "central: VmHWM $(awk '/^VmHWM/{print $2 / 1024 " MiB"}' "/proc/$central_pid/status"), store $(du -sm "$work"/central.db* | awk '{s += $1} END {print s " MiB"}')"
echo "pollers: RSS MiB $(awk '{printf "%d ", $1 / 1024}' "$n.prss")"
echo "JetStream store: $(du -sm "$work/js" | cut -f1) MiB"
for k in $(seq 1 "$SITES"); do
  s=$(site_name "$k")
  m=$(metrics $((CENTRAL_PORT + k)))
  printf '%s: polls %s, skipped %s, failures %s, lag max %s s\n' "$s" \
    "$(echo "$m" | pick nocmap_snmp_polls_total)" "$(echo "$m" | pick nocmap_polls_skipped_total)" \
    "$(echo "$m" | pick nocmap_snmp_poll_failures_total)" "$(echo "$m" | pick nocmap_poll_lag_seconds_max)"
done
echo "central's map: $(in_ns curl -s -m 60 "http://127.0.0.1:$CENTRAL_PORT/api/topology" | grep -o '"from_site"' | wc -l) site devices; site topologies received: $(grep -c "a site's topology" "$work/central.err")"
echo "the central's warnings and errors, then the pollers':"
nocolor() { sed -E 's/\x1b\[[0-9;]*m//g; s/^[^ ]+ +//'; }
grep -E 'WARN|ERROR' "$work/central.err" | nocolor | cut -c1-160 | sort | uniq -c | sort -rn | head -5
for k in $(seq 1 "$SITES"); do grep -E 'WARN|ERROR' "$work/$(site_name "$k").err"; done | nocolor | cut -c1-160 | sort | uniq -c | sort -rn | head -5
printf '%s load average %s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"
