#!/usr/bin/env bash
# Build nocmap's Debian package: target/debian/nocmap_<version>_<arch>.deb
# (the release binary, /etc/nocmap/nocmap.toml and nocmap.env as conffiles,
# the hardened systemd unit, man pages and bash/zsh/fish completions
# generated from the command definitions). Then, as a check:
#   lintian target/debian/nocmap_*.deb
#   systemd-analyze verify packaging/nocmap.service
#   dpkg -i target/debian/nocmap_*.deb && nocmap check-config /etc/nocmap/nocmap.toml
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
cargo build --release --locked --bin nocmap
rm -rf target/gen-docs
target/release/nocmap gen-docs --out target/gen-docs
gzip -9n target/gen-docs/man/*.1
cargo deb --no-build --locked "$@"
