//! Fuzz target: OID text as users type it (`1.3.6.1.2.1.2.2.1.2.3`,
//! `IF-MIB::ifDescr.3`, `sysName.0`), resolved against the bundled MIBs by
//! `Mibs::resolve` (which runs `mib::resolve::parse`, then the name lookup),
//! and the way back: whatever resolves must display (`Mibs::display`) as
//! text that resolves to the same arcs, and `name_of`/`node` must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::mib::{Mibs, format_numeric};
use std::sync::OnceLock;

fn mibs() -> &'static Mibs {
    static MIBS: OnceLock<Mibs> = OnceLock::new();
    MIBS.get_or_init(|| Mibs::try_bundled().expect("bundled MIBs load").0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let m = mibs();
    let _ = m.node(text);
    let Ok(arcs) = m.resolve(text) else {
        return;
    };
    if arcs.is_empty() {
        return;
    }
    let shown = m.display(&arcs);
    assert_eq!(
        m.resolve(&shown).as_deref(),
        Ok(&arcs[..]),
        "{text:?} shown as {shown:?}"
    );
    let numeric = format_numeric(&arcs);
    assert_eq!(m.resolve(&numeric).as_deref(), Ok(&arcs[..]), "{numeric:?}");
    if let Some((name, suffix)) = m.name_of(&arcs) {
        let node = m.node(&name).expect("a name from name_of names a node");
        assert_eq!([&node.oid[..], &suffix[..]].concat(), arcs);
    }
});
