//! Statistics over samples: the nearest-rank percentile (the one
//! definition used by the store's rollup p95, the alert rules' p95 and the
//! reports) and the burstable-billing 95th percentile (sort the
//! 5-minute averages, discard the top 5 %, take the largest remaining).
//! Non-finite values are ignored. Pure.

/// The nearest-rank `pct`-th percentile (1..=100): the smallest value with
/// at least `pct` % of the values at or below it. `None` without values or
/// for `pct` outside 1..=100.
pub fn nearest_rank(values: &[f64], pct: u32) -> Option<f64> {
    if !(1..=100).contains(&pct) {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let rank = (v.len() * pct as usize).div_ceil(100).max(1);
    let (_, nth, _) = v.select_nth_unstable_by(rank - 1, f64::total_cmp);
    Some(*nth)
}

/// The burstable-billing figure: of `n` five-minute averages, discard the
/// `floor(n * 5 / 100)` highest and return the highest of the rest. For
/// every `n` this equals [`nearest_rank`] at 95.
pub fn billing_p95(five_minute_averages: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = five_minute_averages
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(|a, b| b.total_cmp(a));
    let discard = v.len() * 5 / 100;
    v.get(discard).copied()
}

/// The largest finite value.
pub fn max(values: &[f64]) -> Option<f64> {
    values
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(None, |m, x| Some(m.map_or(x, |m: f64| m.max(x))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95), Some(95.0));
        assert_eq!(nearest_rank(&v, 50), Some(50.0));
        assert_eq!(nearest_rank(&v, 100), Some(100.0));
        assert_eq!(nearest_rank(&v, 1), Some(1.0));
        assert_eq!(nearest_rank(&v, 0), None);
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[f64::NAN, 2.0], 100), Some(2.0));
        assert_eq!(billing_p95(&v), Some(95.0));
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95), Some(19.0));
        assert_eq!(nearest_rank(&[3.0, 1.0], 95), Some(3.0));
        // 19 values: floor(0.95) = 0 discarded, the maximum is billed.
        let v: Vec<f64> = (1..=19).map(f64::from).collect();
        assert_eq!(billing_p95(&v), Some(19.0));
        // 20 values: the top one is discarded.
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(billing_p95(&v), Some(19.0));
        assert_eq!(billing_p95(&[]), None);
        // A month of 5-minute averages (8640): 432 discarded.
        let v: Vec<f64> = (0..8640).map(f64::from).collect();
        assert_eq!(billing_p95(&v), Some(8207.0));
        assert_eq!(max(&[1.0, f64::INFINITY, 3.0]), Some(3.0));
    }

    proptest! {
        #[test]
        fn nearest_rank_matches_a_naive_sort(
            v in proptest::collection::vec(-1e9f64..1e9, 1..300),
            pct in 1u32..=100,
        ) {
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            // Smallest value with at least pct % of the values <= it.
            let naive = sorted
                .iter()
                .copied()
                .find(|x| {
                    let at_or_below = sorted.iter().filter(|y| *y <= x).count();
                    at_or_below * 100 >= pct as usize * sorted.len()
                })
                .unwrap();
            prop_assert_eq!(nearest_rank(&v, pct), Some(naive));
        }

        #[test]
        fn billing_equals_the_nearest_rank_p95(
            v in proptest::collection::vec(0f64..1e10, 1..2000),
        ) {
            let b = billing_p95(&v);
            prop_assert_eq!(b, nearest_rank(&v, 95));
            // At most 5 % of the values lie above the billed figure.
            let above = v.iter().filter(|x| Some(**x) > b).count();
            prop_assert!(above * 100 <= v.len() * 5);
        }
    }
}
