//! Discovery: reading agents (`read`), turning what they said into typed
//! reports (`parse_*`), deciding which reports are the same box (`identity`)
//! and which interfaces are linked (`links`), and the crawl that ties these
//! together. Only `read`, `crawl` and `local` (this host's interfaces) do
//! I/O; the rest are pure functions over varbinds and reports, so recordings
//! and live agents go through one path.
pub mod crawl;
pub mod hardware;
pub mod identity;
pub mod links;
pub mod listed;
pub mod local;
pub mod oids;
pub mod parse_device;
pub mod parse_neighbors;
pub mod read;
pub mod report;
pub mod resolve;
pub mod self_host;
pub mod vendor;
pub mod vlans;

pub use report::DeviceReport;

/// Build a report from every varbind walked on one agent.
pub fn report_from_varbinds(
    addr: Option<std::net::IpAddr>,
    vbs: &[async_snmp::VarBind],
) -> DeviceReport {
    let mut r = DeviceReport {
        addr,
        ..Default::default()
    };
    parse_device::fill(&mut r, vbs);
    parse_neighbors::fill(&mut r, vbs);
    let (vlans, cut) = vlans::membership(vbs, &r.bridge_ports);
    r.vlans = vlans;
    r.partial.extend(cut);
    r.hardware = hardware::hardware(vbs);
    r
}
#[cfg(test)]
mod crawl_stranger_tests;
#[cfg(test)]
mod vlans_scenario_tests;
