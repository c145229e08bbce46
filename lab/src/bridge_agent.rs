//! `nocmap-lab bridge-agent`: a net-snmp `pass_persist` agent serving
//! BRIDGE-MIB (base, port and forwarding tables) and the Q-BRIDGE forwarding
//! table of one Linux bridge, for the lab's switches, with the VLAN bridges
//! `brN` next to it as its VLANs (`bridge_vlans`).
//!
//! Owns the I/O: reading sysfs, running `bridge -j fdb show` with fixed
//! arguments, and the stdin/stdout loop. The OID table is `bridge_mib`, the
//! protocol `pass_persist`. Nothing read from the system can end the agent:
//! unreadable rows are skipped, a failed `bridge` run gives an empty table.
use super::LabError;
use super::bridge_mib::{BridgePort, BridgeSnapshot, MibView, parse_fdb_json, parse_mac};
use super::bridge_mib::{PortNo, parse_port_no};
use super::bridge_vlans::{merge_vlan_bridge, vlan_of_bridge};
use super::pass_persist::{Fed, Session, answer, needs_view};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The table is re-read from the bridge at most this often.
pub const REFRESH: Duration = Duration::from_secs(1);
/// Input lines longer than this are discarded as junk.
const MAX_LINE: usize = 4096;
/// Where iproute2's `bridge` usually is; `PATH` is the fallback.
const BRIDGE_PROGRAMS: &[&str] = &["/usr/sbin/bridge", "/sbin/bridge", "/usr/bin/bridge"];

/// Where the agent gets the bridge's state from (a fake in tests).
pub trait BridgeSource {
    fn snapshot(&mut self) -> BridgeSnapshot;
}

/// A Linux bridge in the agent's own network namespace.
#[derive(Debug)]
pub struct LinuxBridge {
    name: String,
    sys_net: PathBuf,
    last_error: Option<String>,
}

impl LinuxBridge {
    /// `name` must pass `valid_ifname` (it becomes a sysfs path component
    /// and a `bridge` argument).
    pub fn new(name: &str) -> Result<LinuxBridge, LabError> {
        if !valid_ifname(name) {
            return Err(LabError::Invalid(vec![format!(
                "bridge `{name}`: not an interface name"
            )]));
        }
        Ok(LinuxBridge {
            name: name.into(),
            sys_net: "/sys/class/net".into(),
            last_error: None,
        })
    }

    fn ports(&self, bridge: &str) -> Vec<BridgePort> {
        let brif = self.sys_net.join(bridge).join("brif");
        let Ok(dir) = std::fs::read_dir(&brif) else {
            return Vec::new();
        };
        let mut ports: Vec<BridgePort> = dir
            .filter_map(Result::ok)
            .filter_map(|e| {
                let ifname = e.file_name().into_string().ok()?;
                if !valid_ifname(&ifname) {
                    return None;
                }
                let port = parse_port_no(&read(&brif.join(&ifname).join("port_no"))?)?;
                let if_index = read(&self.sys_net.join(&ifname).join("ifindex"))?
                    .trim()
                    .parse()
                    .ok()?;
                Some(BridgePort {
                    ifname,
                    port,
                    if_index,
                })
            })
            .filter(|p| p.port > PortNo(0))
            .collect();
        ports.sort_by_key(|p| p.port);
        ports.dedup_by_key(|p| p.port);
        ports
    }

    /// The VLAN bridges (`brN`, see `bridge_vlans`) next to this one.
    fn vlan_bridges(&self) -> Vec<(u16, String)> {
        let Ok(dir) = std::fs::read_dir(&self.sys_net) else {
            return Vec::new();
        };
        let mut v: Vec<(u16, String)> = dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| *n != self.name && self.sys_net.join(n).join("bridge").is_dir())
            .filter_map(|n| Some((vlan_of_bridge(&n)?, n)))
            .collect();
        v.sort();
        v
    }

    fn fdb_json(&mut self, bridge: &str) -> String {
        let program = BRIDGE_PROGRAMS
            .iter()
            .find(|p| Path::new(p).exists())
            .copied()
            .unwrap_or("bridge");
        let out = Command::new(program)
            .args(["-j", "fdb", "show", "br", bridge])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let error = match &out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "{program} fdb show br {}: {} {}",
                bridge,
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(format!("cannot run {program}: {e}")),
        };
        // Say so once per distinct failure, not once a second.
        if error.is_some() && error != self.last_error {
            eprintln!("nocmap bridge-agent: {}", error.as_deref().unwrap_or(""));
        }
        self.last_error = error;
        match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => String::new(),
        }
    }
}

