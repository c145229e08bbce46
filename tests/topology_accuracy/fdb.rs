//! The oracle's forwarding table: where each MAC is learned, read from
//! BRIDGE-MIB dot1dTpFdbTable (1.3.6.1.2.1.17.4.3.1, indexed by the MAC) and
//! Q-BRIDGE-MIB dot1qTpFdbTable (1.3.6.1.2.1.17.7.1.2.2.1, indexed by
//! dot1qFdbId and the MAC, so a MAC is read per VLAN), the bridge port
//! turned into an ifIndex by dot1dBasePortIfIndex. Entries whose status is
//! invalid(2), self(4) or mgmt(5) are not hosts; port 0 means unknown.
//!
//! An edge port, where a MAC names an attached host, is one with no LLDP or
//! CDP neighbour row, not a LAG (ifType ieee8023adLag, 161) and fewer than
//! [`MANY_MACS`] MACs learned on it. Written without the production parser.
#![allow(dead_code)]
use super::oracle::{If, Local, Row, Walk, int, mac};
use std::collections::{BTreeMap, BTreeSet};

pub const DOT1D_TP_FDB: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
pub const DOT1Q_TP_FDB: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1];

/// A port with this many MACs or more faces another switch (or a hypervisor):
/// none of them is placed there as an attached host.
pub const MANY_MACS: usize = 16;

/// Why a port is not an edge port.
#[derive(Debug, Clone, PartialEq)]
pub enum Uplink {
    Neighbour,
    Lag,
    ManyMacs(usize),
}

/// One forwarding entry as read: its MAC, bridge port and status.
type Entry = (Option<String>, Option<i64>, Option<i64>);

#[derive(Debug, Default)]
pub struct Fdb {
    /// MAC -> the ifIndexes it is learned on (all VLANs).
    pub learned: BTreeMap<String, BTreeSet<u32>>,
    /// Entries whose bridge port maps to no ifIndex (or no bridge port map).
    pub unmapped: usize,
    /// MACs whose entry the recording lists twice with different ports.
    pub conflicting: BTreeSet<String>,
    /// Ports that are not edge ports, and why.
    pub uplinks: BTreeMap<u32, Uplink>,
}

impl Fdb {
    pub fn read(
        w: &Walk,
        ifs: &BTreeMap<u32, If>,
        bridge: &BTreeMap<u32, u32>,
        rows: &[Row],
    ) -> Fdb {
        let mut f = Fdb::default();
        // (table, index) -> (mac, port, status)
        let mut entries: BTreeMap<(u8, Vec<u32>), Entry> = BTreeMap::new();
        for (t, entry, lead) in [(0u8, DOT1D_TP_FDB, 0usize), (1, DOT1Q_TP_FDB, 1)] {
            for (col, field) in [(2u32, 1usize), (3, 2)] {
                for (idx, v) in w.column(entry, col) {
                    if idx.len() != lead + 6 || idx[lead..].iter().any(|a| *a > 255) {
                        continue;
                    }
                    let m: Vec<u8> = idx[lead..].iter().map(|a| *a as u8).collect();
                    if col == 2 && w.conflicting(&[entry, &[2], idx].concat()) {
                        f.conflicting.extend(mac(&m));
                    }
                    let e = entries.entry((t, idx.to_vec())).or_default();
                    e.0 = mac(&m);
                    match field {
                        1 => e.1 = int(v),
                        _ => e.2 = int(v),
                    }
                }
            }
        }
        for ((_, _), (m, port, status)) in entries {
            let (Some(m), Some(port)) = (m, port) else {
                continue;
            };
            if matches!(status, Some(2) | Some(4) | Some(5))
                || port <= 0
                || f.conflicting.contains(&m)
            {
                continue;
            }
            match u32::try_from(port)
                .ok()
                .and_then(|p| bridge.get(&p))
                .filter(|i| ifs.contains_key(i))
            {
                Some(i) => {
                    f.learned.entry(m).or_default().insert(*i);
                }
                None => f.unmapped += 1,
            }
        }
        let mut per_port: BTreeMap<u32, usize> = BTreeMap::new();
        for ports in f.learned.values() {
            for p in ports {
                *per_port.entry(*p).or_default() += 1;
            }
        }
        for (p, n) in per_port {
            if n >= MANY_MACS {
                f.uplinks.insert(p, Uplink::ManyMacs(n));
            }
        }
        for (i, e) in ifs {
            if e.if_type == Some(161) {
                f.uplinks.insert(*i, Uplink::Lag);
            }
        }
        for r in rows {
            if let Local::If(i, _) = r.local {
                f.uplinks.insert(i, Uplink::Neighbour);
            }
        }
        f
    }

    /// The attached hosts the table shows: MAC -> its one edge port.
    pub fn hosts(&self, own: &BTreeSet<String>) -> BTreeMap<&str, u32> {
        self.learned
            .iter()
            .filter(|(m, _)| !own.contains(*m))
            .filter_map(
                |(m, ports)| match ports.iter().collect::<Vec<_>>().as_slice() {
                    [p] if !self.uplinks.contains_key(p) => Some((m.as_str(), **p)),
                    _ => None,
                },
            )
            .collect()
    }
}
