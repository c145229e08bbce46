//! `nocmap-lab demo --sites`: the multi-site tour. Brings up the sites lab
//! (a central NOC and two sites behind WAN links, real snmpd and lldpd in
//! namespaces), starts nats-server with JetStream and the central
//! (`nocmap serve` in the central role, polling nothing itself) in the noc,
//! and one site poller in each site's router, each crawling only its own
//! site's prefixes. The central's map shows both sites; its API is relayed
//! to the host like the one-box demo's. Unless `--no-traffic`, west's WAN
//! is cut now and then, so the map shows a silent site as stale (never
//! down) with its one site alert, and west's backfill after the heal.
//!
//! Sites come from the lab description: each node linked to the noc is a
//! site named after it, holding everything behind it; its poller runs there.
use super::demo::{DemoArgs, nocmap_exe, require_tools};
use anyhow::{Context, bail};
use ipnet::Ipv4Net;
use nocmap_lab::plan::Plan;
use nocmap_lab::spec::NOC;
use nocmap_lab::{Lab, LabOptions, LabSpec};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITES_LAB: &str = include_str!("../../../examples/labs/demo-sites.toml");
/// Ports inside the lab's namespaces (each namespace has its own).
const NATS_PORT: u16 = 4222;
const CENTRAL_API: u16 = 18_080;
const SITE_API: u16 = 18_081;
/// West's WAN: cut for `CUT` every `CUT_EVERY` (after the first `CUT_EVERY`).
const CUT: Duration = Duration::from_secs(45);
const CUT_EVERY: Duration = Duration::from_secs(180);
const CUT_SITE: &str = "west";

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lab's sites: each node linked to the noc is a site named after it,
/// and holds every node reachable from it without passing the noc: site
/// name -> its member nodes (the site's node first).
pub fn sites_of(plan: &Plan) -> BTreeMap<String, Vec<String>> {
    let ends = |l: &nocmap_lab::plan::PlanLink| (l.a.node.clone(), l.b.node.clone());
    let mut sites = BTreeMap::new();
    for (a, b) in plan.links.iter().map(ends) {
        let site = match (a.as_str(), b.as_str()) {
            (NOC, s) | (s, NOC) if s != NOC => s.to_string(),
            _ => continue,
        };
        let mut members = vec![site.clone()];
        let mut i = 0;
        while i < members.len() {
            let here = members[i].clone();
            for (a, b) in plan.links.iter().map(ends) {
                let next = if a == here {
                    b
                } else if b == here {
                    a
                } else {
                    continue;
                };
                if next != NOC && !members.contains(&next) {
                    members.push(next);
                }
            }
            i += 1;
        }
        sites.insert(site, members);
    }
    sites
}

/// The prefixes a site's poller crawls: every subnet its nodes have an
/// address in, and their loopbacks.
fn site_prefixes(lab: &Lab, members: &[String]) -> Vec<Ipv4Net> {
    let mut nets: Vec<Ipv4Net> = Vec::new();
    for m in members {
        let Some(node) = lab.plan().node(m) else {
            continue;
        };
        let own = node.if_addrs.values().chain(node.bridge_addr.iter());
        nets.extend(own.map(Ipv4Net::trunc));
        nets.extend(
            node.loopback
                .iter()
                .chain(node.mgmt_addr.iter())
                .filter_map(|a| Ipv4Net::new(*a, 32).ok()),
        );
    }
    nets.sort();
    nets.dedup();
    // A /32 already inside a listed subnet adds nothing.
    let subnets: Vec<Ipv4Net> = nets
        .iter()
        .filter(|n| n.prefix_len() < 32)
        .copied()
        .collect();
    nets.retain(|n| n.prefix_len() < 32 || !subnets.iter().any(|s| s.contains(n)));
    nets
}

/// The noc's address on the WAN link to `site` (where the site's poller
/// reaches nats-server).
fn noc_addr_towards(lab: &Lab, site: &str) -> anyhow::Result<std::net::Ipv4Addr> {
    let plan = lab.plan();
    for l in &plan.links {
        let (noc, other) = if l.a.node == NOC {
            (&l.a, &l.b)
        } else if l.b.node == NOC {
            (&l.b, &l.a)
        } else {
            continue;
        };
        if other.node == site
            && let Some(a) = lab.if_addr(NOC, &noc.ifname)?
        {
            return Ok(a.addr());
        }
    }
    bail!("the lab has no link from the noc to site {site}")
}

fn spawn_logged(mut cmd: std::process::Command, log: &Path, what: &str) -> anyhow::Result<Proc> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = cmd
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    Ok(Proc(child))
}

/// `GET path` of the central's API from inside the noc.
fn central_get(lab: &Lab, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let target: SocketAddr = ([127, 0, 0, 1], CENTRAL_API).into();
    let mut s = super::relay::connect_in(lab.noc_ns(), target).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{CENTRAL_API}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.0 200").then(|| body.to_string()))
}

