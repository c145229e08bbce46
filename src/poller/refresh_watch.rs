//! The I/O of the counter refresh tracking (`counters::refresh`): before a
//! device's main poll, re-read a few octet counters close together until
//! their values change, so the poll that follows holds the values of a
//! known refresh; after a learning poll, go on watching to the next
//! refresh to measure the period. One GET per read, of ifInOctets and
//! ifOutOctets of the device's busiest interfaces.
use crate::counters::{
    InexactReason, MonoMillis, Plan, RefreshModel, Taken, WatchResult, WatchStep, Watcher,
};
use crate::snmp::{AgentSession, Oid, SnmpError, Value};
use crate::types::IfIndex;
use crate::util::clock::Clock;
use tokio::sync::watch;

/// Interfaces whose counters a watch reads (2 objects each, one GET).
pub const WATCHED_INTERFACES: usize = 8;

/// A follow watch ends this long before the next poll is due.
const FOLLOW_MARGIN_MS: u64 = 500;

const IF: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];

/// The refresh tracking of one device's poll loop.
pub struct RefreshTracker {
    pub model: RefreshModel,
    /// The interfaces read by a watch, busiest first.
    pub watched: Vec<IfIndex>,
    plan: Option<Plan>,
    watch: Option<(WatchResult, Watcher)>,
    /// GETs sent by watches since the last `take_reads`.
    reads: u64,
    /// Whether the agent's rates could be exact at the poll interval, as
    /// last told in the log.
    told: Option<bool>,
}

impl RefreshTracker {
    pub fn new(interfaces: impl Iterator<Item = IfIndex>) -> RefreshTracker {
        RefreshTracker {
            model: RefreshModel::default(),
            watched: interfaces.take(WATCHED_INTERFACES).collect(),
            plan: None,
            watch: None,
            reads: 0,
            told: None,
        }
    }

    /// Tells the log when the agent turns out to refresh its counters too
    /// seldom for rates at `interval_ms` to be exact (and when it no
    /// longer does): the interval cannot be measured truly on it.
    pub fn warn_if_unmeasurable(&mut self, addr: std::net::IpAddr, interval_ms: u64) {
        let now = self.model.measurable_at(interval_ms);
        if now.is_none() || now == self.told {
            return;
        }
        if now == Some(false) {
            tracing::warn!(
                %addr,
                refresh_period_s = self.model.period_ms().unwrap_or(0.0) / 1000.0,
                poll_interval_s = interval_ms / 1000,
                "the agent refreshes its counters too seldom for this poll interval: its rates are flagged inexact (a poll interval of {:.0} s or more would be exact)",
                self.model.period_ms().unwrap_or(0.0) / 800.0
            );
        } else if self.told == Some(false) {
            tracing::info!(%addr, "the agent's counter refreshes fit the poll interval again");
        }
        self.told = now;
    }

    /// Watch GETs sent since the last call.
    pub fn take_reads(&mut self) -> u64 {
        std::mem::take(&mut self.reads)
    }

    /// Before the main poll due now: plan, and watch if the plan says so.
    /// Ok(false) when the stop signal came; a failed read is the poll's
    /// failure (the main poll would only wait for the same timeout again).
    pub async fn before_poll(
        &mut self,
        session: &dyn AgentSession,
        clock: &dyn Clock,
        stop: &mut watch::Receiver<bool>,
        interval_ms: u64,
    ) -> Result<bool, SnmpError> {
        let plan = self.model.plan(clock.mono_ms(), interval_ms);
        self.plan = Some(plan);
        self.watch = None;
        let Some((start, mut w)) = plan.watcher() else {
            return Ok(true);
        };
        let Some(result) = self.run(session, clock, stop, start, &mut w).await? else {
            return Ok(!*stop.borrow());
        };
        self.model.observe(&result, false);
        self.watch = Some((result, w));
        Ok(true)
    }

    /// When the values of a main-poll GET sent at `sent` and answered at
    /// `got` were taken.
    pub fn taken_for(&self, sent: MonoMillis, got: MonoMillis) -> Result<Taken, InexactReason> {
        self.model
            .taken_for(self.watch.as_ref().map(|w| &w.0), sent, got)
    }

    /// After the main poll: a learning watch goes on to the next refresh,
    /// until shortly before `next_due_ms` (the next poll's deadline).
    pub async fn after_poll(
        &mut self,
        session: &dyn AgentSession,
        clock: &dyn Clock,
        stop: &mut watch::Receiver<bool>,
        next_due_ms: u64,
    ) {
        let (Some(plan), Some((WatchResult::Seen(_), first))) = (self.plan, &self.watch) else {
            return;
        };
        let now = clock.mono_ms();
        let Some(mut w) = plan.follow(now, next_due_ms.saturating_sub(FOLLOW_MARGIN_MS)) else {
            return;
        };
        w.continue_from(first);
        // Running out of time is no news about the agent: only a refresh
        // seen teaches anything.
        if let Ok(Some(result @ WatchResult::Seen(_))) =
            self.run(session, clock, stop, now, &mut w).await
        {
            self.model.observe(&result, true);
        }
    }

    /// Runs `w` from `start`; None when the loop stops (or there is
    /// nothing to watch).
    async fn run(
        &mut self,
        session: &dyn AgentSession,
        clock: &dyn Clock,
        stop: &mut watch::Receiver<bool>,
        start: u64,
        w: &mut Watcher,
    ) -> Result<Option<WatchResult>, SnmpError> {
        let oids: Vec<Oid> = self
            .watched
            .iter()
            .flat_map(|i| [10, 16].map(|c| Oid::from_slice(&[IF, &[c, i.0]].concat())))
            .collect();
        if oids.is_empty() {
            return Ok(None);
        }
        let mut at = start;
        loop {
            tokio::select! {
                _ = clock.sleep_until_mono(at) => {}
                _ = stop.changed() => return Ok(None),
            }
            let sent = clock.mono_ms();
            let r = session.get(&oids).await;
            let got = clock.mono_ms();
            self.reads += 1;
            let values: Vec<u64> = r?
                .iter()
                .map(|vb| match vb.value {
                    Value::Counter32(n) => u64::from(n),
                    Value::Counter64(n) => n,
                    _ => 0,
                })
                .collect();
            match w.read(MonoMillis(sent), MonoMillis(got), values) {
                WatchStep::ReadAt(next) => at = next,
                WatchStep::Done(result) => return Ok(Some(result)),
            }
        }
    }

    /// Watch the busiest interfaces (by the last poll's octet rates).
    pub fn set_busiest(&mut self, mut by_rate: Vec<(IfIndex, f64)>) {
        if by_rate.is_empty() {
            return;
        }
        by_rate.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        self.watched = by_rate
            .into_iter()
            .take(WATCHED_INTERFACES)
            .map(|x| x.0)
            .collect();
    }
}
