//! Poller groups' lease decisions, pure: given what the key-value bucket
//! holds (each device's lease: its holder and revision; the members'
//! slots) and the devices this poller knows, which keys to renew, create
//! and release, and which devices to stop polling at once. No I/O, no
//! clock: expiry is the bucket's (`max_age`: a key not rewritten within
//! the lease time is gone), and `group.rs` does the reading and writing.
//!
//! The rules: a poller renews every lease the bucket says is its own; a
//! lease it held that the bucket shows gone or another's is lost (stop
//! polling now); it keeps at most its fair share, `ceil(devices /
//! members)`, releasing the excess; it takes free devices (no lease)
//! until it has its share, in an order of its own (a hash of its id and
//! the device), so two pollers starting together do not fight over the
//! same keys. A dead member's leases and member slot expire together, so
//! the survivors' share grows and they take its devices.
use crate::topology::DeviceId;
use std::collections::{BTreeMap, BTreeSet};

/// A key's current value as the bucket holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The poller id that holds it.
    pub holder: String,
    /// The key's revision, for a compare-and-set renewal or release.
    pub revision: u64,
}

/// What the bucket holds for this site, read in one pass.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Each device's lease (a device absent here is free).
    pub leases: BTreeMap<DeviceId, Lease>,
    /// The member slots: `slots[i]` is slot i's holder, if any.
    pub slots: Vec<Option<Lease>>,
}

/// One write to the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Rewrite this poller's lease on the device (if its revision is still
    /// this one).
    Renew { device: DeviceId, revision: u64 },
    /// Take a free device (only if its key is absent).
    Create { device: DeviceId },
    /// Give a device back (stop polling it first), if still this revision.
    Release { device: DeviceId, revision: u64 },
}

/// The member slot's write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotStep {
    Renew {
        slot: usize,
        revision: u64,
    },
    Create {
        slot: usize,
    },
    /// Every slot taken: this poller counts itself but holds none.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Devices whose lease this poller lost: stop polling them now.
    pub lost: Vec<DeviceId>,
    /// The member slot.
    pub slot: SlotStep,
    /// The lease writes, releases first.
    pub steps: Vec<Step>,
    /// The live members, this poller included.
    pub members: usize,
    /// The most devices this poller keeps while they are alive.
    pub share: usize,
}

/// Decides one round for poller `me`, which polls `held` now, knows
/// `devices` (its topology's pollable devices) and read `view`.
pub fn plan(
    me: &str,
    devices: &BTreeSet<DeviceId>,
    view: &View,
    held: &BTreeSet<DeviceId>,
) -> Plan {
    let mine = |l: &Lease| l.holder == me;
    let lost: Vec<DeviceId> = held
        .iter()
        .filter(|d| !view.leases.get(*d).is_some_and(mine))
        .cloned()
        .collect();
    let own_slot = view
        .slots
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.as_ref().filter(|l| mine(l)).map(|l| (i, l.revision)));
    let others = view
        .slots
        .iter()
        .flatten()
        .filter(|l| !mine(l))
        .map(|l| l.holder.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let slot = match own_slot {
        Some((slot, revision)) => SlotStep::Renew { slot, revision },
        None => match view.slots.iter().position(Option::is_none) {
            Some(slot) => SlotStep::Create { slot },
            None => SlotStep::Full,
        },
    };
    let members = others + 1;
    let share = devices.len().div_ceil(members);

    let mut steps = Vec::new();
    // Ours in the bucket, most wanted first (our order of the devices).
    let mut ours: Vec<(&DeviceId, u64)> = view
        .leases
        .iter()
        .filter(|(_, l)| mine(l))
        .map(|(d, l)| (d, l.revision))
        .collect();
    ours.sort_by_key(|(d, _)| std::cmp::Reverse(rank(me, d)));
    let mut kept = 0;
    for (device, revision) in ours {
        let device = device.clone();
        if devices.contains(&device) && kept < share {
            kept += 1;
            steps.push(Step::Renew { device, revision });
        } else {
            // Gone from the topology, or beyond the fair share.
            steps.insert(0, Step::Release { device, revision });
        }
    }
    let mut free: Vec<&DeviceId> = devices
        .iter()
        .filter(|d| !view.leases.contains_key(*d))
        .collect();
    free.sort_by_key(|d| std::cmp::Reverse(rank(me, d)));
    for device in free.into_iter().take(share.saturating_sub(kept)) {
        steps.push(Step::Create {
            device: device.clone(),
        });
    }
    Plan {
        lost,
        slot,
        steps,
        members,
        share,
    }
}

