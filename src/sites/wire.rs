//! What travels between a site poller and the central, pure: the subjects
//! named by site, the message id JetStream deduplicates on, and the JSON
//! of a batch of journalled samples, of a heartbeat, of the site's
//! topology and of its devices' verdicts (the last two bounded in size:
//! too big for one message they go in parts, [`super::wire_parts`]; too
//! big even so is an error, never a cut-off map). No secret is ever part
//! of a subject or a payload.
use crate::live::{DeviceHealth, Reachability};
use crate::store::{JournalEntry, Sample, SeriesKey};
use crate::topology::Topology;
use crate::types::UnixMillis;
use serde::{Deserialize, Serialize};

/// The stream holding every site's subjects.
pub const STREAM: &str = "NOCMAP_SITES";
/// Every site's subjects.
pub const ALL_SITES: &str = "nocmap.site.>";
/// The central's durable consumer.
pub const CENTRAL_CONSUMER: &str = "nocmap-central";

/// A central's durable consumer: [`CENTRAL_CONSUMER`] alone, or with its
/// name in a pair (`[nats] central_id`), each reading every site itself.
pub fn central_consumer(central_id: Option<&str>) -> String {
    match central_id {
        Some(id) => format!("{CENTRAL_CONSUMER}-{id}"),
        None => CENTRAL_CONSUMER.to_string(),
    }
}

/// Who sent a site's message: the site, or in a poller group the site and
/// the member (`.` is in no site name) — each member numbers its own.
pub fn sender(site: &str, poller: Option<&str>) -> String {
    match poller {
        Some(p) => format!("{site}.{p}"),
        None => site.to_string(),
    }
}

/// A site's samples subject.
pub fn samples_subject(site: &str) -> String {
    format!("nocmap.site.{site}.samples")
}

/// A site's heartbeat subject.
pub fn heartbeat_subject(site: &str) -> String {
    format!("nocmap.site.{site}.heartbeat")
}

/// A site's topology subject (the newest message is the site's map).
pub fn topology_subject(site: &str) -> String {
    format!("nocmap.site.{site}.topology")
}

/// A site's verdicts subject (the newest message holds every device's).
pub fn verdicts_subject(site: &str) -> String {
    format!("nocmap.site.{site}.verdicts")
}

/// What a message on a site's subject is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Samples,
    Heartbeat,
    Topology,
    Verdicts,
    /// A part of a topology too big for one message ([`super::wire_parts`]).
    TopologyPart,
    /// A part of verdicts too big for one message.
    VerdictsPart,
    Events,
    Gaps,
}

/// The site and kind a subject names (`None`: not one of ours).
pub fn parse_subject(subject: &str) -> Option<(&str, Kind)> {
    let rest = subject.strip_prefix("nocmap.site.")?;
    let (site, kind) = rest.split_once('.')?;
    let kind = match kind {
        "samples" => Kind::Samples,
        "heartbeat" => Kind::Heartbeat,
        "topology" => Kind::Topology,
        "verdicts" => Kind::Verdicts,
        "topology.parts" => Kind::TopologyPart,
        "verdicts.parts" => Kind::VerdictsPart,
        "events" => Kind::Events,
        "gaps" => Kind::Gaps,
        _ => return None,
    };
    crate::config::valid_site(site).then_some((site, kind))
}

/// The message id of a batch: the site (and in a poller group the poller,
/// whose journal is its own) and the journal sequences it holds. The same
/// entries sent again carry the same id, which JetStream drops within its
/// duplicate window; two members' batches never share one.
pub fn message_id(site: &str, poller: Option<&str>, first: u64, last: u64) -> String {
    match poller {
        Some(p) => format!("{site}.{p}:{first}-{last}"),
        None => format!("{site}:{first}-{last}"),
    }
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
    /// Sent from the backlog (what a WAN cut or a restart held back), not
    /// live: the central counts its delay apart. Absent (a site before
    /// this field) reads as live.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backfill: bool,
}

