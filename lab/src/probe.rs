//! Measurements on a running lab: LLDP settling (over SNMP, as the product
//! sees it) and iperf3 throughput between two nodes.
//!
//! Read-only towards the lab: it changes no plumbing and no daemon.
use super::LabError;
use super::handle::Lab;
use super::spec::NOC;
use super::sys;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// lldpRemSysName (LLDP-MIB), indexed by time mark, local port, index.
pub const LLDP_REM_SYS_NAME: &str = "1.0.8802.1.1.2.1.4.1.1.9";

impl Lab {
    /// For every node that runs both snmpd and lldpd: the sysNames of the
    /// LLDP neighbours it must see, sorted (one entry per neighbour port).
    pub fn expected_lldp_neighbours(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for n in self.spec.nodes.iter().filter(|n| n.snmp() && n.lldp()) {
            let mut peers: Vec<String> = Vec::new();
            for l in &self.plan.links {
                let peer = if l.a.node == n.name {
                    &l.b.node
                } else if l.b.node == n.name {
                    &l.a.node
                } else {
                    continue;
                };
                if let Some(p) = self.spec.node(peer).filter(|p| p.lldp()) {
                    let announced = p.lldp_sys_name.as_deref().unwrap_or(p.sys_name());
                    peers.push(announced.to_owned());
                }
            }
            peers.sort();
            out.insert(n.name.clone(), peers);
        }
        out
    }

    /// The sysNames in the LLDP remote table of `node`, read with snmpwalk
    /// over loopback inside its namespace, sorted.
    pub fn lldp_neighbours(&self, node: &str) -> Result<Vec<String>, LabError> {
        let out = sys::run(self.command_in(node, "snmpwalk")?.args([
            "-v2c",
            "-c",
            &self.spec.credentials.community,
            "-r1",
            "-t1",
            "-Oqv",
            "127.0.0.1",
            LLDP_REM_SYS_NAME,
        ]))?;
        let mut names: Vec<String> = out
            .lines()
            .map(|l| l.trim().trim_matches('"').to_owned())
            .filter(|l| !l.is_empty() && !l.starts_with("No Such"))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Polls every managed LLDP node until its remote table holds exactly the
    /// expected neighbours, or `timeout` passes.
    pub fn wait_lldp_settled(&self, timeout: Duration) -> Result<(), LabError> {
        let expected = self.expected_lldp_neighbours();
        let t0 = Instant::now();
        let mut pending: Vec<&String> = expected.keys().collect();
        let mut last = String::new();
        loop {
            let mut still = Vec::new();
            for node in pending {
                match self.lldp_neighbours(node) {
                    Ok(seen) if seen == expected[node] => {}
                    Ok(seen) => {
                        last = format!("{node}: saw {seen:?}, want {:?}", expected[node]);
                        still.push(node);
                    }
                    Err(e) => {
                        last = format!("{node}: {e}");
                        still.push(node);
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                return Ok(());
            }
            if t0.elapsed() >= timeout {
                return Err(LabError::Timeout {
                    what: format!("LLDP to settle ({last})"),
                    secs: timeout.as_secs_f64(),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Runs an iperf3 TCP test from `from` to the management address of `to`
    /// for `secs` seconds, optionally capped at `rate_bps`; returns the bits
    /// per second the receiver measured.
    pub fn iperf(
        &self,
        from: &str,
        to: &str,
        rate_bps: Option<u64>,
        secs: f64,
    ) -> Result<f64, LabError> {
        let err = |detail: String| LabError::Iperf {
            from: from.into(),
            to: to.into(),
            detail,
        };
        let addr = self.mgmt_addr(to)?.to_string();
        let port = self.iperf_port.fetch_add(1, Ordering::Relaxed).to_string();
        let mut server = self
            .command_in(to, "iperf3")?
            .args(["-s", "-1", "-B", &addr, "-p", &port])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| err(format!("cannot start server: {e}")))?;
        let result = (|| {
            let mut last = String::new();
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(100));
                let mut c = self.command_in(from, "iperf3")?;
                c.args(["-c", &addr, "-p", &port, "-J", "-t", &format!("{secs}")]);
                if let Some(r) = rate_bps {
                    c.args(["-b", &r.to_string()]);
                }
                match sys::run(&mut c) {
                    Ok(json) => return parse_iperf_json(&json).map_err(err),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(err(last))
        })();
        let _ = server.kill();
        let _ = server.wait();
        result
    }

    /// Pings `node`'s management address from the noc (fping, `count`
    /// echoes 200 ms apart, 1 s timeout each); true if any answer came back.
    pub fn noc_can_ping(&self, node: &str, count: u32) -> Result<bool, LabError> {
        let addr = self.mgmt_addr(node)?.to_string();
        let status = self
            .command_in(NOC, "fping")?
            .args([
                "-q",
                "-c",
                &count.to_string(),
                "-p",
                "200",
                "-t",
                "1000",
                &addr,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|source| LabError::Spawn {
                command: "fping".into(),
                source,
            })?;
        Ok(status.success())
    }
}

/// `end.sum_received.bits_per_second` of an `iperf3 -J` report.
pub fn parse_iperf_json(json: &str) -> Result<f64, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("bad JSON: {e}"))?;
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        return Err(e.to_owned());
    }
    v.pointer("/end/sum_received/bits_per_second")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| "no end.sum_received.bits_per_second".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iperf_report_is_read() {
        let j = r#"{"end":{"sum_received":{"bits_per_second":1.5e9}}}"#;
        assert_eq!(parse_iperf_json(j), Ok(1.5e9));
        assert_eq!(parse_iperf_json(r#"{"error":"boom"}"#), Err("boom".into()));
        assert!(parse_iperf_json("{}").is_err());
    }
}
