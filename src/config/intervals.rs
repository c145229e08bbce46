//! Per-device polling intervals: the `[poll]` defaults, overridden by the
//! first `[[groups]]` entry whose pattern (glob on the device name) or prefix
//! matches, overridden in turn by a `[[devices]]` entry for the device's
//! address. Also the address a device's path is traced to: the address
//! it is listed under. Pure.
use super::model::Config;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub icmp: Duration,
    pub snmp: Duration,
}

/// `*` matches any run of characters, `?` one character; case-insensitive.
/// Greedy, backtracking only to the last `*`: O(pattern * name), since the
/// name comes from the network (sysName).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen and the name position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c.eq_ignore_ascii_case(&n[ni]) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    pi = sp + 1;
                    ni = sn + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Config {
    pub fn intervals_for(&self, name: Option<&str>, addr: Option<IpAddr>) -> Intervals {
        let mut icmp = self.poll.icmp_interval_s;
        let mut snmp = self.poll.snmp_interval_s;
        let group = self.groups.iter().find(|g| {
            let by_name = g
                .pattern
                .as_deref()
                .zip(name)
                .is_some_and(|(p, n)| glob_match(p, n));
            let by_prefix = g
                .prefix
                .as_ref()
                .zip(addr)
                .is_some_and(|(p, a)| p.0.contains(&a));
            by_name || by_prefix
        });
        if let Some(g) = group {
            icmp = g.icmp_interval_s.unwrap_or(icmp);
            snmp = g.snmp_interval_s.unwrap_or(snmp);
        }
        if let Some(d) = addr.and_then(|a| self.devices.iter().find(|d| d.address == a)) {
            icmp = d.icmp_interval_s.unwrap_or(icmp);
            snmp = d.snmp_interval_s.unwrap_or(snmp);
        }
        Intervals {
            icmp: Duration::from_secs(icmp.max(1)),
            snmp: Duration::from_secs(snmp.max(1)),
        }
    }

    /// The address a device is monitored at by the user's list
    /// (`[[devices]]`, the inventory file): its management address when
    /// that is listed, else the first listed entry whose address is one of
    /// the device's own (a router discovered over IPv4 and listed by an
    /// interface's IPv6 address). None: the device is not listed.
    pub fn listed_address(&self, mgmt: Option<IpAddr>, addresses: &[IpAddr]) -> Option<IpAddr> {
        if let Some(m) = mgmt.filter(|m| self.devices.iter().any(|d| d.address == *m)) {
            return Some(m);
        }
        self.devices
            .iter()
            .map(|d| d.address)
            .find(|a| addresses.contains(a))
    }

    /// The longest SNMP poll interval any device can get from this config
    /// (the default, a group's or a device's): data older than a few of
    /// these is stale for every device.
    pub fn longest_snmp_interval_s(&self) -> u64 {
        let groups = self.groups.iter().filter_map(|g| g.snmp_interval_s);
        let devices = self.devices.iter().filter_map(|d| d.snmp_interval_s);
        groups
            .chain(devices)
            .fold(self.poll.snmp_interval_s, u64::max)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_take_linear_time() {
        // Found by the `config_toml` fuzz target: the recursive matcher was
        // exponential in the number of stars (this took minutes).
        let pattern = "*a".repeat(24) + "b";
        assert!(!glob_match(&pattern, &"a".repeat(200)));
        assert!(glob_match(&pattern, &("a".repeat(200) + "b")));
    }

    proptest::proptest! {
        /// Same answers as the recursive definition it replaced.
        #[test]
        fn globs_match_the_recursive_definition(p in "[aB*?]{0,8}", n in "[abAB]{0,8}") {
            fn go(p: &[char], n: &[char]) -> bool {
                match (p.first(), n.first()) {
                    (None, None) => true,
                    (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
                    (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
                    (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &n[1..]),
                    _ => false,
                }
            }
            let (pc, nc): (Vec<char>, Vec<char>) = (p.chars().collect(), n.chars().collect());
            proptest::prop_assert_eq!(glob_match(&p, &n), go(&pc, &nc));
        }
    }

    #[test]
    fn a_device_is_monitored_at_the_address_it_is_listed_under() {
        let c = Config::from_toml(
            "[[devices]]\nname = \"v6\"\naddress = \"fd13:7:0:4::2\"\n\
             [[devices]]\nname = \"both\"\naddress = \"127.0.3.2\"\n\
             [[devices]]\nname = \"both6\"\naddress = \"fd13:7:0:9::1\"\n",
        )
        .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let v4 = ip("127.0.3.1");
        // Discovered over IPv4, listed by an IPv6 interface address.
        let own = [v4, ip("fd13:7:0:4::2")];
        assert_eq!(c.listed_address(Some(v4), &own), Some(ip("fd13:7:0:4::2")));
        // Its management address listed too: that one stays.
        let both = [ip("127.0.3.2"), ip("fd13:7:0:9::1")];
        assert_eq!(
            c.listed_address(Some(ip("127.0.3.2")), &both),
            Some(ip("127.0.3.2"))
        );
        // Not listed at all.
        assert_eq!(c.listed_address(Some(v4), &[v4]), None);
        assert_eq!(c.listed_address(None, &[]), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("core-*", "CORE-1"));
        assert!(glob_match("r?", "r1"));
        assert!(!glob_match("r?", "r10"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "ac"));
    }

    #[test]
    fn the_longest_snmp_interval_covers_groups_and_devices() {
        let c = Config::from_toml("[poll]\nsnmp_interval_s = 60\n").unwrap();
        assert_eq!(c.longest_snmp_interval_s(), 60);
        let c = Config::from_toml(
            "[poll]\nsnmp_interval_s = 60\n[[groups]]\nname = \"slow\"\npattern = \"s*\"\nsnmp_interval_s = 300\n[[devices]]\nname = \"d\"\naddress = \"10.9.0.1\"\nsnmp_interval_s = 120\n",
        )
        .unwrap();
        assert_eq!(c.longest_snmp_interval_s(), 300);
    }

    #[test]
    fn device_beats_group_beats_default() {
        let c = Config::from_toml(
            r#"
[poll]
icmp_interval_s = 10
snmp_interval_s = 60
[[groups]]
name = "core"
pattern = "core*"
snmp_interval_s = 30
[[groups]]
name = "lab"
prefix = "10.9.0.0/16"
icmp_interval_s = 5
[[devices]]
name = "core9"
address = "10.9.0.9"
snmp_interval_s = 15
"#,
        )
        .unwrap();
        let s = |n: u64| Duration::from_secs(n);
        assert_eq!(
            c.intervals_for(Some("edge1"), Some("10.1.0.1".parse().unwrap())),
            Intervals {
                icmp: s(10),
                snmp: s(60)
            }
        );
        assert_eq!(
            c.intervals_for(Some("core1"), Some("10.1.0.1".parse().unwrap())),
            Intervals {
                icmp: s(10),
                snmp: s(30)
            }
        );
        assert_eq!(
            c.intervals_for(Some("edge2"), Some("10.9.1.1".parse().unwrap())),
            Intervals {
                icmp: s(5),
                snmp: s(60)
            }
        );
        assert_eq!(
            c.intervals_for(Some("core9"), Some("10.9.0.9".parse().unwrap())),
            Intervals {
                icmp: s(10),
                snmp: s(15)
            }
        );
    }
}
