//! `Lab`: the handle tests and the CLI hold. `up` builds a lab (after
//! removing leftovers of the same name), `Drop` and `down` remove it, and the
//! accessors and knobs work on the running lab.
//!
//! Owns the lab's state directory and its lifecycle; the plumbing is in
//! `build`, the processes in `daemons`, the measurements in `probe`.
use super::LabError;
use super::build;
use super::conf;
use super::daemons::{self, LldpdArgs, NodeFiles, Procs, WireArgs};
use super::plan::{self, Plan};
use super::spec::{Endpoint, LabSpec, NodeKind};
use super::state::{
    NAMESPACES_FILE, SPEC_FILE, check_prefix_free, mkdir, recorded_namespaces, remove_leftovers,
};
use super::sys;
use super::truth::LabTruth;
use super::wire::WireParams;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicU16;
use std::time::Duration;

/// Where labs keep configs, pidfiles and logs: `<root>/<lab name>/`.
pub const DEFAULT_STATE_ROOT: &str = "/run/nocmap-lab";

#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The `nocmap-lab` binary that runs wires and the switches' BRIDGE-MIB
    /// agent. Default: `$NOCMAP_LAB_BIN`, else the running executable (right
    /// for `nocmap-lab`, wrong for a test harness, which passes
    /// `env!("CARGO_BIN_EXE_nocmap-lab")`).
    pub lab_bin: Option<PathBuf>,
    pub state_root: PathBuf,
    /// How long `up` waits for each snmpd to answer.
    pub snmp_ready_timeout: Duration,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            lab_bin: None,
            state_root: DEFAULT_STATE_ROOT.into(),
            snmp_ready_timeout: Duration::from_secs(10),
        }
    }
}

/// A daemon whose log can be read with `Lab::daemon_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Snmpd,
    Lldpd,
}

/// A running lab. Dropping it tears the lab down unless it was `detach`ed
/// or obtained with `attach`.
#[derive(Debug)]
pub struct Lab {
    pub(super) spec: LabSpec,
    pub(super) plan: Plan,
    pub(super) dir: PathBuf,
    pub(super) procs: Procs,
    pub(super) iperf_port: AtomicU16,
    /// The `nocmap-lab` binary for wires and bridge agents (recorded in the
    /// state directory, so an attached handle uses the same one).
    lab_bin: Option<PathBuf>,
    owned: bool,
}

/// File in the state directory that records the `nocmap-lab` binary.
const LAB_BIN_FILE: &str = "lab-bin";

/// The `nocmap-lab` binary to run: the option, else `$NOCMAP_LAB_BIN`, else
/// the running executable if it is `nocmap-lab` (a test harness is not:
/// snmpd would run it with `bridge-agent ...` as a test filter; nor is the
/// product binary `nocmap`, which has no lab in it).
fn resolve_lab_bin(opt: Option<&Path>) -> Result<PathBuf, LabError> {
    if let Some(b) = opt {
        return Ok(b.to_owned());
    }
    if let Some(b) = std::env::var_os("NOCMAP_LAB_BIN") {
        return Ok(b.into());
    }
    let exe = std::env::current_exe().map_err(|source| LabError::Io {
        op: "find own executable",
        path: "/proc/self/exe".into(),
        source,
    })?;
    let is_lab_bin = exe
        .file_name()
        .is_some_and(|f| f.to_string_lossy().starts_with("nocmap-lab"));
    if is_lab_bin {
        Ok(exe)
    } else {
        Err(LabError::Invalid(vec![format!(
            "{} is not nocmap-lab: set LabOptions.lab_bin or $NOCMAP_LAB_BIN \
             (wires and switch bridge agents run it)",
            exe.display()
        )]))
    }
}

impl Lab {
    /// Builds the lab described by `spec` with default options.
    pub fn up(spec: LabSpec) -> Result<Lab, LabError> {
        Self::up_with(spec, LabOptions::default())
    }

    /// Reads, validates and builds a description file.
    pub fn up_path(path: &Path) -> Result<Lab, LabError> {
        Self::up(LabSpec::from_path(path)?)
    }

