//! Time as text: parsing what users type (durations back from now, `now`,
//! RFC 3339) and formatting Unix milliseconds for payloads, reports and
//! file names. Pure: callers pass the current time.
mod calendar;
mod format;
mod parse;

pub use calendar::{civil_from_days, days_from_civil, days_in_month};
pub use format::{compact, duration, rfc3339, rfc3339_ms};
pub use parse::{TimeParamError, parse_rfc3339_ms, parse_time};
