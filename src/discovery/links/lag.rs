//! Link aggregates: merged links whose ends are members of a LAG (from each
//! report's ifStackTable) get one shared `lag` key. Pure; it neither adds
//! nor removes links.
use super::Known;
use crate::topology::{Endpoint, Link};

/// Mark links whose ends are members of a link aggregate: every member link
/// of one LAG gets the same `lag` key (`devA:agg--devB:agg`, `?` for an end
/// whose device did not say).
pub(super) fn group(links: &mut [Link], known: &Known) {
    let agg = |e: &Endpoint| -> Option<String> {
        let i = known.ids.iter().position(|id| *id == e.device)?;
        known.reports[i]
            .aggregate_of(e.if_name.as_deref()?)
            .map(str::to_string)
    };
    for l in links.iter_mut() {
        let (a, b) = (agg(&l.a), agg(&l.b));
        if a.is_some() || b.is_some() {
            let side = |e: &Endpoint, g: Option<String>| {
                format!("{}:{}", e.device, g.unwrap_or_else(|| "?".into()))
            };
            l.lag = Some(format!("{}--{}", side(&l.a, a), side(&l.b, b)));
        }
    }
}
