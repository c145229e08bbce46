//! Ground truth of a lab: the nodes and cables it was built with, in the
//! shape discovery tests compare against. Pure data; knows no system calls.
use super::plan::Plan;
use super::spec::{Endpoint, LabSpec, NodeKind};
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabTruth {
    pub lab: String,
    pub prefix: String,
    pub nodes: Vec<TruthNode>,
    /// Physical cables (a wire in the middle is invisible, as on a real cable).
    pub links: Vec<TruthLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthNode {
    pub name: String,
    pub sys_name: String,
    pub kind: NodeKind,
    pub mgmt_addr: Option<Ipv4Addr>,
    /// Runs snmpd (answers SNMP with the lab's credentials).
    pub managed: bool,
    pub lldp: bool,
    /// The namespace the tool under test runs in.
    pub is_noc: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthLink {
    pub a: Endpoint,
    pub b: Endpoint,
}

impl LabTruth {
    pub fn build(spec: &LabSpec, plan: &Plan) -> LabTruth {
        let nodes = plan
            .nodes
            .iter()
            .map(|n| {
                let s = spec.node(&n.name);
                TruthNode {
                    name: n.name.clone(),
                    sys_name: s.map_or(n.name.clone(), |s| s.sys_name().to_owned()),
                    kind: n.kind,
                    mgmt_addr: n.mgmt_addr,
                    managed: s.is_some_and(|s| s.snmp()),
                    lldp: s.is_some_and(|s| s.lldp()),
                    is_noc: n.is_noc,
                }
            })
            .collect();
        let links = plan
            .links
            .iter()
            .map(|l| TruthLink {
                a: l.a.clone(),
                b: l.b.clone(),
            })
            .collect();
        LabTruth {
            lab: plan.lab.clone(),
            prefix: plan.prefix.to_string(),
            nodes,
            links,
        }
    }

    pub fn node(&self, name: &str) -> Option<&TruthNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
}
