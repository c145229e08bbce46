//! nocmap's topology (the JSON of `nocmap discover --json`, read as plain
//! JSON so new fields never break the measurement) against the oracle, row
//! by row. A neighbour row is:
//! - right: a link with the row's protocol as evidence from the device's
//!   interface the oracle names to the neighbour (same chassis id, else same
//!   name) on the remote port the row gives (port id or description);
//! - unresolved with a reason: a link to the neighbour whose local or remote
//!   port is unknown, or no link, where some object in the output carries a
//!   `reason` (any key containing "reason") and names the neighbour;
//! - unresolved silently: a link with an unknown port and no such reason;
//! - wrong: a link to the neighbour from another local interface or to
//!   another remote port;
//! - dropped: nothing in the output names the neighbour.
//!
//! Rows whose local interface the oracle cannot decide are counted apart.
#![allow(dead_code)]
use super::oracle::{Local, Oracle, Proto, Row};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Clone)]
pub struct Score {
    pub rows: usize,
    pub right: usize,
    pub unresolved_reason: usize,
    pub unresolved_silent: usize,
    pub wrong: usize,
    pub dropped: usize,
    /// Rows the oracle cannot decide (their local port), and of those how
    /// many nocmap showed with a local interface anyway.
    pub undecidable: usize,
    pub undecidable_named: usize,
    /// LLDP/CDP links from the device that match no row of its tables.
    pub extra: usize,
    pub fdb_hosts: usize,
    pub fdb_right: usize,
    pub fdb_uplink: usize,
    pub fdb_wrong: usize,
    pub fdb_missed: usize,
    /// Of the missed hosts, those nocmap lists as not placed, with a reason
    /// (a MAC in one of the device's unresolved forwarding-table rows).
    pub fdb_missed_listed: usize,
    pub vendor: Option<String>,
    pub details: Vec<String>,
}

/// Hex digits only, lowercased, when the text is a 6-byte MAC in any spelling.
fn mac_key(s: &str) -> Option<String> {
    let h: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps = s
        .chars()
        .filter(|c| !c.is_ascii_hexdigit())
        .all(|c| ":-. ".contains(c));
    (h.len() == 12 && seps).then(|| h.to_ascii_lowercase())
}

fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || matches!((mac_key(a), mac_key(b)), (Some(x), Some(y)) if x == y)
}

/// A device name without a CDP serial suffix `(…)` or a domain.
fn name_core(s: &str) -> &str {
    let s = s.split('(').next().unwrap_or(s).trim();
    s.split('.').next().unwrap_or(s)
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Does JSON device `d` stand for the row's neighbour?
fn is_neighbour(d: &Value, r: &Row) -> bool {
    let id = str_of(d, "id").unwrap_or("");
    // An id is often `kind-value` (e.g. `mac-…`): its value counts too.
    let id_value = id.split_once('-').map(|(_, v)| v);
    if let Some(c) = &r.chassis {
        match str_of(d, "chassis_id") {
            Some(dc) => return same_text(c, dc),
            None if [Some(id), id_value]
                .into_iter()
                .flatten()
                .any(|x| same_text(x, c)) =>
            {
                return true;
            }
            None => {}
        }
    }
    let Some(name) = &r.name else {
        return false;
    };
    let names = [
        str_of(d, "sys_name"),
        str_of(d, "chassis_id"),
        Some(id),
        id_value,
    ];
    names
        .into_iter()
        .flatten()
        .any(|n| same_text(n, name) || (r.proto == Proto::Cdp && name_core(n) == name_core(name)))
}

/// Every string inside `v`.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Objects anywhere in `v` with a key containing "reason": their strings.
fn reasoned<'a>(v: &'a Value, out: &mut Vec<Vec<&'a str>>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| reasoned(x, out)),
        Value::Object(o) => {
            if o.keys().any(|k| k.contains("reason")) {
                let mut s = Vec::new();
                strings(v, &mut s);
                out.push(s);
            }
            o.values().for_each(|x| reasoned(x, out));
        }
        _ => {}
    }
}

fn mentions(texts: &[&str], r: &Row) -> bool {
    // A name only as a whole string (short names like "H3C" are common);
    // a chassis id also inside a longer text.
    texts.iter().any(|t| {
        r.name.as_deref().is_some_and(|n| same_text(t, n))
            || r.chassis
                .as_deref()
                .is_some_and(|c| same_text(t, c) || t.contains(c))
    })
}

struct End<'a> {
    device: &'a str,
    if_name: Option<&'a str>,
}

fn end(v: &Value) -> End<'_> {
    End {
        device: str_of(v, "device").unwrap_or(""),
        if_name: str_of(v, "if_name"),
    }
}

fn has_evidence(l: &Value, e: &str) -> bool {
    l.get("evidence")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(e)))
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy, Debug)]
enum Verdict {
    Right,
    UnresolvedReason,
    UnresolvedSilent,
    Wrong,
}

