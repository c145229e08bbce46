//! Unit tests of the SNMP engine that need no agent: a panic in a request,
//! more varbinds than asked.
use super::*;

fn target() -> SocketAddr {
    "192.0.2.1:161".parse().unwrap()
}

#[tokio::test]
async fn a_panic_in_a_request_is_this_agents_error() {
    let r = contained(target(), async {
        if target().port() == 161 {
            panic!("decoder bug");
        }
        1
    })
    .await;
    match r {
        Err(SnmpError::Protocol { target: t, detail }) => {
            assert_eq!(t, target());
            assert!(detail.contains("panicked"), "{detail}");
            assert!(
                !detail.contains("decoder bug"),
                "the panic text is not passed on"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(contained(target(), async { 7 }).await.unwrap(), 7);
}

#[test]
fn more_varbinds_than_asked_is_refused() {
    assert!(check_count(target(), 25, 25).is_ok());
    assert!(check_count(target(), 25, 3).is_ok());
    let e = check_count(target(), 3, 612).unwrap_err();
    assert!(
        e.to_string()
            .contains("oversized response: 612 varbinds for 3 asked"),
        "{e}"
    );
}
