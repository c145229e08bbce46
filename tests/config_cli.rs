//! `nocmap check-config` end to end: exit codes, `FILE:LINE:COL` output,
//! `env:` secrets, and no secret on stdout or stderr.
use std::fs;
use std::process::Command;

const COMMUNITY: &str = "cli-c0mmunity-SECRET";
const PRIV: &str = "cli-priv-SECRET-99";

fn nocmap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nocmap"))
}

#[test]
fn good_file_exits_0_with_a_summary_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.toml");
    fs::write(
        &path,
        r#"[[credentials]]
name = "lab"
version = "2c"
community = "env:NOCMAP_CLI_TEST_COMMUNITY"

[[credentials]]
name = "core"
version = "3"
user = "nocmap"
security_level = "authPriv"
auth_protocol = "SHA-512"
auth_password = "env:NOCMAP_CLI_TEST_PRIV"
priv_protocol = "AES-192"
priv_password = "env:NOCMAP_CLI_TEST_PRIV"

[discovery]
prefixes = ["10.251.2.0/24"]
seeds = ["10.251.2.10"]
"#,
    )
    .unwrap();
    let out = nocmap()
        .arg("check-config")
        .arg(&path)
        .env("NOCMAP_CLI_TEST_COMMUNITY", COMMUNITY)
        .env("NOCMAP_CLI_TEST_PRIV", PRIV)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("lab, core"), "{stdout}");
    assert!(stdout.contains("10.251.2.0/24"), "{stdout}");
    for s in [COMMUNITY, PRIV] {
        assert!(!stdout.contains(s) && !stderr.contains(s));
    }
}

#[test]
fn bad_file_exits_1_and_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(
        &path,
        format!(
            "[snmp]\nretries = \"two\"\n\n[[credentials]]\nname = \"x\"\nversion = \"2c\"\ncommunity = \"{COMMUNITY}\"\ncolour = \"blue\"\n"
        ),
    )
    .unwrap();
    let out = nocmap().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let p = path.display().to_string();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{p}:2:11: snmp.retries")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("{p}:8:1: unknown key `colour`")),
        "{}",
        lines[1]
    );
    assert!(!stdout.contains(COMMUNITY));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(COMMUNITY));
}

#[test]
fn unset_env_secret_is_named_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.toml");
    fs::write(
        &path,
        "[[credentials]]\nname = \"x\"\nversion = \"2c\"\ncommunity = \"env:NOCMAP_CLI_UNSET_VAR\"\n",
    )
    .unwrap();
    let out = nocmap()
        .arg("check-config")
        .arg(&path)
        .env_remove("NOCMAP_CLI_UNSET_VAR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout
            .contains(":4:13: credentials[0].community: environment variable NOCMAP_CLI_UNSET_VAR"),
        "{stdout}"
    );
}

#[test]
fn missing_file_exits_1() {
    let out = nocmap()
        .args(["check-config", "/nonexistent/nocmap.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/nonexistent/nocmap.toml"));
}

#[test]
fn an_inventory_file_lists_devices_and_says_what_it_cannot_poll() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("devices.csv");
    // As NetBox's device table exports it: labels, addresses with their
    // prefix length, tags in one quoted cell.
    fs::write(
        &csv,
        "ID,Name,Status,Site,Role,Primary IP,Tags\n\
         1,core-1,Active,hq,core,10.251.3.1/24,\"wan,pci\"\n\
         2,pdu-7,Active,hq,power,,\n\
         3,edge-1,Active,branch,access,10.251.3.2/32,\n",
    )
    .unwrap();
    let config = |extra: &str| {
        format!(
            "[discovery]\nprefixes = [\"10.251.3.0/24\"]\n\n[inventory]\nfile = \"{}\"\ndiscover = false\n{extra}",
            csv.display()
        )
    };
    let path = dir.path().join("inv.toml");
    fs::write(&path, config("")).unwrap();
    let out = nocmap().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("groups: 0, devices: 2\n"), "{stdout}");
    assert!(stdout.contains("(discover: no)"), "{stdout}");
    assert!(
        stdout.contains("line 3 `pdu-7` not polled: no primary IP: nothing to poll"),
        "{stdout}"
    );

    // A listed address twice, and one outside the prefixes: each an error
    // that names the CSV line.
    let dup = "\n[[devices]]\nname = \"other\"\naddress = \"10.251.3.2\"\n";
    fs::write(&path, config(dup)).unwrap();
    let out = nocmap().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("line 4: address 10.251.3.2 is also listed at devices[0]"),
        "{stdout}"
    );
    fs::write(&path, config("").replace("10.251.3.0/24", "10.251.3.0/31")).unwrap();
    let out = nocmap().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("line 4: address 10.251.3.2 is outside every [discovery] prefix"),
        "{stdout}"
    );
    // A bad address is an error with its line, never a skipped row.
    fs::write(&csv, "Name,Primary IP\nsw,10.251.3.999\n").unwrap();
    fs::write(&path, config("")).unwrap();
    let out = nocmap().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("line 2: device `sw`: `10.251.3.999` is not an IP address"),
        "{stdout}"
    );
}
