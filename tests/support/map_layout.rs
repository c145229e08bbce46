//! What the map page drew, measured in the page: node positions and roles,
//! overlapping boxes (devices, their labels, link labels, from cytoscape's
//! rendered bounding boxes), and generated campuses to draw.
#![allow(dead_code)]
use super::browser::Browser;
use nocmap::live::{DeviceHealth, Live, Reachability};
use nocmap::topology::Topology;
use nocmap::types::UnixMillis;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Every node's model position and role: `{id: [x, y, role]}`.
pub const POSITIONS: &str = "(() => { const p = {}; window.__nocmap_cy.nodes().forEach((n) => \
    { p[n.id()] = [n.position().x, n.position().y, n.data('role')]; }); return p; })()";

/// Pairs of overlapping boxes among every device's body, every device's
/// label and every link label drawn (source, target, middle), from
/// cytoscape's rendered bounding boxes; a device's own label touching its
/// own body does not count. `{boxes, labels, overlaps: [[a, b]...]}`, or
/// null while the page has a label placement pending.
pub const OVERLAPS: &str = r#"(() => {
  // Only once the labels were placed after the last change of the map.
  if (window.__nocmap.labelsPending || !window.__nocmap.labels) return null;
  const cy = window.__nocmap_cy;
  const boxes = [];
  const lbl = (w) => ({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false,
    includeUnderlays: false, includeMainLabels: w === 'main', includeSourceLabels: w === 'source',
    includeTargetLabels: w === 'target' });
  cy.nodes(':visible').forEach((n) => {
    boxes.push([n.id(), 'device', n.renderedBoundingBox({ includeLabels: false, includeOverlays: false })]);
    const l = n.renderedBoundingBox(lbl('main'));
    if (n.style('label') && l.w > 0) boxes.push([n.id(), 'label', l]);
  });
  let labels = 0;
  cy.edges(':visible').forEach((e) => {
    for (const w of ['source', 'target', 'main']) {
      const b = e.renderedBoundingBox(lbl(w));
      if (b.w > 0 && b.h > 0) { boxes.push([e.id(), w + '-label', b]); labels++; }
    }
  });
  const hit = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i][0] === boxes[j][0] && boxes[i][1] !== boxes[j][1] && !boxes[i][1].endsWith('-label') ) continue;
      if (hit(boxes[i][2], boxes[j][2])) {
        const cls = (id) => { const e = cy.getElementById(id); return e.isEdge() ? e.classes().join(',') + '/' + e.style('curve-style') : ''; };
        const r = (b) => [b.x1, b.y1, b.x2, b.y2].map(Math.round).join(',');
        overlaps.push([boxes[i][0] + ' ' + boxes[i][1] + ' ' + r(boxes[i][2]) + ' ' + cls(boxes[i][0]),
          boxes[j][0] + ' ' + boxes[j][1] + ' ' + r(boxes[j][2]) + ' ' + cls(boxes[j][0])]);
      }
    }
  }
  return { boxes: boxes.length, labels, overlaps };
})()"#;

/// How the drawn links run, from the rendered node centres (each link
/// taken as the straight segment between its ends' centres, as cytoscape
/// draws a link that has no parallel one): `crossings`, the pairs of
/// links that cross (sharing no end), counted by the roles of their ends
/// (`"distribution-access|distribution-access": n`, the two links' role
/// pairs sorted), and `through`, every link that passes through the body
/// or the label of a device that is not one of its ends
/// (`[link, device, "body"|"label"]`). `{links, crossings, through}`.
pub const EDGE_GEOMETRY: &str = r#"(() => {
  const cy = window.__nocmap_cy;
  const rank = { core: 0, distribution: 1, access: 2, host: 3 };
  const roleOf = (n) => n.data('role') || 'host';
  const segs = [];
  cy.edges(':visible').forEach((e) => {
    const s = e.source(), t = e.target();
    if (s.data('kind') === 'site-box' || t.data('kind') === 'site-box') return;
    const [a, b] = rank[roleOf(s)] <= rank[roleOf(t)] ? [s, t] : [t, s];
    segs.push({ id: e.id(), ends: [a.id(), b.id()], kind: roleOf(a) + '-' + roleOf(b),
      p: a.renderedPosition(), q: b.renderedPosition() });
  });
  const cross = (o, a, b) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const proper = (s, t) => {
    const d1 = cross(s.p, s.q, t.p), d2 = cross(s.p, s.q, t.q);
    const d3 = cross(t.p, t.q, s.p), d4 = cross(t.p, t.q, s.q);
    return d1 * d2 < 0 && d3 * d4 < 0;
  };
  const crossings = {};
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[i], t = segs[j];
      if (s.ends.some((x) => t.ends.includes(x)) || !proper(s, t)) continue;
      const k = [s.kind, t.kind].sort().join('|');
      crossings[k] = (crossings[k] || 0) + 1;
    }
  }
  // Whether the segment p-q enters the box b (Liang-Barsky clipping).
  const hits = (p, q, b) => {
    let t0 = 0, t1 = 1;
    const dx = q.x - p.x, dy = q.y - p.y;
    for (const [d, lo, hi, v] of [[dx, b.x1, b.x2, p.x], [dy, b.y1, b.y2, p.y]]) {
      if (d === 0) { if (v <= lo || v >= hi) return false; continue; }
      let a = (lo - v) / d, c = (hi - v) / d;
      if (a > c) [a, c] = [c, a];
      t0 = Math.max(t0, a); t1 = Math.min(t1, c);
      if (t0 >= t1) return false;
    }
    return true;
  };
  const lbl = { includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false,
    includeUnderlays: false, includeMainLabels: true, includeSourceLabels: false, includeTargetLabels: false };
  const through = [];
  // A site's box holds the links inside it: not a device they pass through.
  cy.nodes(':visible[kind != "site-box"]').forEach((n) => {
    const parts = [['body', n.renderedBoundingBox({ includeLabels: false, includeOverlays: false })]];
    const l = n.renderedBoundingBox(lbl);
    if (n.style('label') && l.w > 0) parts.push(['label', l]);
    for (const s of segs) {
      if (s.ends.includes(n.id())) continue;
      for (const [part, b] of parts) if (hits(s.p, s.q, b)) through.push([s.id, n.id(), part]);
    }
  });
  return { links: segs.length, crossings, through };
})()"#;

