//! Fuzz target: configuration loading (`Config::from_toml`, the text half of
//! `Config::load`) on arbitrary text: syntax pass, key walk, serde, secret
//! resolution, validation. It must never panic; every error must carry a
//! line/column inside the text (or 0:0 for whole-file problems). A config
//! that is accepted is then handed to every engine bridge (SNMP settings and
//! credentials, server auth, remote write) and to the per-device interval
//! lookup with a device name taken from the text's last line, since device
//! names come from the network and group patterns are globs. The first and
//! last lines also go straight to `glob_match`. Use with
//! `-dict=dicts/config_toml.dict`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::config::Config;
use nocmap::config::intervals::glob_match;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = text.lines().next().unwrap_or("");
    let last = text.lines().last().unwrap_or("");
    let _ = glob_match(first, last);
    match Config::from_toml(text) {
        Ok(config) => {
            let _ = config.snmp_settings();
            let _ = config.snmp_credentials();
            let _ = nocmap::server::settings::auth(&config.server);
            let _ = nocmap::server::settings::remote_write(config.remote_write.as_ref());
            let _ = config.credential_names();
            let name = last.trim_start_matches('#');
            let addr = "10.20.0.1".parse().ok();
            for n in [Some(name), None] {
                let i = config.intervals_for(n, addr);
                assert!(!i.icmp.is_zero() && !i.snmp.is_zero(), "{i:?}");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let lines = text.split('\n').count();
            for e in &errors {
                assert!(e.line <= lines, "{e:?} beyond {lines} lines");
                assert_eq!(e.line == 0, e.column == 0, "{e:?}");
                assert!(!e.message.is_empty());
            }
        }
    }
});
