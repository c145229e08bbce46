#!/usr/bin/env bash
# The one-command demo: install what nocmap's lab needs (Debian/Ubuntu),
# build both binaries (`nocmap`, the product, and `nocmap-lab`, the lab and
# the demo), and run `nocmap-lab demo` on the bundled lab network; the demo
# runs the `nocmap` built beside it.
# Everything it probes lives in network namespaces it creates; the probes run
# inside the lab's `noc` namespace, which has no route out of the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "the demo builds network namespaces: run it as root (sudo $0)" >&2
  exit 1
fi
need=(snmpd snmp lldpd iproute2 nftables iperf3 ethtool)
# The multi-site tour (`--sites`) also runs nats-server.
for a in "$@"; do [ "$a" = --sites ] && need+=(nats-server); done
if command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
  missing=()
  for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "not a Debian system: install net-snmp (snmpd), lldpd, iproute2, nftables, iperf3 and ethtool yourself" >&2
fi
mkdir -p /run/lldpd
cargo build --release --locked --bins
exec ./target/release/nocmap-lab demo "$@"