/// This poller's preference for a device (rendezvous hashing: stable for
/// one pair, different for each poller).
fn rank(me: &str, device: &DeviceId) -> u64 {
    // FNV-1a: the same on every build and platform.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in me.bytes().chain([0]).chain(device.0.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64's finalizer: FNV alone orders ids that differ in their
    // last byte alike for every poller.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A site's bucket (one per site, so a site's credentials reach only its
/// own; its `max_age` is the site's lease time).
pub fn bucket(site: &str) -> String {
    format!("nocmap_leases_{site}")
}

/// A device's key in its site's bucket: `dev.<id>`, every byte of the id
/// outside `[A-Za-z0-9_-]` written `=XX` (keys allow `=`, not `:`).
pub fn device_key(device: &DeviceId) -> String {
    let mut key = String::from("dev.");
    for b in device.0.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            key.push(b as char);
        } else {
            key.push_str(&format!("={b:02X}"));
        }
    }
    key
}

/// Member slot `i`'s key: `member.<i>`.
pub fn slot_key(slot: usize) -> String {
    format!("member.{slot}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> BTreeSet<DeviceId> {
        (0..n).map(|i| DeviceId(format!("chassis-d{i}"))).collect()
    }

    fn lease(holder: &str, revision: u64) -> Lease {
        Lease {
            holder: holder.into(),
            revision,
        }
    }

    fn slots(holders: &[&str]) -> Vec<Option<Lease>> {
        let mut s: Vec<Option<Lease>> = holders
            .iter()
            .enumerate()
            .map(|(i, h)| Some(lease(h, 100 + i as u64)))
            .collect();
        s.resize(8, None);
        s
    }

    fn creates(p: &Plan) -> BTreeSet<DeviceId> {
        p.steps
            .iter()
            .filter_map(|s| match s {
                Step::Create { device } => Some(device.clone()),
                _ => None,
            })
            .collect()
    }

    /// Applies a plan as if every write succeeded.
    fn apply(me: &str, view: &mut View, p: &Plan, rev: &mut u64) -> BTreeSet<DeviceId> {
        for s in &p.steps {
            *rev += 1;
            match s {
                Step::Renew { device, .. } | Step::Create { device } => {
                    view.leases.insert(device.clone(), lease(me, *rev));
                }
                Step::Release { device, .. } => {
                    view.leases.remove(device);
                }
            }
        }
        match p.slot {
            SlotStep::Create { slot } => view.slots[slot] = Some(lease(me, *rev)),
            SlotStep::Renew { .. } | SlotStep::Full => {}
        }
        view.leases
            .iter()
            .filter(|(_, l)| l.holder == me)
            .map(|(d, _)| d.clone())
            .collect()
    }

    #[test]
    fn alone_a_poller_takes_everything_and_joins_a_slot() {
        let p = plan(
            "a",
            &ids(5),
            &View {
                slots: slots(&[]),
                ..Default::default()
            },
            &BTreeSet::new(),
        );
        assert_eq!(p.members, 1);
        assert_eq!(p.share, 5);
        assert_eq!(creates(&p), ids(5));
        assert_eq!(p.slot, SlotStep::Create { slot: 0 });
        assert!(p.lost.is_empty());
    }

    #[test]
    fn a_second_member_gets_half_and_the_first_releases_its_excess() {
        let devices = ids(6);
        let mut view = View {
            slots: slots(&["a"]),
            ..Default::default()
        };
        let mut rev = 1000;
        let pa = plan("a", &devices, &view, &BTreeSet::new());
        let a = apply("a", &mut view, &pa, &mut rev);
        assert_eq!(a.len(), 6);
        // b joins: everything is taken, so it takes nothing yet.
        let pb = plan("b", &devices, &view, &BTreeSet::new());
        assert_eq!((pb.members, pb.share), (2, 3));
        assert!(creates(&pb).is_empty());
        let b = apply("b", &mut view, &pb, &mut rev);
        assert!(b.is_empty());
        // a now sees two members: keeps 3, releases 3 (no loss: it lets go).
        let pa = plan("a", &devices, &view, &a);
        let released = pa
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Release { .. }))
            .count();
        assert_eq!(released, 3);
        assert!(
            matches!(pa.steps[0], Step::Release { .. }),
            "releases go first"
        );
        let a = apply("a", &mut view, &pa, &mut rev);
        assert_eq!(a.len(), 3);
        let pb = plan("b", &devices, &view, &b);
        let b = apply("b", &mut view, &pb, &mut rev);
        assert_eq!(b.len(), 3);
        assert!(a.is_disjoint(&b));
        // Steady: nothing moves, every lease renewed by its holder.
        let pa = plan("a", &devices, &view, &a);
        assert!(pa.lost.is_empty());
        assert!(pa.steps.iter().all(|s| matches!(s, Step::Renew { .. })));
        assert_eq!(pa.steps.len(), 3);
    }

    #[test]
    fn a_dead_members_devices_are_taken_once_its_keys_expire() {
        let devices = ids(5);
        let mut view = View {
            slots: slots(&["a", "b"]),
            ..Default::default()
        };
        for (i, d) in devices.iter().enumerate() {
            let who = if i % 2 == 0 { "a" } else { "b" };
            view.leases.insert(d.clone(), lease(who, i as u64 + 1));
        }
        let a_held: BTreeSet<DeviceId> = view
            .leases
            .iter()
            .filter(|(_, l)| l.holder == "a")
            .map(|(d, _)| d.clone())
            .collect();
        // b's keys still there (not expired): a keeps to its share.
        let p = plan("a", &devices, &view, &a_held);
        assert_eq!((p.members, p.share), (2, 3));
        assert!(creates(&p).is_empty());
        // b's lease keys and slot expire (max_age): a takes them all.
        view.leases.retain(|_, l| l.holder == "a");
        view.slots[1] = None;
        let p = plan("a", &devices, &view, &a_held);
        assert_eq!((p.members, p.share), (1, 5));
        assert_eq!(creates(&p).len(), 2);
        assert!(p.lost.is_empty());
    }

    #[test]
    fn a_lease_gone_or_taken_is_lost_at_once() {
        let devices = ids(3);
        let held: BTreeSet<DeviceId> = devices.clone();
        let mut view = View {
            slots: slots(&["a", "b"]),
            ..Default::default()
        };
        let mut it = devices.iter();
        let (d0, d1, d2) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        view.leases.insert(d0.clone(), lease("a", 7));
        view.leases.insert(d1.clone(), lease("b", 8));
        // d2: expired, nobody's.
        let p = plan("a", &devices, &view, &held);
        assert_eq!(p.lost, vec![d1.clone(), d2.clone()]);
        // d2 is free again: a may take it back within its share (2 of 3).
        assert!(p.steps.contains(&Step::Renew {
            device: d0.clone(),
            revision: 7
        }));
        assert!(p.steps.contains(&Step::Create { device: d2.clone() }));
    }

    #[test]
    fn a_device_gone_from_the_topology_is_released_and_a_restart_adopts_its_leases() {
        let mut view = View {
            slots: slots(&["a"]),
            ..Default::default()
        };
        view.leases
            .insert(DeviceId("chassis-old".into()), lease("a", 3));
        view.leases
            .insert(DeviceId("chassis-d0".into()), lease("a", 4));
        // A restarted poller with the same id holds nothing yet in memory.
        let p = plan("a", &ids(1), &view, &BTreeSet::new());
        assert_eq!(
            p.steps,
            vec![
                Step::Release {
                    device: DeviceId("chassis-old".into()),
                    revision: 3
                },
                Step::Renew {
                    device: DeviceId("chassis-d0".into()),
                    revision: 4
                },
            ]
        );
        assert_eq!(
            p.slot,
            SlotStep::Renew {
                slot: 0,
                revision: 100
            }
        );
    }

    #[test]
    fn pollers_starting_together_prefer_different_devices() {
        let devices = ids(8);
        let view = View {
            slots: slots(&["p1", "p2"]),
            ..Default::default()
        };
        let a = creates(&plan("p1", &devices, &view, &BTreeSet::new()));
        let b = creates(&plan("p2", &devices, &view, &BTreeSet::new()));
        assert_eq!((a.len(), b.len()), (4, 4));
        // Not the same four (the hash orders differ), so most creates win.
        assert!(a.intersection(&b).count() < 4, "{a:?} {b:?}");
    }

    #[test]
    fn keys_are_valid_bucket_keys() {
        let k = device_key(&DeviceId("chassis-00:11:22 x/y".into()));
        assert_eq!(k, "dev.chassis-00=3A11=3A22=20x=2Fy");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=.".contains(&b))
        );
        assert_eq!(slot_key(3), "member.3");
        assert_eq!(bucket("east-1"), "nocmap_leases_east-1");
    }
}