impl SampleBatch {
    /// `entries` as one batch; `backfill` when they come from the backlog.
    pub fn new(site: &str, entries: &[JournalEntry], backfill: bool) -> SampleBatch {
        SampleBatch {
            site: site.to_string(),
            backfill,
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
    /// The member of a poller group that sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poller: Option<String>,
}

/// The largest topology or verdicts message (NATS' default `max_payload`
/// is 1 MiB; the rest is headroom for headers).
pub const MAX_STATE_BYTES: usize = 1_000_000;

/// A state's JSON over this is sent snappy-compressed (raw format, whose
/// length prefix then never starts with `{`, so a reader tells the two
/// apart by the first byte; an older reader's JSON still reads).
pub const COMPRESS_OVER: usize = 64 * 1024;

/// The most a compressed state may unpack to (a hostile length prefix
/// never makes the central allocate more).
pub const MAX_UNPACKED_BYTES: usize = 64 * 1024 * 1024;

/// Why a topology or verdicts message was not made or not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("{what} of {bytes} bytes is over the limit of {MAX_STATE_BYTES}")]
    TooBig { what: &'static str, bytes: usize },
    #[error("{what} unpacks to {bytes} bytes, over the limit of {MAX_UNPACKED_BYTES}")]
    TooBigUnpacked { what: &'static str, bytes: usize },
    #[error("{what}: {reason}")]
    Unreadable { what: &'static str, reason: String },
    #[error("{what} names site {named}, not {site}")]
    OtherSite {
        what: &'static str,
        named: String,
        site: String,
    },
}

/// A site's discovered topology, as its `serve` monitors it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteTopology {
    pub site: String,
    /// When the site sent it.
    pub at: i64,
    pub topology: Topology,
}

/// One device's reachability as its site's poller has it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireVerdict {
    pub device: String,
    /// The site's verdict aged at the site: unknown once stale there.
    pub reachability: Reachability,
    pub since_ms: Option<i64>,
    /// The ICMP round that gave the verdict, on the site's clock.
    pub last_icmp_ms: Option<i64>,
    pub rtt_avg_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    pub snmp_ok: Option<bool>,
    pub last_snmp_ms: Option<i64>,
}

impl WireVerdict {
    /// The newest poll behind the verdict: its last ICMP round or SNMP
    /// poll, whichever is later (Unix ms, the site's clock).
    pub fn newest_poll(&self) -> Option<i64> {
        self.last_icmp_ms.max(self.last_snmp_ms)
    }

    /// `h` at `now` (its verdict aged by the site's own lifetime).
    pub fn of(device: &str, h: &DeviceHealth, now: UnixMillis) -> WireVerdict {
        WireVerdict {
            device: device.to_string(),
            reachability: crate::live::aged(h, now).reachability,
            since_ms: h.since_ms.map(|t| t.0),
            last_icmp_ms: h.last_icmp_ms.map(|t| t.0),
            rtt_avg_ms: h.rtt_avg_ms,
            loss_pct: h.loss_pct,
            snmp_ok: h.snmp_ok,
            last_snmp_ms: h.last_snmp_ms.map(|t| t.0),
        }
    }
}

/// Every device verdict of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteVerdicts {
    pub site: String,
    pub at: i64,
    pub devices: Vec<WireVerdict>,
    /// The interfaces that end the site's links (absent from older sites).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<super::wire_interfaces::WireInterface>,
    /// In a poller group, the member that sent them (its devices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poller: Option<String>,
}

/// A site's topology or verdicts as a message's payload.
pub trait SiteState: Serialize + serde::de::DeserializeOwned {
    const WHAT: &'static str;
    fn site(&self) -> &str;

