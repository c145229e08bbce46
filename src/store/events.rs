//! Events on devices — SNMP traps and informs (schema v7) and syslog
//! messages (the severity, facility, app, host and message columns of the
//! next version) in one table: written in batches by each receiver's own
//! connection, read newest first by `/api/events` with a bounded page and
//! a bounded search (`events_search.rs`), pruned with the 1-hour rollups'
//! retention. Every text a device sent (varbind values, messages; the
//! community is never stored) is kept as text and served as JSON strings
//! only.
use super::Store;
use super::error::{SqlContext, StoreError};
use crate::types::UnixMillis;
use crate::types::syslog::{Facility, SyslogSeverity};
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// Rows one read returns at most.
pub const MAX_EVENTS_PAGE: u32 = 1_000;

/// One varbind of an event, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventVarbind {
    /// Numeric OID (`1.3.6.1.2.1.2.2.1.1.3`).
    pub oid: String,
    /// The OID by name where a MIB names it (`IF-MIB::ifIndex.3`).
    pub name: String,
    /// The value in net-snmp's `TYPE: value` form.
    pub value: String,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// Assigned by the store (0 before it is written).
    pub id: i64,
    pub at: UnixMillis,
    /// The device it was matched to, if any.
    pub device: Option<String>,
    /// How: `source` (the sender's address), `agent_addr` (v1 field),
    /// `snmp_trap_address` (the snmpTrapAddress.0 varbind), `engine_id`
    /// (SNMPv3), `hostname` (syslog); with no device, `unattributed: WHY`
    /// when something named several devices (a shared engine id).
    pub matched_by: Option<String>,
    /// The sender's IP address.
    pub source: String,
    /// `trap` or `inform`.
    pub kind: String,
    /// SNMP version: `1` or `2c`.
    pub version: String,
    /// The notification's name (`linkDown`), numeric when no MIB names it.
    pub name: String,
    /// snmpTrapOID.0, numeric.
    pub trap_oid: String,
    /// The interface it names (IF-MIB notifications), if any.
    pub if_index: Option<u32>,
    pub varbinds: Vec<EventVarbind>,
    /// A syslog message's own fields (absent on traps, whose JSON is
    /// unchanged).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub syslog: Option<SyslogFields>,
}

impl EventRow {
    /// An event nocmap itself saw about `device` (a discovery change, a
    /// route change): no sender address, no SNMP fields; `values` named
    /// values, each without an OID.
    pub fn observed(
        at: UnixMillis,
        device: &str,
        source: &str,
        kind: &str,
        name: &str,
        values: Vec<(&str, String)>,
    ) -> EventRow {
        EventRow {
            id: 0,
            at,
            device: Some(device.to_string()),
            matched_by: None,
            source: source.to_string(),
            kind: kind.to_string(),
            version: String::new(),
            name: name.to_string(),
            trap_oid: String::new(),
            if_index: None,
            varbinds: values
                .into_iter()
                .map(|(name, value)| EventVarbind {
                    oid: String::new(),
                    name: name.to_string(),
                    value,
                })
                .collect(),
            syslog: None,
        }
    }
}

/// What a syslog event holds beyond the common columns. For syslog rows
/// `kind` is `syslog`, `version` the format (`rfc5424`, `rfc3164`),
/// `name` the app (or `syslog`), `trap_oid` empty and `varbinds` empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyslogFields {
    pub severity: SyslogSeverity,
    pub facility: Facility,
    /// HOSTNAME as the sender wrote it.
    pub host: Option<String>,
    pub app: Option<String>,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    /// The sender's own timestamp (`at` is when we received it).
    pub sent_at: Option<UnixMillis>,
    pub message: String,
}

/// The columns every read selects, in [`from_row`]'s order.
pub(super) const COLUMNS: &str = "id, at_ms, device, matched_by, source, kind, version, name,
    trap_oid, if_index, varbinds, severity, facility, host, app, procid, msgid, sent_at_ms,
    message";

/// One row of [`COLUMNS`]; a stored severity or facility out of range is
/// an error naming it, never a default.
pub(super) fn from_row(r: &rusqlite::Row) -> rusqlite::Result<EventRow> {
    let varbinds: String = r.get(10)?;
    let severity: Option<u8> = r.get(11)?;
    let syslog = match severity {
        None => None,
        Some(code) => {
            let bad = |what: &str, n: u8| {
                rusqlite::Error::FromSqlConversionFailure(
                    11,
                    rusqlite::types::Type::Integer,
                    format!("syslog {what} {n} out of range").into(),
                )
            };
            let facility: u8 = r.get(12)?;
            Some(SyslogFields {
                severity: SyslogSeverity::from_code(code).ok_or_else(|| bad("severity", code))?,
                facility: Facility::new(facility).ok_or_else(|| bad("facility", facility))?,
                host: r.get(13)?,
                app: r.get(14)?,
                procid: r.get(15)?,
                msgid: r.get(16)?,
                sent_at: r.get::<_, Option<i64>>(17)?.map(UnixMillis),
                message: r.get::<_, Option<String>>(18)?.unwrap_or_default(),
            })
        }
    };
    Ok(EventRow {
        id: r.get(0)?,
        at: UnixMillis(r.get(1)?),
        device: r.get(2)?,
        matched_by: r.get(3)?,
        source: r.get(4)?,
        kind: r.get(5)?,
        version: r.get(6)?,
        name: r.get(7)?,
        trap_oid: r.get(8)?,
        if_index: r.get(9)?,
        varbinds: serde_json::from_str(&varbinds).unwrap_or_default(),
        syslog,
    })
}

