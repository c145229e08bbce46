//! Alert history, the firing (and flapping) alerts, and the notification
//! outbox (schema versions 5 and 6). Every event is inserted together with its outbox rows (one
//! per receiver to tell) in one transaction, so a notification exists
//! exactly when its history row does. The outbox is read per receiver in
//! id order; a row is done when delivered or rejected, and keeps its
//! attempt count and last error (never a secret: only statuses and
//! connection errors) until then.
use super::Store;
use super::error::{SqlContext, StoreError};
use crate::types::UnixMillis;
use crate::types::{AlertEventKind, AlertState, AlertStatus, RuleKind, Severity, UnknownName};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

/// One recorded alert event (a history row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// The row id, 0 before insertion; the notification id receivers see.
    pub id: i64,
    pub key: String,
    pub fingerprint: String,
    pub rule: String,
    pub kind: RuleKind,
    pub severity: Severity,
    pub event: AlertEventKind,
    /// The alert's state the event records or (for a flapping notice)
    /// tells.
    pub state: AlertState,
    pub device: String,
    pub device_name: String,
    pub interface: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub at_ms: UnixMillis,
    pub started_ms: UnixMillis,
    /// Receivers were (to be) told.
    pub notified: bool,
    /// A late notification after a hold ended.
    pub catch_up: bool,
    /// Why it was not notified: suppressed, maintenance, flapping.
    pub held: Option<String>,
    /// Root-cause device ids when suppressed.
    pub caused_by: Vec<String>,
    pub maintenance: Option<String>,
    pub flapping: bool,
    pub summary: String,
}

/// One firing or flapping alert as saved for the API and for restarts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAlertRow {
    pub key: String,
    pub rule: String,
    pub severity: Severity,
    pub device: String,
    pub device_name: String,
    pub interface: Option<String>,
    /// Resolved ones are listed only while flapping.
    pub status: AlertStatus,
    pub since_ms: UnixMillis,
    pub value: Option<f64>,
    pub caused_by: Vec<String>,
    pub maintenance: Option<String>,
    pub flapping: bool,
    pub notified: bool,
    /// Receivers were told it flaps and not yet that it stopped.
    pub flap_told: bool,
}

/// The oldest notification a receiver has not had yet.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub receiver: String,
    pub attempts: i64,
    pub event: AlertEvent,
}

/// How an outbox row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The receiver refused it for good (a 4xx other than 408/429).
    Rejected,
    /// Not sent: recorded by a standby central while the active one was
    /// alive and told it (`alert::duty`).
    Standby,
}

/// The newest finished outbox row per receiver and alert key (to be
/// completed with `GROUP BY d.receiver, l.key`, after more conditions).
const NEWEST_DONE_ROWS: &str = "SELECT max(d.id) FROM alert_outbox d
     JOIN alert_history l ON l.id = d.history_id WHERE d.done_ms IS NOT NULL";

const EVENT_COLUMNS: &str = "h.id, h.key, h.fingerprint, h.rule, h.kind, h.severity, h.event, \
     h.device, h.device_name, h.interface, h.value, h.threshold, h.at_ms, h.started_ms, \
     h.notified, h.catch_up, h.held, h.caused_by, h.maintenance, h.flapping, h.summary, h.state";

/// The closed sets are TEXT columns holding `as_str`. A text that names no
/// variant (a row written by another version, or by hand) makes the read
/// fail with an error naming the set and the text; it is never dropped or
/// replaced by a default.
macro_rules! text_column {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e: UnknownName| FromSqlError::other(e))
            }
        }
    )+};
}

text_column!(RuleKind, Severity, AlertEventKind, AlertState, AlertStatus);

