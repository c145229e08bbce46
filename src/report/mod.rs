//! Reports over the stored history: reachability (availability, outages,
//! loss, RTT per device and per link) and bandwidth (peak and
//! burstable-billing 95th percentile per interface, top N), rendered as CSV,
//! JSON or a self-contained HTML page.
//!
//! The core (`availability`, `timeline`, `outages`, `bandwidth`, the
//! renderers; percentiles come from `util::stats`) is pure: it takes plain rounds, samples,
//! gaps and exclusion windows and returns values or text. `source` is the
//! one edge that reads the store. Device-provided strings reach HTML only
//! through [`escape::html`] and CSV only through [`escape::csv_text`].
//!
//! What counts (also printed in each report's footer, from
//! [`REACHABILITY_DEFINITIONS`] and [`BANDWIDTH_DEFINITIONS`]):
//!
//! - An ICMP round (several echo requests) with 100 % loss is *down*; any
//!   reply makes it *up*. A device is down from its first all-lost round
//!   until its first round with a reply.
//! - A round's state holds until the next round, for at most
//!   [`availability::HOLD_FACTOR`] times the device's median spacing between
//!   rounds; longer silences, store gaps of the device's series and
//!   store-wide gaps (monitor restarts) are *unknown* time.
//! - Exclusion (maintenance) windows are *excluded* time, for all devices
//!   or one device; rounds inside them are not counted.
//! - Availability = up / (up + down); unknown and excluded time are left out
//!   of the denominator and reported separately.
//! - Where raw rounds were pruned, each 5-minute rollup of `loss_pct` stands
//!   for its rounds: down when its average loss is 100 %, else up, for the
//!   whole bucket (outages shorter than a bucket are then not resolved).
//! - A link is down when either end device is down, unknown when neither is
//!   down and either is unknown, excluded when either end is excluded.
//!   Interface oper status is not stored as a series, so it is not used.
//! - Loss % is the mean of the counted rounds' loss (each round sends the
//!   same number of requests). RTT p50/p95 are nearest-rank percentiles of
//!   the rounds' median RTTs; RTT max is the largest single reply.
//! - Bandwidth: see [`bandwidth`].
pub mod availability;
pub mod bandwidth;
pub mod escape;
pub mod maintenance;
pub mod outages;
pub mod params;
pub mod render_csv;
pub mod render_html;
pub mod render_json;
pub mod source;
pub mod timeline;
pub mod window;

pub use availability::{ReachabilityReport, reachability};
pub use bandwidth::{BandwidthReport, bandwidth};
pub use params::{Format, ReportParams};
pub use window::{ExclusionWindow, Period};

/// The reachability report's definitions, printed in its footer.
pub const REACHABILITY_DEFINITIONS: &[&str] = &[
    "An ICMP round (several echo requests) with 100 % loss is down; a round with any reply is up. A device is down from its first all-lost round until its first round with a reply.",
    "A round's state holds until the next round, for at most 3 times the device's median spacing between rounds. Longer silences, store gaps and monitor restarts are unknown time.",
    "Availability = up time / (up time + down time). Unknown time and excluded (maintenance) time are not in the denominator; both are reported separately.",
    "Rounds inside exclusion windows are not counted. Loss % is the mean loss of the counted rounds; RTT p50 and p95 are nearest-rank percentiles of the rounds' median RTTs; RTT max is the largest single reply.",
    "Where raw rounds were pruned, a 5-minute rollup stands for its rounds: down when its average loss is 100 %, else up, for the whole 5 minutes (the resolution column says which data was used).",
    "A link is down when either end device is down or either end interface's stored oper status is not up (raw samples, the last 2 days; older periods use the devices only), unknown when neither end is down and either device is unknown, excluded when either end is in an exclusion window.",
    "Outage edges: observed (a round showed the change), period (the report period cuts the outage), unknown (no data next to it), excluded (an exclusion window next to it).",
];

/// The bandwidth report's definitions, printed in its footer.
pub const BANDWIDTH_DEFINITIONS: &[&str] = &[
    "Rates are the monitor's in_bps and out_bps (bits per second between two counter polls).",
    "5-minute averages: UTC-aligned 5-minute buckets whose start lies in the period (its start rounded up to a 5-minute boundary); the mean of the raw samples in the bucket, or the stored 5-minute rollup average where raw samples were pruned. Hourly rollups are never used.",
    "95th percentile (burstable billing): sort the 5-minute averages, discard the highest 5 % (rounded down), take the largest remaining. The billed figure is the larger of the in and out percentiles.",
    "Peak: the largest raw sample, or the 5-minute rollup maximum for buckets answered from rollups.",
    "Exclusion windows do not apply to bandwidth.",
];

/// Why a report could not be made; the message is shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the database {0} does not exist")]
    NoDatabase(std::path::PathBuf),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    BadParameter(String),
}
