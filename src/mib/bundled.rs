//! The MIB modules compiled into the binary (from `mibs/` at the crate
//! root), so name resolution works offline. Owns only the list; it must not
//! parse anything.

/// `(module name, module text)` for every bundled module.
pub const BUNDLED: &[(&str, &str)] = &[
    ("SNMPv2-MIB", include_str!("../../mibs/SNMPv2-MIB.txt")),
    (
        "SNMP-FRAMEWORK-MIB",
        include_str!("../../mibs/SNMP-FRAMEWORK-MIB.txt"),
    ),
    (
        "IANAifType-MIB",
        include_str!("../../mibs/IANAifType-MIB.txt"),
    ),
    ("IF-MIB", include_str!("../../mibs/IF-MIB.txt")),
    (
        "INET-ADDRESS-MIB",
        include_str!("../../mibs/INET-ADDRESS-MIB.txt"),
    ),
    ("IP-MIB", include_str!("../../mibs/IP-MIB.txt")),
    ("RMON2-MIB", include_str!("../../mibs/RMON2-MIB.txt")),
    (
        "IANA-ADDRESS-FAMILY-NUMBERS-MIB",
        include_str!("../../mibs/IANA-ADDRESS-FAMILY-NUMBERS-MIB.txt"),
    ),
    ("LLDP-MIB", include_str!("../../mibs/LLDP-MIB.txt")),
    ("BRIDGE-MIB", include_str!("../../mibs/BRIDGE-MIB.txt")),
    ("Q-BRIDGE-MIB", include_str!("../../mibs/Q-BRIDGE-MIB.txt")),
    ("CISCO-SMI", include_str!("../../mibs/CISCO-SMI.txt")),
    ("CISCO-TC", include_str!("../../mibs/CISCO-TC.txt")),
    (
        "CISCO-CDP-MIB",
        include_str!("../../mibs/CISCO-CDP-MIB.txt"),
    ),
    ("ENTITY-MIB", include_str!("../../mibs/ENTITY-MIB.txt")),
];