/// A site's box and the nodes drawn for the site's devices:
/// `[how many are drawn, how many of them (body and label) lie inside the
/// box's body, whether the box is shown]`, or null without a box.
pub fn box_holds(site: &str) -> String {
    format!(
        "(() => {{ const cy = window.__nocmap_cy; const site = {site}; \
         const box = cy.getElementById('site\\u0000' + site); if (box.empty()) return null; \
         const b = box.boundingBox({{ includeLabels: false, includeOverlays: false }}); \
         const mine = cy.nodes(':visible').filter((n) => n.data('site') === site && !String(n.data('kind')).startsWith('site-') && n.data('kind') !== 'ghost'); \
         const inside = mine.filter((n) => {{ const m = n.boundingBox({{ includeOverlays: false }}); \
           return m.x1 >= b.x1 && m.x2 <= b.x2 && m.y1 >= b.y1 && m.y2 <= b.y2; }}); \
         return [mine.length, inside.length, box.visible()]; }})()",
        site = serde_json::to_string(site).unwrap()
    )
}

/// EDGE_GEOMETRY with its `through` counted in the page: `kinds`, the hits
/// by the roles of the link's ends (in role order), the device's role and
/// the part (`"access-host through host label": n`; no role: "other"),
/// and how many distinct `through_links` and `through_devices`.
pub fn edge_geometry_by_kind(b: &mut Browser) -> Value {
    b.eval(&format!(
        r#"(() => {{ const g = {EDGE_GEOMETRY}; const cy = window.__nocmap_cy;
  const rank = ['core', 'distribution', 'access', 'host', 'other'];
  const role = (n) => rank.includes(n.data('role')) ? n.data('role') : 'other';
  g.kinds = {{}};
  for (const [l, d, part] of g.through) {{
    const e = cy.getElementById(l);
    const ends = [role(e.source()), role(e.target())].sort((a, b) => rank.indexOf(a) - rank.indexOf(b));
    const k = ends.join('-') + ' through ' + role(cy.getElementById(d)) + ' ' + part;
    g.kinds[k] = (g.kinds[k] || 0) + 1;
  }}
  g.through_links = new Set(g.through.map((t) => t[0])).size;
  g.through_devices = new Set(g.through.map((t) => t[1])).size;
  return g; }})()"#
    ))
}

/// Asserts how the links run (`edge_geometry_by_kind`): no link through
/// a device that is not one of its ends but at most the hits `allowed`
/// of each kind (`"core-core through core body"`), and no crossings but
/// at most `most` of each kind (`"distribution-access|distribution-access"`).
pub fn assert_links_clear(
    b: &mut Browser,
    what: &str,
    allowed: &[(&str, u64)],
    most: &[(&str, u64)],
) {
    let geo = edge_geometry_by_kind(b);
    let (through, kinds) = (&geo["through"], &geo["kinds"]);
    eprintln!(
        "{what}: {} links, crossings {}, {} links through {} devices ({} hits): {kinds}",
        geo["links"],
        geo["crossings"],
        geo["through_links"],
        geo["through_devices"],
        through.as_array().unwrap().len(),
    );
    let limit =
        |list: &[(&str, u64)], k: &str| list.iter().find(|(name, _)| *name == k).map_or(0, |l| l.1);
    let over: Vec<_> = kinds
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, n)| n.as_u64().unwrap() > limit(allowed, k))
        .collect();
    if !over.is_empty() {
        b.screenshot(&format!("failed-links-{}", what.replace(' ', "-")));
    }
    assert!(
        over.is_empty(),
        "{what}: links through a device that is not one of their ends: {kinds}: {through}"
    );
    for (kind, n) in geo["crossings"].as_object().unwrap() {
        let (n, at_most) = (n.as_u64().unwrap(), limit(most, kind));
        assert!(
            n <= at_most,
            "{what}: {n} crossings of {kind} (at most {at_most})"
        );
    }
}

