//! A site's gaps (a series' gap with its reason — a counter reset, a
//! wrap — and the store-wide ones: its poller restarted, lost commits,
//! dropped samples) as they travel to the central, pure: the subject, the
//! batch (the site's gap ids kept, so the central writes each once; the
//! group member whose ids they are), the message id JetStream
//! deduplicates on. The central turns a store-wide one into a gap of each
//! of the site's devices (`store::site_gaps`), so a site's report at the
//! central tells why a span has no data as the site's own does.
use super::wire::SiteState;
use crate::store::{GapRecord, NumberedGap, SeriesKey};
use crate::types::UnixMillis;
use serde::{Deserialize, Serialize};

/// A site's gaps subject.
pub fn gaps_subject(site: &str) -> String {
    format!("nocmap.site.{site}.gaps")
}

/// The most gaps in one batch (each is a few hundred bytes of JSON, well
/// under the bound a message is read with).
pub const MAX_GAPS: usize = 500;

/// One gap as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireGap {
    /// The site's gap id.
    pub id: i64,
    /// The series (device, subject, metric); absent: store-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<(String, String, String)>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub reason: String,
}

/// Gaps of one site (one group member's), in the site's id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapBatch {
    pub site: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poller: Option<String>,
    pub gaps: Vec<WireGap>,
}

impl GapBatch {
    pub fn new(site: &str, poller: Option<&str>, gaps: &[NumberedGap]) -> GapBatch {
        GapBatch {
            site: site.to_string(),
            poller: poller.map(str::to_string),
            gaps: gaps
                .iter()
                .take(MAX_GAPS)
                .map(|g| WireGap {
                    id: g.id,
                    series: g
                        .gap
                        .series
                        .as_ref()
                        .map(|k| (k.device.clone(), k.subject.clone(), k.metric.clone())),
                    from_ms: g.gap.from.0,
                    to_ms: g.gap.to.0,
                    reason: g.gap.reason.clone(),
                })
                .collect(),
        }
    }

    /// The message id: the sender and the first and last gap ids.
    pub fn message_id(&self) -> String {
        let first = self.gaps.first().map_or(0, |g| g.id);
        let last = self.gaps.last().map_or(0, |g| g.id);
        format!("{}:gap:{first}-{last}", self.sender())
    }

    /// Whose ids these are: the site, or `<site>.<member>` in a group.
    pub fn sender(&self) -> String {
        super::wire::sender(&self.site, self.poller.as_deref())
    }

    /// The newest gap id in the batch.
    pub fn last_id(&self) -> Option<i64> {
        self.gaps.iter().map(|g| g.id).max()
    }

    /// The gaps as the store takes them.
    pub fn to_gaps(&self) -> Vec<NumberedGap> {
        self.gaps
            .iter()
            .map(|g| NumberedGap {
                id: g.id,
                gap: GapRecord {
                    series: g.series.as_ref().map(|(d, s, m)| SeriesKey {
                        device: d.clone(),
                        subject: s.clone(),
                        metric: m.clone(),
                    }),
                    from: UnixMillis(g.from_ms),
                    to: UnixMillis(g.to_ms),
                    reason: g.reason.clone(),
                },
            })
            .collect()
    }
}

/// Read with the same bound and site check as the topology and verdicts.
impl SiteState for GapBatch {
    const WHAT: &'static str = "a site's gaps";
    fn site(&self) -> &str {
        &self.site
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::wire::{Kind, StateError, parse_subject};

    fn gap(id: i64, series: bool) -> NumberedGap {
        NumberedGap {
            id,
            gap: GapRecord {
                series: series.then(|| SeriesKey::interface("r1", "eth0", "in_bps")),
                from: UnixMillis(1_000 * id),
                to: UnixMillis(1_000 * id + 500),
                reason: "restart".into(),
            },
        }
    }

    #[test]
    fn a_batch_travels_and_comes_back_the_same() {
        let gaps = vec![gap(3, true), gap(4, false)];
        let b = GapBatch::new("east", None, &gaps);
        assert_eq!(b.message_id(), "east:gap:3-4");
        assert_eq!(b.last_id(), Some(4));
        let payload = b.encode().unwrap();
        let back = GapBatch::decode(&payload, "east").unwrap();
        assert_eq!(back.to_gaps(), gaps);
        assert!(matches!(
            GapBatch::decode(&payload, "west"),
            Err(StateError::OtherSite { .. })
        ));
        let m = GapBatch::new("east", Some("p2"), &gaps);
        assert_eq!(
            (m.message_id().as_str(), m.sender().as_str()),
            ("east.p2:gap:3-4", "east.p2")
        );
        assert_eq!(
            parse_subject(&gaps_subject("east")),
            Some(("east", Kind::Gaps))
        );
        let many: Vec<NumberedGap> = (1..=2_000).map(|i| gap(i, true)).collect();
        assert_eq!(GapBatch::new("east", None, &many).gaps.len(), MAX_GAPS);
    }
}
