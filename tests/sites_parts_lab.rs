//! A site too big for one message, over a real nats-server (Debian's
//! 2.9.10, its default max_payload of 1 MiB): the noc's namespace runs
//! nats-server and `nocmap serve` as central; the site's namespace runs the
//! product's site publisher (`nocmap::sites::spawn` as a poller) on a live
//! map of 1,500 switches of 50 interfaces each, as discovery would give it
//! — JSON of about 16 MB, 1.7 MB packed:
//!
//! ```text
//!   noc (nats-server, central) ──WAN── site (site publisher)
//! ```
//!
//! The central's `/api/devices` holds every one of the site's 1,500
//! devices, and the stream holds the topology as parts on
//! `nocmap.site.<site>.topology.parts`, each under the bound. Then a set
//! of a smaller map (1,400) arrives part by part: while one part is
//! missing the central keeps the 1,500; once it is there, the 1,400.
//! Without parts the site cannot send its map at all (the publisher logs
//! "topology not sent ... over the limit of 1000000" every heartbeat) and
//! the first wait fails.
#[macro_use]
mod support;
use nocmap::sites::wire::{self, SiteState};
use nocmap::sites::wire_parts;
use nocmap_lab::Lab;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, files};

const LAB: Routers = Routers::new("natpart", "10.114.0.0/16", "noc:eth0 - site:eth0");
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_270;
const CENTRAL_API: u16 = 18_271;
const SITE: &str = "bigsite";
const DEVICES: usize = 1_500;

/// A site of `n` switches of 50 interfaces each, chained by LLDP links
/// (the shape of `wire_parts`' unit test), addresses in the lab's prefix.
fn big_site(n: usize) -> nocmap::topology::Topology {
    nocmap::topology::generated::switch_chain(SITE, n, |i| {
        format!("10.114.{}.{}", 100 + (i >> 8), i & 0xff)
    })
}

/// The product's site publisher in `node`'s namespace, its live map
/// `topology`, until `stop`.
fn site_publisher(
    lab: &Lab,
    node: &str,
    url: String,
    topology: nocmap::topology::Topology,
    db: PathBuf,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use nocmap::sites::{Auth, SiteSettings, SiteStatus, Wiring};
    let path = format!("/run/netns/{}", lab.ns(node).unwrap());
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let ns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a valid namespace fd; the
        // runtime's threads are started from it, so they are inside too.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let settings = SiteSettings {
                url,
                site: SITE.into(),
                role: nocmap::config::NatsRole::Poller,
                auth: Auth::None,
                ca_file: None,
                client_cert: None,
                backfill_per_s: 1_000,
                // The default: a debug build takes seconds to pack the map.
                heartbeat: Duration::from_secs(5),
                expect: vec![],
                group: None,
                central: None,
            };
            let store = settings.store_config(Default::default());
            let (topologies, _t) = tokio::sync::mpsc::unbounded_channel();
            let (alerts, _a) = tokio::sync::mpsc::unbounded_channel();
            let wiring = Wiring {
                live: Arc::new(nocmap::live::Live::new(topology, 60_000)),
                topologies,
                alerts,
                status: Arc::new(SiteStatus::default()),
                held: None,
                active: None,
            };
            let (tx, rx) = tokio::sync::watch::channel(false);
            let task = nocmap::sites::spawn(settings, &db, store, wiring, rx);
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let _ = tx.send(true);
            let _ = task.await;
        })
    })
}

/// How many of the central's devices are the site's (`None` while it does
/// not answer).
fn site_devices(lab: &Lab) -> Option<usize> {
    let out = lab
        .command_in("noc", "curl")
        .ok()?
        .args(["-sf", "-m", "30"])
        .arg(format!("http://127.0.0.1:{CENTRAL_API}/api/devices"))
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let list = v.as_array().or_else(|| v["devices"].as_array())?;
    Some(list.iter().filter(|d| d["site"] == SITE).count())
}

/// Runs `f` on a JetStream context of the noc's nats-server.
fn with_js<T: Send + 'static>(
    lab: &Lab,
    f: impl AsyncFnOnce(async_nats::jetstream::Context) -> T + Send + 'static,
) -> T {
    support::run_in_ns(lab, "noc", move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = async_nats::connect(format!("127.0.0.1:{NATS_PORT}"))
                .await
                .unwrap();
            f(async_nats::jetstream::new(client)).await
        })
    })
}

