//! The `lag` of a lab node (link aggregates on a router) checked against
//! the lab's links. Pure.
use super::spec::{Endpoint, NodeKind, NodeSpec};
use std::collections::BTreeSet;

/// What is wrong with `n`'s `lag` (`links`: every link end of the lab).
pub(crate) fn lag_errors(n: &NodeSpec, links: &BTreeSet<Endpoint>, errs: &mut Vec<String>) {
    if n.lag.is_empty() {
        return;
    }
    let at = format!("node `{}`", n.name);
    if n.kind != NodeKind::Router {
        errs.push(format!("{at}: lag is for routers only"));
    }
    let end = |ifname: &str| Endpoint {
        node: n.name.clone(),
        ifname: ifname.to_string(),
    };
    let mut members = BTreeSet::new();
    for (agg, of) in &n.lag {
        if !crate::bridge_agent::valid_ifname(agg) || agg == "lo" || links.contains(&end(agg)) {
            errs.push(format!(
                "{at}: lag `{agg}`: a new interface name (1-15 of [A-Za-z0-9._-])"
            ));
        }
        if of.is_empty() {
            errs.push(format!("{at}: lag `{agg}` has no member"));
        }
        for m in of {
            if !links.contains(&end(m)) {
                errs.push(format!("{at}: lag `{agg}`: `{m}` is not one of its links"));
            }
            if !members.insert(m.clone()) {
                errs.push(format!("{at}: lag `{agg}`: `{m}` is in two aggregates"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::LabError;
    use crate::spec::LabSpec;

    const LAB: &str = r#"
        name = "t"
        prefix = "10.80.0.0/16"
        [[nodes]]
        name = "r1"
        kind = "router"
        [[nodes]]
        name = "r2"
        kind = "router"
        [[nodes]]
        name = "h1"
        kind = "host"
        [[links]]
        a = "noc:eth0"
        b = "r1:eth0"
        [[links]]
        a = "r1:eth1"
        b = "r2:eth1"
        [[links]]
        a = "r1:eth2"
        b = "r2:eth2"
        [[links]]
        a = "r2:eth3"
        b = "h1:eth0"
    "#;

    fn with_lag(node: &str, lag: &str) -> Result<LabSpec, LabError> {
        let text = LAB.replacen(
            &format!("name = \"{node}\"\n"),
            &format!("name = \"{node}\"\n        lag = {lag}\n"),
            1,
        );
        LabSpec::from_toml(&text)
    }

    #[test]
    fn a_lag_of_two_links_is_taken() {
        let s = with_lag("r1", r#"{ bond0 = ["eth1", "eth2"] }"#).unwrap();
        assert_eq!(s.node("r1").unwrap().lag["bond0"], ["eth1", "eth2"]);
    }

    #[test]
    fn every_wrong_lag_is_said() {
        for (node, lag, says) in [
            ("h1", r#"{ bond0 = ["eth0"] }"#, "routers only"),
            (
                "r1",
                r#"{ bond0 = ["eth1", "eth7"] }"#,
                "`eth7` is not one of its links",
            ),
            ("r1", r#"{ eth1 = ["eth2"] }"#, "a new interface name"),
            ("r1", r#"{ "bond 0" = ["eth1"] }"#, "a new interface name"),
            ("r1", r#"{ bond0 = [] }"#, "has no member"),
            (
                "r1",
                r#"{ bond0 = ["eth1"], bond1 = ["eth1"] }"#,
                "in two aggregates",
            ),
        ] {
            let Err(LabError::Invalid(errs)) = with_lag(node, lag) else {
                panic!("{node} {lag}: taken");
            };
            assert!(errs.iter().any(|e| e.contains(says)), "{lag}: {errs:?}");
        }
    }
}