    /// The payload — JSON, snappy-compressed over [`COMPRESS_OVER`]
    /// bytes — or an error (never a truncated map) when over the bound.
    fn encode(&self) -> Result<Vec<u8>, StateError> {
        let bytes = self.pack()?;
        if bytes.len() > MAX_STATE_BYTES {
            return Err(StateError::TooBig {
                what: Self::WHAT,
                bytes: bytes.len(),
            });
        }
        Ok(bytes)
    }

    /// The JSON, snappy-compressed over [`COMPRESS_OVER`] bytes, with no
    /// bound but [`MAX_UNPACKED_BYTES`]: over [`MAX_STATE_BYTES`] it goes
    /// in parts ([`super::wire_parts`]).
    fn pack(&self) -> Result<Vec<u8>, StateError> {
        let json = serde_json::to_vec(self).map_err(|e| StateError::Unreadable {
            what: Self::WHAT,
            reason: e.to_string(),
        })?;
        if json.len() > MAX_UNPACKED_BYTES {
            return Err(StateError::TooBigUnpacked {
                what: Self::WHAT,
                bytes: json.len(),
            });
        }
        if json.len() <= COMPRESS_OVER {
            return Ok(json);
        }
        snap::raw::Encoder::new()
            .compress_vec(&json)
            .map_err(|e| StateError::Unreadable {
                what: Self::WHAT,
                reason: e.to_string(),
            })
    }

    /// The payload read back, checked against the bound and against the
    /// site its subject named.
    fn decode(payload: &[u8], site: &str) -> Result<Self, StateError> {
        if payload.len() > MAX_STATE_BYTES {
            return Err(StateError::TooBig {
                what: Self::WHAT,
                bytes: payload.len(),
            });
        }
        Self::unpack(payload, site)
    }