/// The sizes of the messages the stream holds on `subject`.
fn stream_sizes(lab: &Lab, subject: String) -> Vec<usize> {
    with_js(lab, async move |js| {
        use async_nats::jetstream::consumer::pull::OrderedConfig;
        use futures::StreamExt;
        let stream = js.get_stream(wire::STREAM).await.unwrap();
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: subject,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut sizes = vec![];
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_secs(2), messages.next()).await
        {
            sizes.push(msg.payload.len());
            if msg.info().unwrap().pending == 0 {
                break;
            }
        }
        sizes
    })
}

/// Publishes `parts` on the site's topology parts subject, as its poller
/// would.
fn publish_parts(lab: &Lab, parts: Vec<Vec<u8>>) {
    with_js(lab, async move |js| {
        for part in parts {
            js.publish(wire_parts::topology_parts_subject(SITE), part.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    })
}

#[test]
fn a_site_too_big_for_one_message_reaches_the_central_in_parts() {
    require_root!();
    support::nats::require_server();
    let lab = support::lab_up_toml(&LAB.toml());
    let central_addr = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let (dir, central_cfg, central_db, _) = files(
        "central",
        &format!(
            "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n"
        ),
    );
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let central = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&central_cfg)
        .db(&central_db)
        .listen(CENTRAL_API)
        .start_captured("central");
    support::wait_until("the central's API", Duration::from_secs(30), || {
        site_devices(&lab)
    });

    let topology = big_site(DEVICES);
    let state = wire::SiteTopology {
        site: SITE.into(),
        at: 0,
        topology: topology.clone(),
    };
    let json = serde_json::to_vec(&state).unwrap().len();
    let packed = state.pack().unwrap().len();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let site = site_publisher(
        &lab,
        "site",
        format!("nats://{central_addr}:{NATS_PORT}"),
        topology,
        dir.path().join("site.db"),
        stop.clone(),
    );
    support::wait_until(
        "every one of the site's 1,500 devices at the central",
        Duration::from_secs(120),
        || (site_devices(&lab)? == DEVICES).then_some(()),
    );
    let mapped = t0.elapsed();
    let parts = stream_sizes(&lab, wire_parts::topology_parts_subject(SITE));
    let whole = stream_sizes(&lab, wire::topology_subject(SITE));
    eprintln!(
        "1,500 x 50: JSON {json} B, packed {packed} B, parts {parts:?} B; \
         on the central's map {mapped:?} after the publisher started"
    );
    assert!(parts.len() >= 2, "parts in the stream: {parts:?}");
    assert!(
        parts.iter().all(|p| *p < wire::MAX_STATE_BYTES),
        "{parts:?}"
    );
    assert!(whole.is_empty(), "a whole topology message: {whole:?}");

    // A smaller map (1,400) in parts, the last held back: the central
    // keeps the 1,500 while a part is missing, takes the 1,400 once all
    // of its generation are there.
    let smaller = wire::SiteTopology {
        site: SITE.into(),
        at: 1,
        topology: big_site(1_400),
    };
    let mut next = wire_parts::split(&smaller.pack().unwrap(), 42).unwrap();
    assert!(next.len() >= 2);
    let last = next.pop().unwrap();
    publish_parts(&lab, next);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        site_devices(&lab),
        Some(DEVICES),
        "a partial set replaced the site's map"
    );
    let t1 = Instant::now();
    publish_parts(&lab, vec![last]);
    eprintln!("the last part published at {}", support::nats::now_ms());
    support::wait_until(
        "the smaller map once its last part is there",
        Duration::from_secs(60),
        || (site_devices(&lab)? == 1_400).then_some(()),
    );
    eprintln!(
        "1,400 x 50 on the central's map {:?} after its last part",
        t1.elapsed()
    );
    // The 1,500's parts left the stream once replaced.
    let parts = stream_sizes(&lab, wire_parts::topology_parts_subject(SITE));
    assert_eq!(parts.len(), 2, "{parts:?}");

    for line in central
        .log()
        .lines()
        .filter(|l| l.contains("site's topology"))
    {
        eprintln!("central: {line}");
    }
    assert!(!central.log().contains("panicked"));
    stop.store(true, Ordering::Relaxed);
    site.join().unwrap();
}
