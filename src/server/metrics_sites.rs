//! The sites as `/metrics` families: the NATS connection's counters of a
//! site poller or the central (`sites::stats`), and at a central each
//! site's `nocmap_site_up`; no family at all without `[nats]`.
use super::metrics::{Family, MetricKind, MetricSample, single};

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
    if let Some((id, active)) = crate::sites::central_lease::stats() {
        out.push(Family {
            name: "nocmap_central_active",
            help: "A central of a pair: 1 while it holds the lease (it tells the webhook receivers and writes to Prometheus), 0 while it stands by.",
            kind: MetricKind::Gauge,
            samples: vec![MetricSample::plain(
                vec![("central_id", id)],
                f64::from(u8::from(active)),
            )],
        });
    }
    if let Some(g) = crate::sites::group::stats() {
        let site = || vec![("site", g.site.clone())];
        out.push(Family {
            name: "nocmap_poller_leases_held",
            help: "Devices whose lease this member of a poller group holds: the devices it polls.",
            kind: MetricKind::Gauge,
            samples: vec![MetricSample::plain(site(), g.leases_held as f64)],
        });
        out.push(Family {
            name: "nocmap_poller_group_members",
            help: "Live members of this poller's group (itself included), from their slots in the lease bucket.",
            kind: MetricKind::Gauge,
            samples: vec![MetricSample::plain(site(), g.members as f64)],
        });
    }
}

/// `nocmap_site_up{site}`: 1 while the site's poller is heard, 0 once it
/// is silent (three heartbeats missed).
pub fn families(sites: &[(String, bool)]) -> Vec<Family> {
    vec![Family {
        name: "nocmap_site_up",
        help: "1 while the central hears the site's poller, 0 once it is silent (its devices stale).",
        kind: MetricKind::Gauge,
        samples: sites
            .iter()
            .map(|(site, up)| {
                MetricSample::plain(vec![("site", site.clone())], f64::from(u8::from(*up)))
            })
            .collect(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_site() {
        let f = families(&[("b1".into(), true), ("b2".into(), false)]);
        let text = super::super::exposition::encode_text(&f);
        assert!(text.contains("nocmap_site_up{site=\"b1\"} 1"), "{text}");
        assert!(text.contains("nocmap_site_up{site=\"b2\"} 0"), "{text}");
    }
}