    /// Builds the lab; leftovers of a lab with the same name go first.
    pub fn up_with(mut spec: LabSpec, opts: LabOptions) -> Result<Lab, LabError> {
        if !sys::is_root() {
            return Err(LabError::NotRoot);
        }
        spec.expand_attach();
        spec.validate()?;
        let plan = plan::plan(&spec)?;
        check_prefix_free(&spec, &opts.state_root)?;
        let dir = opts.state_root.join(&spec.name);
        remove_leftovers(&dir, &plan.namespaces())?;
        for sub in ["nodes", "wires"] {
            mkdir(&dir.join(sub))?;
        }
        let spec_text = toml::to_string(&spec).map_err(|e| LabError::Parse {
            origin: "spec (serialising)".into(),
            message: e.to_string(),
        })?;
        daemons::write_file(&dir.join(SPEC_FILE), &spec_text)?;
        daemons::write_file(
            &dir.join(NAMESPACES_FILE),
            &(plan.namespaces().join("\n") + "\n"),
        )?;
        // Needed only for wires and switches; `bin()` reports it missing then.
        let bin = resolve_lab_bin(opts.lab_bin.as_deref()).ok();
        if let Some(b) = &bin {
            daemons::write_file(&dir.join(LAB_BIN_FILE), &format!("{}\n", b.display()))?;
        }
        // From here on, Drop cleans up whatever a failure leaves behind.
        let lab = Lab {
            spec,
            plan,
            dir,
            procs: Procs::default(),
            iperf_port: AtomicU16::new(5201),
            lab_bin: bin,
            owned: true,
        };
        build::build(&lab.plan, &lab.spec)?;
        build::teach_bridges(&lab.plan)?;
        lab.start_wires()?;
        lab.start_daemons(&opts)?;
        Ok(lab)
    }

    /// A handle on a lab that is already running (e.g. started by
    /// `nocmap-lab up`). Dropping it leaves the lab running.
    pub fn attach(name: &str, state_root: &Path) -> Result<Lab, LabError> {
        let dir = state_root.join(name);
        let text =
            std::fs::read_to_string(dir.join(SPEC_FILE)).map_err(|_| LabError::NotRunning {
                lab: name.into(),
                dir: dir.clone(),
            })?;
        let spec = LabSpec::from_toml(&text)?;
        let plan = plan::plan(&spec)?;
        let lab_bin = std::fs::read_to_string(dir.join(LAB_BIN_FILE))
            .ok()
            .map(|s| PathBuf::from(s.trim_end_matches('\n')))
            .or_else(|| resolve_lab_bin(None).ok());
        Ok(Lab {
            spec,
            plan,
            dir,
            procs: Procs::default(),
            iperf_port: AtomicU16::new(5201),
            lab_bin,
            owned: false,
        })
    }

    /// Tears the lab down now, reporting errors (Drop ignores them).
    pub fn down(mut self) -> Result<(), LabError> {
        self.owned = false;
        self.teardown()
    }

    /// Tears down a lab by name from its state directory (for the CLI).
    /// Returns false when there was nothing to tear down.
    pub fn down_by_name(name: &str, state_root: &Path) -> Result<bool, LabError> {
        let dir = state_root.join(name);
        let recorded = recorded_namespaces(&dir);
        let existed = dir.exists() || !recorded.is_empty();
        remove_leftovers(&dir, &[])?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(existed)
    }

    /// Leaves the lab running when this handle is dropped.
    pub fn detach(mut self) {
        self.owned = false;
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }
    pub fn spec(&self) -> &LabSpec {
        &self.spec
    }
    pub fn plan(&self) -> &Plan {
        &self.plan
    }
    pub fn state_dir(&self) -> &Path {
        &self.dir
    }
    pub fn truth(&self) -> LabTruth {
        LabTruth::build(&self.spec, &self.plan)
    }

    /// Namespace of `node` (`noc` included).
    pub fn ns(&self, node: &str) -> Result<&str, LabError> {
        Ok(&self.plan_node(node)?.ns)
    }

    pub fn noc_ns(&self) -> &str {
        self.plan
            .nodes
            .last()
            .map(|n| n.ns.as_str())
            .expect("a plan always ends with the noc")
    }

    /// Management address: router loopback, switch bridge, host interface
    /// (or the node's `mgmt_if`).
    pub fn mgmt_addr(&self, node: &str) -> Result<Ipv4Addr, LabError> {
        self.plan_node(node)?
            .mgmt_addr
            .ok_or_else(|| LabError::UnknownNode {
                lab: self.spec.name.clone(),
                node: format!("{node} (it has no address)"),
            })
    }

    /// Address and prefix of one interface, None if it has none (bridge port).
    pub fn if_addr(&self, node: &str, ifname: &str) -> Result<Option<Ipv4Net>, LabError> {
        Ok(self.plan_node(node)?.if_addrs.get(ifname).copied())
    }

    /// The addresses of both ends of the link that has `endpoint`
    /// (`node:ifname`) as one end: (this end, far end).
    pub fn link_addrs(
        &self,
        endpoint: &str,
    ) -> Result<(Option<Ipv4Addr>, Option<Ipv4Addr>), LabError> {
        let (near, far) = self.link_ends(endpoint)?;
        let addr = |e: &Endpoint| {
            self.plan
                .node(&e.node)
                .and_then(|n| n.if_addrs.get(&e.ifname).map(|a| a.addr()))
        };
        Ok((addr(&near), addr(&far)))
    }

