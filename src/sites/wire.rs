//! What travels between a site poller and the central, pure: the subjects
//! named by site, the message id JetStream deduplicates on, and the JSON
//! of a batch of journalled samples and of a heartbeat. No secret is ever
//! part of a subject or a payload.
use crate::store::{JournalEntry, Sample, SeriesKey};
use crate::types::UnixMillis;
use serde::{Deserialize, Serialize};

/// The stream holding every site's subjects.
pub const STREAM: &str = "NOCMAP_SITES";
/// Every site's subjects.
pub const ALL_SITES: &str = "nocmap.site.>";
/// The central's durable consumer.
pub const CENTRAL_CONSUMER: &str = "nocmap-central";

/// A site's samples subject.
pub fn samples_subject(site: &str) -> String {
    format!("nocmap.site.{site}.samples")
}

/// A site's heartbeat subject.
pub fn heartbeat_subject(site: &str) -> String {
    format!("nocmap.site.{site}.heartbeat")
}

/// What a message on a site's subject is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Samples,
    Heartbeat,
}

/// The site and kind a subject names (`None`: not one of ours).
pub fn parse_subject(subject: &str) -> Option<(&str, Kind)> {
    let rest = subject.strip_prefix("nocmap.site.")?;
    let (site, kind) = rest.split_once('.')?;
    let kind = match kind {
        "samples" => Kind::Samples,
        "heartbeat" => Kind::Heartbeat,
        _ => return None,
    };
    crate::config::valid_site(site).then_some((site, kind))
}

/// The message id of a batch: the site and the journal sequences it holds.
/// The same entries sent again carry the same id, which JetStream drops
/// within its duplicate window.
pub fn message_id(site: &str, first: u64, last: u64) -> String {
    format!("{site}:{first}-{last}")
}

/// One journalled sample on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSample {
    pub seq: u64,
    pub device: String,
    pub subject: String,
    pub metric: String,
    pub t: i64,
    pub v: f64,
}

/// A batch of consecutive-in-order journal entries of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleBatch {
    pub site: String,
    pub samples: Vec<WireSample>,
}

impl SampleBatch {
    pub fn new(site: &str, entries: &[JournalEntry]) -> SampleBatch {
        SampleBatch {
            site: site.to_string(),
            samples: entries
                .iter()
                .map(|e| WireSample {
                    seq: e.seq,
                    device: e.key.device.clone(),
                    subject: e.key.subject.clone(),
                    metric: e.key.metric.clone(),
                    t: e.at.0,
                    v: e.value,
                })
                .collect(),
        }
    }

    /// The samples as the store takes them.
    pub fn to_samples(&self) -> Vec<Sample> {
        self.samples
            .iter()
            .map(|s| Sample {
                key: SeriesKey {
                    device: s.device.clone(),
                    subject: s.subject.clone(),
                    metric: s.metric.clone(),
                },
                at: UnixMillis(s.t),
                value: s.v,
            })
            .collect()
    }
}

/// A site poller's heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub site: String,
    pub at: i64,
    /// Journal entries still owed to the central.
    pub owed: u64,
    /// The heartbeat's period (the central calls the site silent after three).
    pub every_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_site_and_parse_back() {
        assert_eq!(samples_subject("b-1"), "nocmap.site.b-1.samples");
        assert_eq!(
            parse_subject("nocmap.site.b-1.heartbeat"),
            Some(("b-1", Kind::Heartbeat))
        );
        assert_eq!(
            parse_subject("nocmap.site.b-1.samples"),
            Some(("b-1", Kind::Samples))
        );
        assert_eq!(parse_subject("nocmap.site.b.1.samples"), None);
        assert_eq!(parse_subject("nocmap.site.b-1.other"), None);
        assert_eq!(parse_subject("other.site.b.samples"), None);
    }

    #[test]
    fn a_batch_round_trips_every_value_exactly() {
        let entries = vec![JournalEntry {
            seq: 7,
            key: SeriesKey::interface("dev", "eth0", "in_bps"),
            at: UnixMillis(1_700_000_000_123),
            value: 0.1 + 0.2,
        }];
        let b = SampleBatch::new("s", &entries);
        let text = serde_json::to_vec(&b).unwrap();
        let back: SampleBatch = serde_json::from_slice(&text).unwrap();
        assert_eq!(back, b);
        let s = &back.to_samples()[0];
        assert_eq!(s.value.to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(s.at, UnixMillis(1_700_000_000_123));
        assert_eq!(message_id("s", 7, 9), "s:7-9");
    }

    /// Rates are arbitrary doubles; serde_json's default float parser is
    /// off by one ulp for some (the lab saw 28 of 1,896), hence its
    /// `float_roundtrip` feature.
    #[test]
    fn every_double_survives_the_json() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut bad = 0;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 11) as f64 / (1u64 << 53) as f64 * 1e9;
            let text = serde_json::to_string(&v).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            bad += usize::from(back.to_bits() != v.to_bits());
        }
        assert_eq!(bad, 0, "{bad} of 20000 doubles changed through JSON");
    }
}
