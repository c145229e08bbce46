//! Queries on small hand-built topologies: graph building, shortest paths,
//! single points of failure (with parallel links), blast radius and diff.
mod support;

use nocmap::topology::{
    Evidence, Failure, GraphError, QueryError, SinglePointsOfFailure, TopologyGraph, diff,
};
use support::topology::*;

fn graph(t: &nocmap::topology::Topology) -> TopologyGraph {
    TopologyGraph::build(t).expect("fixture builds")
}

fn spof(devices: &[&str], links: &[&str]) -> SinglePointsOfFailure {
    SinglePointsOfFailure {
        devices: ids(devices),
        links: links.iter().map(|s| s.to_string()).collect(),
    }
}

// ---- building ----

#[test]
fn unknown_endpoint_is_an_error_value() {
    let mut t = chain();
    t.links.push(link("dx", "d", "nowhere"));
    assert_eq!(
        TopologyGraph::build(&t).unwrap_err(),
        GraphError::UnknownEndpoint {
            link: "dx".into(),
            device: id("nowhere")
        }
    );
}

#[test]
fn repeated_device_or_link_ids_are_errors() {
    let mut t = chain();
    t.devices.push(device("b"));
    assert_eq!(
        TopologyGraph::build(&t).unwrap_err(),
        GraphError::DuplicateDevice(id("b"))
    );
    let mut t = chain();
    t.links.push(link("ab", "c", "d"));
    assert_eq!(
        TopologyGraph::build(&t).unwrap_err(),
        GraphError::DuplicateLink("ab".into())
    );
}

#[test]
fn parallel_links_stay_parallel_edges() {
    let g = graph(&parallel());
    assert_eq!((g.device_count(), g.link_count()), (3, 3));
    let between: Vec<&str> = g
        .links_between(&id("b"), &id("a"))
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(between, ["ab1", "ab2"]);
    let simple = g.simple_graph();
    assert_eq!(simple.edge_count(), 2, "the simple copy merges them");
}

// ---- paths ----

#[test]
fn path_along_a_chain() {
    let g = graph(&chain());
    assert_eq!(g.path(&id("a"), &id("d")), Some(ids(&["a", "b", "c", "d"])));
    assert_eq!(g.path(&id("d"), &id("b")), Some(ids(&["d", "c", "b"])));
    assert_eq!(g.path(&id("c"), &id("c")), Some(ids(&["c"])));
    let route = g.route(&id("a"), &id("c")).unwrap().unwrap();
    let links: Vec<&[String]> = route.hops.iter().map(|h| h.links.as_slice()).collect();
    assert_eq!(links, [["ab".to_string()], ["bc".to_string()]]);
}

#[test]
fn path_around_a_ring_is_the_short_way_and_stable_on_ties() {
    let g = graph(&ring4());
    assert_eq!(g.path(&id("a"), &id("d")), Some(ids(&["a", "d"])));
    // a->c: via b or via d, both two hops; the smaller id wins.
    assert_eq!(g.path(&id("a"), &id("c")), Some(ids(&["a", "b", "c"])));
    assert_eq!(g.path(&id("c"), &id("a")), Some(ids(&["c", "b", "a"])));
}

#[test]
fn path_through_a_star_and_a_ring_with_tail() {
    let g = graph(&star());
    assert_eq!(
        g.path(&id("s1"), &id("s3")),
        Some(ids(&["s1", "hub", "s3"]))
    );
    let g = graph(&ring_with_tail());
    assert_eq!(g.path(&id("b"), &id("e")), Some(ids(&["b", "c", "d", "e"])));
}

#[test]
fn path_hop_lists_parallel_links_most_confident_first() {
    let g = graph(&parallel());
    let route = g.route(&id("a"), &id("c")).unwrap().unwrap();
    assert_eq!(route.devices, ids(&["a", "b", "c"]));
    assert_eq!(route.hops[0].links, ["ab2", "ab1"]);
    assert_eq!(route.hops[1].links, ["bc"]);
}

#[test]
fn no_path_between_components_and_unknown_devices_are_errors() {
    let mut t = chain();
    t.devices.push(device("island"));
    let g = graph(&t);
    assert_eq!(g.path(&id("a"), &id("island")), None);
    assert_eq!(g.route(&id("a"), &id("island")), Ok(None));
    assert_eq!(
        g.route(&id("a"), &id("zz")),
        Err(QueryError::UnknownDevice(id("zz")))
    );
    assert_eq!(g.path(&id("zz"), &id("a")), None);
}