    /// The kernel ifIndex of `ifname` in `node`'s namespace (what snmpd
    /// reports as ifIndex), read from sysfs.
    fn if_index(&self, node: &str, ifname: &str) -> Option<u32> {
        let out = self
            .command_in(node, "cat")
            .ok()?
            .arg(format!("/sys/class/net/{ifname}/ifindex"))
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    /// A command that runs `program` inside the namespace of `node`.
    pub fn command_in(&self, node: &str, program: &str) -> Result<Command, LabError> {
        Ok(sys::in_ns(self.ns(node)?, program))
    }

    /// Changes the one-way delay and jitter of the wire on the link that has
    /// `endpoint` as one end; effective within ~100 ms.
    pub fn set_delay(
        &self,
        endpoint: &str,
        delay: Duration,
        jitter: Duration,
    ) -> Result<(), LabError> {
        let i = self.link_index(endpoint)?;
        if self.plan.links[i].wire_ns.is_none() {
            return Err(LabError::NoWire {
                endpoint: endpoint.into(),
            });
        }
        let params = WireParams { delay, jitter };
        let path = self.wire_file(i, "params");
        let tmp = self.wire_file(i, "params.tmp");
        daemons::write_file(&tmp, &params.render())?;
        std::fs::rename(&tmp, &path).map_err(|source| LabError::Io {
            op: "rename",
            path,
            source,
        })?;
        std::thread::sleep(Duration::from_millis(250));
        Ok(())
    }

    /// Drops `pct` % of the IP packets `node` receives (0 = none).
    pub fn set_loss(&self, node: &str, pct: u8) -> Result<(), LabError> {
        build::set_loss(self.ns(node)?, pct.min(100))
    }

    pub fn set_if_state(&self, node: &str, ifname: &str, up: bool) -> Result<(), LabError> {
        build::set_if_state(self.plan_node(node)?, ifname, up)
    }

    /// Stops and starts snmpd of `node` (same config, same persistent dir)
    /// and waits until it answers again.
    pub fn restart_snmpd(&self, node: &str) -> Result<(), LabError> {
        let files = self.node_files(node);
        self.procs.stop_pidfile(&files.path("snmpd.pid"));
        self.start_snmpd(node)?;
        daemons::wait_snmpd(
            self.ns(node)?,
            &self.spec.credentials.community,
            &files,
            Duration::from_secs(10),
        )
    }

    /// The log of a daemon of `node` (empty if it has none).
    pub fn daemon_log(&self, node: &str, daemon: Daemon) -> String {
        let files = self.node_files(node);
        let names: &[&str] = match daemon {
            Daemon::Snmpd => &["snmpd.out", "snmpd.log"],
            Daemon::Lldpd => &["lldpd.log"],
        };
        names
            .iter()
            .map(|n| std::fs::read_to_string(files.path(n)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("")
    }

    /// Every process the lab should have, with its pid and whether it lives.
    pub fn processes(&self) -> Vec<(String, Option<i32>, bool)> {
        let mut v = Vec::new();
        for n in &self.spec.nodes {
            let files = self.node_files(&n.name);
            for (on, d) in [(n.snmp(), "snmpd"), (n.lldp(), "lldpd")] {
                if on {
                    let pid = daemons::read_pid(&files.path(&format!("{d}.pid")));
                    v.push((format!("{d}@{}", n.name), pid, pid.is_some_and(sys::alive)));
                }
            }
        }
        for (i, l) in self.plan.links.iter().enumerate() {
            if l.wire_ns.is_some() {
                let pid = daemons::read_pid(&self.wire_file(i, "pid"));
                v.push((
                    format!("wire {}<->{}", l.a, l.b),
                    pid,
                    pid.is_some_and(sys::alive),
                ));
            }
        }
        v
    }

    pub(super) fn plan_node(&self, node: &str) -> Result<&plan::PlanNode, LabError> {
        self.plan.node(node).ok_or_else(|| LabError::UnknownNode {
            lab: self.spec.name.clone(),
            node: node.into(),
        })
    }

    fn link_index(&self, endpoint: &str) -> Result<usize, LabError> {
        let ep = Endpoint::parse(endpoint);
        self.plan
            .links
            .iter()
            .position(|l| ep.as_ref().is_some_and(|e| *e == l.a || *e == l.b))
            .ok_or_else(|| LabError::UnknownLink {
                lab: self.spec.name.clone(),
                endpoint: endpoint.into(),
            })
    }

    fn link_ends(&self, endpoint: &str) -> Result<(Endpoint, Endpoint), LabError> {
        let l = &self.plan.links[self.link_index(endpoint)?];
        if Endpoint::parse(endpoint).as_ref() == Some(&l.a) {
            Ok((l.a.clone(), l.b.clone()))
        } else {
            Ok((l.b.clone(), l.a.clone()))
        }
    }

    pub(super) fn node_files(&self, node: &str) -> NodeFiles {
        NodeFiles {
            dir: self.dir.join("nodes").join(node),
        }
    }

    fn wire_file(&self, link: usize, ext: &str) -> PathBuf {
        self.dir.join("wires").join(format!("{link}.{ext}"))
    }

    fn bin(&self) -> Result<PathBuf, LabError> {
        resolve_lab_bin(self.lab_bin.as_deref())
    }

    fn start_wires(&self) -> Result<(), LabError> {
        if self.plan.links.iter().all(|l| l.wire_ns.is_none()) {
            return Ok(());
        }
        let bin = self.bin()?;
        for (i, l) in self.plan.links.iter().enumerate() {
            let Some(ns) = &l.wire_ns else { continue };
            let params = WireParams {
                delay: Duration::from_secs_f64(l.delay_ms / 1000.0),
                jitter: Duration::from_secs_f64(l.jitter_ms / 1000.0),
            };
            daemons::write_file(&self.wire_file(i, "params"), &params.render())?;
            daemons::start_wire(
                &self.procs,
                &WireArgs {
                    bin: &bin,
                    ns,
                    params: &self.wire_file(i, "params"),
                    log: &self.wire_file(i, "log"),
                    pidfile: &self.wire_file(i, "pid"),
                },
            )?;
        }
        Ok(())
    }

    fn start_snmpd(&self, node: &str) -> Result<(), LabError> {
        let spec = self.spec.node(node).ok_or_else(|| LabError::UnknownNode {
            lab: self.spec.name.clone(),
            node: node.into(),
        })?;
        let agent = if spec.kind == NodeKind::Switch {
            let bin = self.bin()?;
            let line = conf::bridge_agent_line(&bin, plan::BRIDGE).ok_or_else(|| {
                LabError::Invalid(vec![format!(
                    "nocmap-lab binary `{}`: needs an absolute path without white space \
                     to stand in snmpd.conf",
                    bin.display()
                )])
            })?;
            Some(line)
        } else {
            None
        };
        let ifaces: Vec<String> = self
            .plan
            .nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.if_addrs.keys().cloned().collect())
            .unwrap_or_default();
        let link_speeds: Vec<(String, u64)> = self
            .plan
            .links
            .iter()
            .filter_map(|l| {
                let bps = (l.rate_mbit? * 1e6).round() as u64;
                [&l.a, &l.b]
                    .into_iter()
                    .find(|e| e.node == node)
                    .map(|e| (e.ifname.clone(), bps))
            })
            .collect();
        let mut text = conf::snmpd_conf(
            spec,
            self.plan.prefix,
            &self.spec.credentials,
            agent.as_deref(),
            &ifaces,
            &link_speeds,
        );
        if !spec.if_alias.is_empty() {
            text.push_str(&conf::if_alias_lines(spec, |i| self.if_index(node, i)));
        }
        text.push_str(&conf::lag_lines(spec, |i| self.if_index(node, i)));
        daemons::start_snmpd(
            &self.procs,
            self.ns(node)?,
            spec.sys_name(),
            &self.node_files(node),
            &text,
        )
    }

    fn start_daemons(&self, opts: &LabOptions) -> Result<(), LabError> {
        for n in &self.spec.nodes {
            mkdir(&self.node_files(&n.name).dir)?;
            if n.snmp() {
                self.start_snmpd(&n.name)?;
            }
        }
        for n in self.spec.nodes.iter().filter(|n| n.snmp()) {
            let ns = self.ns(&n.name)?;
            daemons::wait_snmpd(
                ns,
                &self.spec.credentials.community,
                &self.node_files(&n.name),
                opts.snmp_ready_timeout,
            )?;
        }
        for n in self.spec.nodes.iter().filter(|n| n.lldp()) {
            let pn = self.plan_node(&n.name)?;
            let link_ifs: Vec<String> = self
                .plan
                .links
                .iter()
                .flat_map(|l| [&l.a, &l.b])
                .filter(|e| e.node == n.name)
                .map(|e| e.ifname.clone())
                .collect();
            let args = LldpdArgs {
                ns: &pn.ns,
                hostname: n.sys_name(),
                conf: &conf::lldpd_conf(n),
                interfaces: &conf::lldpd_interfaces(pn, &link_ifs),
                mgmt_addr: pn.mgmt_addr,
                agentx: n.snmp(),
            };
            daemons::start_lldpd(&self.procs, &self.node_files(&n.name), &args)?;
        }
        Ok(())
    }

    fn teardown(&mut self) -> Result<(), LabError> {
        let r = remove_leftovers(&self.dir, &self.plan.namespaces());
        self.procs.reap();
        let _ = std::fs::remove_dir_all(&self.dir);
        r
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owned
            && let Err(e) = self.teardown()
        {
            eprintln!("nocmap-lab {}: teardown: {e}", self.spec.name);
        }
    }
}
