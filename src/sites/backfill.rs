//! What a site poller sends next, pure: the link's state, which journal
//! entries are live and which are backlog, and the pace of the backlog.
//!
//! Entries journalled while the link is up are live and go at once. When a
//! send fails the link is down and nothing but a probe (the heartbeat) is
//! sent; when a probe is acknowledged again, everything journalled until
//! then — what the cut held back, and what a restart found owed — is
//! backlog: sent oldest first (in journal order, which per series is time
//! order) at no more than `per_s` entries a second, while entries
//! journalled after that point are live and keep going first. No clock
//! and no I/O: the caller passes monotonic milliseconds.

/// A token bucket in entries: `per_s` a second, holding at most `burst`.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_s: f64,
    burst: f64,
    tokens: f64,
    last_ms: u64,
}

impl Pacer {
    /// Starts empty at `now_ms`, so the first second sends at most `per_s`.
    pub fn new(per_s: u32, now_ms: u64) -> Pacer {
        let per_s = f64::from(per_s.max(1));
        Pacer {
            per_s,
            // A tenth of a second's worth: the sends stay even, and a
            // rate measured over a few seconds stays within the bound.
            burst: (per_s / 10.0).max(1.0),
            tokens: 0.0,
            last_ms: now_ms,
        }
    }

    /// How many entries may go now.
    pub fn allowance(&mut self, now_ms: u64) -> usize {
        let dt = now_ms.saturating_sub(self.last_ms) as f64 / 1_000.0;
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens = (self.tokens + dt * self.per_s).min(self.burst);
        self.tokens.floor() as usize
    }

    /// Takes `n` entries sent.
    pub fn spend(&mut self, n: usize) {
        self.tokens = (self.tokens - n as f64).max(0.0);
    }
}

/// Whether the central's stream acknowledges what is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Acknowledged the last send or probe.
    Up,
    /// A send or probe failed (or nothing was acknowledged yet).
    Down,
}

/// What to send on this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Live entries: every one with a sequence above this (all when `None`).
    pub live_after: Option<u64>,
    /// Backlog entries: the oldest ones up to this sequence, at most `limit`.
    pub backlog: Option<Backlog>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub upto: u64,
    pub limit: usize,
}

/// The scheduler of one site poller's journal.
#[derive(Debug, Clone)]
pub struct Backfill {
    link: Link,
    /// Entries up to here are backlog (paced); above it live.
    backlog_upto: Option<u64>,
    pacer: Pacer,
}

impl Backfill {
    /// A poller starting with the link not yet confirmed.
    pub fn new(per_s: u32, now_ms: u64) -> Backfill {
        Backfill {
            link: Link::Down,
            backlog_upto: None,
            pacer: Pacer::new(per_s, now_ms),
        }
    }

    pub fn link(&self) -> Link {
        self.link
    }

    /// A probe was acknowledged; `journal_max` is the newest entry owed now.
    /// Coming back from down, all of it becomes backlog.
    pub fn probe_acked(&mut self, journal_max: Option<u64>, now_ms: u64) {
        if self.link == Link::Down {
            self.backlog_upto = self.backlog_upto.max(journal_max);
            self.link = Link::Up;
            // The pace starts now, not from the last backfill before the cut.
            self.pacer.allowance(now_ms);
        }
    }

    /// A send or a probe was not acknowledged.
    pub fn failed(&mut self) {
        self.link = Link::Down;
    }

    /// What may go now (`None` while the link is down: probe instead).
    pub fn plan(&mut self, now_ms: u64) -> Option<Plan> {
        if self.link == Link::Down {
            return None;
        }
        let allowance = self.pacer.allowance(now_ms);
        Some(Plan {
            live_after: self.backlog_upto,
            backlog: self
                .backlog_upto
                .filter(|_| allowance > 0)
                .map(|upto| Backlog {
                    upto,
                    limit: allowance,
                }),
        })
    }

    /// `n` backlog entries were acknowledged.
    pub fn backlog_sent(&mut self, n: usize) {
        self.pacer.spend(n);
    }

    /// The backlog query found nothing left: every entry is live again.
    pub fn backlog_done(&mut self) {
        self.backlog_upto = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_goes_before_the_first_probe_is_acknowledged() {
        let mut b = Backfill::new(100, 0);
        assert_eq!(b.plan(1_000), None);
        b.probe_acked(None, 1_000);
        let p = b.plan(1_100).unwrap();
        assert_eq!(p.live_after, None);
        assert_eq!(p.backlog, None);
    }

    #[test]
    fn what_a_restart_finds_owed_is_backlog_and_newer_entries_are_live() {
        let mut b = Backfill::new(100, 0);
        b.probe_acked(Some(500), 0);
        let p = b.plan(100).unwrap();
        assert_eq!(p.live_after, Some(500));
        assert_eq!(
            p.backlog,
            Some(Backlog {
                upto: 500,
                limit: 10
            })
        );
    }

    #[test]
    fn a_cut_makes_everything_journalled_until_the_link_returns_backlog() {
        let mut b = Backfill::new(50, 0);
        b.probe_acked(None, 0);
        assert_eq!(b.plan(100).unwrap().live_after, None);
        b.failed();
        assert_eq!(b.plan(200), None);
        // During the cut the journal grew to 900; the link returns.
        b.probe_acked(Some(900), 30_000);
        let p = b.plan(30_100).unwrap();
        assert_eq!(p.live_after, Some(900));
        assert_eq!(p.backlog.unwrap().upto, 900);
        // A second cut before the backlog is through keeps the older bound
        // and extends it.
        b.failed();
        b.probe_acked(Some(1_200), 40_000);
        assert_eq!(b.plan(40_100).unwrap().live_after, Some(1_200));
        b.backlog_done();
        assert_eq!(b.plan(40_200).unwrap().backlog, None);
    }

    #[test]
    fn the_backlog_never_goes_faster_than_the_bound() {
        let mut b = Backfill::new(40, 0);
        b.probe_acked(Some(1_000_000), 0);
        let mut sent = 0;
        // Ticks of 37 ms for 10 s, sending all that is allowed.
        let mut t = 0;
        while t <= 10_000 {
            if let Some(Plan {
                backlog: Some(bl), ..
            }) = b.plan(t)
            {
                sent += bl.limit;
                b.backlog_sent(bl.limit);
            }
            t += 37;
        }
        assert!(sent <= 400 + 4, "{sent} entries in 10 s at 40/s");
        assert!(sent >= 380, "{sent}: the pace should be near the bound");
    }

    #[test]
    fn an_idle_pacer_saves_at_most_a_tenth_of_a_second() {
        let mut p = Pacer::new(1_000, 0);
        assert_eq!(p.allowance(60_000), 100);
        p.spend(100);
        assert_eq!(p.allowance(60_000), 0);
    }
}
