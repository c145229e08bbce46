//! Time spans: the report period, exclusion (maintenance) windows with an
//! optional device scope, and sorted sets of disjoint spans. Pure.
use crate::types::UnixMillis;
use serde::Serialize;

/// The half-open period `[since_ms, until_ms)` a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub since_ms: UnixMillis,
    pub until_ms: UnixMillis,
}

impl Period {
    /// `None` when `since_ms >= until_ms`.
    pub fn new(since_ms: UnixMillis, until_ms: UnixMillis) -> Option<Period> {
        (since_ms < until_ms).then_some(Period { since_ms, until_ms })
    }

    pub fn len_ms(&self) -> i64 {
        self.until_ms.since(self.since_ms)
    }
}

/// A window whose time is excluded from availability (a maintenance
/// window): `[start_ms, end_ms)`, for every device or only for `device`
/// (matched against the device id and its sysName).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusionWindow {
    pub start_ms: UnixMillis,
    pub end_ms: UnixMillis,
    pub device: Option<String>,
}

impl ExclusionWindow {
    /// Whether the window applies to the device with this id and name.
    pub fn applies_to(&self, id: &str, name: Option<&str>) -> bool {
        match &self.device {
            None => true,
            Some(d) => d == id || Some(d.as_str()) == name,
        }
    }
}

/// Disjoint, sorted, non-empty half-open spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanSet {
    spans: Vec<(UnixMillis, UnixMillis)>,
}

impl SpanSet {
    /// The union of `spans` (empty or reversed spans are dropped).
    pub fn from_spans(spans: impl IntoIterator<Item = (UnixMillis, UnixMillis)>) -> SpanSet {
        let mut v: Vec<(UnixMillis, UnixMillis)> =
            spans.into_iter().filter(|(a, b)| a < b).collect();
        v.sort_unstable();
        let mut merged: Vec<(UnixMillis, UnixMillis)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        SpanSet { spans: merged }
    }

    /// [`SpanSet::from_spans`] over bare milliseconds, for tests.
    #[cfg(test)]
    pub fn from_ms(spans: impl IntoIterator<Item = (i64, i64)>) -> SpanSet {
        SpanSet::from_spans(
            spans
                .into_iter()
                .map(|(a, b)| (UnixMillis(a), UnixMillis(b))),
        )
    }

    pub fn spans(&self) -> &[(UnixMillis, UnixMillis)] {
        &self.spans
    }

    /// Whether `t` lies in one of the spans.
    pub fn contains(&self, t: UnixMillis) -> bool {
        let i = self.spans.partition_point(|&(_, end)| end <= t);
        self.spans.get(i).is_some_and(|&(start, _)| start <= t)
    }

    /// Every span edge, unsorted.
    pub fn edges(&self) -> impl Iterator<Item = UnixMillis> + '_ {
        self.spans.iter().flat_map(|&(a, b)| [a, b])
    }
}

/// The exclusion windows that apply to one device, as a span set.
pub fn windows_for(windows: &[ExclusionWindow], id: &str, name: Option<&str>) -> SpanSet {
    SpanSet::from_spans(
        windows
            .iter()
            .filter(|w| w.applies_to(id, name))
            .map(|w| (w.start_ms, w.end_ms)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_and_contain() {
        let s = SpanSet::from_ms([(10, 20), (5, 12), (30, 40), (40, 45), (50, 50), (9, 3)]);
        assert_eq!(s.spans(), SpanSet::from_ms([(5, 20), (30, 45)]).spans());
        for (t, want) in [
            (4, false),
            (5, true),
            (19, true),
            (20, false),
            (44, true),
            (45, false),
        ] {
            assert_eq!(s.contains(UnixMillis(t)), want, "{t}");
        }
    }

    #[test]
    fn scope_matches_id_or_name() {
        let w = ExclusionWindow {
            start_ms: UnixMillis(0),
            end_ms: UnixMillis(1),
            device: Some("core1".into()),
        };
        assert!(w.applies_to("core1", None));
        assert!(w.applies_to("id-7", Some("core1")));
        assert!(!w.applies_to("id-7", Some("core2")));
        let all = ExclusionWindow { device: None, ..w };
        assert!(all.applies_to("x", None));
    }
}
