//! Tests of loading users' MIB directories into `nocmap::mib::Mibs`.
use nocmap::mib::{MibError, Mibs, NodeKind};
use std::fs;

const ACME_MIB: &str = r#"ACME-MIB DEFINITIONS ::= BEGIN
IMPORTS
    MODULE-IDENTITY, OBJECT-TYPE, Integer32, enterprises
        FROM SNMPv2-SMI
    InterfaceIndex
        FROM IF-MIB;

acmeMib MODULE-IDENTITY
    LAST-UPDATED "202401010000Z"
    ORGANIZATION "Acme"
    CONTACT-INFO "none"
    DESCRIPTION  "Test vendor module."
    ::= { enterprises 424242 }

acmeObjects OBJECT IDENTIFIER ::= { acmeMib 1 }

acmeTempTable OBJECT-TYPE
    SYNTAX      SEQUENCE OF AcmeTempEntry
    MAX-ACCESS  not-accessible
    STATUS      current
    DESCRIPTION ""
    ::= { acmeObjects 1 }

acmeTempEntry OBJECT-TYPE
    SYNTAX      AcmeTempEntry
    MAX-ACCESS  not-accessible
    STATUS      current
    DESCRIPTION ""
    INDEX       { acmeTempIfIndex }
    ::= { acmeTempTable 1 }

AcmeTempEntry ::= SEQUENCE {
    acmeTempIfIndex  InterfaceIndex,
    acmeTempCelsius  Integer32
}

acmeTempIfIndex OBJECT-TYPE
    SYNTAX      InterfaceIndex
    MAX-ACCESS  not-accessible
    STATUS      current
    DESCRIPTION ""
    ::= { acmeTempEntry 1 }

acmeTempCelsius OBJECT-TYPE
    SYNTAX      Integer32
    UNITS       "degrees Celsius"
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION ""
    ::= { acmeTempEntry 2 }

END
"#;

#[test]
fn vendor_mib_from_a_directory_resolves() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ACME-MIB.my"), ACME_MIB).unwrap();
    let mut m = Mibs::bundled();
    assert!(m.resolve("acmeTempCelsius").is_err());
    m.load_dir(dir.path()).expect("vendor dir loads");

    let want = vec![1, 3, 6, 1, 4, 1, 424242, 1, 1, 1, 2, 5];
    assert_eq!(m.resolve("ACME-MIB::acmeTempCelsius.5").unwrap(), want);
    assert_eq!(m.resolve("acmeTempCelsius.5").unwrap(), want);
    assert_eq!(
        m.name_of(&want),
        Some(("ACME-MIB::acmeTempCelsius".to_string(), vec![5]))
    );
    let node = m.node("acmeTempCelsius").unwrap();
    assert_eq!(node.kind, NodeKind::Column);
    let meta = node.object.as_ref().unwrap();
    assert_eq!(meta.units, "degrees Celsius");
    assert_eq!(meta.indexes[0].name, "acmeTempIfIndex");
    // Bundled names still work after the reload.
    assert_eq!(
        m.resolve("IF-MIB::ifHCInOctets").unwrap(),
        vec![1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6]
    );
    assert_eq!(m.dirs(), [dir.path().to_path_buf()]);
}

#[test]
fn malformed_mib_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Broken: an undefined parent, a bad SYNTAX and a missing END.
    fs::write(
        dir.path().join("BROKEN-MIB.txt"),
        "BROKEN-MIB DEFINITIONS ::= BEGIN\n\
         IMPORTS OBJECT-TYPE FROM SNMPv2-SMI;\n\
         brokenThing OBJECT-TYPE\n\
             SYNTAX      ((( nonsense\n\
             MAX-ACCESS  read-only\n\
             ::= { nowhere 1 }\n",
    )
    .unwrap();
    let mut m = Mibs::bundled();
    let err = m.load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, MibError::Invalid { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("BROKEN-MIB"), "{text}");
    // The set is unchanged and still usable.
    assert!(m.dirs().is_empty());
    assert!(m.resolve("sysName.0").is_ok());
}

#[test]
fn garbage_bytes_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut junk = b"JUNK-MIB DEFINITIONS ::= BEGIN\n".to_vec();
    junk.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    fs::write(dir.path().join("JUNK-MIB"), junk).unwrap();
    let mut m = Mibs::bundled();
    // Either outcome is acceptable as long as it is a value, not a panic.
    let _ = m.load_dir(dir.path());
    assert!(m.resolve("ifDescr").is_ok());
}

#[test]
fn directory_without_modules_or_missing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("README"), "not a MIB").unwrap();
    let mut m = Mibs::bundled();
    let err = m.load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, MibError::NoModules { .. }), "{err:?}");

    let missing = dir.path().join("nope");
    let err = m.load_dir(&missing).unwrap_err();
    assert!(matches!(err, MibError::ReadDir { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}
