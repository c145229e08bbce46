//! The NATS connection's counters of a site poller or the central
//! (`sites::stats`); no family at all without `[nats]`.
use super::metrics::{Family, MetricKind, single};

pub(super) fn sites_families(out: &mut Vec<Family>) {
    let Some(s) = crate::sites::stats() else {
        return;
    };
    out.push(single(
        "nocmap_nats_connected",
        "1 while the connection to the NATS server is up, else 0.",
        MetricKind::Gauge,
        f64::from(u8::from(s.connected)),
    ));
    out.push(single(
        "nocmap_nats_connect_failures_total",
        "Attempts to connect to the NATS server that failed (unreachable, TLS handshake, credentials refused).",
        MetricKind::Counter,
        s.connect_failures as f64,
    ));
    out.push(single(
        "nocmap_nats_permission_violations_total",
        "Publishes and subscriptions the NATS server's permissions refused (a site's user used another site's subjects); what was refused stays journalled.",
        MetricKind::Counter,
        s.permission_violations as f64,
    ));
}
