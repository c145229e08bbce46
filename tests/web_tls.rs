//! The map page over HTTPS in a real headless Chromium, against a real
//! `nocmap serve` with `[server] tls_cert`/`tls_key` and a token, on a lab
//! (`wt`, 10.101.0.0/16: noc ── r1 ── r2; server and browsers in the noc
//! namespace, no route out).
//!
//! 1. A Chromium that does not trust the self-signed certificate refuses
//!    the page (certificate error), and serve counts the failed handshake.
//! 2. A Chromium that trusts exactly this certificate (its public key
//!    pinned with `--ignore-certificate-errors-spki-list`, not "ignore all
//!    certificate errors") logs in with the token and draws the lab's
//!    devices; the page is a secure context; the live feed runs over TLS
//!    (state `live`, deltas arriving); every request the page sent went to
//!    `https://127.0.0.1:PORT/`; the layout follows the links (r1 drawn
//!    between the noc and r2); no page error, console error (a CSP
//!    violation would be one) or failed request, and no answer >= 400 but
//!    the token prompt's 401s.
//!
//! Screenshots go to `target/test-artifacts/web_tls/`.
#[macro_use]
mod support;
use support::lab::Routers;
use support::serve::ServeCmd;

use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::browser::{Browser, fresh_artifacts, require_browser};
use support::tls::{make_cert, spki_pin};
use support::{Kill, metric, wait_until};

const PORT: u16 = 18115;
const TOKEN: &str = "wt-admin-token-5c0e9a7713b2";

const LAB: Routers = Routers::new(
    "wt",
    "10.101.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1",
);

fn url() -> String {
    format!("https://127.0.0.1:{PORT}")
}

