//! A central's sites as a `/metrics` family (present only at a central
//! of `[nats]`). Pure: from the sites' status.
use super::metrics::{Family, MetricKind, MetricSample};

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