/// The central map's managed devices per site: site -> (sysName, reachability).
fn central_sites(lab: &Lab) -> Option<BTreeMap<String, Vec<(String, String)>>> {
    let t: serde_json::Value = serde_json::from_str(&central_get(lab, "/api/topology")?).ok()?;
    let mut sites: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for d in t["devices"].as_array()? {
        let (Some(site), Some(name)) = (d["site"].as_str(), d["sys_name"].as_str()) else {
            continue;
        };
        let reach = d["health"]["reachability"].as_str().unwrap_or("unknown");
        sites
            .entry(site.to_string())
            .or_default()
            .push((nocmap::cli::topology_text::plain(name), reach.to_string()));
    }
    Some(sites)
}

/// Waits until the central's map holds every site's managed nodes.
fn wait_for_map(
    lab: &Lab,
    expected: &BTreeMap<String, Vec<String>>,
    timeout: Duration,
) -> anyhow::Result<BTreeMap<String, Vec<(String, String)>>> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    while Instant::now() < deadline {
        if let Some(map) = central_sites(lab) {
            let complete = expected.iter().all(|(site, names)| {
                map.get(site).is_some_and(|devs| {
                    names
                        .iter()
                        .all(|n| devs.iter().any(|(d, r)| d == n && r == "up"))
                })
            });
            if complete {
                return Ok(map);
            }
            last = Some(map);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    bail!(
        "the central's map did not show every site's devices up within {} s (it had {:?})",
        timeout.as_secs(),
        last.unwrap_or_default()
    )
}

pub async fn run(args: DemoArgs, state_root: &Path) -> anyhow::Result<ExitCode> {
    require_tools()?;
    if std::process::Command::new("nats-server")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        bail!(
            "the sites demo needs nats-server: on Debian/Ubuntu `apt-get install nats-server` (examples/demo.sh --sites installs it)"
        );
    }
    let exe = nocmap_exe()?;
    let exe_str = exe
        .to_str()
        .context("binary path is not UTF-8")?
        .to_string();
    let spec = match &args.lab {
        Some(p) => LabSpec::from_path(p)?,
        None => LabSpec::from_toml(SITES_LAB)?,
    };
    let community = spec.credentials.community.clone();
    let opts = LabOptions {
        lab_bin: Some(std::env::current_exe()?),
        state_root: state_root.to_owned(),
        ..LabOptions::default()
    };
    eprintln!("bringing up lab {} ({}) ...", spec.name, spec.prefix);
    let lab = Arc::new(tokio::task::block_in_place(|| Lab::up_with(spec, opts))?);
    eprintln!("waiting for LLDP to settle ...");
    tokio::task::block_in_place(|| lab.wait_lldp_settled(Duration::from_secs(30)))?;
    let dir = lab.state_dir().to_path_buf();
    let sites = sites_of(lab.plan());
    if sites.is_empty() {
        bail!("the lab has no site (a node linked to the noc)");
    }

    let mut nats = lab.command_in(NOC, "nats-server")?;
    nats.args(["-js", "-sd"]).arg(dir.join("jetstream")).args([
        "-a",
        "0.0.0.0",
        "-p",
        &NATS_PORT.to_string(),
    ]);
    let nats = spawn_logged(nats, &dir.join("nats-server.log"), "nats-server")?;
    let nats_target: SocketAddr = ([127, 0, 0, 1], NATS_PORT).into();
    let ready = Instant::now() + Duration::from_secs(20);
    while super::relay::connect_in(lab.noc_ns(), nats_target).is_err() {
        if Instant::now() > ready {
            bail!(
                "nats-server did not start (see {})",
                dir.join("nats-server.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let central_cfg = dir.join("central.toml");
    std::fs::write(
        &central_cfg,
        format!(
            "# the central: consumes every site, polls nothing itself\n\
             [nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n\n\
             [[alert]]\nname = \"device_unreachable\"\nkind = \"device_unreachable\"\nfor_s = 30\n\
             severity = \"critical\"\n"
        ),
    )?;
    let mut central = lab.command_in(NOC, &exe_str)?;
    central
        .args([
            "serve",
            "--rediscover-interval",
            "0",
            "--no-icmp",
            "--config",
        ])
        .arg(&central_cfg)
        .arg("--db")
        .arg(dir.join("central.db"))
        .args(["--listen", &format!("127.0.0.1:{CENTRAL_API}")]);
    let mut procs = vec![
        nats,
        spawn_logged(central, &dir.join("central.log"), "the central")?,
    ];

    let mut expected = BTreeMap::new();
    for (site, members) in &sites {
        let seed = lab.mgmt_addr(site)?;
        let nats_addr = noc_addr_towards(&lab, site)?;
        let cfg = dir.join(format!("site-{site}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "# site {site}'s poller: polls its own site, publishes to the central's nats-server\n\
                 [nats]\nurl = \"nats://{nats_addr}:{NATS_PORT}\"\nsite = \"{site}\"\nrole = \"poller\"\n"
            ),
        )?;
        let mut cmd = lab.command_in(site, &exe_str)?;
        cmd.args(["serve", "--seed", &seed.to_string(), "-c", &community]);
        let prefixes = site_prefixes(&lab, members);
        for p in &prefixes {
            cmd.args(["--prefix", &p.to_string()]);
        }
        cmd.args(["--poll-interval", "15", "--icmp-interval", "5", "--config"])
            .arg(&cfg)
            .arg("--db")
            .arg(dir.join(format!("site-{site}.db")))
            .args(["--listen", &format!("127.0.0.1:{SITE_API}")]);
        let names: Vec<String> = prefixes.iter().map(ToString::to_string).collect();
        eprintln!(
            "site {site}: poller in {site}, crawling {}",
            names.join(" ")
        );
        procs.push(spawn_logged(
            cmd,
            &dir.join(format!("site-{site}.log")),
            &format!("site {site}'s poller"),
        )?);
        let managed: Vec<String> = members
            .iter()
            .filter(|m| lab.spec().node(m).is_some_and(|n| n.snmp()))
            .map(|m| {
                lab.spec()
                    .node(m)
                    .map(|n| n.sys_name().to_string())
                    .unwrap_or_default()
            })
            .collect();
        expected.insert(site.clone(), managed);
    }

    eprintln!("waiting for every site's devices on the central's map ...");
    let map = {
        let lab = lab.clone();
        let expected = expected.clone();
        tokio::task::spawn_blocking(move || wait_for_map(&lab, &expected, Duration::from_secs(120)))
            .await??
    };
    println!("\nthe central's map:");
    for (site, devs) in &map {
        let mut devs = devs.clone();
        devs.sort();
        let text: Vec<String> = devs.iter().map(|(n, r)| format!("{n} ({r})")).collect();
        println!("  site {site}: {} devices: {}", devs.len(), text.join(", "));
    }
    println!("logs and stores: {}", dir.display());
    if args.no_wait {
        stop(procs);
        return Ok(ExitCode::SUCCESS);
    }

    let relay = tokio::spawn(super::relay::run(
        args.listen,
        lab.noc_ns().to_string(),
        ([127, 0, 0, 1], CENTRAL_API).into(),
    ));
    let traffic = (!args.no_traffic).then(|| {
        eprintln!(
            "generating traffic inside each site (iperf3, rates change every {} s)",
            super::demo_traffic::STEP.as_secs()
        );
        super::demo_traffic::start(lab.clone(), &super::demo_traffic::SITES_FLOWS, false)
    });
    let cuts = (!args.no_traffic && sites.contains_key(CUT_SITE)).then(|| {
        eprintln!(
            "{CUT_SITE}'s WAN is cut for {} s every {} s: the map shows the silent site stale, never down, with one site alert; its poller backfills after the heal",
            CUT.as_secs(),
            CUT_EVERY.as_secs()
        );
        tokio::spawn(cut_cycle(lab.clone()))
    });
    println!(
        "\nthe central's live map: http://{0}/   (NOC wall screen: http://{0}/wall)\nAPI: http://{0}/api/topology, /api/alerts, /metrics (nocmap_site_up)\nthe lab stays up; Ctrl-C stops nocmap and nats-server and tears the lab down",
        args.listen
    );
    tokio::signal::ctrl_c().await.ok();
    eprintln!("stopping nocmap and nats-server and tearing the lab down ...");
    relay.abort();
    if let Some(c) = cuts {
        c.abort();
    }
    drop(traffic);
    stop(procs);
    match Arc::try_unwrap(lab) {
        Ok(lab) => drop(lab),
        Err(_) => eprintln!("the lab is still in use; `nocmap-lab down` removes it"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Stops the site pollers first, then the central, then nats-server.
fn stop(mut procs: Vec<Proc>) {
    while let Some(p) = procs.pop() {
        drop(p);
    }
}

/// Cuts the site's WAN now and then (nftables in the site's router drops
/// its traffic to and from the noc), so the map shows a silent site.
async fn cut_cycle(lab: Arc<Lab>) {
    let nft = |script: String| {
        let lab = lab.clone();
        async move {
            let Ok(mut cmd) = lab.command_in(CUT_SITE, "nft") else {
                return;
            };
            let _ = tokio::task::spawn_blocking(move || {
                cmd.args(["-f", "-"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null());
                if let Ok(mut child) = cmd.spawn() {
                    use std::io::Write;
                    if let Some(mut stdin) = child.stdin.take() {
                        let _ = stdin.write_all(script.as_bytes());
                    }
                    let _ = child.wait();
                }
            })
            .await;
        }
    };
    let Ok(noc) = noc_addr_towards(&lab, CUT_SITE) else {
        return;
    };
    loop {
        tokio::time::sleep(CUT_EVERY).await;
        eprintln!("cutting {CUT_SITE}'s WAN for {} s ...", CUT.as_secs());
        nft(format!(
            "table inet demo_wan_cut {{
               chain o {{ type filter hook output priority 0; ip daddr {noc} drop; }}
               chain i {{ type filter hook input priority 0; ip saddr {noc} drop; }}
             }}"
        ))
        .await;
        tokio::time::sleep(CUT).await;
        nft("delete table inet demo_wan_cut".to_string()).await;
        eprintln!("{CUT_SITE}'s WAN is back");
    }
}
