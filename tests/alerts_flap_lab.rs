//! Faults that must not page beyond the rules, with real snmpd agents, a
//! real `nocmap serve` in the noc namespace and a webhook receiver in this
//! test. Lab (prefix 10.88.0.0/16):
//!
//! ```text
//!  noc ── r1 ── r2
//!          │ ╲   │ (r2:eth3 ── r3:eth3 flaps; noc reaches r3 through r1)
//!          │   r3
//!          r4      (its snmpd restarts)
//! ```
//!
//! 1. and 2. run together on separate parts of the lab:
//!    1. r2:eth3 flaps (down 3 s, up 3 s, 12 times). `if-down` (for 15 s)
//!       must never fire; `if-flap` (for 0 s, flap detection at more than 5
//!       changes in 30 s) must notify the first 5 changes of each end
//!       (ending "firing"), then one `flapping_started` notice (with the
//!       6th change's state, resolved), hold the rest, and once the
//!       flapping has stopped one `flapping_stopped` notice with the final
//!       state (resolved); `/api/alerts` lists both ends as flapping
//!       meanwhile; nothing stays firing. After the 6th flap serve itself
//!       is stopped (SIGTERM) and started again on the same database: the
//!       flapping goes on from the changes it saved, so the counts above
//!       hold across the restart (without that, the first change after
//!       it would be told and the stop notice come early).
//!    2. r4's snmpd is killed and started again 4 times: no alert of any rule
//!       on r4 (no interface down, no utilisation from counter resets), and
//!       polling resumes after each restart.
//! 3. The noc's own eth0 goes down for 20 s: every device stops answering.
//!    Exactly one notification (`poller-cut-off`, kind `poller_isolated`)
//!    fires and resolves; each device's unreachable alert is recorded as
//!    suppressed with `caused_by` the poller; nothing stays firing.
//!
//! Polls every 2 s, ICMP every 2 s except r4 (every 15 s, slower than the
//! unreachable rule's 8 s `for`: after the cut-off its last verdict is
//! stale for a while and must not page). Deadlines are generous; the
//! figures are printed.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::flap::*;
use support::serve;

