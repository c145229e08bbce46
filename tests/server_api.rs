//! The JSON API, /healthz, security headers and bearer-token auth against a
//! real server on 127.0.0.1:0, with hostile device strings.
mod support;

use nocmap::server::{AppState, AuthConfig, CONTENT_SECURITY_POLICY, MAX_BODY_BYTES};
use nocmap::types::Secret;
use support::server::*;

fn state(auth: bool) -> AppState {
    AppState {
        live: hostile_live(),
        db_path: None,
        reports: None,
        allowed_hosts: Vec::new(),
        conn_limits: Default::default(),
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        feed: None,
        limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
            Default::default(),
        )),
        auth: auth.then(|| AuthConfig {
            admin_token: Secret::new(ADMIN),
            read_only_token: Some(Secret::new(VIEWER)),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_and_topology_shapes_carry_hostile_strings_as_data() {
    let srv = start(state(false));
    let r = get(srv.addr, "/api/devices", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let v = r.json();
    let devs = v.as_array().unwrap();
    assert_eq!(devs.len(), 2);
    assert_eq!(devs[0]["id"], "dev-a");
    assert_eq!(devs[0]["sys_name"], EVIL_SYS_NAME);
    assert_eq!(devs[0]["health"]["reachability"], "up");
    assert_eq!(devs[0]["health"]["rtt_avg_ms"], 1.25);
    assert_eq!(devs[0]["interfaces"][1]["name"], EVIL_IF_NAME);
    assert_eq!(devs[0]["interface_health"]["Gi0/1"]["in_bps"], 2_000_000.0);
    assert_eq!(devs[0]["interface_health"][EVIL_IF_NAME]["in_bps"], 42.0);
    assert_eq!(devs[1]["sys_name"], SCRIPT_SYS_NAME);
    assert_eq!(devs[1]["health"]["reachability"], "unknown");
    assert_eq!(devs[1]["interface_health"].as_object().unwrap().len(), 1);
    // The raw body never carries markup unescaped by accident: serde keeps
    // it a JSON string; `<` itself is legal JSON and the content type is JSON.
    assert!(
        !r.body.contains("x\"} evil{"),
        "quote must be escaped in JSON"
    );

    let r = get(srv.addr, "/api/topology", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["devices"].as_array().unwrap().len(), 2);
    assert_eq!(v["devices"][0]["health"]["loss_pct"], 25.0);
    let link = &v["links"][0];
    assert_eq!(link["id"], "dev-a:Gi0/1--dev-b:eth0");
    assert_eq!(link["a"]["device"], "dev-a");
    assert_eq!(link["evidence"][0], "lldp");
    assert_eq!(link["in_bps"], 2_000_000.0);
    assert_eq!(link["out_bps"], 500_000.0);
    assert_eq!(link["utilization_pct"], 0.2);
    assert_eq!(link["errors_per_s"], 0.0);
    assert_eq!(link["status"], "up");
    assert_eq!(link["stale"], false);
    // How the map draws it, decided by the server: the page only paints.
    assert_eq!(link["state"], "ok");
    assert_eq!(link["a_to_b_band"], "0-1");
    assert_eq!(link["b_to_a_band"], "0-1");
    assert!(v["generated_ms"].as_i64().unwrap() > 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_the_security_headers_and_no_cors() {
    let srv = start(state(true));
    for (path, token, status) in [
        ("/healthz", None, 200),
        ("/api/devices", Some(VIEWER), 200),
        ("/metrics", Some(ADMIN), 200),
        ("/api/devices", None, 401),
        ("/nope", None, 404),
    ] {
        let r = get(srv.addr, path, token).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(
            r.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'self'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("access-control-allow-origin").is_none(), "{path}");
    }
    let r = get(srv.addr, "/healthz", None).await;
    assert_eq!(r.json()["status"], "ok");
    let r = get(srv.addr, "/nope", None).await;
    assert_eq!(r.json()["error"], "no such route");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_when_configured_and_never_echoed() {
    let srv = start(state(true));
    for path in ["/api/devices", "/api/topology", "/metrics", "/api/anything"] {
        let r = get(srv.addr, path, None).await;
        assert_eq!(r.status, 401, "{path} without a token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.json()["error"], "missing or invalid bearer token");
        let wrong = format!("{ADMIN}x");
        let r = get(srv.addr, path, Some(&wrong)).await;
        assert_eq!(r.status, 401, "{path} with a wrong token");
        assert!(!r.body.contains(&wrong) && !r.body.contains(ADMIN));
        let r = request(
            srv.addr,
            "GET",
            path,
            &[&format!("Authorization: Basic {ADMIN}")],
        )
        .await;
        assert_eq!(r.status, 401, "{path} with another scheme");
    }
    for path in ["/api/devices", "/api/topology", "/metrics"] {
        for token in [ADMIN, VIEWER] {
            let r = get(srv.addr, path, Some(token)).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            assert!(!r.body.contains(token));
        }
    }
    assert_eq!(get(srv.addr, "/healthz", None).await.status, 200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auth_configured_no_token_is_needed_and_methods_are_checked() {
    let srv = start(state(false));
    assert_eq!(get(srv.addr, "/metrics", None).await.status, 200);
    let r = request(srv.addr, "POST", "/api/devices", &["Content-Length: 0"]).await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert!(r.json()["error"].is_string());
    let r = request(
        srv.addr,
        "POST",
        "/api/devices",
        &[&format!("Content-Length: {}", MAX_BODY_BYTES + 1)],
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_a_static_file_gets_429_from_its_own_budget() {
    use nocmap::server::rate_limit::{Limits, RateLimiter, STATIC_FACTOR};
    let mut st = state(true);
    st.limiter = std::sync::Arc::new(RateLimiter::new(Limits {
        per_second: 0.01,
        burst: 3.0,
        streams_per_client: 1,
    }));
    let srv = start(st);
    let files = (3.0 * STATIC_FACTOR) as usize;
    let mut codes = Vec::new();
    for path in ["/css/map.css", "/", "/js/app.js"]
        .iter()
        .cycle()
        .take(files + 3)
    {
        codes.push(get(srv.addr, path, None).await.status);
    }
    let mut want = vec![200; files];
    want.extend([429, 429, 429]);
    assert_eq!(codes, want, "the page's files are rate limited");
    let r = get(srv.addr, "/vendor/cytoscape.min.js", None).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    // The API's budget is its own: the file flood did not spend it.
    assert_eq!(get(srv.addr, "/healthz", None).await.status, 200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_loopback_any_host_header_is_served_without_configuration() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start(state(false));
    for host in ["rebound.example", "rebound.example:80", "localhost"] {
        let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        let req = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.unwrap();
        assert!(raw.starts_with("HTTP/1.1 200"), "{host}: {raw}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_with_a_valid_token_gets_411() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start(state(true));
    let body = r#"{"positions":{}}"#;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!(
        "PUT /api/map/positions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        srv.addr,
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 411"), "{raw}");
    assert!(raw.contains(r#"{"error":"#), "{raw}");
    // Without the token it stays 401; a method no route takes stays 405.
    let r = request(
        srv.addr,
        "PUT",
        "/api/map/positions",
        &["Transfer-Encoding: chunked"],
    )
    .await;
    assert_eq!(r.status, 401);
    let auth = format!("Authorization: Bearer {ADMIN}");
    let r = request(
        srv.addr,
        "POST",
        "/api/devices",
        &[&auth, "Content-Length: 0"],
    )
    .await;
    assert_eq!(r.status, 405);
    srv.stop().await;
}
