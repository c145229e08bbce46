//! When an agent's counter values were taken. Many agents (net-snmp every
//! ~3 s, switches every 1-10 s or more) refresh their interface counters on
//! a period of their own and answer every read from that copy, so a reading
//! at time t holds the traffic up to the last refresh before t, not up to t.
//! A rate over the poll interval is then wrong by up to one refresh period
//! divided by the interval (+20 % / -35 % at 5 s polls of net-snmp).
//!
//! The fix measured here: before the main poll, the poller re-reads a few
//! octet counters close together ("a watch") until their values change; the
//! change brackets a refresh between two reads, and a poll sent right after
//! it holds the counters of that refresh. Each sample then carries the
//! instant its values were taken ([`Taken`], with the half-width of the
//! bracket as uncertainty) and the rate is computed over the span between
//! two such instants, whatever the poll interval. The [`RefreshModel`]
//! learnt from the brackets (period, last refresh, jitter, or "live":
//! counters that change between any two reads) only decides when the next
//! watch starts and how long it waits, so that it costs a few reads; an
//! irregular refresh costs more reads, not accuracy. Pure: times come in.
use super::sample::MonoMillis;

/// Spacing of the reads of a watch near an expected refresh.
pub const FINE_SPACING_MS: u64 = 100;
/// A rate whose span (so the rate) is known within this many percent,
/// worst case, is `exact`.
pub const EXACT_WITHIN_PCT: f64 = 5.0;
/// Polls between two watches of an agent whose counters are live, or on
/// which no refresh was seen (re-checked now and then).
pub const RECHECK_POLLS: u32 = 10;
/// Least time kept before an expected refresh when a watch starts.
const MIN_GUARD_MS: f64 = 250.0;

/// The instant (monotonic ms) an agent took the counter values of a
/// sample, within `uncertainty_ms` either side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub at: MonoMillis,
    pub uncertainty_ms: u64,
}

/// A change of the watched counters between two reads: a refresh happened
/// after the read sent at `after` and before the answer at `by` arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSeen {
    pub after: MonoMillis,
    pub by: MonoMillis,
}

impl RefreshSeen {
    pub fn taken(&self) -> Taken {
        let (a, b) = (self.after.0, self.by.0.max(self.after.0));
        Taken {
            at: MonoMillis(a + (b - a) / 2),
            uncertainty_ms: (b - a).div_ceil(2),
        }
    }
}

/// What a watch saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchResult {
    /// The refreshes seen, in order.
    Seen(Vec<RefreshSeen>),
    /// The values changed between every two successive reads: the agent
    /// reads its counters live (or refreshes faster than the reads).
    Live,
    /// Nothing changed before the watch gave up.
    Unseen,
}

/// What the poller does before its next main poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Poll at once. `live`: the values are taken when read (each chunk's
    /// own time is its [`Taken`]); otherwise the instant is unknown.
    ReadNow { live: bool },
    /// Read the watched counters from `start_ms`, every `spacing_ms`, until
    /// they change or `give_up_ms` passes; then poll. `learn`: the period
    /// is not known yet, so one more read tells live counters from a
    /// refresh, and after the poll the watch goes on to the next refresh
    /// ([`Plan::follow`]), which measures the period.
    Watch {
        start_ms: u64,
        spacing_ms: u64,
        give_up_ms: u64,
        learn: bool,
    },
}

impl Plan {
    /// After a learning watch that saw a refresh and the poll that
    /// followed at `now_ms`: the watch that goes on until the next
    /// refresh, or `until_ms` (before the next poll is due).
    pub fn follow(&self, now_ms: u64, until_ms: u64) -> Option<Watcher> {
        match *self {
            Plan::Watch {
                spacing_ms,
                learn: true,
                ..
            } if now_ms + spacing_ms <= until_ms => Some(Watcher::new(spacing_ms, until_ms, false)),
            _ => None,
        }
    }

    /// The watch this plan starts with, if any.
    pub fn watcher(&self) -> Option<(u64, Watcher)> {
        match *self {
            Plan::Watch {
                start_ms,
                spacing_ms,
                give_up_ms,
                learn,
            } => Some((start_ms, Watcher::new(spacing_ms, give_up_ms, learn))),
            Plan::ReadNow { .. } => None,
        }
    }
}

