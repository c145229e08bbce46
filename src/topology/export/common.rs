//! What every export needs: the list of nodes to draw (listed devices, then
//! a bare node for each device a link names but the topology does not list,
//! so no link is silently dropped) and names that are unique. Must not know
//! any output format.
use crate::topology::model::{Device, DeviceId, Topology};
use std::collections::{HashMap, HashSet};

/// One node of an export: a listed device, or only an id named by a link.
pub(crate) struct Node<'a> {
    pub id: &'a DeviceId,
    pub device: Option<&'a Device>,
}

impl Node<'_> {
    pub fn sys_name(&self) -> Option<&str> {
        self.device
            .and_then(|d| d.sys_name.as_deref())
            .filter(|n| !n.trim().is_empty())
    }

    /// What a human calls the device: its sysName, else its id.
    pub fn label(&self) -> &str {
        self.sys_name().unwrap_or(&self.id.0)
    }
}

/// The nodes in order (devices as listed, the first of a repeated id wins,
/// then unlisted link ends in order of appearance) and each id's position.
pub(crate) fn nodes(topology: &Topology) -> (Vec<Node<'_>>, HashMap<&DeviceId, usize>) {
    let mut list = Vec::new();
    let mut position = HashMap::new();
    for device in &topology.devices {
        if !position.contains_key(&device.id) {
            position.insert(&device.id, list.len());
            list.push(Node {
                id: &device.id,
                device: Some(device),
            });
        }
    }
    for link in &topology.links {
        for end in [&link.a, &link.b] {
            if !position.contains_key(&end.device) {
                position.insert(&end.device, list.len());
                list.push(Node {
                    id: &end.device,
                    device: None,
                });
            }
        }
    }
    (list, position)
}

/// A unique name per node: its label, or `label (id)` when several nodes
/// share the label, with ` #2`, ` #3`... appended if even that collides.
pub(crate) fn unique_names(nodes: &[Node<'_>]) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for node in nodes {
        *count.entry(node.label()).or_default() += 1;
    }
    let mut taken = HashSet::new();
    nodes
        .iter()
        .map(|node| {
            let base = if count[node.label()] > 1 {
                format!("{} ({})", node.label(), node.id)
            } else {
                node.label().to_owned()
            };
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base} #{n}");
                n += 1;
            }
            name
        })
        .collect()
}
