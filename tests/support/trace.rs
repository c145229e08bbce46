//! `nocmap trace --json` run in a lab's noc, and its hops read back: the
//! IPv4 and IPv6 trace labs share these.
use nocmap_lab::Lab;
use serde_json::Value;
use std::fmt::Debug;
use std::str::FromStr;

/// `nocmap trace --json ARGS` in the noc: exit code and the report.
pub fn trace(lab: &Lab, args: &[&str]) -> (i32, Value) {
    let bin = super::nocmap_bin();
    let mut all = vec!["trace", "--json", "-W", "500"];
    all.extend_from_slice(args);
    let out = super::run_in(lab, "noc", bin.to_str().unwrap(), &all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "trace {args:?}: not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

/// Each hop's responders (address → replies), in TTL order.
pub fn responders<A: FromStr>(hops: &Value) -> Vec<Vec<(A, u64)>>
where
    A::Err: Debug,
{
    hops.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["responders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["addr"].as_str().unwrap().parse().unwrap(),
                        r["replies"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

/// The single responder of each hop; panics when a hop has none or several.
pub fn single_path<A: FromStr + Copy>(hops: &Value) -> Vec<A>
where
    A::Err: Debug,
{
    responders::<A>(hops)
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 1, "one responder per hop: {hops}");
            r[0].0
        })
        .collect()
}