impl BridgeSource for LinuxBridge {
    fn snapshot(&mut self) -> BridgeSnapshot {
        let address =
            read(&self.sys_net.join(&self.name).join("address")).and_then(|s| parse_mac(s.trim()));
        let name = self.name.clone();
        let ports = self.ports(&name);
        let fdb = parse_fdb_json(&self.fdb_json(&name), &name, &ports);
        let mut snap = BridgeSnapshot {
            address,
            ports,
            fdb,
            vlans: Default::default(),
        };
        for (vid, br) in self.vlan_bridges() {
            let ports = self.ports(&br);
            let fdb = parse_fdb_json(&self.fdb_json(&br), &br, &ports);
            merge_vlan_bridge(&mut snap, vid, &ports, fdb);
        }
        snap
    }
}

/// An interface name as the kernel allows it and we are willing to pass on:
/// 1-15 bytes of `[A-Za-z0-9._-]`, not `.` or `..`, not starting with `-`
/// (so it can never read as an option).
pub fn valid_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && !s.starts_with('-')
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

/// Serves pass_persist requests from `input` until it ends.
pub fn serve(
    source: &mut dyn BridgeSource,
    mut input: impl BufRead,
    mut output: impl Write,
    refresh: Duration,
) -> std::io::Result<()> {
    let mut session = Session::default();
    let mut cache: Option<(Instant, MibView)> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE {
            // Too long: drop the rest of this line, treat it as junk.
            skip_line(&mut input)?;
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let req = match session.feed(&line) {
            Fed::Request(r) => r,
            Fed::More => continue,
            Fed::Ignored => {
                eprintln!("nocmap bridge-agent: ignoring {:?}", line.trim_end());
                continue;
            }
        };
        if needs_view(&req) && cache.as_ref().is_none_or(|(t, _)| t.elapsed() >= refresh) {
            cache = Some((Instant::now(), MibView::build(&source.snapshot())));
        }
        let empty = MibView::default();
        let view = cache.as_ref().map_or(&empty, |(_, v)| v);
        output.write_all(answer(&req, view).as_bytes())?;
        output.flush()?;
    }
}

fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = chunk.len();
                input.consume(n);
            }
        }
    }
}

/// The agent on stdin/stdout, for snmpd.
pub fn run(bridge: &str) -> Result<(), LabError> {
    let mut source = LinuxBridge::new(bridge)?;
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    serve(&mut source, stdin, stdout, REFRESH).map_err(|source| LabError::Io {
        op: "pass_persist on stdin/stdout",
        path: "-".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::bridge_mib::{FdbEntry, FdbStatus};
    use super::*;

    struct Fake {
        reads: usize,
    }

    impl BridgeSource for Fake {
        fn snapshot(&mut self) -> BridgeSnapshot {
            self.reads += 1;
            BridgeSnapshot {
                address: Some([2, 0, 0, 0, 0, 1]),
                ports: vec![BridgePort {
                    ifname: "p1".into(),
                    port: PortNo(1),
                    if_index: 7,
                }],
                fdb: vec![FdbEntry {
                    mac: [2, 0, 0, 0, 0, 0x10],
                    port: PortNo(1),
                    status: FdbStatus::Learned,
                    vlan: None,
                }],
                vlans: Default::default(),
            }
        }
    }

    fn serve_str(input: &[u8], refresh: Duration) -> (String, usize) {
        let mut fake = Fake { reads: 0 };
        let mut out = Vec::new();
        serve(&mut fake, input, &mut out, refresh).unwrap();
        (String::from_utf8(out).unwrap(), fake.reads)
    }

    #[test]
    fn serves_until_eof_and_reads_the_bridge_once_per_period() {
        let mut input = b"PING\n".to_vec();
        input.extend_from_slice(&[b'x'; 10_000]);
        input.extend_from_slice(b"\nget\n.1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.16\n");
        input.extend_from_slice(b"\xff\xfe\ngetnext\n.1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.16\n");
        input.extend_from_slice(b"getnext\n.1.3.6.1.2.1.17.9\nPING");
        let (out, reads) = serve_str(&input, Duration::from_secs(60));
        assert_eq!(
            out,
            "PONG\n.1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.16\ninteger\n1\n\
             .1.3.6.1.2.1.17.4.3.1.3.2.0.0.0.0.16\ninteger\n3\nNONE\nPONG\n"
        );
        assert_eq!(reads, 1);
        let (_, reads) = serve_str(
            b"get\n.1.3.6.1.2.1.17.1.2.0\nget\n.1.3.6.1.2.1.17.1.2.0\n",
            Duration::ZERO,
        );
        assert_eq!(reads, 2);
    }

    #[test]
    fn bridge_names_are_checked() {
        for ok in ["br0", "br-lan", "a.b_c"] {
            assert!(valid_ifname(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "br 0",
            "a;b",
            "sixteen-chars-xx",
            "-j",
        ] {
            assert!(!valid_ifname(bad), "{bad}");
        }
        assert!(LinuxBridge::new("../etc").is_err());
    }
}