/// Why a rate's span is not known well enough to call it exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InexactReason {
    /// No refresh of the agent's counters was seen (not measured yet, idle
    /// counters, or refresh tracking off): the interval is the span.
    RefreshUnknown,
    /// The agent refreshes less often than it can be watched within the
    /// poll interval.
    RefreshSlowerThanInterval,
    /// The refresh instants are known, but not within [`EXACT_WITHIN_PCT`].
    Uncertain,
}

impl InexactReason {
    pub fn as_str(self) -> &'static str {
        match self {
            InexactReason::RefreshUnknown => "refresh_unknown",
            InexactReason::RefreshSlowerThanInterval => "refresh_slower_than_interval",
            InexactReason::Uncertain => "uncertain",
        }
    }
}

/// How far a rate can be trusted: `uncertainty_pct` is the most the span
/// (and so the rate) can be off, in percent, where known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exactness {
    pub uncertainty_pct: Option<f64>,
    pub inexact: Option<InexactReason>,
}

impl Exactness {
    pub const EXACT: Exactness = Exactness {
        uncertainty_pct: None,
        inexact: None,
    };

    pub fn is_exact(&self) -> bool {
        self.inexact.is_none()
    }

    /// The span between two taken instants, with its uncertainty.
    pub fn of_span(prev: Taken, cur: Taken) -> (u64, Exactness) {
        let span = cur.at.0.saturating_sub(prev.at.0);
        let pct = if span == 0 {
            100.0
        } else {
            (prev.uncertainty_ms + cur.uncertainty_ms) as f64 * 100.0 / span as f64
        };
        let inexact = (pct > EXACT_WITHIN_PCT).then_some(InexactReason::Uncertain);
        (
            span,
            Exactness {
                uncertainty_pct: Some(pct),
                inexact,
            },
        )
    }
}

/// Whether a refresh period (plus jitter) can be watched for within a poll
/// interval: a watch waits at most 80 % of the interval for a refresh.
pub fn refresh_fits(period_ms: f64, interval_ms: u64) -> bool {
    period_ms <= interval_ms as f64 * 0.8
}

/// The stored device series (subject "") of an agent's learnt counter
/// refresh period, in seconds, for `check-config`.
pub const REFRESH_PERIOD_METRIC: &str = "counter_refresh_period_s";

/// What is known of one agent's counter refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshModel {
    /// One period as measured by a follow watch (two refreshes in a row):
    /// the centre of the period search.
    first_period_ms: Option<f64>,
    /// Refreshes seen (bracket midpoints), oldest first.
    history: Vec<f64>,
    /// The refresh period that best fits the history.
    period_ms: Option<f64>,
    /// The latest refresh seen (midpoint of its bracket).
    last_ms: Option<f64>,
    /// Smoothed |observed - predicted| of refresh instants.
    jitter_ms: f64,
    live: bool,
    /// Watches in a row that saw nothing.
    unseen: u32,
    /// Polls since the last watch (for live / unseen re-checks).
    since_watch: u32,
}

impl RefreshModel {
    pub fn period_ms(&self) -> Option<f64> {
        self.period_ms
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter_ms
    }

    /// The refresh period can be watched for within `interval_ms` (a
    /// watch waits at most about one period past the poll's deadline).
    fn fits(&self, interval_ms: u64) -> bool {
        self.period_ms
            .is_none_or(|p| refresh_fits(p + self.jitter_ms, interval_ms))
    }

    fn guard(&self) -> f64 {
        (3.0 * self.jitter_ms).max(MIN_GUARD_MS)
    }

    /// Whether rates of this agent can be exact at `interval_ms`: None
    /// while unknown (nothing seen yet).
    pub fn measurable_at(&self, interval_ms: u64) -> Option<bool> {
        if self.live {
            return Some(true);
        }
        self.period_ms.map(|_| self.fits(interval_ms))
    }

