//! `nocmap walk` against net-snmp's own `snmpwalk -On`, on a real snmpd, over
//! v2c and over v3 authPriv (SHA-256 + AES-128): the same varbinds in the same
//! order with the same types; values equal except live counters and clocks.
#[macro_use]
mod support;
use support::netns::Netns;

const BIN: &str = env!("CARGO_BIN_EXE_nocmap");

fn lines(out: std::process::Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Split `.oid = TYPE: value` into (oid, type, value).
fn parts(l: &str) -> (String, String, String) {
    let (oid, rhs) = l.split_once(" = ").unwrap_or((l, ""));
    let (ty, val) = rhs.split_once(": ").unwrap_or(("", rhs));
    (oid.to_string(), ty.to_string(), val.to_string())
}

fn compare(ours: &[String], theirs: &[String]) {
    assert!(
        theirs.len() > 20,
        "net-snmp returned too little to compare: {theirs:?}"
    );
    assert_eq!(ours.len(), theirs.len(), "varbind count differs");
    for (a, b) in ours.iter().zip(theirs) {
        let (ao, at, av) = parts(a);
        let (bo, bt, bv) = parts(b);
        assert_eq!(ao, bo, "OID order differs");
        assert_eq!(at, bt, "type differs at {ao}");
        if !matches!(at.as_str(), "Counter32" | "Counter64" | "Timeticks") {
            assert_eq!(av, bv, "value differs at {ao}");
        }
    }
}

#[test]
fn walk_equals_snmpwalk_v2c_and_v3() {
    require_root!();
    let ns = Netns::new("nmsnmp-walk");
    ns.add_veths(3);
    ns.start_snmpd("walkbox");
    // Let snmpd's interface cache see the veths.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let v3 = [
        "-v",
        "3",
        "-u",
        "nocadmin",
        "-l",
        "authPriv",
        "-a",
        "SHA-256",
        "-A",
        "authpass123",
        "-x",
        "AES",
        "-X",
        "privpass123",
    ];
    for subtree in ["1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1", "1.3.6.1.2.1.1"] {
        let ours = lines(
            ns.cmd(BIN)
                .args(["walk", "-c", "public", "127.0.0.1", subtree])
                .output()
                .unwrap(),
        );
        let theirs = lines(
            ns.cmd("snmpwalk")
                .args(["-v2c", "-c", "public", "-On", "127.0.0.1", subtree])
                .output()
                .unwrap(),
        );
        compare(&ours, &theirs);
        let ours = lines(
            ns.cmd(BIN)
                .arg("walk")
                .args(v3)
                .args(["127.0.0.1", subtree])
                .output()
                .unwrap(),
        );
        let theirs = lines(
            ns.cmd("snmpwalk")
                .args(v3)
                .args(["-On", "127.0.0.1", subtree])
                .output()
                .unwrap(),
        );
        compare(&ours, &theirs);
    }
    // A leaf: snmpwalk falls back to GET, so must we.
    let ours = lines(
        ns.cmd(BIN)
            .args(["walk", "-c", "public", "127.0.0.1", "1.3.6.1.2.1.1.5.0"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        ours,
        vec![".1.3.6.1.2.1.1.5.0 = STRING: \"walkbox\"".to_string()]
    );
}

#[test]
fn cli_errors_are_one_line() {
    require_root!();
    let ns = Netns::new("nmsnmp-errs");
    ns.start_snmpd("errbox");
    for (args, needle) in [
        (
            vec!["walk", "-c", "public", "127.0.0.1", "NO-SUCH-MIB::thing"],
            "unknown OID",
        ),
        (
            vec![
                "walk",
                "-c",
                "wrongcommunity",
                "-t",
                "0.3",
                "-r",
                "0",
                "127.0.0.1",
                "1.3.6.1.2.1.1",
            ],
            "no answer",
        ),
        (
            vec![
                "walk",
                "-v",
                "3",
                "-u",
                "nocadmin",
                "-l",
                "authPriv",
                "-a",
                "SHA-999",
                "-A",
                "x",
                "127.0.0.1",
                "1.3",
            ],
            "unknown auth protocol",
        ),
        (
            vec![
                "walk",
                "-c",
                "public",
                "no-such-host.invalid",
                "1.3.6.1.2.1.1",
            ],
            "cannot resolve host",
        ),
    ] {
        let out = ns.cmd(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err:?}");
        assert!(
            lines[0].starts_with("nocmap: error: ") && lines[0].contains(needle),
            "{args:?}: {err:?}"
        );
        assert!(
            !err.contains("wrongcommunity"),
            "a community leaked into an error: {err}"
        );
    }
}
