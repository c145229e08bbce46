//! Which of a pair of centrals is active. Every central of the pair
//! (`[nats] central_id`) reads every site into its own store through its
//! own durable consumer, so each holds the whole history; the one holding
//! the `active` key of the centrals' key-value bucket tells the receivers
//! and writes to Prometheus, the others stand by. The key lives the lease
//! time (`lease_s`, the bucket's `max_age`) unless renewed, which the
//! active one does every third of it; a standby that finds the key gone
//! creates it and is active from then on, so a dead active central is
//! replaced within the lease time and one round.
//!
//! [`step`] (pure) decides a round from what the key holds; [`round`]
//! reads and writes it through [`LeaseBucket`]; [`run`] is the loop. A
//! bucket that does not answer changes nothing (an active central stays
//! active, a standby stays standby): a central cut off from the NATS
//! server alone may notify beside the one that took over until it reaches
//! the server again and sees the other's name in the key, then it stands
//! by at once. Doubled notifications are preferred to none.
use super::group::{KvError, LeaseBucket};
use super::lease::Lease;
use super::{SiteSettings, connect};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The key the active central holds.
pub const ACTIVE_KEY: &str = "active";

/// A central of a pair: its name and the lease time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralPair {
    pub id: String,
    pub lease: Duration,
}

impl CentralPair {
    /// How long a notification recorded while standing by is held before
    /// it counts as told by the active central: the lease and one round
    /// (the longest a dead central's transitions wait for the takeover),
    /// and 2 s for the two evaluations' skew.
    pub fn hold(&self) -> Duration {
        self.lease + self.lease / 3 + Duration::from_secs(2)
    }
}

/// The centrals' bucket of the centrals named `site` (`[nats] site`).
pub fn bucket(site: &str) -> String {
    format!("nocmap_central_{site}")
}

/// One round's write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The key is ours: rewrite it if still at this revision.
    Renew { revision: u64 },
    /// The key is absent: take it if still absent.
    Create,
    /// Another central holds it: stand by.
    StandBy { holder: String },
}

/// What central `me` does given the key's value.
pub fn step(me: &str, key: Option<&Lease>) -> Step {
    match key {
        Some(l) if l.holder == me => Step::Renew {
            revision: l.revision,
        },
        Some(l) => Step::StandBy {
            holder: l.holder.clone(),
        },
        None => Step::Create,
    }
}

/// One round: whether `me` is active afterwards (an error: nothing is
/// known, the caller stays as it was).
pub async fn round<B: LeaseBucket + Sync>(bucket: &B, me: &str) -> Result<bool, KvError> {
    let key = bucket.get(ACTIVE_KEY).await?;
    let written = match step(me, key.as_ref()) {
        Step::StandBy { .. } => return Ok(false),
        Step::Renew { revision } => bucket.update(ACTIVE_KEY, me, revision).await,
        Step::Create => bucket.create(ACTIVE_KEY, me).await,
    };
    match written {
        Ok(_) => Ok(true),
        Err(KvError::Conflict) => Ok(false),
        Err(e) => Err(e),
    }
}

static ID: OnceLock<String> = OnceLock::new();
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// This central's name and whether it is active, for `/metrics`; None
/// outside a pair.
pub fn stats() -> Option<(String, bool)> {
    ID.get()
        .map(|id| (id.clone(), ACTIVE.load(Ordering::Relaxed)))
}

/// Runs the lease loop until `stop`, telling `active` every change. On a
/// stop the key is given back, so a standby takes over at its next round
/// rather than after the lease time.
pub async fn run(
    settings: SiteSettings,
    pair: CentralPair,
    active: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = ID.set(pair.id.clone());
    let name = bucket(&settings.site);
    let bucket = tokio::select! {
        _ = stop.wait_for(|s| *s) => return,
        b = super::group::open_bucket(&settings, &name, pair.lease, "central pair") => b,
    };
    tracing::info!(central_id = %pair.id, lease_s = pair.lease.as_secs(), "central pair: joined");
    let mut every = tokio::time::interval((pair.lease / 3).max(Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut is_active = false;
    let mut told = false;
    let mut failing = false;
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = every.tick() => {}
        }
        let r = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            r = round(&bucket, &pair.id) => r,
        };
        match r {
            Ok(now) => {
                if failing {
                    tracing::info!("central pair: the lease bucket answers again");
                }
                failing = false;
                if now != is_active || !std::mem::replace(&mut told, true) {
                    is_active = now;
                    if now {
                        tracing::warn!(central_id = %pair.id, "central pair: active (this central tells the receivers now)");
                    } else {
                        tracing::warn!(central_id = %pair.id, "central pair: standing by (another central holds the lease)");
                    }
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = ?e, active = is_active,
                        "central pair: the lease bucket does not answer; staying as it was");
                }
                failing = true;
            }
        }
        ACTIVE.store(is_active, Ordering::Relaxed);
        active.send_if_modified(|a| std::mem::replace(a, is_active) != is_active);
    }
    ACTIVE.store(false, Ordering::Relaxed);
    let _ = active.send(false);
    if is_active {
        let give_back = async {
            if let Ok(Some(l)) = bucket.get(ACTIVE_KEY).await
                && l.holder == pair.id
            {
                let _ = bucket.delete(ACTIVE_KEY, l.revision).await;
            }
        };
        let _ = tokio::time::timeout(connect::ACK_TIMEOUT, give_back).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::group::tests::Memory;

    #[test]
    fn the_key_decides() {
        let l = |h: &str| Lease {
            holder: h.into(),
            revision: 7,
        };
        assert_eq!(step("c1", None), Step::Create);
        assert_eq!(step("c1", Some(&l("c1"))), Step::Renew { revision: 7 });
        assert_eq!(
            step("c1", Some(&l("c2"))),
            Step::StandBy {
                holder: "c2".into()
            }
        );
    }

    #[tokio::test]
    async fn one_active_and_the_standby_takes_over_when_the_key_expires() {
        let b = Memory::default();
        assert_eq!(round(&b, "c1").await, Ok(true));
        assert_eq!(round(&b, "c2").await, Ok(false));
        assert_eq!(round(&b, "c1").await, Ok(true), "renewed");
        assert_eq!(round(&b, "c2").await, Ok(false));
        // c1 dies: its key expires.
        b.expire("c1");
        assert_eq!(round(&b, "c2").await, Ok(true));
        // c1 back (it was cut off, not dead): it sees c2's name and stands by.
        assert_eq!(round(&b, "c1").await, Ok(false));
        assert_eq!(round(&b, "c2").await, Ok(true));
    }

    #[tokio::test]
    async fn a_bucket_that_does_not_answer_changes_nothing() {
        let b = Memory::default();
        assert_eq!(round(&b, "c1").await, Ok(true));
        b.down.store(true, Ordering::Relaxed);
        assert!(round(&b, "c1").await.is_err());
        assert!(round(&b, "c2").await.is_err());
    }

    #[tokio::test]
    async fn two_creating_at_once_make_one_active() {
        let b = Memory::default();
        let (a, c) = tokio::join!(round(&b, "c1"), round(&b, "c2"));
        assert_eq!(
            [a, c].iter().filter(|r| **r == Ok(true)).count(),
            1,
            "exactly one wins the create"
        );
    }

    #[test]
    fn the_hold_covers_the_takeover() {
        let p = CentralPair {
            id: "c1".into(),
            lease: Duration::from_secs(15),
        };
        assert_eq!(p.hold(), Duration::from_secs(22));
    }
}