    /// What to do for the poll due at `now_ms` with this interval.
    pub fn plan(&mut self, now_ms: u64, interval_ms: u64) -> Plan {
        let limit = now_ms + interval_ms * 8 / 10;
        let recheck = self.since_watch + 1 >= RECHECK_POLLS;
        if (self.live || self.unseen >= 2) && !recheck {
            self.since_watch += 1;
            return Plan::ReadNow { live: self.live };
        }
        if !self.fits(interval_ms) {
            self.since_watch += 1;
            return Plan::ReadNow { live: false };
        }
        self.since_watch = 0;
        let (Some(p), Some(last)) = (self.period_ms, self.last_ms) else {
            // Learning: from now on, until two refreshes are seen.
            return Plan::Watch {
                start_ms: now_ms,
                spacing_ms: FINE_SPACING_MS,
                give_up_ms: limit,
                learn: true,
            };
        };
        // The first refresh expected at least a guard after now; the guard
        // covers the jitter and the period's own error times the periods
        // predicted ahead: a fitted period is known to about two read
        // spacings divided by the periods its history spans.
        let spanned = self
            .history
            .first()
            .map_or(1.0, |f| ((last - f) / p).max(1.0));
        let ahead = ((now_ms as f64 - last) / p).ceil().max(1.0) + 1.0;
        // While the history is short its jitter is unknown: allow 2 % of
        // a period of error then.
        let young = if self.history.len() < 4 {
            0.02 * p
        } else {
            0.0
        };
        let period_error = (2.0 * FINE_SPACING_MS as f64).max(young) / spanned;
        let guard = self.guard() + ahead * period_error;
        let from = now_ms as f64 + guard;
        let k = ((from - last) / p).ceil().max(1.0);
        let expected = last + k * p;
        let start = (expected - guard).max(now_ms as f64) as u64;
        let spacing = ((guard / 3.0) as u64).clamp(FINE_SPACING_MS / 2, FINE_SPACING_MS);
        // Until the deadline's share of the interval: a refresh that came
        // early (before the watch began) is followed by the next one.
        Plan::Watch {
            start_ms: start,
            spacing_ms: spacing,
            give_up_ms: limit.max(start + spacing),
            learn: false,
        }
    }

    /// How long after a refresh a read surely still returns its values.
    fn holds_ms(&self) -> u64 {
        match self.period_ms {
            Some(p) => (p - 3.0 * self.jitter_ms - MIN_GUARD_MS).max(p / 2.0) as u64,
            None => 1_000,
        }
    }

    /// When the values of a read sent at `sent` and answered at `got`
    /// were taken, after `watch` (None: the plan was to read at once).
    /// Call after [`RefreshModel::observe`].
    pub fn taken_for(
        &self,
        watch: Option<&WatchResult>,
        sent: MonoMillis,
        got: MonoMillis,
    ) -> Result<Taken, InexactReason> {
        let own = Taken {
            at: MonoMillis(sent.0 + got.0.saturating_sub(sent.0) / 2),
            uncertainty_ms: got.0.saturating_sub(sent.0).div_ceil(2),
        };
        match watch {
            Some(WatchResult::Seen(seen)) => {
                let last = seen.last().ok_or(InexactReason::RefreshUnknown)?;
                if got.0 > last.by.0 + self.holds_ms() {
                    // The next refresh may have come in between.
                    return Err(InexactReason::Uncertain);
                }
                Ok(last.taken())
            }
            Some(WatchResult::Live) => Ok(own),
            _ if self.live => Ok(own),
            Some(WatchResult::Unseen) => Err(InexactReason::RefreshUnknown),
            None if self.period_ms.is_some() => Err(InexactReason::RefreshSlowerThanInterval),
            None => Err(InexactReason::RefreshUnknown),
        }
    }

    /// Learn from a watch's result; `follow`: the watch went on from
    /// the previous refresh seen without a break, so the first change it
    /// saw is one period after that refresh.
    pub fn observe(&mut self, result: &WatchResult, follow: bool) {
        match result {
            WatchResult::Live => {
                *self = RefreshModel {
                    live: true,
                    ..RefreshModel::default()
                };
            }
            WatchResult::Unseen => {
                self.unseen += 1;
                if self.unseen >= 2 {
                    // Forget a model that no longer predicts anything.
                    self.period_ms = None;
                    self.last_ms = None;
                    self.jitter_ms = 0.0;
                }
            }
            WatchResult::Seen(seen) => {
                self.live = false;
                self.unseen = 0;
                let Some(first) = seen.first().map(mid) else {
                    return;
                };
                if let (None, Some(last), true) = (self.first_period_ms, self.last_ms, follow) {
                    self.first_period_ms = Some(first - last);
                }
                self.history.extend(seen.iter().map(mid));
                if self.history.len() > HISTORY {
                    self.history.drain(..self.history.len() - HISTORY);
                }
                self.last_ms = seen.last().map(mid);
                self.fit();
            }
        }
    }