/// GET over HTTPS in the noc namespace with curl trusting `cert` and the
/// token; the body, or None until the server answers 200.
fn get(lab: &Lab, cert: &Path, path: &str) -> Option<String> {
    let out = lab
        .command_in("noc", "curl")
        .unwrap()
        .args(["-s", "-f", "-m", "5", "--cacert"])
        .arg(cert)
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .arg(format!("{}{path}", url()))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start_serve(lab: &Lab, dir: &Path, cert: &Path, key: &Path) -> Kill {
    let cfg = dir.join("nocmap.toml");
    std::fs::write(
        &cfg,
        format!(
            "[poll]\nicmp_interval_s = 2\nsnmp_interval_s = 2\n\n[server]\nlisten = \"127.0.0.1:{PORT}\"\n\
             token = \"{TOKEN}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let log = dir.join("serve.log");
    let mut serve = Kill(
        ServeCmd::new(lab, "10.101.0.0/16")
            .config(&cfg)
            .db(&dir.join("wt.db"))
            .spawn_logged(&log),
    );
    wait_until("the API over HTTPS", Duration::from_secs(90), || {
        if let Ok(Some(st)) = serve.0.try_wait() {
            panic!(
                "serve exited with {st}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        get(lab, cert, "/api/alerts").map(|_| ())
    });
    serve
}

/// The sysNames of the managed devices in /api/topology, once both routers
/// are there.
fn wait_topology(lab: &Lab, cert: &Path) -> Vec<String> {
    // Both links too: the layout below is judged on the whole chain, and a
    // link LLDP reports late would be placed after the first layout.
    wait_until(
        "r1 and r2 and both links in the topology",
        Duration::from_secs(90),
        || {
            let topo: Value = serde_json::from_str(&get(lab, cert, "/api/topology")?).ok()?;
            if topo["links"].as_array()?.len() < 2 {
                return None;
            }
            let mut names: Vec<String> = topo["devices"]
                .as_array()?
                .iter()
                .filter(|d| d["managed"] == true)
                .filter_map(|d| d["sys_name"].as_str().map(str::to_string))
                .collect();
            names.sort();
            (names.len() >= 2).then_some(names)
        },
    )
}

fn handshake_failures(lab: &Lab, cert: &Path) -> f64 {
    let text = get(lab, cert, "/metrics").expect("/metrics over HTTPS");
    metric(&text, "nocmap_http_tls_handshake_failures_total").expect("the counter")
}

#[test]
fn map_over_https_in_chromium() {
    require_root!();
    require_browser();
    let shots = fresh_artifacts("web_tls");
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "wt");
    let serve = start_serve(&lab, dir.path(), &cert, &key);
    let managed = wait_topology(&lab, &cert);
    assert_eq!(managed, ["r1", "r2"], "the lab's routers");

    // 1. Not trusted: refused by the browser, counted by serve.
    let failed_before = handshake_failures(&lab, &cert);
    {
        let mut b = Browser::start(&lab, "web_tls");
        let e = b
            .try_cmd(json!({"cmd": "open", "url": format!("{}/", url())}))
            .expect_err("a browser that does not trust the certificate must refuse the page");
        assert!(e.contains("ERR_CERT_AUTHORITY_INVALID"), "{e}");
    }
    let failed_after = wait_until(
        "the refused handshake counted",
        Duration::from_secs(10),
        || {
            let n = handshake_failures(&lab, &cert);
            (n > failed_before).then_some(n)
        },
    );
    eprintln!("handshake failures: {failed_before} -> {failed_after}");

    // 2. Trusted by its pin: the map, live over TLS.
    let pin = spki_pin(&cert);
    let pin_arg = format!("--ignore-certificate-errors-spki-list={pin}");
    let mut b = Browser::start_with_args(&lab, "web_tls", &[&pin_arg]);
    b.cmd(json!({"cmd": "open", "url": format!("{}/", url())}));
    b.wait(
        "!document.getElementById('token-form').hidden && document.activeElement.id === 'token-input'",
        20,
        "the token prompt",
        "document.body.innerText",
    );
    b.cmd(json!({"cmd": "fill", "selector": "#token-input", "text": TOKEN}));
    b.cmd(json!({"cmd": "press", "selector": "#token-input", "key": "Enter"}));
    let drawn = b.wait(
        "(() => { const s = window.__nocmap; const cy = window.__nocmap_cy; \
         if (!s || !s.ready || !cy) return null; \
         const names = [...s.model.devices.values()].filter((d) => d.managed).map((d) => d.sys_name).sort(); \
         return names.length >= 2 && names; })()",
        40,
        "the map drawn over HTTPS",
        "[document.body.innerText.slice(0, 300), window.__nocmap && window.__nocmap.feed]",
    );
    assert_eq!(drawn, json!(["r1", "r2"]), "the devices on the map");
    // The layout follows the links: noc ── r1 ── r2 is drawn with r1 in
    // the middle, so neither link passes under a device it does not join
    // (a layout of the nodes without their links drew them as a column in
    // whatever order, r2 between the noc and r1).
    let at = b.eval(
        "(() => { const cy = window.__nocmap_cy; const p = {};          cy.nodes('[!stub]').forEach((n) => { p[n.data('name')] = [n.position().x, n.position().y]; });          return [cy.nodes('[!stub]').length, cy.edges('[!stub]').length, p]; })()",
    );
    assert_eq!((&at[0], &at[1]), (&json!(3), &json!(2)), "{at}");
    let pos = |name: &str| -> (f64, f64) {
        let p = at[2].get(name).unwrap_or_else(|| {
            // The noc is the one device that is not a router.
            at[2]
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| !k.starts_with('r'))
                .unwrap()
                .1
        });
        (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
    };
    let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let (noc, r1, r2) = (pos("noc"), pos("r1"), pos("r2"));
    // The layout follows the links: r1 is nearer to each than they are to
    // each other. (Full-suite runs once drew this map squeezed into the
    // size the container had behind the token prompt; positions no longer
    // depend on the container's size, see tests/web_layout.rs.)
    assert!(
        dist(noc, r2) > dist(noc, r1).max(dist(r1, r2)),
        "r1 is not between the noc and r2: {at}"
    );
    // No device sits on its neighbour: centres two node widths (26) apart.
    let closest = dist(noc, r1).min(dist(r1, r2)).min(dist(noc, r2));
    assert!(closest >= 52.0, "devices {closest} apart: {at}");
    let page = b.eval("[location.protocol, window.isSecureContext, document.cookie]");
    assert_eq!(page, json!(["https:", true, ""]), "a secure context");
    // The live feed over TLS: live, and deltas keep arriving.
    let deltas = b.wait(
        "window.__nocmap.feed === 'live' && window.__nocmap.deltas >= 2 && window.__nocmap.deltas",
        30,
        "deltas on the live feed",
        "[window.__nocmap.feed, window.__nocmap.deltas, window.__nocmap.seq]",
    );
    eprintln!("deltas over HTTPS: {deltas}");
    b.screenshot("2-map-https");
    let shot = shots.join("2-map-https.png");
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "a screenshot of the drawn map at {}",
        shot.display()
    );

    let net = b.cmd(json!({"cmd": "network"}));
    let requests = net["requests"].as_array().unwrap();
    assert!(requests.len() >= 5, "{net}");
    let origin = format!("{}/", url());
    for r in requests {
        let u = r["url"].as_str().unwrap();
        assert!(
            u.starts_with(&origin),
            "a request off the HTTPS origin: {u}"
        );
    }
    for bad in net["bad"].as_array().unwrap() {
        assert_eq!(bad["status"], 401, "only the token prompt's 401s: {net}");
    }
    // Requests cut off by the reload after the token form are aborted;
    // nothing may fail otherwise (a TLS error would show here).
    for f in net["failed"].as_array().unwrap() {
        assert_eq!(f["failure"], "net::ERR_ABORTED", "a failed request: {f}");
    }
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["dialogs"], json!([]), "{events}");
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    let console: Vec<&Value> = events["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            let m = m.as_str().unwrap_or("");
            // The prompt's 401s are logged by Chromium as failed loads;
            // cytoscape warns of the page's deliberate wheel sensitivity.
            !(m.contains("401") && m.contains("Failed to load resource")
                || m.contains("custom wheel sensitivity"))
        })
        .collect();
    assert!(console.is_empty(), "console errors: {console:?}");
    drop(b);
    support::stop_serve(serve, &dir.path().join("serve.log"));
}