/// Node id → (x, y, role) as the page has them.
pub fn positions(b: &mut Browser) -> BTreeMap<String, (f64, f64, String)> {
    let v = b.eval(POSITIONS);
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                (
                    p[0].as_f64().unwrap(),
                    p[1].as_f64().unwrap(),
                    p[2].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

/// Asserts every core device is drawn above every access device (and
/// distribution between when there is any); returns the ys by role.
pub fn assert_layered(pos: &BTreeMap<String, (f64, f64, String)>, what: &str) {
    let ys =
        |role: &str| -> Vec<f64> { pos.values().filter(|p| p.2 == role).map(|p| p.1).collect() };
    let (core, dist, access) = (ys("core"), ys("distribution"), ys("access"));
    assert!(
        !core.is_empty() && !access.is_empty(),
        "{what}: roles {pos:?}"
    );
    let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        max(&core) < min(&access),
        "{what}: a core device drawn at or below an access device: {pos:?}"
    );
    if !dist.is_empty() {
        assert!(
            max(&core) < min(&dist) && max(&dist) < min(&access),
            "{what}: distribution not between core and access: {pos:?}"
        );
    }
}

/// The overlaps the page has now; panics naming the first few when any.
pub fn assert_no_overlaps(b: &mut Browser, what: &str) -> Value {
    let o = b.wait(OVERLAPS, 20, "the labels placed", "window.__nocmap.labels");
    let n = o["overlaps"].as_array().map_or(usize::MAX, Vec::len);
    if n > 0 {
        b.screenshot(&format!("failed-overlaps-{}", what.replace(' ', "-")));
        let again = b.eval("JSON.stringify(window.__nocmap.placeLabels())");
        let o2 = b.eval(OVERLAPS);
        eprintln!("placed again: {again}: {}", o2["overlaps"]);
    }
    assert_eq!(
        n,
        0,
        "{what}: {n} overlapping boxes of {} (labels {}, zoom {}), e.g. {}",
        o["boxes"],
        b.eval("JSON.stringify([window.__nocmap.labels, window.__nocmap.labelRuns])"),
        b.eval("window.__nocmap_cy.zoom()"),
        json!(o["overlaps"].as_array().unwrap()[..n.min(8)])
    );
    o
}

/// The largest distance any node present in both moved.
pub fn moved(
    a: &BTreeMap<String, (f64, f64, String)>,
    b: &BTreeMap<String, (f64, f64, String)>,
) -> f64 {
    a.iter()
        .filter_map(|(k, p)| {
            b.get(k)
                .map(|q| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt())
        })
        .fold(0.0, f64::max)
}

/// A campus whose names say nothing of their roles: `cores` in a ring,
/// `dists` each on two cores, `access` switches each dual-homed to a
/// distribution pair, `hosts` spread over the access switches. Device ids
/// tell the role they must get: `c…`, `d…`, `a…`, `h…`.
pub fn campus(cores: usize, dists: usize, access: usize, hosts: usize) -> Topology {
    use super::topology::{device, link};
    let mut t = Topology::default();
    let mut links = Vec::new();
    let name = |p: &str, i: usize| format!("{p}{i:03}");
    for i in 0..cores {
        t.devices.push(device(&name("c", i)));
        if cores > 1 && (cores > 2 || i == 0) {
            links.push((name("c", i), name("c", (i + 1) % cores)));
        }
    }
    for i in 0..dists {
        t.devices.push(device(&name("d", i)));
        links.push((name("c", i % cores), name("d", i)));
        links.push((name("c", (i + 1) % cores), name("d", i)));
    }
    for i in 0..access {
        t.devices.push(device(&name("a", i)));
        let pair = 2 * (i * dists / access / 2);
        links.push((name("d", pair % dists), name("a", i)));
        links.push((name("d", (pair + 1) % dists), name("a", i)));
    }
    for i in 0..hosts {
        let mut d = device(&name("h", i));
        d.sys_name = Some(format!("host-{i}.campus.example"));
        t.devices.push(d);
        links.push((name("a", i % access), name("h", i)));
    }
    for (k, (a, b)) in links.iter().enumerate() {
        t.links.push(link(&format!("l{k:04}"), a, b));
    }
    t
}

/// Every device of `live` reachable with an RTT (two label lines each).
pub fn all_up(live: &Live) {
    let ids: Vec<_> = live.read_topology(|t| t.devices.iter().map(|d| d.id.clone()).collect());
    live.update_devices(|m| {
        for id in ids {
            m.entry(id).or_insert_with(|| DeviceHealth {
                reachability: Reachability::Up,
                rtt_avg_ms: Some(0.42),
                loss_pct: Some(0.0),
                last_icmp_ms: Some(UnixMillis::now()),
                icmp_stale_after_ms: Some(86_400_000),
                ..Default::default()
            });
        }
    });
}
