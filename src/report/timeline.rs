//! A subject's state over the report period as contiguous segments: up,
//! down, unknown (no data) or excluded (maintenance). Built from ICMP rounds
//! for a device, combined from the two end devices for a link. Pure.
use super::window::{Period, SpanSet};
use crate::types::UnixMillis;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Up,
    Down,
    /// No data: no round close enough, a store gap or a restart.
    Unknown,
    /// Inside an exclusion (maintenance) window: counted nowhere.
    Excluded,
}

/// `[from_ms, to_ms)` in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub from_ms: UnixMillis,
    pub to_ms: UnixMillis,
    pub state: State,
}

impl Segment {
    pub fn new(from_ms: UnixMillis, to_ms: UnixMillis, state: State) -> Segment {
        Segment {
            from_ms,
            to_ms,
            state,
        }
    }
}

/// One observation: the state seen at `at_ms`, which holds until the next
/// observation but not past `holds_until_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub at_ms: UnixMillis,
    pub down: bool,
    pub holds_until_ms: UnixMillis,
}

/// The device's segments over `period`, covering it exactly, adjacent
/// segments of the same state merged. Precedence: excluded, then unknown
/// (`gaps`), then the observed state; time no observation covers is
/// unknown.
pub fn device_timeline(
    period: Period,
    observations: &[Observation],
    gaps: &SpanSet,
    excluded: &SpanSet,
) -> Vec<Segment> {
    let mut obs: Vec<Observation> = observations.to_vec();
    obs.sort_by_key(|o| o.at_ms);
    let mut observed: Vec<Segment> = Vec::with_capacity(obs.len());
    for (i, o) in obs.iter().enumerate() {
        let next = obs.get(i + 1).map_or(UnixMillis(i64::MAX), |n| n.at_ms);
        let to = next.min(o.holds_until_ms);
        if to > o.at_ms {
            observed.push(Segment {
                from_ms: o.at_ms,
                to_ms: to,
                state: if o.down { State::Down } else { State::Up },
            });
        }
    }
    let edges = observed
        .iter()
        .flat_map(|s| [s.from_ms, s.to_ms])
        .chain(gaps.edges())
        .chain(excluded.edges());
    build(period, edges, |t| {
        if excluded.contains(t) {
            State::Excluded
        } else if gaps.contains(t) {
            State::Unknown
        } else {
            state_at(&observed, t).unwrap_or(State::Unknown)
        }
    })
}

/// A link's segments from its two ends' device timelines: excluded when
/// either end is excluded, else down when either end is down, else unknown
/// when either end is unknown, else up.
pub fn combine(period: Period, a: &[Segment], b: &[Segment]) -> Vec<Segment> {
    build(period, edges(a, b), |t| {
        let sa = state_at(a, t).unwrap_or(State::Unknown);
        let sb = state_at(b, t).unwrap_or(State::Unknown);
        if sa == State::Excluded || sb == State::Excluded {
            State::Excluded
        } else if sa == State::Down || sb == State::Down {
            State::Down
        } else if sa == State::Unknown || sb == State::Unknown {
            State::Unknown
        } else {
            State::Up
        }
    })
}

/// `base` with `over`'s down time laid on top: up time of `base` where
/// `over` is down becomes down; everything else keeps `base`'s state
/// (`over` knowing nothing never makes a link unknown).
pub fn overlay_down(period: Period, base: &[Segment], over: &[Segment]) -> Vec<Segment> {
    build(period, edges(base, over), |t| {
        let b = state_at(base, t).unwrap_or(State::Unknown);
        if b == State::Up && state_at(over, t) == Some(State::Down) {
            State::Down
        } else {
            b
        }
    })
}

/// Milliseconds spent in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub up_ms: i64,
    pub down_ms: i64,
    pub unknown_ms: i64,
    pub excluded_ms: i64,
}

impl Totals {
    pub fn of(segments: &[Segment]) -> Totals {
        let mut t = Totals::default();
        for s in segments {
            let d = s.to_ms.since(s.from_ms);
            let total = match s.state {
                State::Up => &mut t.up_ms,
                State::Down => &mut t.down_ms,
                State::Unknown => &mut t.unknown_ms,
                State::Excluded => &mut t.excluded_ms,
            };
            *total = total.saturating_add(d);
        }
        t
    }

