//! The lab tests that mostly wait, in one binary so that libtest runs them
//! side by side (four at a time, as `.cargo/config.toml` sets) instead of one binary after
//! another. Each lab has its own namespaces, address prefix and database
//! directory, so they do not meet. Each file is still a test binary of its
//! own for `cargo test --test NAME`; `Cargo.toml` keeps them out of a plain
//! `cargo test` so they do not run twice.
// Each lab brings its own copy of `tests/support`, as it does alone.
#![allow(clippy::duplicate_mod)]
#[path = "alerts_alertmanager_lab.rs"]
mod alerts_alertmanager_lab;
#[path = "alerts_flap_lab.rs"]
mod alerts_flap_lab;
#[path = "alerts_isolation_lab.rs"]
mod alerts_isolation_lab;
#[path = "alerts_lab.rs"]
mod alerts_lab;
#[path = "icmp_stale_lab.rs"]
mod icmp_stale_lab;
#[path = "store_crash_lab.rs"]
mod store_crash_lab;
#[path = "store_faults_lab.rs"]
mod store_faults_lab;
