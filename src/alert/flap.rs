//! Flap detection: an alert that changed between firing and resolved more
//! than `max_changes` times within `window_ms` is flapping; it stops
//! flapping once the changes in the window fall back to `max_changes` or
//! fewer. And the notices receivers get about it: one when it starts
//! ("further changes are held"), one when it stops (with the state then).
//! Pure.
use crate::types::UnixMillis;
use std::collections::VecDeque;

/// A flapping notice to record at one step; `notify` says whether
/// receivers are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Flapping started (`late`: it started while another hold applied,
    /// and is told now that the hold is over).
    Started { notify: bool, late: bool },
    /// Flapping stopped (`late`: told after it stopped, once the firing
    /// state it carries could be told).
    Stopped { notify: bool, late: bool },
}

/// What one alert looks like to [`notice`] at one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeInput {
    /// Flapping at the previous step.
    pub was_flapping: bool,
    /// Flapping now.
    pub flapping: bool,
    /// Receivers were told it started flapping and not yet that it stopped.
    pub told: bool,
    /// Suppression or maintenance holds the alert (flapping aside).
    pub other_hold: bool,
    /// The alert fires now.
    pub firing: bool,
    /// A firing state may be told now: nothing holds the alert and nothing
    /// has for the rule's `for` (the evaluator's catch-up rule).
    pub firing_may_be_told: bool,
}

/// The notice due at this step, if any. A start is told when nothing but
/// the flapping holds the alert (at once, or late when another hold ends
/// while it still flaps); it is told once per flapping episode. A stop is
/// told only after a told start, once flapping is over and its state may
/// be told (a resolution always may; a firing state as a catch-up would).
/// Starts and stops nobody is told about are still recorded, at their
/// edges.
pub fn notice(i: NoticeInput) -> Option<Notice> {
    if i.flapping && !i.told {
        if !i.other_hold {
            Some(Notice::Started {
                notify: true,
                late: i.was_flapping,
            })
        } else if !i.was_flapping {
            Some(Notice::Started {
                notify: false,
                late: false,
            })
        } else {
            None
        }
    } else if !i.flapping && i.told {
        (!i.firing || i.firing_may_be_told).then_some(Notice::Stopped {
            notify: true,
            late: !i.was_flapping,
        })
    } else if !i.flapping && i.was_flapping {
        Some(Notice::Stopped {
            notify: false,
            late: false,
        })
    } else {
        None
    }
}

/// Drops changes older than the window; returns whether it is flapping now.
pub fn update(
    changes: &mut VecDeque<UnixMillis>,
    now: UnixMillis,
    window_ms: i64,
    max_changes: u32,
) -> bool {
    while changes.front().is_some_and(|t| now - *t > window_ms) {
        changes.pop_front();
    }
    changes.len() > max_changes as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn more_than_n_changes_in_the_window() {
        let mut c = VecDeque::new();
        for t in [0, 10, 20] {
            c.push_back(UnixMillis(t));
        }
        assert!(!update(&mut c, UnixMillis(20), 100, 3));
        c.push_back(UnixMillis(30));
        assert!(update(&mut c, UnixMillis(30), 100, 3));
        assert!(update(&mut c, UnixMillis(100), 100, 3));
        assert!(!update(&mut c, UnixMillis(101), 100, 3));
        assert_eq!(c.len(), 3);
    }

    fn input(was: bool, now: bool, told: bool) -> NoticeInput {
        NoticeInput {
            was_flapping: was,
            flapping: now,
            told,
            other_hold: false,
            firing: false,
            firing_may_be_told: false,
        }
    }

    #[test]
    fn a_start_and_a_stop_told_once_each() {
        let started = Some(Notice::Started {
            notify: true,
            late: false,
        });
        assert_eq!(notice(input(false, true, false)), started);
        assert_eq!(notice(input(true, true, true)), None, "no repeat");
        let stopped = Some(Notice::Stopped {
            notify: true,
            late: false,
        });
        assert_eq!(notice(input(true, false, true)), stopped);
        assert_eq!(notice(input(false, false, false)), None);
    }

    #[test]
    fn other_holds_delay_a_start_and_a_firing_stop() {
        let held = NoticeInput {
            other_hold: true,
            ..input(false, true, false)
        };
        let recorded = Notice::Started {
            notify: false,
            late: false,
        };
        assert_eq!(notice(held), Some(recorded));
        let still = NoticeInput {
            was_flapping: true,
            ..held
        };
        assert_eq!(notice(still), None, "recorded once");
        let over = NoticeInput {
            other_hold: false,
            ..still
        };
        let late = Notice::Started {
            notify: true,
            late: true,
        };
        assert_eq!(notice(over), Some(late));
        // Stopped while firing and held: told once it may be told.
        let firing = NoticeInput {
            firing: true,
            ..input(true, false, true)
        };
        assert_eq!(notice(firing), None);
        let later = NoticeInput {
            was_flapping: false,
            firing_may_be_told: true,
            ..firing
        };
        let stopped = Notice::Stopped {
            notify: true,
            late: true,
        };
        assert_eq!(notice(later), Some(stopped));
        // A stop nobody was told the start of is recorded only.
        let untold = Notice::Stopped {
            notify: false,
            late: false,
        };
        assert_eq!(notice(input(true, false, false)), Some(untold));
    }

    proptest! {
        /// Told notices alternate start, stop, start… per alert; a start is
        /// never told under another hold, a stop never while flapping nor
        /// with a firing state that may not be told; once flapping is over
        /// and the state may be told, the stop is not held back; every
        /// flapping edge is recorded.
        #[test]
        fn told_notices_alternate(steps in proptest::collection::vec(any::<(bool, bool, bool, bool)>(), 1..60)) {
            let (mut was, mut told) = (false, false);
            for (flapping, other_hold, firing, may) in steps {
                let i = NoticeInput { was_flapping: was, flapping, told, other_hold, firing, firing_may_be_told: may };
                let n = notice(i);
                match n {
                    Some(Notice::Started { notify: true, .. }) => {
                        prop_assert!(!told && flapping && !other_hold);
                        told = true;
                    }
                    Some(Notice::Stopped { notify: true, .. }) => {
                        prop_assert!(told && !flapping && (!firing || may));
                        told = false;
                    }
                    Some(Notice::Started { notify: false, .. }) => prop_assert!(flapping && !was && !told),
                    Some(Notice::Stopped { notify: false, .. }) => prop_assert!(!flapping && was && !told),
                    None => {
                        prop_assert!(!flapping || was || told, "a start is recorded");
                        prop_assert!(flapping || !was || told, "a stop is recorded");
                        prop_assert!(!told || flapping || (firing && !may), "a stop is not held back");
                        prop_assert!(!flapping || told || other_hold, "a start is not held back");
                    }
                }
                was = flapping;
            }
        }

        #[test]
        fn flapping_iff_more_than_n_recent(times in proptest::collection::vec(0i64..10_000, 0..40), window in 1i64..5_000, n in 1u32..8, now_extra in 0i64..6_000) {
            let mut sorted = times.clone();
            sorted.sort();
            let now = sorted.last().copied().unwrap_or(0) + now_extra;
            let recent = sorted.iter().filter(|t| now - **t <= window).count();
            let mut c: VecDeque<UnixMillis> = sorted.into_iter().map(UnixMillis).collect();
            prop_assert_eq!(update(&mut c, UnixMillis(now), window, n), recent > n as usize);
            prop_assert_eq!(c.len(), recent);
        }
    }
}
