//! Every SNMP version and USM protocol combination the engine offers, against
//! a real net-snmp snmpd: v1, v2c, and v3 with MD5/SHA-1/SHA-2 auth and
//! DES/AES-128/192/256 privacy, plus wrong credentials failing cleanly.
#[macro_use]
mod support;
use support::netns::Netns;

const BIN: &str = env!("CARGO_BIN_EXE_nocmap");

const USERS: &str = "rocommunity v1only 127.0.0.0/8\n\
createUser umd5des MD5 \"authpass123\" DES \"privpass123\"\nrouser umd5des priv\n\
createUser usha1aes SHA \"authpass123\" AES \"privpass123\"\nrouser usha1aes priv\n\
createUser usha224 SHA-224 \"authpass123\"\nrouser usha224 auth\n\
createUser usha384 SHA-384 \"authpass123\" AES-192 \"privpass123\"\nrouser usha384 priv\n\
createUser usha512 SHA-512 \"authpass123\" AES-256 \"privpass123\"\nrouser usha512 priv\n\
createUser unoauth\nrouser unoauth noauth\n";

#[test]
fn every_version_and_usm_combination() {
    require_root!();
    let ns = Netns::new("nmsnmp-versions");
    ns.start_snmpd_with("verbox", USERS);
    let state = ns.dir.join("state");
    let v3 = |u: &str, l: &str, a: Option<&str>, x: Option<&str>| {
        let mut v = vec![
            "-v".to_string(),
            "3".into(),
            "-u".into(),
            u.into(),
            "-l".into(),
            l.into(),
        ];
        if let Some(a) = a {
            v.extend(["-a".into(), a.into(), "-A".into(), "authpass123".into()]);
        }
        if let Some(x) = x {
            v.extend(["-x".into(), x.into(), "-X".into(), "privpass123".into()]);
        }
        v
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "v1",
            vec!["-v".into(), "1".into(), "-c".into(), "v1only".into()],
        ),
        ("v2c", vec!["-c".into(), "public".into()]),
        (
            "MD5+DES",
            v3("umd5des", "authPriv", Some("MD5"), Some("DES")),
        ),
        (
            "SHA+AES",
            v3("usha1aes", "authPriv", Some("SHA"), Some("AES")),
        ),
        (
            "SHA-224 auth only",
            v3("usha224", "authNoPriv", Some("SHA-224"), None),
        ),
        (
            "SHA-256+AES",
            v3("nocadmin", "authPriv", Some("SHA-256"), Some("AES")),
        ),
        (
            "SHA-384+AES-192",
            v3("usha384", "authPriv", Some("SHA-384"), Some("AES-192")),
        ),
        (
            "SHA-512+AES-256",
            v3("usha512", "authPriv", Some("SHA-512"), Some("AES-256")),
        ),
        ("noAuthNoPriv", v3("unoauth", "noAuthNoPriv", None, None)),
    ];
    for (what, args) in &cases {
        let out = ns
            .cmd(BIN)
            .env("NOCMAP_STATE_DIR", &state)
            .arg("walk")
            .args(args)
            .args(["127.0.0.1", "1.3.6.1.2.1.1.5"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            text.trim(),
            ".1.3.6.1.2.1.1.5.0 = STRING: \"verbox\"",
            "{what}"
        );
    }
    // DES kept its salt epoch in the state directory, advanced once per run that used it.
    assert_eq!(
        std::fs::read_to_string(state.join("des-engine-boots"))
            .unwrap()
            .trim(),
        "1"
    );

    // Wrong secrets fail with one line that names neither the secret nor the user's passphrase.
    let mut wrong = v3("usha512", "authPriv", Some("SHA-512"), Some("AES-256"));
    wrong[9] = "wrongpassphrase".into();
    let out = ns
        .cmd(BIN)
        .args(["walk", "-t", "0.3", "-r", "0"])
        .args(&wrong)
        .args(["127.0.0.1", "1.3.6.1.2.1.1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains("wrongpassphrase") && !err.contains("privpass123"),
        "{err}"
    );
}
