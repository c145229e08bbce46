//! The sites labs (several sites over a real nats-server), in one binary so
//! that libtest runs them side by side (four at a time, as
//! `.cargo/config.toml` sets): most of their time is spent waiting for
//! leases, cuts, heartbeats and backfill. Each lab has its own namespaces,
//! address prefix and nats-server, so they do not meet. Each file is still a
//! test binary of its own for `cargo test --test NAME` (the long WAN cut,
//! `NOCMAP_SITES_CUT_S`, runs `--test sites_nats_lab` alone); `Cargo.toml`
//! keeps them out of a plain `cargo test` so they do not run twice.
// Each lab brings its own copy of `tests/support`, as it does alone.
#![allow(clippy::duplicate_mod)]
#[path = "sites_alerts_lab.rs"]
mod sites_alerts_lab;
#[path = "sites_failover_lab.rs"]
mod sites_failover_lab;
#[path = "sites_group_lab.rs"]
mod sites_group_lab;
#[path = "sites_map_lab.rs"]
mod sites_map_lab;
#[path = "sites_nats_lab.rs"]
mod sites_nats_lab;
#[path = "sites_parts_lab.rs"]
mod sites_parts_lab;
#[path = "sites_security_lab.rs"]
mod sites_security_lab;
#[path = "sites_wan_lab.rs"]
mod sites_wan_lab;
