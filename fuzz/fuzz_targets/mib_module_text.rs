//! Fuzz target: loading a MIB module from text, the way `Mibs::load_dir`
//! loads a user's file (mib-rs parse and resolve against the bundled
//! modules it imports, then our flattening into the OID trie), through
//! `Mibs::with_module_text`. The module name is the token before
//! `DEFINITIONS`, as the directory scan finds it. Loading must return a
//! set or an error, never panic; every node of a loaded set must display as
//! text that resolves back to its OID.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::mib::Mibs;

fn module_name(text: &str) -> &str {
    let Some(at) = text.find("DEFINITIONS") else {
        return "FUZZ-MIB";
    };
    text[..at].split_whitespace().last().unwrap_or("FUZZ-MIB")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok((mibs, _warnings)) = Mibs::with_module_text(module_name(&text), data) else {
        return;
    };
    for node in mibs.nodes() {
        if node.oid.is_empty() {
            continue;
        }
        let shown = mibs.display(&node.oid);
        assert_eq!(
            mibs.resolve(&shown).as_deref(),
            Ok(&node.oid[..]),
            "{}::{} shown as {shown:?}",
            node.module,
            node.name
        );
    }
});
