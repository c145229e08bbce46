//! The JSON shapes of `/api/devices` and `/api/topology`: topology devices
//! and links (the `nocmap discover --json` shape) with their live health
//! added beside the topology fields. Pure: serde only, the caller passes
//! the snapshot and the time.
use crate::live::{DeviceHealth, InterfaceHealth, LinkHealth, LiveSnapshot, UnixMs, link_health};
use crate::topology::{Device, Link};
use serde::Serialize;
use std::collections::BTreeMap;

/// A topology device with its health and the health of its interfaces
/// (by ifName).
#[derive(Debug, Serialize)]
pub struct DeviceView<'a> {
    #[serde(flatten)]
    pub device: &'a Device,
    pub health: Option<&'a DeviceHealth>,
    pub interface_health: BTreeMap<&'a str, &'a InterfaceHealth>,
}

/// A topology link with `utilization_pct`, `in_bps`, `out_bps`,
/// `errors_per_s`, `status` and `stale`.
#[derive(Debug, Serialize)]
pub struct LinkView<'a> {
    #[serde(flatten)]
    pub link: &'a Link,
    #[serde(flatten)]
    pub health: LinkHealth,
}

#[derive(Debug, Serialize)]
pub struct TopologyView<'a> {
    pub devices: Vec<DeviceView<'a>>,
    pub links: Vec<LinkView<'a>>,
    /// When this view was computed (ms since the Unix epoch).
    pub generated_ms: UnixMs,
}

/// One device of the snapshot with its health.
pub fn device_view<'a>(s: &'a LiveSnapshot, d: &'a Device) -> DeviceView<'a> {
    DeviceView {
        device: d,
        health: s.devices.get(&d.id),
        interface_health: s
            .interfaces
            .range((d.id.clone(), String::new())..)
            .take_while(|((id, _), _)| id == &d.id)
            .map(|((_, name), h)| (name.as_str(), h))
            .collect(),
    }
}

/// One link of the snapshot with its health at `now_ms`.
pub fn link_view<'a>(s: &'a LiveSnapshot, l: &'a Link, now_ms: UnixMs) -> LinkView<'a> {
    LinkView {
        link: l,
        health: link_health(s, l, now_ms),
    }
}

pub fn devices(s: &LiveSnapshot) -> Vec<DeviceView<'_>> {
    s.topology
        .devices
        .iter()
        .map(|d| device_view(s, d))
        .collect()
}

pub fn topology(s: &LiveSnapshot, now_ms: UnixMs) -> TopologyView<'_> {
    TopologyView {
        devices: devices(s),
        links: s
            .topology
            .links
            .iter()
            .map(|l| link_view(s, l, now_ms))
            .collect(),
        generated_ms: now_ms,
    }
}
