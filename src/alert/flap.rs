//! Flap detection: an alert that changed between firing and resolved more
//! than `max_changes` times within `window_ms` is flapping; it stops
//! flapping once the changes in the window fall back to `max_changes` or
//! fewer. Pure.
use crate::live::UnixMs;
use std::collections::VecDeque;

/// Drops changes older than the window; returns whether it is flapping now.
pub fn update(
    changes: &mut VecDeque<UnixMs>,
    now: UnixMs,
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
            c.push_back(t);
        }
        assert!(!update(&mut c, 20, 100, 3));
        c.push_back(30);
        assert!(update(&mut c, 30, 100, 3));
        assert!(update(&mut c, 100, 100, 3));
        assert!(!update(&mut c, 101, 100, 3));
        assert_eq!(c.len(), 3);
    }

    proptest! {
        #[test]
        fn flapping_iff_more_than_n_recent(times in proptest::collection::vec(0i64..10_000, 0..40), window in 1i64..5_000, n in 1u32..8, now_extra in 0i64..6_000) {
            let mut sorted = times.clone();
            sorted.sort();
            let now = sorted.last().copied().unwrap_or(0) + now_extra;
            let recent = sorted.iter().filter(|t| now - **t <= window).count();
            let mut c: VecDeque<i64> = sorted.into_iter().collect();
            prop_assert_eq!(update(&mut c, now, window, n), recent > n as usize);
            prop_assert_eq!(c.len(), recent);
        }
    }
}
