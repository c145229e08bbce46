//! Caps on concurrent connections, per client and in total, taken in the
//! accept loop before any per-connection work (no task, no TLS, no
//! buffer): a connection over a cap is closed at once and accepting goes
//! on. A client is its IPv4 address, or its IPv6 /64 (one host usually
//! holds a whole /64). Each admitted connection holds a [`ConnGuard`];
//! dropping it (the connection closed) gives the place back. Pure apart
//! from the lock.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections one client may hold open at once.
    pub per_client: usize,
    /// Connections the server holds open at once.
    pub total: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            per_client: 256,
            total: 4096,
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its client already holds `per_client` connections.
    PerClient,
    /// The server already holds `total` connections.
    Total,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::PerClient => "per_client",
            Refused::Total => "total",
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// The open connections of one server.
#[derive(Debug)]
pub struct ConnTable {
    limits: ConnLimits,
    counts: Mutex<Counts>,
}

/// An admitted connection's place; dropped when the connection ends.
#[derive(Debug)]
pub struct ConnGuard {
    table: Arc<ConnTable>,
    client: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.table.release(self.client);
    }
}

/// The key a connection from `ip` is counted under.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl ConnTable {
    pub fn new(limits: ConnLimits) -> Arc<ConnTable> {
        Arc::new(ConnTable {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection from `ip`, or says which cap it is over.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnGuard, Refused> {
        let client = client_key(ip);
        let mut c = self.lock();
        if c.total >= self.limits.total {
            return Err(Refused::Total);
        }
        let n = c.per_client.entry(client).or_insert(0);
        if *n >= self.limits.per_client {
            return Err(Refused::PerClient);
        }
        *n += 1;
        c.total += 1;
        Ok(ConnGuard {
            table: self.clone(),
            client,
        })
    }

    fn release(&self, client: IpAddr) {
        let mut c = self.lock();
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_client.get_mut(&client) {
            *n -= 1;
            if *n == 0 {
                c.per_client.remove(&client);
            }
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// Clients holding at least one connection (the table's size).
    pub fn clients(&self) -> usize {
        self.lock().per_client.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_client_is_capped_and_others_still_get_in() {
        let t = ConnTable::new(ConnLimits {
            per_client: 3,
            total: 10,
        });
        let held: Vec<_> = (0..3).map(|_| t.admit(ip("127.0.0.2")).unwrap()).collect();
        assert_eq!(t.admit(ip("127.0.0.2")).unwrap_err(), Refused::PerClient);
        let other = t.admit(ip("127.0.0.3")).unwrap();
        assert_eq!(t.open(), 4);
        // A refusal holds no place.
        assert_eq!(t.admit(ip("127.0.0.2")).unwrap_err(), Refused::PerClient);
        assert_eq!(t.open(), 4);
        drop(other);
        drop(held);
        assert_eq!(t.open(), 0);
        assert_eq!(t.clients(), 0, "released clients leave the table");
    }

    #[test]
    fn the_total_is_capped_and_closing_gives_places_back() {
        let t = ConnTable::new(ConnLimits {
            per_client: 2,
            total: 5,
        });
        let mut held: Vec<_> = (1..=5)
            .map(|n| t.admit(ip(&format!("127.0.0.{n}"))).unwrap())
            .collect();
        assert_eq!(t.admit(ip("127.0.0.9")).unwrap_err(), Refused::Total);
        assert_eq!(t.admit(ip("127.0.0.1")).unwrap_err(), Refused::Total);
        held.pop();
        assert_eq!(t.open(), 4);
        let again = t.admit(ip("127.0.0.9")).unwrap();
        assert_eq!(t.open(), 5);
        drop(again);
        drop(held);
        assert_eq!((t.open(), t.clients()), (0, 0));
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_mapped_ipv4_is_ipv4() {
        let t = ConnTable::new(ConnLimits {
            per_client: 2,
            total: 100,
        });
        let _a = t.admit(ip("fd98::1")).unwrap();
        let _b = t.admit(ip("fd98::2:3:4:5")).unwrap();
        assert_eq!(t.admit(ip("fd98::ffff")).unwrap_err(), Refused::PerClient);
        let _c = t.admit(ip("fd98:0:0:1::1")).unwrap();
        let _d = t.admit(ip("127.0.0.2")).unwrap();
        let _e = t.admit(ip("::ffff:127.0.0.2")).unwrap();
        assert_eq!(
            t.admit(ip("127.0.0.2")).unwrap_err(),
            Refused::PerClient,
            "an IPv4 client on a dual-stack socket is the same client"
        );
    }

    #[test]
    fn guards_released_from_many_threads_balance() {
        let t = ConnTable::new(ConnLimits {
            per_client: 1000,
            total: 100_000,
        });
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let g = t.admit(ip(&format!("127.0.1.{n}"))).unwrap();
                        drop(g);
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!((t.open(), t.clients()), (0, 0));
    }
}