// ---- single points of failure ----

#[test]
fn spof_chain_ring_star_tail() {
    assert_eq!(
        graph(&chain()).single_points_of_failure(),
        spof(&["b", "c"], &["ab", "bc", "cd"])
    );
    assert_eq!(graph(&ring4()).single_points_of_failure(), spof(&[], &[]));
    assert_eq!(
        graph(&star()).single_points_of_failure(),
        spof(&["hub"], &["h1", "h2", "h3"])
    );
    assert_eq!(
        graph(&ring_with_tail()).single_points_of_failure(),
        spof(&["c", "d"], &["cd", "de"])
    );
}

#[test]
fn two_parallel_links_are_not_a_bridge() {
    assert_eq!(
        graph(&parallel()).single_points_of_failure(),
        spof(&["b"], &["bc"])
    );
    let pair = topology(&["a", "b"], &[("x", "a", "b"), ("y", "b", "a")]);
    assert_eq!(graph(&pair).single_points_of_failure(), spof(&[], &[]));
    let single = topology(&["a", "b"], &[("x", "a", "b")]);
    assert_eq!(graph(&single).single_points_of_failure(), spof(&[], &["x"]));
}

/// Why spof.rs does not call `bridges` on the multigraph: petgraph skips
/// every edge back to the DFS parent, so it calls a doubly-cabled pair a
/// bridge. If this starts failing, petgraph fixed it.
#[test]
fn petgraph_bridges_alone_would_call_parallel_links_bridges() {
    let g = graph(&parallel());
    let naive = petgraph::algo::bridges(g.inner()).count();
    assert_eq!(naive, 3, "ab1, ab2 and bc");
}

#[test]
fn self_loops_do_not_confuse_spof() {
    let mut t = chain();
    t.links.push(link("loop", "b", "b"));
    assert_eq!(
        graph(&t).single_points_of_failure(),
        spof(&["b", "c"], &["ab", "bc", "cd"])
    );
}

/// `articulation_points` on a StableGraph panics (petgraph #970); ours runs
/// on the compact copy, also after removals left holes in the indices.
#[test]
fn articulation_points_after_removals_do_not_panic() {
    let g = graph(&ring_with_tail());
    // The same StableGraph shape with plain weights (the algorithm wants
    // PartialOrd edge weights).
    let same_shape = g.inner().map(|_, n| n.id.clone(), |_, _| ());
    let direct = std::panic::catch_unwind(|| {
        petgraph::algo::articulation_points::articulation_points(&same_shape)
    });
    assert!(
        direct.is_err(),
        "petgraph #970: the StableGraph call panics"
    );

    // Remove a ring member: the rest is a chain a - c - d - e.
    let holed = g.without_device(&id("b")).unwrap();
    assert_eq!(
        holed.single_points_of_failure(),
        spof(&["c", "d"], &["ca", "cd", "de"])
    );
    // Remove the first node (index 0) and a link too.
    let holed = holed.without_device(&id("a")).unwrap();
    let holed = holed.without_link("de").unwrap();
    assert_eq!(holed.single_points_of_failure(), spof(&[], &["cd"]));
    assert_eq!(holed.path(&id("c"), &id("e")), None);
    assert!(!holed.contains_device(&id("a")));
    assert!(!holed.contains_link("ab"));
}

// ---- blast radius ----

#[test]
fn blast_radius_chain() {
    let g = graph(&chain());
    let from = id("a");
    assert_eq!(
        g.blast_radius(&from, &Failure::Device(id("c"))).unwrap(),
        ids(&["c", "d"])
    );
    assert_eq!(
        g.blast_radius(&from, &Failure::Link("bc".into())).unwrap(),
        ids(&["c", "d"])
    );
    assert_eq!(
        g.blast_radius(&id("d"), &Failure::Link("ab".into()))
            .unwrap(),
        ids(&["a"])
    );
}

#[test]
fn blast_radius_ring_star_tail() {
    let g = graph(&ring4());
    assert_eq!(
        g.blast_radius(&id("a"), &Failure::Device(id("c"))).unwrap(),
        ids(&["c"])
    );
    assert!(
        g.blast_radius(&id("a"), &Failure::Link("bc".into()))
            .unwrap()
            .is_empty()
    );
    let g = graph(&star());
    assert_eq!(
        g.blast_radius(&id("s1"), &Failure::Device(id("hub")))
            .unwrap(),
        ids(&["hub", "s2", "s3"])
    );
    let g = graph(&ring_with_tail());
    assert_eq!(
        g.blast_radius(&id("a"), &Failure::Device(id("c"))).unwrap(),
        ids(&["c", "d", "e"])
    );
    assert!(
        g.blast_radius(&id("a"), &Failure::Device(id("b")))
            .unwrap()
            .eq(&ids(&["b"]))
    );
}

