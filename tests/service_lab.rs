//! nocmap as the Debian package installs it (`packaging/`): the systemd
//! unit passes `systemd-analyze verify` without a warning, the packaged
//! configuration passes `check-config`, the man pages and completions are
//! generated from the commands, and `serve` runs in a lab as the unit runs
//! it: an unprivileged user with no capability but CAP_NET_RAW, doing ICMP
//! and SNMP. `NOCMAP_SERVICE_BIN=/usr/bin/nocmap` runs that last test
//! against the binary an installed package put there.
#[macro_use]
mod support;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn packaging(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_unit_verifies_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // The unit as installed, pointing at the binary under test.
    let unit = packaging("nocmap.service")
        .replace("/usr/bin/nocmap", support::nocmap_bin().to_str().unwrap());
    let path = dir.path().join("nocmap.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian's systemd package) is installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "warnings: {stderr}");
}

#[test]
fn the_packaged_config_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nocmap.toml");
    std::fs::write(&path, packaging("nocmap.toml")).unwrap();
    let env = packaging("nocmap.env");
    let community = env
        .lines()
        .find_map(|l| l.strip_prefix("NOCMAP_COMMUNITY="))
        .expect("the env file sets the community");
    let out = Command::new(support::nocmap_bin())
        .arg("check-config")
        .arg(&path)
        .env("NOCMAP_COMMUNITY", community)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("prefixes: 127.0.0.0/8"), "{stdout}");
}

#[test]
fn man_pages_and_completions_come_from_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(support::nocmap_bin())
        .args(["gen-docs", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    let serve = read("man/nocmap-serve.1");
    assert!(serve.contains(".TH NOCMAP-SERVE 1"), "{serve}");
    assert!(serve.contains("poll\\-interval"), "{serve}");
    let path = read("man/nocmap-topo-path.1");
    assert!(path.contains("nocmap topo path"), "{path}");
    // The hidden generator documents nothing of itself.
    assert!(!dir.path().join("man/nocmap-gen-docs.1").exists());
    let bash = read("completions/nocmap");
    assert!(bash.contains("check-config") && bash.contains("--rediscover-interval"));
    assert!(read("completions/_nocmap").starts_with("#compdef nocmap"));
    assert!(read("completions/nocmap.fish").contains("complete -c nocmap"));
}

/// The effective capability set of a process, from /proc.
fn cap_eff(pid: u32) -> (u32, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let uid = field("Uid:").parse().unwrap();
    (uid, u64::from_str_radix(&field("CapEff:"), 16).unwrap())
}

#[test]
fn serve_runs_as_the_units_unprivileged_user() {
    require_root!();
    let prefix = "10.96.0.0/16";
    let lab = support::lab_up_toml(
        &support::lab::LabToml::new("svc", prefix)
            .routers(&["r1"])
            .links("noc:eth0 - r1:eth0")
            .build(),
    );
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
    // The packaged config with the lab's range in place of loopback.
    let config = packaging("nocmap.toml")
        .replace("127.0.0.0/8", prefix)
        .replace("\"127.0.0.1\"]", &format!("\"{seed}\"]"))
        .replace("127.0.0.1:8080", "127.0.0.1:18471")
        .replace("/var/lib/nocmap/nocmap.db", "STATE/nocmap.db");
    // The state directory belongs to the service's user, as StateDirectory= makes it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let cfg = dir.path().join("nocmap.toml");
    std::fs::write(&cfg, config.replace("STATE", state.to_str().unwrap())).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut serve = support::Kill(
        lab.command_in("noc", "setpriv")
            .unwrap()
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all,+net_raw",
                "--ambient-caps=-all,+net_raw",
                "--bounding-set=-all,+net_raw",
            ])
            .arg(std::env::var_os("NOCMAP_SERVICE_BIN").unwrap_or(support::nocmap_bin().into()))
            .args(["serve", "--config"])
            .arg(&cfg)
            .args([
                "--poll-interval",
                "2",
                "--icmp-interval",
                "2",
                "--rediscover-interval",
                "0",
            ])
            .env("NOCMAP_COMMUNITY", "public")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = serve.0.try_wait() {
            panic!("serve exited: {status}");
        }
        let m = support::noc_get(&lab, 18471, "/metrics").unwrap_or_default();
        let one = |family: &str| {
            m.lines().any(|l| {
                l.starts_with(family) && l.contains("sys_name=\"r1\"") && l.ends_with(" 1")
            })
        };
        // ICMP says r1 is up, SNMP polls it.
        if one("nocmap_device_up{") && one("nocmap_device_snmp_up{") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no ICMP and SNMP verdict for r1:\n{m}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let (uid, caps) = cap_eff(serve.0.id());
    assert_eq!(uid, 65534);
    assert_eq!(caps, 1 << 13, "only CAP_NET_RAW (bit 13): {caps:#x}");
    assert!(
        state.join("nocmap.db").exists(),
        "history in the state directory"
    );
}
