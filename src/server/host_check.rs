//! Which `Host` header a request may carry. A server listening on a
//! loopback address takes any (nothing but the machine itself reaches it).
//! Beyond loopback only the configured names (`[server] allowed_hosts`)
//! and the address the client connected to are taken, so that a page
//! whose DNS name was re-pointed at the server (DNS rebinding) cannot use
//! it; others get 421 Misdirected Request. Pure: the caller passes the
//! addresses.
use std::net::{IpAddr, SocketAddr};

/// Where a request came in: the listening address and the local end of
/// its connection (for a wildcard listen address, the address the client
/// reached).
#[derive(Debug, Clone, Copy)]
pub struct ServerAddr {
    pub listen: SocketAddr,
    pub local: SocketAddr,
}

/// Whether `host` (the header's value, `None` when absent) names this
/// server.
pub fn allowed(host: Option<&[u8]>, at: ServerAddr, names: &[String]) -> bool {
    if at.listen.ip().is_loopback() {
        return true;
    }
    let Some(host) = host.and_then(|h| std::str::from_utf8(h).ok()) else {
        return false;
    };
    let Some(name) = host_part(host.trim()) else {
        return false;
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return false;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return same_ip(ip, at.local.ip())
            || (!at.listen.ip().is_unspecified() && same_ip(ip, at.listen.ip()));
    }
    names.iter().any(|n| {
        let n = n.strip_suffix('.').unwrap_or(n);
        n.eq_ignore_ascii_case(name)
    })
}

/// An IPv4 client on a dual-stack socket shows as `::ffff:a.b.c.d`.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

/// The name or address of a `Host` value without its port: `name`,
/// `name:port`, `a.b.c.d:port`, `[v6]` or `[v6]:port`. `None` for
/// anything else (a bare IPv6 address is not a valid `Host`).
fn host_part(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        return match after {
            "" => Some(inner),
            p if p.strip_prefix(':').is_some_and(is_port) => Some(inner),
            _ => None,
        };
    }
    match host.split_once(':') {
        None => Some(host),
        Some((name, port)) if is_port(port) => Some(name),
        Some(_) => None,
    }
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(listen: &str, local: &str) -> ServerAddr {
        ServerAddr {
            listen: listen.parse().unwrap(),
            local: local.parse().unwrap(),
        }
    }

    fn ok(host: &str, at: ServerAddr) -> bool {
        allowed(Some(host.as_bytes()), at, &["NOC.example.net".to_string()])
    }

    #[test]
    fn loopback_listening_takes_any_host() {
        let lo = at("127.0.0.1:8080", "127.0.0.1:8080");
        assert!(ok("evil.example", lo));
        assert!(ok("noc.example.net", lo));
        assert!(allowed(None, lo, &[]));
        let lo6 = at("[::1]:8080", "[::1]:8080");
        assert!(ok("rebound.example:8080", lo6));
    }

    #[test]
    fn beyond_loopback_only_the_names_and_the_address() {
        let a = at("10.98.200.10:8080", "10.98.200.10:8080");
        assert!(ok("noc.example.net", a));
        assert!(ok("noc.example.net:8080", a));
        assert!(ok("Noc.Example.Net.", a));
        assert!(ok("10.98.200.10:8080", a));
        assert!(ok("10.98.200.10", a));
        assert!(!ok("evil.example", a));
        assert!(!ok("evil.example:8080", a));
        assert!(!ok("noc.example.net.evil.example", a));
        assert!(!ok("10.98.200.11:8080", a));
        assert!(!ok("127.0.0.1:8080", a));
        assert!(!ok("", a));
        assert!(!ok("noc.example.net:80x", a));
        assert!(!allowed(None, a, &[]));
        assert!(!allowed(Some(b"\xff"), a, &[]));
    }

    #[test]
    fn a_wildcard_listen_takes_the_address_the_client_reached() {
        let w = at("0.0.0.0:8080", "10.98.201.7:8080");
        assert!(ok("10.98.201.7:8080", w));
        assert!(!ok("0.0.0.0:8080", w));
        assert!(!ok("evil.example", w));
        let w6 = at("[::]:8080", "[fd98::7]:8080");
        assert!(ok("[fd98::7]:8080", w6));
        assert!(ok("[fd98::7]", w6));
        assert!(!ok("fd98::7", w6));
        let mapped = at("[::]:8080", "[::ffff:10.98.201.7]:8080");
        assert!(ok("10.98.201.7:8080", mapped));
    }
}
