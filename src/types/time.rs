//! Wall-clock time: one instant in Unix milliseconds, the one type of every
//! stored, served and compared wall time (samples, live stamps, alert rows,
//! report ranges, API parameters). Monotonic time (the clock handle's
//! `mono_ms`) and lengths of time are not instants and stay `u64` ms or
//! `Duration`. Serialized as the bare number, so every JSON and every SQL
//! column holding it is the integer it always was (the SQLite conversions
//! live in `store`).
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant of wall-clock time, in milliseconds since the Unix epoch.
///
/// Arithmetic: instant − instant is the signed difference in ms (`i64`);
/// instant ± ms (`i64`) is an instant, as are [`UnixMillis::plus`] and
/// [`UnixMillis::minus`] with a `Duration` (saturating).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The epoch itself.
    pub const EPOCH: UnixMillis = UnixMillis(0);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_ms(ms: i64) -> UnixMillis {
        UnixMillis(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_ms(self) -> i64 {
        self.0
    }

    /// The host's wall clock now (the epoch if the clock is before 1970).
    /// Loops read time through their clock handle instead.
    pub fn now() -> UnixMillis {
        UnixMillis(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        )
    }

    /// `d` later, saturating.
    pub fn plus(self, d: Duration) -> UnixMillis {
        UnixMillis(self.0.saturating_add(duration_ms(d)))
    }

    /// `d` earlier, saturating.
    pub fn minus(self, d: Duration) -> UnixMillis {
        UnixMillis(self.0.saturating_sub(duration_ms(d)))
    }

    /// Milliseconds from `earlier` to `self`, negative when `earlier` is
    /// later; saturating.
    pub fn since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The signed difference in milliseconds.
impl Sub for UnixMillis {
    type Output = i64;
    fn sub(self, earlier: UnixMillis) -> i64 {
        self.since(earlier)
    }
}

/// `ms` milliseconds later (earlier when negative).
impl Add<i64> for UnixMillis {
    type Output = UnixMillis;
    fn add(self, ms: i64) -> UnixMillis {
        UnixMillis(self.0 + ms)
    }
}

impl AddAssign<i64> for UnixMillis {
    fn add_assign(&mut self, ms: i64) {
        self.0 += ms;
    }
}

/// `ms` milliseconds earlier (later when negative).
impl Sub<i64> for UnixMillis {
    type Output = UnixMillis;
    fn sub(self, ms: i64) -> UnixMillis {
        UnixMillis(self.0 - ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let t = UnixMillis(10_000);
        assert_eq!(t - UnixMillis(4_000), 6_000);
        assert_eq!(UnixMillis(4_000) - t, -6_000);
        assert_eq!(t + 500, UnixMillis(10_500));
        assert_eq!(t - 500, UnixMillis(9_500));
        assert_eq!(t.plus(Duration::from_secs(2)), UnixMillis(12_000));
        assert_eq!(t.minus(Duration::from_secs(2)), UnixMillis(8_000));
        assert_eq!(UnixMillis(i64::MIN + 1).minus(Duration::MAX).0, i64::MIN);
        assert_eq!(t.max(UnixMillis(3)), t);
        assert_eq!(UnixMillis::from_ms(7).as_ms(), 7);
    }

    #[test]
    fn json_is_the_bare_number() {
        assert_eq!(
            serde_json::to_string(&UnixMillis(1_700_000_000_123)).unwrap(),
            "1700000000123"
        );
        let t: Option<UnixMillis> = serde_json::from_str("42").unwrap();
        assert_eq!(t, Some(UnixMillis(42)));
        assert_eq!(serde_json::to_string(&None::<UnixMillis>).unwrap(), "null");
    }
}
