//! Outages: each maximal stretch of down time in a timeline, with what
//! bounds it on each side (an observed change, the period's edge, unknown
//! time or an exclusion window). Pure.
use super::timeline::{Segment, State};
use crate::types::UnixMillis;
use serde::Serialize;

/// What ends an outage on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    /// An observed change: the first all-lost round (start) or the first
    /// round with a reply (end).
    Observed,
    /// The report period starts or ends inside the outage.
    Period,
    /// Time without data borders the outage: it may have begun earlier or
    /// lasted longer.
    Unknown,
    /// An exclusion window borders the outage.
    Excluded,
}

impl Edge {
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::Observed => "observed",
            Edge::Period => "period",
            Edge::Unknown => "unknown",
            Edge::Excluded => "excluded",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outage {
    pub start_ms: UnixMillis,
    pub end_ms: UnixMillis,
    pub duration_ms: i64,
    pub start_edge: Edge,
    pub end_edge: Edge,
}

/// The outages of a timeline whose adjacent segments differ in state (as
/// `timeline` builds them), in time order.
pub fn outages(segments: &[Segment]) -> Vec<Outage> {
    let edge = |s: Option<&Segment>| match s.map(|s| s.state) {
        None => Edge::Period,
        Some(State::Up) => Edge::Observed,
        Some(State::Unknown) => Edge::Unknown,
        Some(State::Excluded) => Edge::Excluded,
        // Not produced by merged timelines; treated as a continuation.
        Some(State::Down) => Edge::Observed,
    };
    let mut out: Vec<Outage> = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        if segments[i].state != State::Down {
            i += 1;
            continue;
        }
        let first = i;
        while i + 1 < segments.len() && segments[i + 1].state == State::Down {
            i += 1;
        }
        let (start_ms, end_ms) = (segments[first].from_ms, segments[i].to_ms);
        out.push(Outage {
            start_ms,
            end_ms,
            duration_ms: end_ms.since(start_ms),
            start_edge: edge(first.checked_sub(1).and_then(|j| segments.get(j))),
            end_edge: edge(segments.get(i + 1)),
        });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timeline::{Observation, device_timeline};
    use crate::report::window::{Period, SpanSet};
    use crate::types::UnixMillis;
    use proptest::prelude::*;

    fn seg(from_ms: i64, to_ms: i64, state: State) -> Segment {
        Segment::new(UnixMillis(from_ms), UnixMillis(to_ms), state)
    }

    #[test]
    fn edges_name_what_bounds_each_outage() {
        let t = [
            seg(0, 10, State::Down),
            seg(10, 20, State::Up),
            seg(20, 30, State::Down),
            seg(30, 40, State::Unknown),
            seg(40, 50, State::Down),
            seg(50, 60, State::Excluded),
            seg(60, 70, State::Down),
        ];
        let o = outages(&t);
        let got: Vec<_> = o
            .iter()
            .map(|o| {
                (
                    o.start_ms.0,
                    o.end_ms.0,
                    o.duration_ms,
                    o.start_edge,
                    o.end_edge,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 10, 10, Edge::Period, Edge::Observed),
                (20, 30, 10, Edge::Observed, Edge::Unknown),
                (40, 50, 10, Edge::Unknown, Edge::Excluded),
                (60, 70, 10, Edge::Excluded, Edge::Period),
            ]
        );
    }

    /// The naive model: a per-millisecond state array.
    fn naive(
        len: i64,
        rounds: &[(i64, bool)],
        hold: i64,
        gaps: &[(i64, i64)],
        ex: &[(i64, i64)],
    ) -> Vec<State> {
        (0..len)
            .map(|t| {
                if ex.iter().any(|&(a, b)| a <= t && t < b) {
                    return State::Excluded;
                }
                if gaps.iter().any(|&(a, b)| a <= t && t < b) {
                    return State::Unknown;
                }
                match rounds.iter().rev().find(|(at, _)| *at <= t) {
                    Some(&(at, down)) if t < at + hold => {
                        if down {
                            State::Down
                        } else {
                            State::Up
                        }
                    }
                    _ => State::Unknown,
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Outages and totals agree with a per-millisecond model, and
        /// outages are disjoint, ordered and separated by non-down time.
        #[test]
        fn outages_match_a_per_millisecond_model(
            raw in proptest::collection::btree_map(0i64..300, any::<bool>(), 0..40),
            gaps in proptest::collection::vec((0i64..300, 1i64..40), 0..3),
            ex in proptest::collection::vec((0i64..300, 1i64..40), 0..3),
            hold in 1i64..40,
        ) {
            let len = 300;
            let rounds: Vec<(i64, bool)> = raw.into_iter().collect();
            let gaps: Vec<(i64, i64)> = gaps.into_iter().map(|(a, d)| (a, a + d)).collect();
            let ex: Vec<(i64, i64)> = ex.into_iter().map(|(a, d)| (a, a + d)).collect();
            let obs: Vec<Observation> = rounds.iter().map(|&(at_ms, down)| Observation { at_ms: UnixMillis(at_ms), down, holds_until_ms: UnixMillis(at_ms + hold) }).collect();
            let t = device_timeline(
                Period::new(UnixMillis(0), UnixMillis(len)).unwrap(),
                &obs,
                &SpanSet::from_ms(gaps.clone()),
                &SpanSet::from_ms(ex.clone()),
            );
            let model = naive(len, &rounds, hold, &gaps, &ex);
            for s in &t {
                for ms in s.from_ms.0..s.to_ms.0 {
                    prop_assert_eq!(model[ms as usize], s.state, "at {}", ms);
                }
            }
            let o = outages(&t);
            let down_total: i64 = o.iter().map(|o| o.duration_ms).sum();
            prop_assert_eq!(down_total, model.iter().filter(|s| **s == State::Down).count() as i64);
            for w in o.windows(2) {
                prop_assert!(w[0].end_ms < w[1].start_ms);
                prop_assert!(model[w[0].end_ms.0 as usize] != State::Down);
            }
            for x in &o {
                prop_assert!(x.start_ms == UnixMillis(0) || model[x.start_ms.0 as usize - 1] != State::Down);
                prop_assert!((x.start_edge == Edge::Period) == (x.start_ms == UnixMillis(0)));
                prop_assert!((x.end_edge == Edge::Period) == (x.end_ms == UnixMillis(len)));
            }
        }
    }
}