    /// What [`SiteState::pack`] gave (one payload, or its parts put back
    /// together), read back: unpacked to at most [`MAX_UNPACKED_BYTES`]
    /// and checked against the site its subject named.
    fn unpack(packed: &[u8], site: &str) -> Result<Self, StateError> {
        let unreadable = |e: &dyn std::fmt::Display| StateError::Unreadable {
            what: Self::WHAT,
            reason: e.to_string(),
        };
        let unpacked;
        let json = match packed.first() {
            Some(b'{') | None => packed,
            Some(_) => {
                let len = snap::raw::decompress_len(packed).map_err(|e| unreadable(&e))?;
                if len > MAX_UNPACKED_BYTES {
                    return Err(StateError::TooBigUnpacked {
                        what: Self::WHAT,
                        bytes: len,
                    });
                }
                unpacked = snap::raw::Decoder::new()
                    .decompress_vec(packed)
                    .map_err(|e| unreadable(&e))?;
                &unpacked[..]
            }
        };
        let v: Self = serde_json::from_slice(json).map_err(|e| unreadable(&e))?;
        if v.site() != site {
            return Err(StateError::OtherSite {
                what: Self::WHAT,
                named: v.site().chars().take(80).collect(),
                site: site.to_string(),
            });
        }
        Ok(v)
    }
}

impl SiteState for SiteTopology {
    const WHAT: &'static str = "a site topology";
    fn site(&self) -> &str {
        &self.site
    }
}

impl SiteState for SiteVerdicts {
    const WHAT: &'static str = "a site's verdicts";
    fn site(&self) -> &str {
        &self.site
    }
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
        assert_eq!(
            parse_subject(&topology_subject("b-1")),
            Some(("b-1", Kind::Topology))
        );
        assert_eq!(
            parse_subject(&verdicts_subject("b-1")),
            Some(("b-1", Kind::Verdicts))
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
        let b = SampleBatch::new("s", &entries, false);
        let text = serde_json::to_vec(&b).unwrap();
        // A live batch reads as before the flag was added.
        assert!(!String::from_utf8_lossy(&text).contains("backfill"));
        let back: SampleBatch = serde_json::from_slice(&text).unwrap();
        assert_eq!(back, b);
        let held = SampleBatch::new("s", &entries, true);
        let text = serde_json::to_vec(&held).unwrap();
        assert!(
            serde_json::from_slice::<SampleBatch>(&text)
                .unwrap()
                .backfill
        );
        let s = &back.to_samples()[0];
        assert_eq!(s.value.to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(s.at, UnixMillis(1_700_000_000_123));
        assert_eq!(message_id("s", None, 7, 9), "s:7-9");
        assert_eq!(message_id("s", Some("p1"), 7, 9), "s.p1:7-9");
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

    #[test]
    fn topology_and_verdicts_round_trip_and_are_bounded() {
        let mut d = crate::topology::Device::for_test("r1", false);
        d.sys_location = Some("rack \u{1b}[2J 4".into());
        let t = SiteTopology {
            site: "b1".into(),
            at: 5,
            topology: Topology {
                devices: vec![d],
                links: vec![],
            },
        };
        let bytes = t.encode().unwrap();
        assert_eq!(SiteTopology::decode(&bytes, "b1").unwrap(), t);
        assert!(matches!(
            SiteTopology::decode(&bytes, "b2"),
            Err(StateError::OtherSite { .. })
        ));
        assert!(matches!(
            SiteTopology::decode(b"{", "b1"),
            Err(StateError::Unreadable { .. })
        ));
        assert!(matches!(
            SiteVerdicts::decode(&vec![b' '; MAX_STATE_BYTES + 1], "b1"),
            Err(StateError::TooBig { .. })
        ));
        let mut big = t.clone();
        // Text that does not compress: over the bound even packed.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let noise: String = (0..MAX_STATE_BYTES + 50_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'!' + (x % 90) as u8)
            })
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        big.topology.devices[0].sys_descr = Some(noise);
        assert!(matches!(big.encode(), Err(StateError::TooBig { .. })));

        // A big site's map (JSON of 1.9 MB: 400 devices of 50 interfaces'
        // worth of text) goes packed, under the bound, and reads back.
        let mut many = t.clone();
        many.topology.devices = (0..400)
            .map(|i| {
                let mut d = crate::topology::Device::for_test(&format!("sw{i:04}"), false);
                d.sys_descr = Some(format!(
                    "Cisco IOS Software, C2960 ... {}",
                    "Gi0/1 ".repeat(800)
                ));
                d
            })
            .collect();
        let json_len = serde_json::to_vec(&many).unwrap().len();
        assert!(json_len > 1_500_000, "{json_len}");
        let packed = many.encode().unwrap();
        assert!(
            packed.len() < MAX_STATE_BYTES && packed[0] != b'{',
            "{}",
            packed.len()
        );
        assert_eq!(SiteTopology::decode(&packed, "b1").unwrap(), many);
        // A hostile length prefix (100 MiB) is refused before unpacking.
        assert!(matches!(
            SiteTopology::decode(&[0x80, 0x80, 0x80, 0x32, 0, 0], "b1"),
            Err(StateError::TooBigUnpacked { .. })
        ));
        assert!(matches!(
            SiteTopology::decode(&[0x85, 0x01, 0xff], "b1"),
            Err(StateError::Unreadable { .. })
        ));

        let h = DeviceHealth {
            reachability: Reachability::Down,
            last_icmp_ms: Some(UnixMillis(1_000)),
            icmp_stale_after_ms: Some(3_000),
            loss_pct: Some(100.0),
            ..Default::default()
        };
        let fresh = WireVerdict::of("r1", &h, UnixMillis(2_000));
        assert_eq!(fresh.reachability, Reachability::Down);
        // Stale at the site: unknown on the wire, never down.
        let old = WireVerdict::of("r1", &h, UnixMillis(9_000));
        assert_eq!(old.reachability, Reachability::Unknown);
        let v = SiteVerdicts {
            site: "b1".into(),
            at: 9,
            devices: vec![fresh, old],
            interfaces: vec![],
            poller: None,
        };
        assert_eq!(SiteVerdicts::decode(&v.encode().unwrap(), "b1").unwrap(), v);
    }
}