    /// up / (up + down) in percent; `None` when no time was known.
    pub fn availability_pct(&self) -> Option<f64> {
        let known = self.up_ms.saturating_add(self.down_ms);
        (known > 0).then(|| self.up_ms as f64 * 100.0 / known as f64)
    }
}

/// Every segment boundary of two timelines (`build` sorts and dedups).
fn edges<'a>(a: &'a [Segment], b: &'a [Segment]) -> impl Iterator<Item = UnixMillis> + 'a {
    a.iter().chain(b).flat_map(|s| [s.from_ms, s.to_ms])
}

/// The state of sorted, disjoint `segments` at `t`.
fn state_at(segments: &[Segment], t: UnixMillis) -> Option<State> {
    let i = segments.partition_point(|s| s.to_ms <= t);
    segments.get(i).filter(|s| s.from_ms <= t).map(|s| s.state)
}

/// Cuts `period` at every edge inside it and asks `state` for each piece
/// (at its start); merges equal neighbours.
fn build(
    period: Period,
    edges: impl IntoIterator<Item = UnixMillis>,
    state: impl Fn(UnixMillis) -> State,
) -> Vec<Segment> {
    let mut cuts: Vec<UnixMillis> = edges
        .into_iter()
        .filter(|&t| t > period.since_ms && t < period.until_ms)
        .collect();
    cuts.push(period.since_ms);
    cuts.push(period.until_ms);
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<Segment> = Vec::new();
    for w in cuts.windows(2) {
        let s = state(w[0]);
        match out.last_mut() {
            Some(last) if last.state == s => last.to_ms = w[1],
            _ => out.push(Segment {
                from_ms: w[0],
                to_ms: w[1],
                state: s,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::UnixMillis;

    fn p(a: i64, b: i64) -> Period {
        Period::new(UnixMillis(a), UnixMillis(b)).unwrap()
    }

    fn obs(at_ms: i64, down: bool) -> Observation {
        Observation {
            at_ms: UnixMillis(at_ms),
            down,
            holds_until_ms: UnixMillis(at_ms + 30),
        }
    }

    fn seg(from_ms: i64, to_ms: i64, state: State) -> Segment {
        Segment::new(UnixMillis(from_ms), UnixMillis(to_ms), state)
    }

    #[test]
    fn rounds_hold_until_the_next_or_their_limit() {
        let o = [
            obs(10, false),
            obs(20, true),
            obs(30, true),
            obs(100, false),
        ];
        let t = device_timeline(p(0, 120), &o, &SpanSet::default(), &SpanSet::default());
        assert_eq!(
            t,
            vec![
                seg(0, 10, State::Unknown),
                seg(10, 20, State::Up),
                seg(20, 60, State::Down),
                seg(60, 100, State::Unknown),
                seg(100, 120, State::Up),
            ]
        );
        let tot = Totals::of(&t);
        assert_eq!((tot.up_ms, tot.down_ms, tot.unknown_ms), (30, 40, 50));
        assert_eq!(tot.availability_pct(), Some(30.0 * 100.0 / 70.0));
    }

    #[test]
    fn exclusion_beats_gaps_beats_observations() {
        let o: Vec<_> = (0..10).map(|i| obs(i * 10, i >= 5)).collect();
        let gaps = SpanSet::from_ms([(15, 25)]);
        let ex = SpanSet::from_ms([(20, 30), (60, 70)]);
        let t = device_timeline(p(0, 100), &o, &gaps, &ex);
        assert_eq!(
            t,
            vec![
                seg(0, 15, State::Up),
                seg(15, 20, State::Unknown),
                seg(20, 30, State::Excluded),
                seg(30, 50, State::Up),
                seg(50, 60, State::Down),
                seg(60, 70, State::Excluded),
                seg(70, 100, State::Down),
            ]
        );
    }

    #[test]
    fn links_are_down_when_either_end_is() {
        let a = vec![seg(0, 50, State::Up), seg(50, 100, State::Down)];
        let b = vec![
            seg(0, 20, State::Unknown),
            seg(20, 70, State::Up),
            seg(70, 80, State::Excluded),
            seg(80, 100, State::Up),
        ];
        assert_eq!(
            combine(p(0, 100), &a, &b),
            vec![
                seg(0, 20, State::Unknown),
                seg(20, 50, State::Up),
                seg(50, 70, State::Down),
                seg(70, 80, State::Excluded),
                seg(80, 100, State::Down),
            ]
        );
    }
}
