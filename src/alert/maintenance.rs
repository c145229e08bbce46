//! Maintenance windows: one-off (start/end) or weekly (UTC), each with a
//! scope. Pure: the caller passes the time.
use super::scope::{DeviceFacts, Scope};
use crate::config::{Maintenance, WeeklySlot};
use crate::types::UnixMillis;

#[derive(Debug, Clone, PartialEq)]
pub enum When {
    Once {
        start_ms: UnixMillis,
        end_ms: UnixMillis,
    },
    Weekly(Vec<WeeklySlot>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub name: String,
    pub when: When,
    pub scope: Scope,
}

const DAY_MS: i64 = 86_400_000;
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-01 was a Thursday: Monday-based weekday 3.
const EPOCH_WEEKDAY: i64 = 3;

/// Monday 00:00 UTC of the week holding `t`.
pub fn week_start(t: UnixMillis) -> UnixMillis {
    t - (t.0 + EPOCH_WEEKDAY * DAY_MS).rem_euclid(WEEK_MS)
}

/// `[start, end)` of `slot` in the week that starts at `week`; a slot whose
/// end is not after its start runs past midnight into the next day.
pub fn slot_span(week: UnixMillis, slot: &WeeklySlot) -> (UnixMillis, UnixMillis) {
    let day = week + i64::from(slot.weekday) * DAY_MS;
    let start = day + i64::from(slot.start_min) * 60_000;
    let mut end = day + i64::from(slot.end_min) * 60_000;
    if slot.end_min <= slot.start_min {
        end += DAY_MS;
    }
    (start, end)
}

impl Window {
    pub fn from_config(m: &Maintenance) -> Window {
        let when = match (m.start, m.end) {
            (Some(s), Some(e)) if m.weekly.is_empty() => When::Once {
                start_ms: s.0,
                end_ms: e.0,
            },
            _ => When::Weekly(m.weekly.clone()),
        };
        Window {
            name: m.name.clone(),
            when,
            scope: Scope::new(&m.scope),
        }
    }

    /// Whether the window is open at `now` (start inclusive, end exclusive).
    pub fn open_at(&self, now: UnixMillis) -> bool {
        match &self.when {
            When::Once { start_ms, end_ms } => *start_ms <= now && now < *end_ms,
            When::Weekly(slots) => {
                // A slot may run past Sunday midnight: last week's counts too.
                let week = week_start(now);
                slots.iter().any(|s| {
                    [week - WEEK_MS, week].into_iter().any(|w| {
                        let (start, end) = slot_span(w, s);
                        start <= now && now < end
                    })
                })
            }
        }
    }

    pub fn covers(&self, d: &DeviceFacts<'_>, if_name: Option<&str>, now: UnixMillis) -> bool {
        self.open_at(now) && self.scope.covers(d, if_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(s: &str) -> Window {
        Window {
            name: "w".into(),
            when: When::Weekly(vec![s.parse().unwrap()]),
            scope: Scope::default(),
        }
    }

    // 2026-11-22 was a Sunday.
    fn at(text: &str) -> UnixMillis {
        crate::util::time::parse_rfc3339_ms(text).unwrap()
    }

    #[test]
    fn weekly_windows() {
        let w = weekly("sun 02:00-04:00");
        assert!(!w.open_at(at("2026-11-22T01:59:59Z")));
        assert!(w.open_at(at("2026-11-22T02:00:00Z")));
        assert!(w.open_at(at("2026-11-29T03:59:59Z")));
        assert!(!w.open_at(at("2026-11-22T04:00:00Z")));
        assert!(!w.open_at(at("2026-11-23T03:00:00Z")));
        let late = weekly("sun 23:00-01:00");
        assert!(late.open_at(at("2026-11-22T23:30:00Z")));
        assert!(late.open_at(at("2026-11-23T00:30:00Z")));
        assert!(!late.open_at(at("2026-11-23T01:00:00Z")));
        let all_monday = weekly("mon 00:00-24:00");
        assert!(all_monday.open_at(at("2026-11-23T00:00:00Z")));
        assert!(all_monday.open_at(at("2026-11-23T23:59:59Z")));
        assert!(!all_monday.open_at(at("2026-11-24T00:00:00Z")));
        let before_1970 = weekly("thu 00:00-01:00");
        assert!(before_1970.open_at(UnixMillis(-7 * DAY_MS + 1)));
    }

    #[test]
    fn one_off_window() {
        let w = Window {
            name: "o".into(),
            when: When::Once {
                start_ms: UnixMillis(1000),
                end_ms: UnixMillis(2000),
            },
            scope: Scope::default(),
        };
        assert!(!w.open_at(UnixMillis(999)));
        assert!(w.open_at(UnixMillis(1000)));
        assert!(!w.open_at(UnixMillis(2000)));
    }
}
