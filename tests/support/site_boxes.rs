//! Dragging on the map by site (`web_sites`): a device dragged past its
//! site box's edge, and the box dragged by its padding.
use super::browser::Browser;
use super::map_layout::box_holds;
use serde_json::json;

/// The devices drawn in the "(no site)" box: `{id: [x, y]}`.
const NO_SITE_DEVICES: &str = "(() => { const p = {}; window.__nocmap_cy.nodes(':visible').forEach((n) => { \
    if (n.data('site') === '' && !String(n.data('kind')).startsWith('site-') && n.data('kind') !== 'ghost') \
    p[n.id()] = [n.position('x'), n.position('y')]; }); return p; })()";

/// On the small map by site (one box, "(no site)", with `n` devices): a
/// device dragged out past its box's right edge is still inside the box
/// (the box follows it); the box dragged by a point of its padding (where
/// no device is) takes every device along by the same distance and stays
/// around them. Real mouse drags, tried again if the page saw none.
pub fn drag_box_and_device(b: &mut Browser, n: usize) {
    // The map in the left half of the window: the drags stay in it. Told
    // as a user's zoom is (the page no longer fits the view to the map).
    b.eval(
        "(() => { const cy = window.__nocmap_cy; cy.fit(cy.nodes(':visible'), 20); \
         cy.zoom({ level: cy.zoom() * 0.5, renderedPosition: { x: 20, y: cy.height() / 2 } }); \
         cy.emit('scrollzoom'); return true; })()",
    );
    // The rightmost device, dragged right until its left edge is 20 px
    // past the box's right edge.
    let pick = b.eval(
        "(() => { const cy = window.__nocmap_cy; const box = cy.getElementById('site\\u0000'); \
         const bb = box.boundingBox({ includeLabels: false }); \
         const devs = cy.nodes(':visible').filter((n) => n.data('site') === '' && n.data('kind') !== 'site-box' && n.data('kind') !== 'ghost'); \
         const d = devs.max((n) => n.position('x')).ele; \
         return [d.id(), (bb.x2 - d.boundingBox().x1 + 20) * cy.zoom(), bb.x2]; })()",
    );
    let (id, dx, box_x2) = (
        pick[0].clone(),
        pick[1].as_f64().unwrap(),
        pick[2].as_f64().unwrap(),
    );
    let left = format!("window.__nocmap_cy.getElementById({id}).boundingBox().x1");
    for _ in 0..3 {
        b.cmd(json!({"cmd": "drag", "id": id, "dx": dx, "dy": 0}));
        if b.eval(&left).as_f64().unwrap() > box_x2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    let x1 = b.eval(&left).as_f64().unwrap();
    assert!(
        x1 > box_x2,
        "{id} dragged past the box's edge at {box_x2}: {x1}"
    );
    assert_eq!(
        b.eval(&box_holds("")),
        json!([n, n, true]),
        "the box around {id} dragged"
    );
    b.screenshot("small-by-site-device-dragged");
    // The box, by a point in its top padding.
    let before = b.eval(NO_SITE_DEVICES);
    let at = b.eval(
        "(() => { const cy = window.__nocmap_cy; const bb = cy.getElementById('site\\u0000').renderedBoundingBox({ includeLabels: false }); \
         return [0, -bb.h / 2 + 15 * cy.zoom()]; })()",
    );
    let zoom = b.eval("window.__nocmap_cy.zoom()").as_f64().unwrap();
    let dy = 80.0;
    let moved = |b: &mut Browser| -> Vec<String> {
        let now = b.eval(NO_SITE_DEVICES);
        before
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, p)| {
                let q = &now[k.as_str()];
                (q[0].as_f64().unwrap() - p[0].as_f64().unwrap()).abs() > 1.0
                    || (q[1].as_f64().unwrap() - p[1].as_f64().unwrap() - dy / zoom).abs() > 1.0
            })
            .map(|(k, _)| k.clone())
            .collect()
    };
    for _ in 0..3 {
        b.cmd(json!({"cmd": "drag", "id": "site\u{0}", "at": at, "dx": 0, "dy": dy}));
        if moved(b).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    let stayed = moved(b);
    assert!(
        stayed.is_empty() && before.as_object().unwrap().len() == n,
        "dragging the box moves each of its {n} devices {dy} px down; these did not: {stayed:?}"
    );
    assert_eq!(
        b.eval(&box_holds("")),
        json!([n, n, true]),
        "the box around its devices, dragged"
    );
    b.screenshot("small-by-site-box-dragged");
}
