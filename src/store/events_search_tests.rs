use super::*;
use crate::store::events::SyslogFields;
use crate::store::{EventVarbind, StoreConfig};
use crate::types::syslog::Facility;

fn trap(at: i64, device: &str) -> EventRow {
    EventRow {
        id: 0,
        at: UnixMillis(at),
        device: Some(device.into()),
        matched_by: Some("source".into()),
        source: "127.0.0.1".into(),
        kind: "trap".into(),
        version: "2c".into(),
        name: "linkDown".into(),
        trap_oid: "1.3.6.1.6.3.1.1.5.3".into(),
        if_index: Some(3),
        varbinds: vec![EventVarbind {
            oid: "1.3.6.1.2.1.2.2.1.1.3".into(),
            name: "IF-MIB::ifIndex.3".into(),
            value: "INTEGER: 3".into(),
        }],
        syslog: None,
    }
}

fn log(at: i64, device: Option<&str>, sev: u8, msg: &str) -> EventRow {
    EventRow {
        id: 0,
        at: UnixMillis(at),
        device: device.map(str::to_string),
        matched_by: device.map(|_| "host".to_string()),
        source: "127.0.0.2".into(),
        kind: "syslog".into(),
        version: "rfc5424".into(),
        name: "sshd".into(),
        trap_oid: String::new(),
        if_index: None,
        varbinds: vec![],
        syslog: Some(SyslogFields {
            severity: SyslogSeverity::from_code(sev).unwrap(),
            facility: Facility::new(4).unwrap(),
            host: Some("r1".into()),
            app: Some("sshd".into()),
            procid: Some("42".into()),
            msgid: None,
            sent_at: Some(UnixMillis(at - 5)),
            message: msg.into(),
        }),
    }
}

fn filter() -> EventFilter {
    EventFilter {
        device: None,
        since: UnixMillis(0),
        kind: None,
        max_severity: None,
        text: None,
        limit: 100,
    }
}

#[test]
fn traps_and_syslog_share_the_table_and_filter_by_kind_severity_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("e.db"), StoreConfig::default()).unwrap();
    let rows = vec![
        trap(1000, "a"),
        log(1001, Some("a"), 3, "Failed password for root"),
        log(1002, Some("b"), 6, "Accepted publickey for ALICE"),
        log(1003, None, 0, "kernel panic <script>"),
    ];
    store.insert_events(&rows).unwrap();
    // Rows come back as written (ids aside), traps unchanged.
    let all = store.search_events(&filter()).unwrap();
    assert!(!all.window_full);
    let mut back: Vec<EventRow> = all.events.into_iter().rev().collect();
    back.iter_mut().for_each(|e| e.id = 0);
    assert_eq!(back, rows);
    let ats = |f: EventFilter| -> Vec<i64> {
        store
            .search_events(&f)
            .unwrap()
            .events
            .iter()
            .map(|e| e.at.0)
            .collect()
    };
    let kind = |k| EventFilter {
        kind: Some(k),
        ..filter()
    };
    assert_eq!(ats(kind(EventKind::Trap)), [1000]);
    assert_eq!(ats(kind(EventKind::Syslog)), [1003, 1002, 1001]);
    let sev = EventFilter {
        max_severity: Some(SyslogSeverity::Error),
        ..filter()
    };
    assert_eq!(ats(sev), [1003, 1001]);
    let text = |t: &str| EventFilter {
        text: Some(t.into()),
        ..filter()
    };
    assert_eq!(ats(text("alice")), [1002]);
    assert_eq!(ats(text("PASSWORD")), [1001]);
    assert_eq!(ats(text("ifindex.3")), [1000]);
    assert_eq!(ats(text("<script>")), [1003]);
    assert_eq!(ats(text("nothing like it")), Vec::<i64>::new());
    let dev = EventFilter {
        device: Some("a".into()),
        ..filter()
    };
    assert_eq!(ats(dev), [1001, 1000]);
    // The plain read still returns syslog rows too.
    assert_eq!(store.events(Some("b"), UnixMillis(0), 10).unwrap().len(), 1);
}

/// The cost is bounded by the window: a search over more events than it
/// holds looks only at the newest and says so. Also prints the time of a
/// search over a full window (the figure in BENCHMARKS.md).
#[test]
fn a_search_looks_at_a_bounded_window_and_says_when_it_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("e.db"), StoreConfig::default()).unwrap();
    let n = SEARCH_WINDOW as i64 + 5_000;
    let rows: Vec<EventRow> = (0..n)
        .map(|i| {
            let msg = if i < 10 {
                format!("needle {i}")
            } else {
                format!("hay {i} interface down")
            };
            log(i, Some("a"), (i % 8) as u8, &msg)
        })
        .collect();
    store.insert_events(&rows).unwrap();
    let started = std::time::Instant::now();
    let page = store
        .search_events(&EventFilter {
            text: Some("needle".into()),
            ..filter()
        })
        .unwrap();
    eprintln!(
        "search of {} events for a missing text: {:?}",
        SEARCH_WINDOW,
        started.elapsed()
    );
    // The oldest rows, the needles, are beyond the window.
    assert!(page.events.is_empty());
    assert!(page.window_full);
    let page = store
        .search_events(&EventFilter {
            text: Some("needle".into()),
            since: UnixMillis(0),
            device: Some("a".into()),
            ..filter()
        })
        .unwrap();
    assert!(page.window_full);
    // A match inside the window is found.
    let page = store
        .search_events(&EventFilter {
            text: Some(format!("hay {} ", n - 1)),
            ..filter()
        })
        .unwrap();
    assert_eq!(page.events.len(), 1);
}
