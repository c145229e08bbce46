//! The ICMP engine's receive loop dying under it (what a bug reached by a
//! hostile datagram, or a socket error, leaves behind) while its sends still
//! work: real ICMP to 127.0.0.1 in a namespace of its own, the engine in this
//! process. The round that overlapped the death says it measured nothing
//! instead of reading 100 % loss, rounds while no loop runs fail at once, and
//! the loop is started again by itself.
mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use nocmap::icmp::{IcmpConfig, IcmpEngine, IcmpError, PingOptions};
use support::icmp::{Netns, need_root};

fn opts() -> PingOptions {
    PingOptions {
        count: 3,
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(300),
        ..PingOptions::default()
    }
}

#[test]
fn a_dead_receive_loop_gives_no_verdict_and_is_restarted() {
    if !need_root("a_dead_receive_loop_gives_no_verdict_and_is_restarted") {
        return;
    }
    let ns = Netns::new("rxdie");
    ns.enter_current_thread();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = IcmpEngine::new(IcmpConfig::default()).unwrap();
        let target = IpAddr::V4(Ipv4Addr::LOCALHOST);

        let before = engine.ping(target, opts()).await.unwrap();
        assert_eq!(before.received, 3, "{before:?}");
        assert_eq!(engine.counters().receiver_restarts, 0);

        // The first reply of the next round kills the loop.
        engine.fault_panic_receivers();
        let sent_before = engine.counters().sent;
        let broken = engine.ping(target, opts()).await;
        match &broken {
            Err(IcmpError::ReceiverDown { restarts, .. }) => assert_eq!(*restarts, 1),
            other => panic!("the round the loop died in measured nothing, got {other:?}"),
        }
        assert!(
            engine.counters().sent >= sent_before + 3,
            "the sends went out while the loop was dead"
        );
        let text = broken.unwrap_err().to_string();
        assert!(text.contains("measured nothing"), "{text}");
        eprintln!("round across the death: {text}");

        // While the loop waits for its restart (100 ms) a round fails at once,
        // before sending anything; once it runs again rounds measure as
        // before.
        let waited = Instant::now();
        let mut refused_early = 0;
        let after = loop {
            let sent = engine.counters().sent;
            match engine.ping(target, opts()).await {
                Ok(stats) => break stats,
                Err(IcmpError::ReceiverDown { .. }) => {
                    if engine.counters().sent == sent {
                        refused_early += 1;
                    }
                }
                Err(e) => panic!("{e}"),
            }
            assert!(
                waited.elapsed() < Duration::from_secs(5),
                "the receive loop did not come back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        eprintln!(
            "back after {} ms, {refused_early} round(s) refused before sending",
            waited.elapsed().as_millis()
        );
        assert_eq!(after.received, 3, "{after:?}");
        let c = engine.counters();
        assert_eq!(c.receiver_restarts, 1, "{c:?}");

        // A second death is mended the same way.
        engine.fault_panic_receivers();
        assert!(matches!(
            engine.ping(target, opts()).await,
            Err(IcmpError::ReceiverDown { restarts: 2, .. })
        ));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let again = engine.ping(target, opts()).await.unwrap();
        assert_eq!(again.received, 3, "{again:?}");
        assert_eq!(engine.counters().receiver_restarts, 2);
    });
}
