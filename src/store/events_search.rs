//! The filtered read of events (`/api/events?kind=&severity=&q=`) at a
//! bounded cost: the newest [`SEARCH_WINDOW`] events of one device (or of
//! all) since a time are read through an index, and only those are
//! filtered by kind, severity and a case-insensitive (ASCII) substring.
//! A page says when its window was used up, so older matches may exist.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::events::{COLUMNS, EventRow, MAX_EVENTS_PAGE, from_row};
use crate::types::UnixMillis;
use crate::types::syslog::SyslogSeverity;
use rusqlite::types::Value;

/// Events one filtered read looks at, at most.
pub const SEARCH_WINDOW: u32 = 20_000;
/// Bytes of search text accepted.
pub const MAX_SEARCH_BYTES: usize = 256;

/// Which kind of event (the API's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// SNMP traps and informs.
    Trap,
    Syslog,
    /// What a re-discovery changed: devices and links added or removed.
    Topology,
    /// A device's route from the poller changed (`path_changed`).
    Path,
}

impl EventKind {
    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "trap" => Some(EventKind::Trap),
            "syslog" => Some(EventKind::Syslog),
            "topology" => Some(EventKind::Topology),
            "path" => Some(EventKind::Path),
            _ => None,
        }
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub device: Option<String>,
    pub since: UnixMillis,
    pub kind: Option<EventKind>,
    /// This severity or a more severe one (syslog events only).
    pub max_severity: Option<SyslogSeverity>,
    /// A substring of the message, name, host, app or varbinds.
    pub text: Option<String>,
    pub limit: u32,
}

/// A page of matches, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<EventRow>,
    /// The window was full: older events were not looked at.
    pub window_full: bool,
}

impl Store {
    /// Reads one page; see the module's comment for the bound.
    pub fn search_events(&self, f: &EventFilter) -> Result<EventPage, StoreError> {
        let mut args: Vec<Value> = vec![Value::Integer(f.since.0)];
        let inner = match &f.device {
            Some(d) => {
                args.push(Value::Text(d.clone()));
                "device = ?2 AND at_ms >= ?1"
            }
            None => "at_ms >= ?1",
        };
        let mut outer = Vec::new();
        match f.kind {
            Some(EventKind::Trap) => outer.push("kind IN ('trap', 'inform')".to_string()),
            Some(EventKind::Syslog) => outer.push("kind = 'syslog'".to_string()),
            Some(EventKind::Topology) => outer.push("kind = 'topology'".to_string()),
            Some(EventKind::Path) => outer.push("kind = 'path'".to_string()),
            None => {}
        }
        if let Some(s) = f.max_severity {
            args.push(Value::Integer(i64::from(s.code())));
            outer.push(format!("severity <= ?{}", args.len()));
        }
        if let Some(t) = &f.text {
            let mut t = t.to_ascii_lowercase();
            if t.len() > MAX_SEARCH_BYTES {
                let mut cut = MAX_SEARCH_BYTES;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
            args.push(Value::Text(t));
            outer.push(format!(
                "instr(lower(coalesce(message, '') || ' ' || name || ' ' || coalesce(host, '')
                     || ' ' || coalesce(app, '') || ' ' || varbinds), ?{}) > 0",
                args.len()
            ));
        }
        let outer = if outer.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", outer.join(" AND "))
        };
        let sql = format!(
            "WITH w AS (SELECT {COLUMNS} FROM events WHERE {inner}
                 ORDER BY at_ms DESC, id DESC LIMIT {SEARCH_WINDOW})
             SELECT {COLUMNS}, (SELECT count(*) FROM w) FROM w {outer}
             ORDER BY at_ms DESC, id DESC LIMIT {}",
            f.limit.clamp(1, MAX_EVENTS_PAGE)
        );
        let mut stmt = self.conn.prepare(&sql).sql("prepare events search")?;
        let mut seen = 0u32;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                seen = r.get(19)?;
                from_row(r)
            })
            .sql("search events")?;
        let events = rows.collect::<Result<Vec<_>, _>>().sql("search events")?;
        let window_full = if events.is_empty() {
            self.window_count(inner, f)? >= SEARCH_WINDOW
        } else {
            seen >= SEARCH_WINDOW
        };
        Ok(EventPage {
            events,
            window_full,
        })
    }

    fn window_count(&self, inner: &str, f: &EventFilter) -> Result<u32, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE {inner} LIMIT {SEARCH_WINDOW})"
        );
        let mut args = vec![Value::Integer(f.since.0)];
        if let Some(d) = &f.device {
            args.push(Value::Text(d.clone()));
        }
        self.conn
            .query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(0))
            .sql("count events window")
    }
}

#[cfg(test)]
#[path = "events_search_tests.rs"]
mod tests;