fn event_from(r: &Row<'_>, at: usize) -> rusqlite::Result<AlertEvent> {
    let caused: String = r.get(at + 17)?;
    Ok(AlertEvent {
        id: r.get(at)?,
        key: r.get(at + 1)?,
        fingerprint: r.get(at + 2)?,
        rule: r.get(at + 3)?,
        kind: r.get(at + 4)?,
        severity: r.get(at + 5)?,
        event: r.get(at + 6)?,
        device: r.get(at + 7)?,
        device_name: r.get(at + 8)?,
        interface: r.get(at + 9)?,
        value: r.get(at + 10)?,
        threshold: r.get(at + 11)?,
        at_ms: r.get(at + 12)?,
        started_ms: r.get(at + 13)?,
        notified: r.get(at + 14)?,
        catch_up: r.get(at + 15)?,
        held: r.get(at + 16)?,
        caused_by: serde_json::from_str(&caused).unwrap_or_default(),
        maintenance: r.get(at + 18)?,
        flapping: r.get(at + 19)?,
        summary: r.get(at + 20)?,
        state: r.get(at + 21)?,
    })
}

impl Store {
    /// Records events, each with the receivers to tell, and (when given)
    /// replaces the saved firing alerts, in one transaction. Returns the
    /// events' ids.
    pub fn record_alerts(
        &mut self,
        events: &[(AlertEvent, Vec<String>)],
        active: Option<&[ActiveAlertRow]>,
        now_ms: UnixMillis,
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin alert record")?;
        let mut ids = Vec::with_capacity(events.len());
        {
            let mut hist = tx
                .prepare_cached(
                    "INSERT INTO alert_history (key, fingerprint, rule, kind, severity, event,
                         device, device_name, interface, value, threshold, at_ms, started_ms,
                         notified, catch_up, held, caused_by, maintenance, flapping, summary,
                         state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                         ?16, ?17, ?18, ?19, ?20, ?21)",
                )
                .sql("prepare alert history insert")?;
            let mut outbox = tx
                .prepare_cached(
                    "INSERT INTO alert_outbox (receiver, history_id, created_ms, attempts)
                     VALUES (?1, ?2, ?3, 0)",
                )
                .sql("prepare outbox insert")?;
            for (e, receivers) in events {
                let caused = serde_json::to_string(&e.caused_by)?;
                hist.execute(params![
                    e.key,
                    e.fingerprint,
                    e.rule,
                    e.kind,
                    e.severity,
                    e.event,
                    e.device,
                    e.device_name,
                    e.interface,
                    e.value.filter(|v| v.is_finite()),
                    e.threshold.filter(|v| v.is_finite()),
                    e.at_ms,
                    e.started_ms,
                    e.notified,
                    e.catch_up,
                    e.held,
                    caused,
                    e.maintenance,
                    e.flapping,
                    e.summary,
                    e.state,
                ])
                .sql("insert alert history")?;
                let id = tx.last_insert_rowid();
                ids.push(id);
                for r in receivers {
                    outbox
                        .execute(params![r, id, now_ms])
                        .sql("insert outbox row")?;
                }
            }
        }
        if let Some(active) = active {
            tx.execute("DELETE FROM alert_active", [])
                .sql("clear active alerts")?;
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO alert_active (key, rule, severity, device, device_name, interface,
                         status, since_ms, value, caused_by, maintenance, flapping, notified,
                         flap_told)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .sql("prepare active alert insert")?;
            for a in active {
                ins.execute(params![
                    a.key,
                    a.rule,
                    a.severity,
                    a.device,
                    a.device_name,
                    a.interface,
                    a.status,
                    a.since_ms,
                    a.value.filter(|v| v.is_finite()),
                    serde_json::to_string(&a.caused_by)?,
                    a.maintenance,
                    a.flapping,
                    a.notified,
                    a.flap_told,
                ])
                .sql("insert active alert")?;
            }
        }
        tx.commit().sql("commit alert record")?;
        Ok(ids)
    }

    /// The saved firing and flapping alerts, by key.
    pub fn active_alerts(&self) -> Result<Vec<ActiveAlertRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, rule, severity, device, device_name, interface, status, since_ms,
                     value, caused_by, maintenance, flapping, notified, flap_told
                 FROM alert_active ORDER BY key",
            )
            .sql("prepare active alerts read")?;
        let rows = stmt
            .query_map([], |r| {
                let caused: String = r.get(9)?;
                Ok(ActiveAlertRow {
                    key: r.get(0)?,
                    rule: r.get(1)?,
                    severity: r.get(2)?,
                    device: r.get(3)?,
                    device_name: r.get(4)?,
                    interface: r.get(5)?,
                    status: r.get(6)?,
                    since_ms: r.get(7)?,
                    value: r.get(8)?,
                    caused_by: serde_json::from_str(&caused).unwrap_or_default(),
                    maintenance: r.get(10)?,
                    flapping: r.get(11)?,
                    notified: r.get(12)?,
                    flap_told: r.get(13)?,
                })
            })
            .sql("read active alerts")?;
        rows.collect::<Result<_, _>>().sql("read active alert row")
    }

    /// When alerts changed between firing and resolved at or after
    /// `since_ms`: (key, time), oldest first, at most `limit` (the newest
    /// kept). A change is a firing (`fired`, or `suppressed` when it started
    /// at that moment) or a resolution, not a late catch-up of either, a
    /// notice, or a firing alert going behind a root cause. The evaluator's
    /// flap history across a restart.
    pub fn alert_state_changes(
        &self,
        since_ms: UnixMillis,
        limit: u32,
    ) -> Result<Vec<(String, UnixMillis)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, at_ms FROM (
                     SELECT id, key, at_ms FROM alert_history
                     WHERE at_ms >= ?1 AND catch_up = 0
                       AND (event = 'resolved'
                            OR (event IN ('fired', 'suppressed') AND started_ms = at_ms))
                     ORDER BY at_ms DESC, id DESC LIMIT ?2)
                 ORDER BY at_ms, id",
            )
            .sql("prepare alert changes read")?;
        let rows = stmt
            .query_map(params![since_ms, limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .sql("read alert changes")?;
        rows.collect::<Result<_, _>>().sql("read alert change row")
    }

    /// The newest restart gap (`from`: the last sample before the restart,
    /// `to`: when the monitor started again), if any.
    pub fn last_restart_gap(&self) -> Result<Option<(UnixMillis, UnixMillis)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT from_ms, to_ms FROM gaps WHERE series_id IS NULL AND device IS NULL AND reason = ?1
                 ORDER BY to_ms DESC, id DESC LIMIT 1",
            )
            .sql("prepare restart gap read")?;
        let mut rows = stmt
            .query_map(params![super::write::RESTART_REASON], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .sql("read restart gap")?;
        rows.next().transpose().sql("read restart gap row")
    }

    /// Events at or after `since_ms`, oldest first, at most `limit`.
    pub fn alert_history(
        &self,
        since_ms: UnixMillis,
        limit: u32,
    ) -> Result<Vec<AlertEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM alert_history h WHERE h.at_ms >= ?1
                 ORDER BY h.at_ms, h.id LIMIT ?2"
            ))
            .sql("prepare alert history read")?;
        let rows = stmt
            .query_map(params![since_ms, limit], |r| event_from(r, 0))
            .sql("read alert history")?;
        rows.collect::<Result<_, _>>().sql("read alert history row")
    }

    /// The oldest undelivered notification for `receiver`.
    pub fn next_outbox(&self, receiver: &str) -> Result<Option<OutboxItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT o.id, o.receiver, o.attempts, {EVENT_COLUMNS}
                 FROM alert_outbox o JOIN alert_history h ON h.id = o.history_id
                 WHERE o.receiver = ?1 AND o.done_ms IS NULL ORDER BY o.id LIMIT 1"
            ))
            .sql("prepare outbox read")?;
        stmt.query_row([receiver], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                receiver: r.get(1)?,
                attempts: r.get(2)?,
                event: event_from(r, 3)?,
            })
        })
        .optional()
        .sql("read outbox")
    }

    /// What `receiver` was last told, per alert, of the alerts that still
    /// fire: the event of its newest finished outbox row when that row was
    /// delivered and tells the firing state, while the alert is saved as
    /// firing (or suppressed). These are the alerts an Alertmanager
    /// receiver gets again every resend interval. Oldest first.
    pub fn told_firing(&self, receiver: &str) -> Result<Vec<AlertEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM alert_history h
                 JOIN alert_outbox o ON o.history_id = h.id
                 WHERE o.id IN ({NEWEST_DONE_ROWS} AND d.receiver = ?1
                                GROUP BY d.receiver, l.key)
                   AND o.outcome = 'delivered' AND h.state = 'firing'
                   AND h.key IN (SELECT key FROM alert_active WHERE status != 'resolved')
                 ORDER BY h.id"
            ))
            .sql("prepare told-firing read")?;
        let rows = stmt
            .query_map([receiver], |r| event_from(r, 0))
            .sql("read told-firing alerts")?;
        rows.collect::<Result<_, _>>().sql("read told-firing row")
    }

    /// Marks an outbox row done.
    pub fn outbox_done(
        &mut self,
        id: i64,
        how: Delivery,
        now_ms: UnixMillis,
    ) -> Result<(), StoreError> {
        let (outcome, attempt) = match how {
            Delivery::Delivered => ("delivered", 1),
            Delivery::Rejected => ("rejected", 1),
            Delivery::Standby => ("standby", 0),
        };
        self.conn
            .execute(
                "UPDATE alert_outbox SET done_ms = ?2, outcome = ?3, attempts = attempts + ?4
                 WHERE id = ?1",
                params![id, now_ms, outcome, attempt],
            )
            .sql("mark outbox row done")?;
        Ok(())
    }

    /// Counts a failed attempt of an outbox row.
    pub fn outbox_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, error],
            )
            .sql("count outbox failure")?;
        Ok(())
    }

    /// Forgets finished outbox rows done before `outbox_before_ms` and
    /// history before `history_before_ms` that no pending row still needs.
    /// Returns (outbox rows, history rows) deleted.
    pub fn prune_alerts(
        &mut self,
        outbox_before_ms: UnixMillis,
        history_before_ms: UnixMillis,
    ) -> Result<(usize, usize), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin alert prune")?;
        let outbox = tx
            .execute(
                &format!(
                    // A row `told_firing` still reads stays: what a receiver
                    // was last told of an alert that still fires.
                    "DELETE FROM alert_outbox WHERE done_ms IS NOT NULL AND done_ms < ?1
                     AND id NOT IN (SELECT o.id FROM alert_outbox o
                                    JOIN alert_history h ON h.id = o.history_id
                                    WHERE o.outcome = 'delivered' AND h.state = 'firing'
                                      AND h.key IN (SELECT key FROM alert_active)
                                      AND o.id IN ({NEWEST_DONE_ROWS}
                                                   GROUP BY d.receiver, l.key))"
                ),
                [outbox_before_ms],
            )
            .sql("prune outbox")?;
        let history = tx
            .execute(
                "DELETE FROM alert_history WHERE at_ms < ?1
                 AND id NOT IN (SELECT history_id FROM alert_outbox)",
                [history_before_ms],
            )
            .sql("prune alert history")?;
        tx.commit().sql("commit alert prune")?;
        Ok((outbox, history))
    }

    /// Undelivered notifications per receiver.
    pub fn outbox_pending(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT receiver, count(*) FROM alert_outbox WHERE done_ms IS NULL
                 GROUP BY receiver ORDER BY receiver",
            )
            .sql("prepare outbox count")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .sql("count outbox")?;
        rows.collect::<Result<_, _>>().sql("count outbox row")
    }
}

#[cfg(test)]
impl AlertEvent {
    /// A fired `utilization` warning of `key` at `at_ms`, notified, for
    /// tests to change what they need.
    pub(crate) fn fired_for_test(key: &str, at_ms: UnixMillis) -> AlertEvent {
        AlertEvent {
            id: 0,
            key: key.into(),
            fingerprint: "f".into(),
            rule: "hot".into(),
            kind: RuleKind::Utilization,
            severity: Severity::Warning,
            event: AlertEventKind::Fired,
            state: AlertState::Firing,
            device: "d1".into(),
            device_name: "r1".into(),
            interface: Some("eth0".into()),
            value: None,
            threshold: Some(80.0),
            at_ms,
            started_ms: at_ms,
            notified: true,
            catch_up: false,
            held: None,
            caused_by: Vec::new(),
            maintenance: None,
            flapping: false,
            summary: "s".into(),
        }
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