    /// The period that puts the refreshes seen closest to one grid,
    /// searched around the period a follow watch measured; the worst
    /// distance to the grid is the jitter. A history that fits no grid
    /// within a quarter period is irregular: learning starts again.
    fn fit(&mut self) {
        let (Some(p0), Some(&last)) = (self.first_period_ms, self.history.last()) else {
            return;
        };
        let worst = |p: f64| {
            self.history
                .iter()
                .map(|c| {
                    let k = (last - c) / p;
                    (k - k.round()).abs() * p
                })
                .fold(0.0, f64::max)
        };
        let span = (p0 * 0.1).max(2.0 * FINE_SPACING_MS as f64);
        let step = (span / 200.0).max(0.5);
        let mut best = (p0, worst(p0));
        let mut p = (p0 - span).max(FINE_SPACING_MS as f64);
        while p <= p0 + span {
            let w = worst(p);
            if w < best.1 {
                best = (p, w);
            }
            p += step;
        }
        if best.1 > best.0 / 4.0 {
            *self = RefreshModel {
                since_watch: self.since_watch,
                ..RefreshModel::default()
            };
            return;
        }
        self.period_ms = Some(best.0);
        self.jitter_ms = best.1;
    }
}

/// Refreshes kept for the period fit.
const HISTORY: usize = 16;

/// A watch in progress: fed every read of the watched counters, it says
/// when to read next or what it saw.
#[derive(Debug, Clone)]
pub struct Watcher {
    spacing_ms: u64,
    give_up_ms: u64,
    confirm: bool,
    /// The previous read: when it was sent and its values.
    prev: Option<(MonoMillis, Vec<u64>)>,
    seen: Vec<RefreshSeen>,
    /// Successive reads that all differed from the one before.
    changes_in_a_row: u32,
    reads: u32,
}

/// The next step of a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchStep {
    ReadAt(u64),
    Done(WatchResult),
}

impl Watcher {
    /// `confirm`: read once more after a change, to tell live counters
    /// (which change again) from a refresh.
    pub fn new(spacing_ms: u64, give_up_ms: u64, confirm: bool) -> Watcher {
        Watcher {
            spacing_ms: spacing_ms.max(1),
            give_up_ms,
            confirm,
            prev: None,
            seen: Vec::new(),
            changes_in_a_row: 0,
            reads: 0,
        }
    }

    /// Go on from another watch's last read (its values and send time).
    pub fn continue_from(&mut self, other: &Watcher) {
        self.prev = other.prev.clone();
    }

    /// Reads done so far (the watch's cost in requests).
    pub fn reads(&self) -> u32 {
        self.reads
    }

    /// A read sent at `sent` answered at `got` with `values`.
    pub fn read(&mut self, sent: MonoMillis, got: MonoMillis, values: Vec<u64>) -> WatchStep {
        self.reads += 1;
        if let Some((prev_sent, prev_values)) = &self.prev {
            if *prev_values != values {
                self.changes_in_a_row += 1;
                if self.changes_in_a_row >= 2 {
                    return WatchStep::Done(WatchResult::Live);
                }
                self.seen.push(RefreshSeen {
                    after: *prev_sent,
                    by: got,
                });
            } else {
                self.changes_in_a_row = 0;
            }
        }
        self.prev = Some((sent, values));
        if !self.seen.is_empty() && (!self.confirm || self.changes_in_a_row == 0) {
            return WatchStep::Done(WatchResult::Seen(self.seen.clone()));
        }
        let next = sent.0 + self.spacing_ms;
        if next > self.give_up_ms {
            return WatchStep::Done(if self.seen.is_empty() {
                WatchResult::Unseen
            } else {
                WatchResult::Seen(self.seen.clone())
            });
        }
        WatchStep::ReadAt(next)
    }
}

fn mid(s: &RefreshSeen) -> f64 {
    (s.after.0 as f64 + s.by.0.max(s.after.0) as f64) / 2.0
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
