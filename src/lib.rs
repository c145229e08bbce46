//! nocmap: a NOC probe and topology mapper.
//!
//! See ARCHITECTURE.md for the code map and the invariants between modules.
pub mod alert;
pub mod cli;
pub mod config;
pub mod discovery;
pub mod icmp;
pub mod live;
pub mod memory;
pub mod mib;
pub mod monitor;
pub mod poller;
pub mod report;
pub mod server;
pub mod snmp;
pub mod store;
pub mod topology;
pub mod types;
pub mod util;

#[cfg(test)]
mod tidy {
    /// The product never links the lab: no file of the library (the
    /// `nocmap-lab` binary's own `src/bin/nocmap-lab/` aside) names it.
    #[test]
    fn the_library_does_not_use_the_lab_crate() {
        // Spelled in two halves so this file does not find itself.
        const NEEDLE: &str = concat!("nocmap", "_lab");
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("read src/").flatten() {
                let p = e.path();
                if p.is_dir() {
                    if !p.ends_with("src/bin") {
                        walk(&p, found);
                    }
                } else if p.extension().is_some_and(|x| x == "rs")
                    && std::fs::read_to_string(&p).is_ok_and(|t| t.contains(NEEDLE))
                {
                    found.push(p.display().to_string());
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "the library uses the lab crate: {found:?}"
        );
    }
}
