//! Turning walked varbinds into table rows, and decoding the index encodings
//! SMIv2 uses (integers, length-prefixed octet strings, InetAddress pairs,
//! MAC addresses). Pure; every decoder returns None on malformed input
//! rather than panicking, because indexes come straight from the agent.
//! Part of the SNMP engine's layer: it knows varbinds and SMI encodings
//! only, and must import nothing from discovery, the poller or above.
use async_snmp::{Value, VarBind};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Rows of one conceptual table: index arcs -> column number -> value.
pub type Rows = BTreeMap<Vec<u32>, Columns>;

/// The columns of one row, sorted by column number. A small vector rather
/// than a map: a row of a hostile table (500,000 rows at the walk cap) took
/// ~1 KiB as a BTreeMap node, ~90 bytes per column this way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns(Vec<(u32, Value)>);

impl Columns {
    pub fn get(&self, col: &u32) -> Option<&Value> {
        self.0
            .binary_search_by_key(col, |(c, _)| *c)
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, col: &u32) -> bool {
        self.get(col).is_some()
    }

    /// Set a column; a later value of the same column replaces the earlier.
    pub fn insert(&mut self, col: u32, v: Value) {
        match self.0.binary_search_by_key(&col, |(c, _)| *c) {
            Ok(i) => self.0[i].1 = v,
            Err(i) => {
                if self.0.capacity() == 0 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(i, (col, v))
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u32, &Value)> {
        self.0.iter().map(|(c, v)| (c, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<&u32> for Columns {
    type Output = Value;

    /// The column's value; panics when absent, like a map's index (tests).
    fn index(&self, col: &u32) -> &Value {
        self.get(col).expect("no such column")
    }
}

/// Group the varbinds under `entry` (the table's `...Entry` OID) by index.
/// Varbinds outside the entry are ignored.
pub fn rows(entry: &[u32], vbs: &[VarBind]) -> Rows {
    let mut out = Rows::new();
    for vb in vbs {
        let arcs = vb.oid.arcs();
        let Some(rest) = arcs.strip_prefix(entry) else {
            continue;
        };
        let Some((&col, index)) = rest.split_first() else {
            continue;
        };
        out.entry(index.to_vec())
            .or_default()
            .insert(col, vb.value.clone());
    }
    for cols in out.values_mut() {
        cols.0.shrink_to_fit();
    }
    out
}

/// Scalars under a group: the value of `group.N.0` keyed by N.
pub fn scalars(group: &[u32], vbs: &[VarBind]) -> BTreeMap<u32, Value> {
    let mut out = BTreeMap::new();
    for vb in vbs {
        if let Some([n, 0]) = vb.oid.arcs().strip_prefix(group) {
            out.insert(*n, vb.value.clone());
        }
    }
    out
}

/// The longest device string kept, in bytes of UTF-8 (before the `…`
/// marking a cut). DisplayString is at most 255 octets (RFC 2579); agents
/// exceed that, but a string of more than this is hostile or broken, and
/// every device string is copied into the topology, the API and the map.
pub const MAX_TEXT_BYTES: usize = 1024;

/// An octet-string value as text: UTF-8 when it is, else lossy, with
/// trailing NULs (common in device strings) removed, and cut to
/// [`MAX_TEXT_BYTES`] (at a character boundary, ending in `…`) when longer.
/// Control characters are kept: they are data, escaped by every output.
pub fn text(v: Option<&Value>) -> Option<String> {
    let b = v?.as_bytes()?;
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    // Decode no more than the cap (plus a partial character's bytes) of a long value.
    let head = &b[..b.len().min(MAX_TEXT_BYTES + 4)];
    let s = String::from_utf8_lossy(head).into_owned();
    Some(if head.len() < b.len() {
        cut(s)
    } else {
        capped(s)
    })
}

/// `s` cut to [`MAX_TEXT_BYTES`] at a character boundary, ending in `…`,
/// when longer; else unchanged. For device text built otherwise than by
/// [`text`] (LLDP/CDP ids rendered as text or hex).
pub fn capped(s: String) -> String {
    if s.len() > MAX_TEXT_BYTES { cut(s) } else { s }
}

fn cut(mut s: String) -> String {
    let mut at = s.len().min(MAX_TEXT_BYTES);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s.truncate(at);
    s.push('…');
    s
}

pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Integer(i) => Some(*i as i64),
        Value::Counter32(n) | Value::Gauge32(n) | Value::UInteger32(n) | Value::TimeTicks(n) => {
            Some(*n as i64)
        }
        Value::Counter64(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

/// A six-byte MAC as `aa:bb:cc:dd:ee:ff`; None for any other length.
pub fn mac(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 6 {
        return None;
    }
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Index arcs that must each be an octet (0..=255).
pub fn octets(arcs: &[u32]) -> Option<Vec<u8>> {
    arcs.iter().map(|&a| u8::try_from(a).ok()).collect()
}

/// Split a length-prefixed octet string off the front of an index.
pub fn take_octet_string(arcs: &[u32]) -> Option<(Vec<u8>, &[u32])> {
    let (&len, rest) = arcs.split_first()?;
    let len = usize::try_from(len).ok()?;
    if rest.len() < len {
        return None;
    }
    let (s, rest) = rest.split_at(len);
    Some((octets(s)?, rest))
}

/// An InetAddressType + length-prefixed InetAddress pair at the front of an
/// index (IP-MIB style): type 1 = IPv4, 2 = IPv6 (3/4 = with zone, zone dropped).
pub fn take_inet_address(arcs: &[u32]) -> Option<(IpAddr, &[u32])> {
    let (&ty, rest) = arcs.split_first()?;
    let (bytes, rest) = take_octet_string(rest)?;
    Some((inet_address(ty, &bytes)?, rest))
}

/// Bytes of an InetAddress of the given InetAddressType.
pub fn inet_address(ty: u32, b: &[u8]) -> Option<IpAddr> {
    match (ty, b.len()) {
        (1, 4) | (3, 8) => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        (2, 16) | (4, 20) => {
            let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Four index arcs as an IPv4 address (ipAddrTable, ipNetToMediaTable).
pub fn ipv4_index(arcs: &[u32]) -> Option<Ipv4Addr> {
    let o = octets(arcs)?;
    let [a, b, c, d]: [u8; 4] = o.try_into().ok()?;
    Some(Ipv4Addr::new(a, b, c, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::Oid;

    #[test]
    fn columns_keep_order_and_the_last_value() {
        let mut c = Columns::default();
        c.insert(8, Value::Integer(8));
        c.insert(2, Value::Integer(2));
        c.insert(5, Value::Integer(5));
        c.insert(2, Value::Integer(20));
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.get(&2),
            Some(&Value::Integer(20)),
            "a later value replaces"
        );
        assert_eq!(c.get(&3), None);
        assert!(c.contains_key(&8) && !c.contains_key(&9));
        let cols: Vec<u32> = c.iter().map(|(k, _)| *k).collect();
        assert_eq!(cols, vec![2, 5, 8]);
        // A one-column row holds one slot, not a map node.
        let vbs = [VarBind::new(
            Oid::from_slice(&[1, 3, 6, 1, 9, 1, 7, 42]),
            Value::Integer(1),
        )];
        let r = rows(&[1, 3, 6, 1, 9, 1], &vbs);
        assert_eq!(r[&vec![42]].0.capacity(), 1);
    }

    #[test]
    fn text_is_capped_at_a_char_boundary_and_keeps_control_characters() {
        let t = |b: &[u8]| text(Some(&Value::OctetString(bytes::Bytes::copy_from_slice(b))));
        assert_eq!(
            t(b"a\0\x1b[31m\n<b>\0").as_deref(),
            Some("a\0\x1b[31m\n<b>")
        );
        assert_eq!(t(&[b'x', 0xff, 0xc0]).as_deref(), Some("x\u{fffd}\u{fffd}"));
        let exact = vec![b'a'; MAX_TEXT_BYTES];
        assert_eq!(
            t(&exact).unwrap().len(),
            MAX_TEXT_BYTES,
            "at the cap: kept whole"
        );
        let long = t(&vec![b'a'; 65_000]).unwrap();
        assert_eq!(long.len(), MAX_TEXT_BYTES + '…'.len_utf8());
        assert!(long.ends_with('…'));
        // A multi-byte character across the cap is dropped whole.
        let mut b = vec![b'a'; MAX_TEXT_BYTES - 1];
        b.extend("é and more".as_bytes());
        let s = t(&b).unwrap();
        assert_eq!(s.len(), MAX_TEXT_BYTES - 1 + '…'.len_utf8());
        // Invalid bytes that grow into U+FFFD past the cap are cut too.
        let s = t(&vec![0xff; MAX_TEXT_BYTES]).unwrap();
        assert!(s.len() <= MAX_TEXT_BYTES + 3 && s.ends_with('…'));
    }

    #[test]
    fn groups_rows_by_index() {
        let e = [1, 3, 6, 1, 2, 1, 2, 2, 1];
        let vb = |col: u32, idx: u32, v: i32| {
            VarBind::new(
                Oid::from_slice(&[&e[..], &[col, idx]].concat()),
                Value::Integer(v),
            )
        };
        let r = rows(&e, &[vb(1, 1, 1), vb(1, 2, 2), vb(3, 1, 6), vb(3, 2, 24)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[&vec![2]][&3], Value::Integer(24));
    }

    #[test]
    fn index_decoders_reject_garbage() {
        assert_eq!(
            take_inet_address(&[1, 4, 10, 0, 0, 1]).map(|x| x.0),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(take_inet_address(&[1, 4, 10, 0, 0]), None);
        assert_eq!(take_inet_address(&[1, 4, 10, 0, 0, 300]), None);
        assert_eq!(take_inet_address(&[1, u32::MAX, 1]), None);
        assert_eq!(take_inet_address(&[]), None);
        assert_eq!(ipv4_index(&[10, 1, 2]), None);
        assert_eq!(mac(&[0, 1, 2]), None);
        assert_eq!(
            mac(&[0xaa, 1, 2, 3, 4, 5]).as_deref(),
            Some("aa:01:02:03:04:05")
        );
    }

    proptest::proptest! {
        #[test]
        fn decoders_never_panic(arcs in proptest::collection::vec(proptest::num::u32::ANY, 0..40)) {
            let _ = take_inet_address(&arcs);
            let _ = take_octet_string(&arcs);
            let _ = ipv4_index(&arcs);
            let _ = octets(&arcs);
        }
    }
}
