//! The syslog receiver on loopback (no root): UDP, TCP with octet counting
//! and LF framing, and TLS (a certificate signed by a test CA, both made
//! with the openssl CLI; a rustls client that trusts the CA) into the store through the receiver's own
//! writer; a broken octet count closes that connection only and is
//! counted; a message naming a device's sysName from an address no device
//! owns is matched by the name; the stop signal ends every loop and the
//! writer's last batch is stored.
mod support;

use nocmap::live::Live;
use nocmap::store::{EventFilter, Store, StoreConfig};
use nocmap::syslog::{DropReason, SyslogSettings, TlsListen, Transport};
use nocmap::topology::Topology;
use nocmap::types::UnixMillis;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn framed(msg: &str) -> Vec<u8> {
    format!("{} {msg}", msg.len()).into_bytes()
}

fn stored(db: &std::path::Path) -> Vec<nocmap::store::EventRow> {
    let Ok(store) = Store::open(db, StoreConfig::default()) else {
        return Vec::new();
    };
    store
        .search_events(&EventFilter {
            device: None,
            since: UnixMillis(0),
            kind: None,
            max_severity: None,
            text: None,
            limit: 100,
        })
        .map(|p| p.events)
        .unwrap_or_default()
}

async fn tls_client(ca: &std::path::Path) -> tokio_rustls::TlsConnector {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_tcp_and_tls_messages_are_stored_and_a_broken_stream_is_closed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = support::tls::make_signed(dir.path(), "syslog", "IP:127.0.0.1", "serverAuth");
    let ca = dir.path().join("ca.crt");
    let db = dir.path().join("syslog.db");
    let mut dev = support::topology::device("core-1");
    dev.addresses = vec!["127.0.0.1".parse().unwrap()];
    let named = support::topology::device("edge-9");
    let topology = Topology {
        devices: vec![dev, named],
        links: vec![],
    };
    let live = Arc::new(Live::new(topology, 180_000));
    let any = "127.0.0.1:0".parse().unwrap();
    let bound = nocmap::syslog::bind(&SyslogSettings {
        listen_udp: Some(any),
        listen_tcp: Some(any),
        tls: Some(TlsListen {
            listen: any,
            cert: cert.clone(),
            key: key.clone(),
        }),
    })
    .unwrap();
    let (udp, tcp, tls) = (
        bound.local_udp.unwrap(),
        bound.local_tcp.unwrap(),
        bound.local_tls.unwrap(),
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let receiver = nocmap::syslog::start(
        bound,
        live,
        db.clone(),
        StoreConfig::default(),
        None,
        stop_rx,
    );

    // UDP from 127.0.0.1 (core-1's address); one from 127.0.0.2 naming
    // edge-9; one datagram that is no message.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(b"<11>1 - - app - - - udp one", udp)
        .await
        .unwrap();
    sock.send_to(b"<999>bad", udp).await.unwrap();
    let other = tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap();
    other
        .send_to(b"<14>Dec  6 10:00:00 EDGE-9 sshd[7]: by name", udp)
        .await
        .unwrap();

    // TCP: an octet-counted and a LF-framed message, then a broken count:
    // serve closes this connection.
    let mut c = tokio::net::TcpStream::connect(tcp).await.unwrap();
    c.write_all(&framed(
        "<13>1 - - app - - - tcp octet\nwith a newline inside",
    ))
    .await
    .unwrap();
    c.write_all(b"<13>tcp line\n12x <13>broken").await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the connection stayed open: {closed:?}"
    );

    // TLS, octet-counted.
    let conn = tokio::net::TcpStream::connect(tls).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut t = tls_client(&ca).await.connect(name, conn).await.unwrap();
    t.write_all(&framed(
        "<10>1 2026-12-06T10:00:00Z core-1 tlsapp - - - over tls",
    ))
    .await
    .unwrap();
    t.shutdown().await.unwrap();

    let t0 = Instant::now();
    let mut rows = stored(&db);
    while rows.len() < 5 && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        rows = stored(&db);
    }
    let mut got: Vec<(String, Option<String>, Option<String>)> = rows
        .iter()
        .map(|e| {
            let s = e.syslog.as_ref().unwrap();
            (s.message.clone(), e.device.clone(), e.matched_by.clone())
        })
        .collect();
    got.sort();
    let core = Some("core-1".to_string());
    let by = |s: &str| Some(s.to_string());
    assert_eq!(
        got,
        vec![
            ("by name".into(), Some("edge-9".into()), by("hostname")),
            ("over tls".into(), core.clone(), by("source")),
            ("tcp line".into(), core.clone(), by("source")),
            (
                "tcp octet\nwith a newline inside".into(),
                core.clone(),
                by("source")
            ),
            ("udp one".into(), core.clone(), by("source")),
        ],
        "{rows:?}"
    );
    let s = receiver.stats.snapshot();
    let n = |t: Transport| s.received.iter().find(|(x, _)| *x == t).unwrap().1;
    assert_eq!(
        (n(Transport::Udp), n(Transport::Tcp), n(Transport::Tls)),
        (2, 2, 1)
    );
    let dropped = |r: DropReason| s.dropped.iter().find(|(x, _)| *x == r).unwrap().1;
    assert_eq!(dropped(DropReason::Framing), 1);
    assert_eq!(dropped(DropReason::QueueFull), 0);
    assert_eq!(
        s.parse_errors.iter().map(|(_, n)| n).sum::<u64>(),
        1,
        "{s:?}"
    );

    // The stop ends the loops, open connections included, and the writer.
    let _open = tokio::net::TcpStream::connect(tcp).await.unwrap();
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), receiver.join())
        .await
        .expect("the receiver did not stop");
}