#[test]
fn blast_radius_one_of_two_parallel_links() {
    let g = graph(&parallel());
    assert!(
        g.blast_radius(&id("a"), &Failure::Link("ab1".into()))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        g.blast_radius(&id("a"), &Failure::Link("bc".into()))
            .unwrap(),
        ids(&["c"])
    );
}

#[test]
fn blast_radius_edge_cases() {
    let mut t = chain();
    t.devices.push(device("island"));
    let g = graph(&t);
    // The poller's own device fails: everything it reached is lost, not the island.
    assert_eq!(
        g.blast_radius(&id("b"), &Failure::Device(id("b"))).unwrap(),
        ids(&["a", "b", "c", "d"])
    );
    // An unreachable device failing costs nothing.
    assert!(
        g.blast_radius(&id("a"), &Failure::Device(id("island")))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        g.blast_radius(&id("a"), &Failure::Link("nope".into())),
        Err(QueryError::UnknownLink("nope".into()))
    );
    assert_eq!(
        g.blast_radius(&id("zz"), &Failure::Link("ab".into())),
        Err(QueryError::UnknownDevice(id("zz")))
    );
}

// ---- diff ----

#[test]
fn diff_of_identical_topologies_is_empty() {
    assert!(diff(&ring_with_tail(), &ring_with_tail()).is_empty());
}

#[test]
fn diff_ignores_link_ids_orientation_and_evidence_order() {
    let old = chain();
    let mut new = chain();
    for (i, l) in new.links.iter_mut().enumerate() {
        l.id = format!("renamed-{i}");
        std::mem::swap(&mut l.a, &mut l.b);
    }
    new.links[0].evidence = vec![Evidence::Lldp, Evidence::Lldp];
    new.links.reverse();
    assert!(diff(&old, &new).is_empty(), "{:?}", diff(&old, &new));
}

#[test]
fn diff_finds_added_removed_and_changed() {
    let old = chain();
    let mut new = chain();
    new.devices.retain(|d| d.id != id("d"));
    new.links.retain(|l| l.id != "cd");
    new.devices.push(device("e"));
    new.links.push(link("ce", "c", "e"));
    new.links[0].evidence.push(Evidence::Cdp);
    new.links[1].confidence = 0.4;
    let d = diff(&old, &new);
    assert_eq!(d.devices_added, ids(&["e"]));
    assert_eq!(d.devices_removed, ids(&["d"]));
    let added: Vec<String> = d.links_added.iter().map(|k| k.to_string()).collect();
    assert_eq!(added, ["c[to-e] -- e[to-c]"]);
    let removed: Vec<String> = d.links_removed.iter().map(|k| k.to_string()).collect();
    assert_eq!(removed, ["c[to-d] -- d[to-c]"]);
    assert_eq!(d.links_changed.len(), 2);
    let ab = &d.links_changed[0];
    assert_eq!(ab.key.to_string(), "a[to-b] -- b[to-a]");
    assert_eq!(ab.old_evidence, [Evidence::Lldp]);
    assert_eq!(ab.new_evidence, [Evidence::Lldp, Evidence::Cdp]);
    let bc = &d.links_changed[1];
    assert_eq!((bc.old_confidence, bc.new_confidence), (0.9, 0.4));
    assert_eq!(bc.old_evidence, bc.new_evidence);
}

#[test]
fn diff_moving_a_link_to_another_interface_is_remove_plus_add() {
    let old = chain();
    let mut new = chain();
    new.links[0].a.if_name = Some("other-port".into());
    let d = diff(&old, &new);
    assert_eq!((d.links_added.len(), d.links_removed.len()), (1, 1));
    assert!(d.links_changed.is_empty());
}

#[test]
fn diff_counts_duplicate_endpoint_pairs() {
    let old = chain();
    let mut new = chain();
    let mut twin = new.links[0].clone();
    twin.id = "twin".into();
    new.links.push(twin);
    let d = diff(&old, &new);
    assert_eq!(d.links_added.len(), 1);
    assert!(d.links_removed.is_empty() && d.links_changed.is_empty());
    let back = diff(&new, &old);
    assert_eq!(back.links_removed.len(), 1);
}
