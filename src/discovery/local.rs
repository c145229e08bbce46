//! The poller's own interfaces (name, addresses, MAC) from getifaddrs(3), so
//! discovery can recognise the host it runs on when neighbours' tables show
//! it (`self_host` does the recognising), and for the alert runner behind
//! [`HostInterfaces`], the handle it is given in `io::Io`. The only system
//! call of discovery outside SNMP; it interprets nothing.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalInterface {
    pub name: String,
    pub addrs: Vec<IpAddr>,
    pub mac: Option<String>,
    /// Administratively up with a carrier (IFF_UP and IFF_RUNNING).
    pub up: bool,
}

/// This host's interfaces as a handle, so a loop that watches them (the
/// alert runner's isolation check) runs against scripted ones in a test.
pub trait HostInterfaces: Send + Sync + 'static {
    /// Every interface of this host now (see [`local_interfaces`]).
    fn interfaces(&self) -> Vec<LocalInterface>;
}

/// The host's own interfaces, read with getifaddrs at every call.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemInterfaces;

impl HostInterfaces for SystemInterfaces {
    fn interfaces(&self) -> Vec<LocalInterface> {
        local_interfaces()
    }
}

/// Every interface of this network namespace with its addresses and MAC.
/// An error of getifaddrs gives an empty list: recognising the poller is a
/// nicety, never a reason to fail discovery.
pub fn local_interfaces() -> Vec<LocalInterface> {
    let mut out: Vec<LocalInterface> = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below; we only read
    // entries while the list is alive and check every pointer for null.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut cur = head;
        while !cur.is_null() {
            let ifa = &*cur;
            cur = ifa.ifa_next;
            if ifa.ifa_name.is_null() || ifa.ifa_addr.is_null() {
                continue;
            }
            let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                .to_string_lossy()
                .into_owned();
            let idx = match out.iter().position(|i| i.name == name) {
                Some(i) => i,
                None => {
                    out.push(LocalInterface {
                        name,
                        ..Default::default()
                    });
                    out.len() - 1
                }
            };
            let flags = ifa.ifa_flags;
            out[idx].up = flags & libc::IFF_UP as u32 != 0 && flags & libc::IFF_RUNNING as u32 != 0;
            let family = (*ifa.ifa_addr).sa_family as i32;
            match family {
                libc::AF_INET => {
                    let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    out[idx].addrs.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))));
                }
                libc::AF_INET6 => {
                    let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    out[idx]
                        .addrs
                        .push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                }
                libc::AF_PACKET => {
                    let sll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    if sll.sll_halen == 6 {
                        out[idx].mac = crate::snmp::table::mac(&sll.sll_addr[..6]);
                    }
                }
                _ => {}
            }
        }
        libc::freeifaddrs(head);
    }
    out
}

/// This host's name, for labelling the poller on the map.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates or truncates.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "nocmap".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
