//! The lease loop's rounds on an in-memory bucket with the real
//! compare-and-set rules (revisions, create only when absent), pollers
//! taking turns: they share, a lost renewal stops polling before the next
//! write, and a dead member's keys expiring hands its devices over.
use super::*;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Memory {
    keys: Mutex<BTreeMap<String, Lease>>,
    revision: Mutex<u64>,
    /// While set, every call fails as a server out of reach would.
    pub(crate) down: std::sync::atomic::AtomicBool,
}

impl Memory {
    fn next(&self) -> u64 {
        let mut r = self.revision.lock().unwrap();
        *r += 1;
        *r
    }
    fn check(&self) -> Result<(), KvError> {
        if self.down.load(Ordering::Relaxed) {
            return Err(KvError::Other("no answer in time".into()));
        }
        Ok(())
    }
    /// Every key `holder` wrote expires (it stopped renewing).
    pub(crate) fn expire(&self, holder: &str) {
        self.keys.lock().unwrap().retain(|_, l| l.holder != holder);
    }
}

impl LeaseBucket for Memory {
    async fn get(&self, key: &str) -> Result<Option<Lease>, KvError> {
        self.check()?;
        Ok(self.keys.lock().unwrap().get(key).cloned())
    }
    async fn create(&self, key: &str, holder: &str) -> Result<u64, KvError> {
        self.check()?;
        if self.keys.lock().unwrap().contains_key(key) {
            return Err(KvError::Conflict);
        }
        let revision = self.next();
        let lease = Lease {
            holder: holder.into(),
            revision,
        };
        self.keys.lock().unwrap().insert(key.into(), lease);
        Ok(revision)
    }
    async fn update(&self, key: &str, holder: &str, revision: u64) -> Result<u64, KvError> {
        self.check()?;
        let current = self.keys.lock().unwrap().get(key).map(|l| l.revision);
        if current != Some(revision) {
            return Err(KvError::Conflict);
        }
        let revision = self.next();
        let lease = Lease {
            holder: holder.into(),
            revision,
        };
        self.keys.lock().unwrap().insert(key.into(), lease);
        Ok(revision)
    }
    async fn delete(&self, key: &str, revision: u64) -> Result<(), KvError> {
        self.check()?;
        let mut keys = self.keys.lock().unwrap();
        if keys.get(key).map(|l| l.revision) != Some(revision) {
            return Err(KvError::Conflict);
        }
        keys.remove(key);
        Ok(())
    }
}

struct Member {
    id: &'static str,
    held: BTreeSet<DeviceId>,
    tx: watch::Sender<BTreeSet<DeviceId>>,
    rx: watch::Receiver<BTreeSet<DeviceId>>,
}

impl Member {
    fn new(id: &'static str) -> Member {
        let (tx, rx) = watch::channel(BTreeSet::new());
        Member {
            id,
            held: BTreeSet::new(),
            tx,
            rx,
        }
    }
    async fn round(&mut self, b: &Memory, devices: &BTreeSet<DeviceId>) -> Result<(), KvError> {
        round(b, self.id, devices, &mut self.held, &self.tx)
            .await
            .map(|_| ())
    }
    /// What serve polls: what the loop handed over.
    fn polls(&self) -> BTreeSet<DeviceId> {
        self.rx.borrow().clone()
    }
}

fn devices(n: usize) -> BTreeSet<DeviceId> {
    (0..n)
        .map(|i| DeviceId(format!("chassis-{i:02}")))
        .collect()
}

#[tokio::test]
async fn two_members_share_and_a_survivor_takes_over() {
    let b = Memory::default();
    let all = devices(5);
    let (mut a, mut c) = (Member::new("a"), Member::new("c"));
    a.round(&b, &all).await.unwrap();
    assert_eq!(a.polls(), all, "alone, a takes every device");
    for _ in 0..3 {
        c.round(&b, &all).await.unwrap();
        a.round(&b, &all).await.unwrap();
    }
    assert!(a.polls().is_disjoint(&c.polls()));
    let mut union = a.polls();
    union.extend(c.polls());
    assert_eq!(union, all);
    assert_eq!((a.polls().len().max(c.polls().len())), 3, "fair shares");
    // c dies: its keys expire; a takes everything in one round.
    b.expire("c");
    a.round(&b, &all).await.unwrap();
    assert_eq!(a.polls(), all);
}

#[tokio::test]
async fn a_lost_renewal_stops_polling_and_an_unreachable_bucket_keeps_what_is_held() {
    let b = Memory::default();
    let all = devices(2);
    let mut a = Member::new("a");
    a.round(&b, &all).await.unwrap();
    assert_eq!(a.polls(), all);
    // Another poller overwrote one key (a's lease expired in between).
    let key = lease::device_key(&DeviceId("chassis-00".into()));
    let rev = b.next();
    b.keys.lock().unwrap().insert(
        key,
        Lease {
            holder: "z".into(),
            revision: rev,
        },
    );
    a.round(&b, &all).await.unwrap();
    assert!(!a.polls().contains(&DeviceId("chassis-00".into())));
    assert!(a.polls().contains(&DeviceId("chassis-01".into())));
    // The bucket out of reach: nothing changes.
    b.down.store(true, Ordering::Relaxed);
    assert!(a.round(&b, &all).await.is_err());
    assert_eq!(a.polls().len(), 1);
}

#[tokio::test]
async fn a_stopped_member_hands_its_devices_over_at_once() {
    let b = Memory::default();
    let all = devices(4);
    let (mut a, mut c) = (Member::new("a"), Member::new("c"));
    for _ in 0..3 {
        a.round(&b, &all).await.unwrap();
        c.round(&b, &all).await.unwrap();
    }
    assert_eq!(c.polls().len(), 2);
    release_all(&b, "a", &a.held).await;
    // No expiry needed: c's next round takes everything.
    c.round(&b, &all).await.unwrap();
    assert_eq!(c.polls(), all);
}
