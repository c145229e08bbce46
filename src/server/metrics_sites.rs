//! The sites as `/metrics` families: the NATS connection's counters of a
//! site poller or the central (`sites::stats`), and at a central each
//! site's `nocmap_site_up` and `nocmap_site_delay_seconds` (how late its
//! samples reached the store, `sites::delay`); no family at all without
//! `[nats]`.
use super::metrics::{Family, MetricKind, MetricSample, single};
use crate::sites::delay::{Arrival, Histogram};

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

/// `nocmap_site_delay_seconds{site,kind}`: per site, how late its samples
/// reached the central's store (commit time minus poll time), `kind`
/// `live` or `backfill`; and how late its devices' new verdicts reached the
/// central's map (`kind="verdict"`: arrival minus the newest poll's time).
pub fn delay_family(delays: &[(String, Arrival, Histogram)]) -> Family {
    let mut samples = Vec::new();
    for (site, arrival, h) in delays {
        let labels = || {
            vec![
                ("site", site.clone()),
                ("kind", arrival.as_str().to_string()),
            ]
        };
        for (le, n) in h.cumulative() {
            let mut l = labels();
            let le = if le.is_finite() {
                format!("{le}")
            } else {
                "+Inf".to_string()
            };
            l.push(("le", le));
            samples.push(MetricSample {
                suffix: "_bucket",
                labels: l,
                value: n as f64,
            });
        }
        samples.push(MetricSample {
            suffix: "_sum",
            labels: labels(),
            value: h.sum_s(),
        });
        samples.push(MetricSample {
            suffix: "_count",
            labels: labels(),
            value: h.count() as f64,
        });
    }
    Family {
        name: "nocmap_site_delay_seconds",
        help: "How late a site's samples reached the central's store: commit time minus the sample's poll time (site clock), one observation per sample; kind live (sent as polled) or backfill (held back by a WAN cut or a restart). Kind verdict: how late a device's new verdict reached the central's map, arrival minus the time of its newest poll, ICMP or SNMP (site clock).",
        kind: MetricKind::Histogram,
        samples,
    }
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

    #[test]
    fn delays_as_a_histogram_per_site_and_kind() {
        let mut d = crate::sites::delay::SiteDelays::default();
        let commit = crate::types::UnixMillis(10_000);
        d.observe_batch("b1", Arrival::Live, [9_800, 9_000], commit);
        d.observe_batch("b1", Arrival::Backfill, [10_000 - 7_200_000], commit);
        let f = delay_family(&d.snapshot());
        let text = super::super::exposition::encode_text(&[f]);
        for line in [
            "# TYPE nocmap_site_delay_seconds histogram",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"0.1\"} 0",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"0.25\"} 1",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"1\"} 2",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"+Inf\"} 2",
            "nocmap_site_delay_seconds_sum{site=\"b1\",kind=\"live\"} 1.2",
            "nocmap_site_delay_seconds_count{site=\"b1\",kind=\"live\"} 2",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"backfill\",le=\"3600\"} 0",
            "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"backfill\",le=\"21600\"} 1",
            "nocmap_site_delay_seconds_sum{site=\"b1\",kind=\"backfill\"} 7200",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
}