/// Inserts `events` inside the caller's transaction.
pub(super) fn insert_rows(
    tx: &rusqlite::Transaction,
    events: &[EventRow],
) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO events (at_ms, device, matched_by, source, kind, version, name,
                 trap_oid, if_index, varbinds, severity, facility, host, app, procid,
                 msgid, sent_at_ms, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                 ?15, ?16, ?17, ?18)",
        )
        .sql("prepare events insert")?;
    for e in events {
        let varbinds = serde_json::to_string(&e.varbinds).unwrap_or_else(|_| "[]".into());
        let sl = e.syslog.as_ref();
        stmt.execute(params![
            e.at.0,
            e.device,
            e.matched_by,
            e.source,
            e.kind,
            e.version,
            e.name,
            e.trap_oid,
            e.if_index,
            varbinds,
            sl.map(|s| s.severity.code()),
            sl.map(|s| s.facility.code()),
            sl.and_then(|s| s.host.as_deref()),
            sl.and_then(|s| s.app.as_deref()),
            sl.and_then(|s| s.procid.as_deref()),
            sl.and_then(|s| s.msgid.as_deref()),
            sl.and_then(|s| s.sent_at.map(|t| t.0)),
            sl.map(|s| s.message.as_str()),
        ])
        .sql("insert event")?;
    }
    Ok(())
}

impl Store {
    /// Writes events in one transaction; returns how many.
    pub fn insert_events(&mut self, events: &[EventRow]) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin events insert")?;
        insert_rows(&tx, events)?;
        tx.commit().sql("commit events insert")?;
        Ok(events.len())
    }

    /// Events at or after `since`, of one device or all, newest first, at
    /// most `limit` (capped at [`MAX_EVENTS_PAGE`]); an index serves both
    /// filters, so the cost is bounded by the page.
    pub fn events(
        &self,
        device: Option<&str>,
        since: UnixMillis,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError> {
        let limit = limit.min(MAX_EVENTS_PAGE);
        let sql = if device.is_some() {
            format!(
                "SELECT {COLUMNS} FROM events WHERE device = ?1 AND at_ms >= ?2
                 ORDER BY at_ms DESC, id DESC LIMIT ?3"
            )
        } else {
            format!(
                "SELECT {COLUMNS} FROM events WHERE ?1 IS NULL AND at_ms >= ?2
                 ORDER BY at_ms DESC, id DESC LIMIT ?3"
            )
        };
        let mut stmt = self.conn.prepare_cached(&sql).sql("prepare events read")?;
        let rows = stmt
            .query_map(params![device, since.0, limit], from_row)
            .sql("read events")?;
        rows.collect::<Result<_, _>>().sql("read events")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    fn event(at: i64, device: Option<&str>) -> EventRow {
        EventRow {
            id: 0,
            at: UnixMillis(at),
            device: device.map(str::to_string),
            matched_by: device.map(|_| "source".to_string()),
            source: "127.0.0.1".into(),
            kind: "trap".into(),
            version: "2c".into(),
            name: "linkDown".into(),
            trap_oid: "1.3.6.1.6.3.1.1.5.3".into(),
            if_index: Some(3),
            varbinds: vec![EventVarbind {
                oid: "1.3.6.1.2.1.2.2.1.1.3".into(),
                name: "IF-MIB::ifIndex.3".into(),
                value: "STRING: \"<script>\u{1b}[31m\"".into(),
            }],
            syslog: None,
        }
    }

    #[test]
    fn events_come_back_newest_first_by_device_since_and_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("e.db"), StoreConfig::default()).unwrap();
        let rows: Vec<EventRow> = (0..10)
            .map(|i| event(1000 + i, Some(if i % 2 == 0 { "a" } else { "b" })))
            .chain([event(2000, None)])
            .collect();
        assert_eq!(store.insert_events(&rows).unwrap(), 11);
        let all = store.events(None, UnixMillis(0), 100).unwrap();
        assert_eq!(all.len(), 11);
        assert_eq!(all[0].at, UnixMillis(2000));
        assert_eq!(all[1].varbinds, rows[9].varbinds);
        let a = store.events(Some("a"), UnixMillis(1004), 100).unwrap();
        let ats: Vec<i64> = a.iter().map(|e| e.at.0).collect();
        assert_eq!(ats, [1008, 1006, 1004]);
        assert_eq!(store.events(None, UnixMillis(0), 2).unwrap().len(), 2);
        // Pruned with the longest retention.
        let cut = UnixMillis(1005).plus(store.config().hour_retention);
        store.prune(cut).unwrap();
        assert_eq!(store.events(None, UnixMillis(0), 100).unwrap().len(), 6);
    }
}
