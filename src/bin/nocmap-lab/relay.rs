//! A TCP relay from the host into a network namespace: the demo's monitor
//! runs inside the lab's `noc` namespace (no route out), and this relay lets
//! a browser on the host reach its API on 127.0.0.1. Each accepted
//! connection gets a socket created inside the namespace (a short-lived
//! thread enters it with setns; the socket keeps its namespace afterwards).
use anyhow::Context;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};

/// Connect to `target` from inside the namespace `ns` (a name under /run/netns).
pub(super) fn connect_in(ns: &str, target: SocketAddr) -> std::io::Result<std::net::TcpStream> {
    use std::os::fd::AsRawFd;
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path)?;
        // SAFETY: setns on this short-lived thread only; the fd is valid for the call.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        std::net::TcpStream::connect_timeout(&target, std::time::Duration::from_secs(5))
    })
    .join()
    .map_err(|_| std::io::Error::other("relay thread failed"))?
}

/// Accept on `listen` (on the host) and relay every connection to `target`
/// inside `ns`, until the task is dropped.
pub async fn run(listen: SocketAddr, ns: String, target: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        let ns = ns.clone();
        tokio::spawn(async move {
            let Ok(Ok(inner)) = tokio::task::spawn_blocking(move || connect_in(&ns, target)).await
            else {
                return;
            };
            if inner.set_nonblocking(true).is_err() {
                return;
            }
            let Ok(mut inner) = TcpStream::from_std(inner) else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut inner).await;
        });
    }
}
