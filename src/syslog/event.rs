//! A parsed message → the event stored on its device. Pure: the topology
//! and the time are handed in. The device is the one whose addresses hold
//! the sender's address, else the one whose sysName is the message's
//! HOSTNAME (case-insensitive; a relay or NAT hides the first). Either
//! match must be unique, never a guess.
use super::message::SyslogMessage;
use crate::store::{EventRow, SyslogFields};
use crate::topology::{DeviceId, Topology};
use crate::types::UnixMillis;
use std::net::IpAddr;

/// How an event was tied to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Source,
    Hostname,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Source => "source",
            MatchedBy::Hostname => "hostname",
        }
    }
}

fn unique<'a>(mut found: impl Iterator<Item = &'a DeviceId>) -> Option<DeviceId> {
    let first = found.next()?;
    found.next().is_none().then(|| first.clone())
}

/// Which device sent it, and how we know.
pub fn match_device(
    topology: &Topology,
    source: IpAddr,
    m: &SyslogMessage,
) -> Option<(DeviceId, MatchedBy)> {
    let by_addr = topology
        .devices
        .iter()
        .filter(|d| d.mgmt_addr == Some(source) || d.addresses.contains(&source))
        .map(|d| &d.id);
    if let Some(d) = unique(by_addr) {
        return Some((d, MatchedBy::Source));
    }
    let host = m.host.as_deref().filter(|h| !h.is_empty())?;
    let by_name = topology
        .devices
        .iter()
        .filter(|d| {
            d.sys_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(host))
        })
        .map(|d| &d.id);
    unique(by_name).map(|d| (d, MatchedBy::Hostname))
}

/// The row to store.
pub fn event_row(
    m: SyslogMessage,
    source: IpAddr,
    matched: Option<(DeviceId, MatchedBy)>,
    at: UnixMillis,
) -> EventRow {
    let (device, matched_by) = match matched {
        Some((d, how)) => (Some(d.0), Some(how.as_str().to_string())),
        None => (None, None),
    };
    EventRow {
        id: 0,
        at,
        device,
        matched_by,
        source: source.to_string(),
        kind: "syslog".into(),
        version: m.format.as_str().into(),
        name: m.app.clone().unwrap_or_else(|| "syslog".into()),
        trap_oid: String::new(),
        if_index: None,
        varbinds: Vec::new(),
        syslog: Some(SyslogFields {
            severity: m.severity,
            facility: m.facility,
            host: m.host,
            app: m.app,
            procid: m.procid,
            msgid: m.msgid,
            sent_at: m.timestamp,
            message: m.message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Device;

    fn device(id: &str, name: &str, addr: &str) -> Device {
        serde_json::from_value(serde_json::json!({
            "id": id, "sys_name": name, "sys_descr": null, "mgmt_addr": addr,
            "chassis_id": null, "vendor": null, "managed": true,
            "addresses": [addr], "interfaces": []
        }))
        .unwrap()
    }

    fn topo(devices: Vec<Device>) -> Topology {
        let mut t: Topology = serde_json::from_value(serde_json::json!({
            "devices": [], "links": []
        }))
        .unwrap();
        t.devices = devices;
        t
    }

    fn msg(host: Option<&str>) -> SyslogMessage {
        let mut m = crate::syslog::parse(b"<11>1 - - app - - - boom", UnixMillis(0)).unwrap();
        m.host = host.map(str::to_string);
        m
    }

    #[test]
    fn matched_by_source_then_unique_hostname() {
        let t = topo(vec![
            device("d1", "core-1", "127.0.0.11"),
            device("d2", "Edge", "127.0.0.12"),
            device("d3", "edge", "127.0.0.13"),
        ]);
        let src = |s: &str| s.parse::<IpAddr>().unwrap();
        let m = match_device(&t, src("127.0.0.11"), &msg(Some("edge")));
        assert_eq!(m, Some((DeviceId("d1".into()), MatchedBy::Source)));
        let m = match_device(&t, src("127.0.0.99"), &msg(Some("CORE-1")));
        assert_eq!(m, Some((DeviceId("d1".into()), MatchedBy::Hostname)));
        // Two devices are called edge: no guess.
        assert_eq!(
            match_device(&t, src("127.0.0.99"), &msg(Some("edge"))),
            None
        );
        assert_eq!(match_device(&t, src("127.0.0.99"), &msg(None)), None);
        let row = event_row(
            msg(Some("core-1")),
            src("127.0.0.99"),
            Some((DeviceId("d1".into()), MatchedBy::Hostname)),
            UnixMillis(5),
        );
        assert_eq!(row.kind, "syslog");
        assert_eq!(row.name, "app");
        assert_eq!(row.matched_by.as_deref(), Some("hostname"));
        let s = row.syslog.unwrap();
        assert_eq!(s.severity.as_str(), "err");
        assert_eq!(s.facility.as_str(), "user");
        assert_eq!(s.message, "boom");
    }
}