#[test]
fn flapping_restarts_and_a_cut_off_poller_page_only_as_the_rules_say() {
    require_root!();
    let t_start = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (dir, cfg, db, log) = serve::files("flap", CONFIG);
    let got = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, got.clone());
    let log2 = dir.path().join("serve2.log");
    let mut serve = Some(start_serve(&lab, &cfg, &db, &log));
    let poller_id = api(&lab, "/api/topology")["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["poller"] == true)
        .map(|d| d["id"].as_str().unwrap().to_string())
        .expect("the poller is in the topology");
    // Everything polled and answering before the faults start.
    support::wait_until(
        "every router up and polled",
        Duration::from_secs(60),
        || {
            let d = devices(&lab);
            let ok = ["r1", "r2", "r3", "r4"].iter().all(|n| {
                d.get(*n).is_some_and(|v| {
                    v["health"]["reachability"] == "up"
                        && v["health"]["snmp_ok"] == true
                        && (v["interface_health"]["eth3"]["oper_status"] == "up"
                            || (*n != "r2" && *n != "r3"))
                })
            });
            ok.then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(3)); // a counter interval everywhere
    assert!(
        history(&lab).is_empty(),
        "nothing fired before the faults: {:?}",
        history(&lab)
    );
    eprintln!(
        "lab and serve ready after {:.1} s",
        t_start.elapsed().as_secs_f64()
    );

    // 1. and 2. together.
    let t_faults = now_ms();
    let (flap_end, restarts, (t_stop, t_up)) = std::thread::scope(|s| {
        let restarter = s.spawn(|| {
            let mut resumed = Vec::new();
            for _ in 0..4 {
                std::thread::sleep(Duration::from_secs(6));
                let t = now_ms();
                lab.restart_snmpd("r4").unwrap();
                let back = support::wait_until("r4 polled again", Duration::from_secs(30), || {
                    let d = devices(&lab);
                    let h = &d.get("r4")?["health"];
                    (h["snmp_ok"] == true && h["last_snmp_ms"].as_i64()? > t + 500)
                        .then(|| h["last_snmp_ms"].as_i64())
                        .flatten()
                });
                resumed.push((t, back - t));
            }
            resumed
        });
        let mut restart = None;
        for i in 0..12 {
            // Down 3 s: longer than the 2 s poll interval with room, so no
            // change is missed. At 2 s a loaded machine's late polls missed
            // whole flaps, and with so few changes seen the flapping could
            // end at serve's restart.
            lab.set_if_state("r2", "eth3", false).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            lab.set_if_state("r2", "eth3", true).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            if i == 5 {
                // serve itself restarts while the link flaps (12 changes
                // in, flapping since the 6th): the flapping goes on from
                // the history it saved, so nothing more is told until it
                // stops.
                let t = now_ms();
                support::stop_serve(serve.take().unwrap(), &log);
                serve = Some(start_serve(&lab, &cfg, &db, &log2));
                restart = Some((t, now_ms()));
            }
        }
        (now_ms(), restarter.join().unwrap(), restart.unwrap())
    });
    // Still flapping right after the last flap (its last 6 changes lie
    // within 30 s): both ends are listed, flapping.
    let listed = active(&lab);
    let flapping_listed: Vec<&Value> = listed
        .iter()
        .filter(|a| a["rule"] == "if-flap" && a["flapping"] == true)
        .collect();
    eprintln!(
        "(1) /api/alerts right after the last flap: {} if-flap alerts flapping ({:?})",
        flapping_listed.len(),
        flapping_listed
            .iter()
            .map(|a| (a["key"].as_str(), a["status"].as_str()))
            .collect::<Vec<_>>()
    );
    assert!(
        !flapping_listed.is_empty() && flapping_listed.iter().all(|a| a["interface"] == "eth3"),
        "flapping alerts are listed while they flap: {listed:#?}"
    );
    eprintln!(
        "(1) serve restarted after the 6th flap: stopped at +{:.1} s, answering again {:.1} s later",
        secs(t_stop - t_faults),
        secs(t_up - t_stop)
    );
    for (t, took) in &restarts {
        eprintln!(
            "(2) r4 snmpd restarted at +{:.1} s, polled again {:.1} s later",
            secs(t - t_faults),
            secs(*took)
        );
    }
    // The flapping stopped with the link up: nothing stays firing or
    // flapping.
    let settled = support::wait_until(
        "nothing firing or flapping after the flapping",
        Duration::from_secs(40),
        || active(&lab).is_empty().then_some(now_ms()),
    );
    // Receivers were told "flapping started" (with the 6th change,
    // resolved); the stop notice is told once fewer than 6 changes lie in
    // the 30 s window.
    let owed = support::wait_until(
        "the flapping_stopped notices after the flapping",
        Duration::from_secs(60),
        || {
            let g = notes(&got);
            let mut last: BTreeMap<(String, Option<String>), (Option<String>, i64)> =
                BTreeMap::new();
            for n in g.iter().filter(|n| n.rule == "if-flap") {
                last.insert(
                    (n.device.clone(), n.interface.clone()),
                    (n.notice.clone(), n.at_ms),
                );
            }
            (!last.is_empty()
                && last
                    .values()
                    .all(|(notice, _)| notice.as_deref() == Some("flapping_stopped")))
            .then(|| last.values().map(|(_, at)| *at).max().unwrap_or(0))
        },
    );
    std::thread::sleep(Duration::from_secs(4)); // any late notification would show now
    let h = history(&lab);
    let flap_fired = events(&h, "if-flap", Some("fired"));
    let flap_resolved = events(&h, "if-flap", Some("resolved"));
    let got_now = notes(&got);
    eprintln!(
        "(1) 12 flaps of r2:eth3 in {:.1} s: if-flap recorded {} fired / {} resolved, {} with the flapping mark; {} notifications received; no firing or flapping alert {:.1} s and the last flapping_stopped told {:.1} s after the flapping stopped",
        secs(flap_end - t_faults),
        flap_fired.len(),
        flap_resolved.len(),
        events(&h, "if-flap", None)
            .iter()
            .filter(|e| e["flapping"] == true)
            .count(),
        got_now.len(),
        secs(settled - flap_end),
        secs(owed - flap_end)
    );
    assert!(
        events(&h, "if-down", None).is_empty(),
        "if-down (for 15 s) never fires while each down lasts 2 s: {h:#?}"
    );
    for rule in ["unreachable", "hot", "poller-cut-off"] {
        assert!(events(&h, rule, None).is_empty(), "{rule}: {h:#?}");
    }
    assert!(
        h.iter().all(|e| e["device_name"] != "r4"),
        "r4's snmpd restarts raise nothing: {h:#?}"
    );
    // Per interface: every change recorded; the first 5 told, then one
    // flapping_started notice, the rest held as flapping, then one
    // flapping_stopped notice with the final state once stable.
    let mut by_key: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for e in events(&h, "if-flap", None) {
        by_key
            .entry(e["key"].as_str().unwrap().to_string())
            .or_default()
            .push(e);
    }
    assert!(
        by_key.keys().any(|k| k.ends_with("/eth3")),
        "the flapping was seen: {h:#?}"
    );
    for (key, evs) in &by_key {
        assert!(key.ends_with("/eth3"), "only eth3 flaps: {key}");
        let is_notice = |e: &&Value| {
            e["event"]
                .as_str()
                .is_some_and(|s| s.starts_with("flapping_"))
        };
        let changes = evs.iter().filter(|e| !is_notice(e)).count();
        let after_restart = evs
            .iter()
            .filter(|e| !is_notice(e) && e["at_ms"].as_i64().unwrap() > t_up)
            .count();
        assert!(
            after_restart >= 6,
            "{key}: changes seen after serve's restart: {evs:#?}"
        );
        let told: Vec<&&Value> = evs.iter().filter(|e| e["notified"] == true).collect();
        eprintln!(
            "(1) {key}: {changes} changes ({after_restart} after serve's restart) and {} notices recorded, {} told",
            evs.len() - changes,
            told.len()
        );
        assert!(
            changes > 6,
            "{key}: the flapping is seen as more than 5 changes: {evs:#?}"
        );
        assert_eq!(
            told.len(),
            7,
            "{key}: 5 changes, the start and the stop of the flapping: {evs:#?}"
        );
        assert!(
            evs[..5]
                .iter()
                .all(|e| e["notified"] == true && !is_notice(e)),
            "{key}: the first 5 changes are told: {evs:#?}"
        );
        // The 6th change starts the flapping: held, and the start told
        // with its state.
        assert_eq!(evs[5]["notified"], false, "{key}: {evs:#?}");
        assert_eq!(evs[5]["event"], "resolved", "{key}: {evs:#?}");
        let start = evs[6];
        assert_eq!(start["event"], "flapping_started", "{key}: {evs:#?}");
        assert_eq!(start["notified"], true, "{key}: {evs:#?}");
        assert_eq!(start["state"], "resolved", "{key}: {evs:#?}");
        // Nothing told while it flaps; the stop last, with the final state.
        let (last, between) = evs[7..].split_last().unwrap();
        assert!(
            between
                .iter()
                .all(|e| e["notified"] == false && !is_notice(e)),
            "{key}: {evs:#?}"
        );
        assert_eq!(last["event"], "flapping_stopped", "{key}: {evs:#?}");
        assert_eq!(last["notified"], true, "{key}: {evs:#?}");
        assert_eq!(last["state"], "resolved", "{key}: {evs:#?}");
        assert_eq!(last["flapping"], false, "{key}: {evs:#?}");
    }
    let flap_notes: Vec<&Got> = got_now.iter().filter(|g| g.rule == "if-flap").collect();
    let distinct: std::collections::BTreeSet<i64> = flap_notes.iter().map(|g| g.id).collect();
    assert_eq!(distinct.len(), 7 * by_key.len(), "received: {got_now:#?}");
    // Per end: exactly one start and one stop, in that order, the stop
    // last and telling the final state.
    let mut by_end: BTreeMap<(String, Option<String>), Vec<&Got>> = BTreeMap::new();
    for g in &flap_notes {
        by_end
            .entry((g.device.clone(), g.interface.clone()))
            .or_default()
            .push(g);
    }
    assert_eq!(by_end.len(), by_key.len(), "{flap_notes:#?}");
    for (end, notes) in &by_end {
        // By notification id: a repeat of at-least-once delivery counts once.
        let notices: Vec<(&str, &str)> = notes
            .iter()
            .filter_map(|g| Some((g.id, (g.notice.as_deref()?, g.status.as_str()))))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        assert_eq!(
            notices,
            [
                ("flapping_started", "resolved"),
                ("flapping_stopped", "resolved")
            ],
            "{end:?}: one start and one stop: {notes:#?}"
        );
        let last = notes.last().unwrap();
        assert_eq!(
            last.notice.as_deref(),
            Some("flapping_stopped"),
            "{end:?}: {notes:#?}"
        );
        for g in notes.iter().filter(|g| g.notice.is_some()) {
            eprintln!("(1) {end:?} received: {} [{}]", g.summary, g.status);
        }
    }
    assert!(
        got_now.iter().all(|g| g.rule == "if-flap"),
        "only if-flap notified: {got_now:#?}"
    );
    for g in &flap_notes {
        assert!(g.device == "r2" || g.device == "r3", "{g:?}");
        assert_eq!(g.interface.as_deref(), Some("eth3"), "{g:?}");
    }
    let n_before_cut = got_now.len();
    let h_before_cut = h.len();

    // 3. The noc's own interface goes down for 20 s.
    let t_cut = now_ms();
    lab.set_if_state("noc", "eth0", false).unwrap();
    let isolated = support::wait_until("the poller-cut-off alert", Duration::from_secs(30), || {
        let h = history(&lab);
        events(&h, "poller-cut-off", Some("fired"))
            .first()
            .map(|e| (*e).clone())
    });
    eprintln!(
        "(3) poller-cut-off fired {:.1} s after the cut (for 4 s)",
        secs(isolated["at_ms"].as_i64().unwrap() - t_cut)
    );
    // Every router's unreachable alert fires suppressed behind the poller.
    let t_wait = Instant::now();
    let during = loop {
        let a = active(&lab);
        let n = a
            .iter()
            .filter(|x| x["rule"] == "unreachable" && x["suppressed"] == true)
            .count();
        if n == 4 {
            break a;
        }
        assert!(
            t_wait.elapsed() < Duration::from_secs(45),
            "4 unreachable alerts suppressed behind the poller: active {a:#?}\nhistory {:#?}",
            &history(&lab)[h_before_cut..]
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    support::flap::assert_behind_the_poller(&during, &poller_id);
    let remaining = 20_000 - (now_ms() - t_cut);
    if remaining > 0 {
        std::thread::sleep(Duration::from_millis(remaining as u64));
    }
    // Right after one of r4's rounds (every 15 s), so its "down" stays the
    // latest verdict for longer than the rule's `for` once the link is back.
    let r4_round = |lab: &Lab| devices(lab).get("r4")?["health"]["last_icmp_ms"].as_i64();
    let before = r4_round(&lab);
    let t_wait = Instant::now();
    while r4_round(&lab) == before {
        assert!(t_wait.elapsed() < Duration::from_secs(30), "no round of r4");
        std::thread::sleep(Duration::from_millis(200));
    }
    let t_back = now_ms();
    lab.set_if_state("noc", "eth0", true).unwrap();
    let clear = support::wait_until("everything resolved", Duration::from_secs(60), || {
        let a = active(&lab);
        a.is_empty().then_some(now_ms())
    });
    std::thread::sleep(Duration::from_secs(10)); // a catch-up would come within `for`
    let h = history(&lab);
    let cut: Vec<&Value> = h[h_before_cut..].iter().collect();
    let got_all = notes(&got);
    let cut_notes: Vec<&Got> = got_all[n_before_cut..].iter().collect();
    let resolved_at = events(&h, "poller-cut-off", Some("resolved"))
        .first()
        .and_then(|e| e["at_ms"].as_i64());
    let r4_resolved = h[h_before_cut..]
        .iter()
        .find(|e| {
            e["rule"] == "unreachable" && e["device_name"] == "r4" && e["event"] == "resolved"
        })
        .and_then(|e| e["at_ms"].as_i64());
    eprintln!(
        "(3) r4 (ICMP every 15 s, rule for 8 s) resolved {:?} s after the interface came back",
        r4_resolved.map(|t| secs(t - t_back))
    );
    eprintln!(
        "(3) down {:.1} s; {} events recorded, {} notifications; poller-cut-off resolved {:?} s and nothing firing {:.1} s after the interface came back",
        secs(t_back - t_cut),
        cut.len(),
        cut_notes.len(),
        resolved_at.map(|t| secs(t - t_back)),
        secs(clear - t_back)
    );
    for e in &cut {
        eprintln!(
            "(3)   {} {} {} notified={} held={} caused_by={}",
            e["rule"], e["device_name"], e["event"], e["notified"], e["held"], e["caused_by"]
        );
    }
    let statuses: Vec<(&str, &str)> = cut_notes
        .iter()
        .map(|g| (g.rule.as_str(), g.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [("poller-cut-off", "firing"), ("poller-cut-off", "resolved")],
        "one page for the cut-off, and its resolution: {cut_notes:#?}"
    );
    let suppressed: Vec<&&Value> = cut
        .iter()
        .filter(|e| e["rule"] == "unreachable" && e["event"] == "suppressed")
        .collect();
    assert_eq!(suppressed.len(), 4, "{cut:#?}");
    support::flap::assert_unreachable_never_notified(&h[h_before_cut..]);
    assert_eq!(
        events(
            &cut.iter().map(|e| (*e).clone()).collect::<Vec<_>>(),
            "unreachable",
            Some("resolved")
        )
        .len(),
        4,
        "every router resolved: {cut:#?}"
    );
    assert!(
        cut.iter()
            .all(|e| e["rule"] == "unreachable" || e["rule"] == "poller-cut-off"),
        "{cut:#?}"
    );
    assert!(active(&lab).is_empty(), "nothing stays firing");
    // Polling resumed everywhere.
    let d = devices(&lab);
    for n in ["r1", "r2", "r3", "r4"] {
        let h = &d[n]["health"];
        assert_eq!(h["reachability"], "up", "{n}: {h}");
        assert!(h["last_snmp_ms"].as_i64().unwrap_or(0) > t_back, "{n}: {h}");
    }
    // SIGTERM: flushed, exit 0.
    support::stop_serve(serve.take().unwrap(), &log2);
    eprintln!("total {:.1} s", t_start.elapsed().as_secs_f64());
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