/// Whether a row of the other protocol on `r`'s own local interface, from
/// the same neighbour `far`, gives `name` as its remote port.
fn same_port_named_by_twin(o: &Oracle, r: &Row, far: Option<&Value>, name: &str) -> bool {
    let Local::If(mine, _) = r.local else {
        return false;
    };
    o.rows.iter().any(|t| {
        t.proto != r.proto
            && matches!(t.local, Local::If(i, _) if i == mine)
            && far.is_some_and(|d| is_neighbour(d, t))
            && [t.port_id.as_deref(), t.port_desc.as_deref()]
                .into_iter()
                .flatten()
                .any(|x| same_text(x, name))
    })
}

pub fn score(o: &Oracle, topo: &Value) -> Score {
    let mut s = Score::default();
    let empty = Vec::new();
    let devices = topo
        .get("devices")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let links = topo
        .get("links")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let me: BTreeSet<&str> = devices
        .iter()
        .filter(|d| d.get("managed").and_then(Value::as_bool) == Some(true))
        .filter_map(|d| str_of(d, "id"))
        .collect();
    s.vendor = devices
        .iter()
        .find(|d| d.get("managed").and_then(Value::as_bool) == Some(true))
        .and_then(|d| str_of(d, "vendor"))
        .map(str::to_string);
    let by_id: BTreeMap<&str, &Value> = devices
        .iter()
        .filter_map(|d| Some((str_of(d, "id")?, d)))
        .collect();
    let mut reasons = Vec::new();
    reasoned(topo, &mut reasons);
    let mut used: BTreeSet<(usize, Proto)> = BTreeSet::new();

    for r in &o.rows {
        s.rows += 1;
        let proto = if r.proto == Proto::Lldp {
            "lldp"
        } else {
            "cdp"
        };
        let want_local: Option<Vec<&str>> = match &r.local {
            Local::If(i, _) => Some(o.if_names(*i)),
            Local::Undecidable(_) => None,
        };
        // Every link to this neighbour, judged.
        let mut found: Vec<(Verdict, usize, Option<String>)> = Vec::new();
        for (li, l) in links.iter().enumerate() {
            if !has_evidence(l, proto) {
                continue;
            }
            let (a, b) = (end(&l["a"]), end(&l["b"]));
            let (mine, far) = match (me.contains(a.device), me.contains(b.device)) {
                (true, false) => (a, b),
                (false, true) => (b, a),
                _ => continue,
            };
            if !by_id.get(far.device).is_some_and(|d| is_neighbour(d, r)) {
                continue;
            }
            let link_reason = {
                let mut v = Vec::new();
                reasoned(l, &mut v);
                !v.is_empty()
            };
            let unknown = if link_reason {
                Verdict::UnresolvedReason
            } else {
                Verdict::UnresolvedSilent
            };
            let local_v = match (&want_local, mine.if_name) {
                (_, None) => unknown,
                (Some(names), Some(n)) if names.iter().any(|x| same_text(x, n)) => Verdict::Right,
                (Some(_), Some(_)) => Verdict::Wrong,
                (None, Some(_)) => Verdict::Right, // judged below as undecidable
            };
            let remote = [r.port_id.as_deref(), r.port_desc.as_deref()];
            let far_dev = by_id.get(far.device).copied();
            let remote_v = match far.if_name {
                _ if remote.iter().all(Option::is_none) => Verdict::Right,
                None => unknown,
                Some(n) if remote.into_iter().flatten().any(|x| same_text(x, n)) => Verdict::Right,
                // The other protocol's row on the same local interface, from
                // the same neighbour, names the port another way (CDP
                // `Ethernet1/25`, LLDP `Eth1/25`): the device itself says
                // the two are one port.
                Some(n) if same_port_named_by_twin(o, r, far_dev, n) => Verdict::Right,
                Some(_) => Verdict::Wrong,
            };
            let v = local_v.max(remote_v);
            let note = (v != Verdict::Right).then(|| {
                let what = if local_v == Verdict::Wrong {
                    "local port"
                } else if remote_v == Verdict::Wrong {
                    "remote port"
                } else {
                    "port unknown"
                };
                format!(
                    "{what}: got {} -> {}",
                    mine.if_name.unwrap_or("(none)"),
                    far.if_name.unwrap_or("(none)")
                )
            });
            found.push((v, li, note));
        }
        found.sort_by_key(|(v, li, _)| (used.contains(&(*li, r.proto)), *v));
        let pick = found.first().cloned();
        let verdict = match &pick {
            Some((v, li, _)) => {
                used.insert((*li, r.proto));
                Some(*v)
            }
            None if reasons.iter().any(|t| mentions(t, r)) => Some(Verdict::UnresolvedReason),
            None => None,
        };
        let note = pick.and_then(|(_, _, n)| n).unwrap_or_default();
        if let Local::Undecidable(why) = &r.local {
            s.undecidable += 1;
            let named = verdict.is_some()
                && note.is_empty()
                && !matches!(
                    verdict,
                    Some(Verdict::UnresolvedReason | Verdict::UnresolvedSilent)
                );
            if named {
                s.undecidable_named += 1;
            }
            let shown = match verdict {
                None => {
                    s.dropped += 1;
                    "dropped".to_string()
                }
                Some(Verdict::UnresolvedReason) => "shown unresolved, with a reason".into(),
                Some(Verdict::UnresolvedSilent) => "shown with an unknown port, no reason".into(),
                Some(_) if named => "shown on a local interface".into(),
                Some(_) => format!("shown ({note})"),
            };
            s.details.push(format!(
                "oracle undecidable ({why}): {}: {shown}",
                r.label()
            ));
            continue;
        }
        match verdict {
            Some(Verdict::Right) => s.right += 1,
            Some(Verdict::UnresolvedReason) => s.unresolved_reason += 1,
            Some(Verdict::UnresolvedSilent) => {
                s.unresolved_silent += 1;
                s.details
                    .push(format!("unresolved, no reason: {} ({note})", r.label()));
            }
            Some(Verdict::Wrong) => {
                s.wrong += 1;
                let want = want_local.map(|n| n.join("/")).unwrap_or_default();
                s.details
                    .push(format!("wrong: {} (want {want}; {note})", r.label()));
            }
            None => {
                s.dropped += 1;
                s.details.push(format!("dropped: {}", r.label()));
            }
        }
    }
    let linked: BTreeSet<usize> = used.iter().map(|(l, _)| *l).collect();
    for (li, l) in links.iter().enumerate() {
        let (a, b) = (end(&l["a"]), end(&l["b"]));
        let touches = me.contains(a.device) != me.contains(b.device);
        if touches && (has_evidence(l, "lldp") || has_evidence(l, "cdp")) && !linked.contains(&li) {
            s.extra += 1;
            s.details.push(format!(
                "extra link, no row: {}",
                l.get("id").and_then(Value::as_str).unwrap_or("?")
            ));
        }
    }
    // MACs the devices list as not placed, each row with its reason.
    let listed: BTreeSet<String> = devices
        .iter()
        .filter(|d| str_of(d, "id").is_some_and(|id| me.contains(id)))
        .filter_map(|d| d.get("unresolved").and_then(Value::as_array))
        .flatten()
        .filter(|u| u.get("reason").and_then(Value::as_str).is_some())
        .filter_map(|u| u.get("macs").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    score_fdb(o, &me, links, &listed, &mut s);
    s
}

/// nocmap's host placements (FDB links to a `mac-…` device) against the table.
fn score_fdb(
    o: &Oracle,
    me: &BTreeSet<&str>,
    links: &[Value],
    listed: &BTreeSet<String>,
    s: &mut Score,
) {
    let own: BTreeSet<String> = o.ifs.values().filter_map(|i| i.phys.clone()).collect();
    let hosts = o.fdb.hosts(&own);
    s.fdb_hosts = hosts.len();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    for l in links.iter().filter(|l| has_evidence(l, "fdb")) {
        let (a, b) = (end(&l["a"]), end(&l["b"]));
        let (mine, far) = if me.contains(a.device) {
            (a, b)
        } else {
            (b, a)
        };
        let (Some(port), Some(m)) = (
            mine.if_name,
            far.device.strip_prefix("mac-").and_then(mac_key),
        ) else {
            continue;
        };
        let m = (0..6)
            .map(|i| &m[2 * i..2 * i + 2])
            .collect::<Vec<_>>()
            .join(":");
        if o.fdb.conflicting.contains(&m) {
            continue; // the recording contradicts itself: nothing to judge
        }
        placed.insert(m.clone());
        let on: Vec<u32> = o
            .fdb
            .learned
            .get(&m)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let here = on
            .iter()
            .copied()
            .find(|i| o.if_names(*i).iter().any(|n| same_text(n, port)));
        match here {
            Some(i) if hosts.get(m.as_str()) == Some(&i) => s.fdb_right += 1,
            Some(i) => {
                s.fdb_uplink += 1;
                if s.fdb_uplink <= 3 {
                    s.details.push(format!(
                        "fdb on uplink: {m} on {port} ({:?})",
                        o.fdb.uplinks.get(&i)
                    ));
                }
            }
            None => {
                s.fdb_wrong += 1;
                s.details.push(format!(
                    "fdb wrong: {m} on {port}, table says ifIndex {on:?}"
                ));
            }
        }
    }
    let missed: Vec<&&str> = hosts.keys().filter(|m| !placed.contains(**m)).collect();
    s.fdb_missed = missed.len();
    s.fdb_missed_listed = missed.iter().filter(|m| listed.contains(***m)).count();
}
