use super::*;
use crate::sites::wire::{self, Kind, SiteState, SiteTopology, StateError};

/// A site of `n` switches of 50 interfaces each, chained by LLDP links,
/// as discovery would give it (every string a device's own).
pub(super) fn big_site(site: &str, n: usize) -> SiteTopology {
    let topology = crate::topology::generated::switch_chain(site, n, |i| {
        format!("127.1.{}.{}", i >> 8, i & 0xff)
    });
    SiteTopology {
        site: site.into(),
        at: 1_700_000_000_000,
        topology,
    }
}

/// Every part of `parts` into a fresh [`Parts`], in the order given.
fn feed(p: &mut Parts, parts: &[Vec<u8>], first_seq: u64) -> Vec<Result<Added, PartError>> {
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| p.add(first_seq + i as u64, part, 0))
        .collect()
}

#[test]
fn subjects_name_the_site_and_parse_back() {
    assert_eq!(
        wire::parse_subject(&topology_parts_subject("b-1")),
        Some(("b-1", Kind::TopologyPart))
    );
    assert_eq!(
        wire::parse_subject(&verdicts_parts_subject("b-1")),
        Some(("b-1", Kind::VerdictsPart))
    );
    assert_eq!(wire::parse_subject("nocmap.site.b-1.topology.x"), None);
    assert_eq!(wire::parse_subject("nocmap.site.b-1.parts"), None);
}

/// 1,500 switches of 50 interfaces: too big for one message, sent in
/// parts each under the bound, put back whole in any order.
#[test]
fn a_big_site_goes_in_parts_and_comes_back_whole() {
    let t = big_site("b1", 1_500);
    let t0 = std::time::Instant::now();
    let json = serde_json::to_vec(&t).unwrap().len();
    let packed = t.pack().unwrap();
    assert!(matches!(t.encode(), Err(StateError::TooBig { .. })));
    let parts = split(&packed, 7).unwrap();
    let packed_at = t0.elapsed();
    assert!(parts.len() >= 2, "{} parts", parts.len());
    assert!(parts.iter().all(|p| p.len() <= HEADER + PART_BYTES));
    assert!(parts.iter().all(|p| p.len() < MAX_STATE_BYTES));
    let t1 = std::time::Instant::now();
    let mut p = Parts::default();
    let mut out = feed(&mut p, &parts[1..], 11);
    out.push(p.add(10, &parts[0], 0));
    let Some(Ok(Added::Complete { packed: back, seqs })) = out.pop() else {
        panic!("not complete: {out:?}");
    };
    let put_back = t1.elapsed();
    assert!(out.iter().all(|r| matches!(r, Ok(Added::Waiting))));
    assert_eq!(seqs, (10..10 + parts.len() as u64).collect::<Vec<_>>());
    let read = SiteTopology::unpack(&back, "b1").unwrap();
    let reassembled = t1.elapsed();
    assert_eq!(read, t);
    assert!(p.is_empty() && p.take_dropped().is_empty());
    eprintln!(
        "1,500 x 50: JSON {json} B, packed {} B ({:.1}x), {} parts; pack+split {:?}, \
         parts put back {:?}, then unpacked and parsed {:?}",
        packed.len(),
        json as f64 / packed.len() as f64,
        parts.len(),
        packed_at,
        put_back,
        reassembled - put_back
    );
}

#[test]
fn hostile_parts_are_refused_and_never_panic() {
    let part = |generation: u64, index: u32, count: u32, total: u64, chunk: &[u8]| {
        Part {
            generation,
            index,
            count,
            total,
            chunk,
        }
        .emit()
    };
    let parse = |b: &[u8]| Part::parse(b).map(|_| ());
    // Short, wrong magic, JSON or a snappy state on the wrong subject.
    for b in [
        &b""[..],
        b"NMP1",
        b"{\"site\":\"b1\"}",
        b"XXXX0123456789012345678901234",
    ] {
        assert!(matches!(parse(b), Err(PartError::NoHeader { .. })), "{b:?}");
    }
    assert!(matches!(
        parse(&part(1, 0, 0, 1, b"x")),
        Err(PartError::Count { count: 0 })
    ));
    assert!(matches!(
        parse(&part(1, 0, MAX_PARTS + 1, 1, b"x")),
        Err(PartError::Count { .. })
    ));
    assert!(matches!(
        parse(&part(1, 3, 3, 1, b"x")),
        Err(PartError::Index { index: 3, count: 3 })
    ));
    assert!(matches!(
        parse(&part(1, u32::MAX, 2, 1, b"x")),
        Err(PartError::Index { .. })
    ));
    assert!(matches!(
        parse(&part(1, 0, 2, MAX_UNPACKED_BYTES as u64 + 1, b"x")),
        Err(PartError::TooBigTotal { .. })
    ));
    assert!(matches!(
        parse(&part(1, 0, 2, u64::MAX, b"x")),
        Err(PartError::TooBigTotal { .. })
    ));
    assert!(matches!(
        parse(&part(1, 0, 2, 2, b"xyz")),
        Err(PartError::Length { .. })
    ));
    assert!(matches!(
        parse(&vec![b'N'; MAX_STATE_BYTES + 1]),
        Err(PartError::TooBig { .. })
    ));

    let mut p = Parts::default();
    // A part that disagrees with its set's count or total is refused; the
    // set stays and completes with its own parts.
    assert_eq!(p.add(1, &part(5, 0, 2, 4, b"ab"), 0), Ok(Added::Waiting));
    assert!(matches!(
        p.add(2, &part(5, 1, 3, 4, b"cd"), 0),
        Err(PartError::Disagrees { .. })
    ));
    assert!(matches!(
        p.add(3, &part(5, 1, 2, 5, b"cd"), 0),
        Err(PartError::Disagrees { .. })
    ));
    // The same index with other bytes is refused; the same bytes again are
    // a redelivery (its copy is deleted with the set).
    assert!(matches!(
        p.add(4, &part(5, 0, 2, 4, b"zz"), 0),
        Err(PartError::Disagrees { .. })
    ));
    assert_eq!(p.add(5, &part(5, 0, 2, 4, b"ab"), 0), Ok(Added::Waiting));
    assert_eq!(
        p.add(6, &part(5, 1, 2, 4, b"cd"), 0),
        Ok(Added::Complete {
            packed: b"abcd".to_vec(),
            seqs: vec![1, 5, 6]
        })
    );
    // A part of it delivered again afterwards starts no new set.
    assert_eq!(p.add(60, &part(5, 1, 2, 4, b"cd"), 0), Ok(Added::Waiting));
    assert!(p.is_empty());
    // Parts longer together than their total: the set is given up.
    assert_eq!(p.add(7, &part(6, 0, 2, 3, b"ab"), 0), Ok(Added::Waiting));
    assert!(matches!(
        p.add(8, &part(6, 1, 2, 3, b"cd"), 0),
        Err(PartError::Length { .. })
    ));
    // Shorter than their total: given up when the last arrives.
    assert_eq!(p.add(9, &part(7, 0, 2, 9, b"ab"), 0), Ok(Added::Waiting));
    assert!(matches!(
        p.add(10, &part(7, 1, 2, 9, b"cd"), 0),
        Err(PartError::Length { .. })
    ));
    let dropped = p.take_dropped();
    assert_eq!(
        dropped.iter().map(|d| d.seqs.clone()).collect::<Vec<_>>(),
        vec![vec![7], vec![9, 10]]
    );
    assert!(p.is_empty());
}

/// Parts of two generations never make one state; a set cut short stays
/// apart and is given up (oldest first, or once idle); what is held is
/// bounded whatever a site sends.
#[test]
fn generations_never_mix_and_what_is_held_is_bounded() {
    let whole = |g: u64, s: &[u8]| split(s, g).unwrap();
    let a = {
        let mut v = Vec::new();
        v.extend(whole(1, &vec![b'a'; PART_BYTES + 10]));
        v
    };
    let b = whole(2, &vec![b'b'; PART_BYTES + 10]);
    assert_eq!((a.len(), b.len()), (2, 2));
    let mut p = Parts::default();
    // Generation 1's first part, then generation 2's second: no state.
    assert_eq!(p.add(1, &a[0], 0), Ok(Added::Waiting));
    assert_eq!(p.add(2, &b[1], 0), Ok(Added::Waiting));
    // Generation 2 completes alone; generation 1 is still waiting.
    let Ok(Added::Complete { packed, seqs }) = p.add(3, &b[0], 0) else {
        panic!()
    };
    assert_eq!((packed, seqs), (vec![b'b'; PART_BYTES + 10], vec![2, 3]));
    assert!(!p.is_empty());
    // Idle past SET_IDLE_MS: given up with its seqs.
    p.expire(SET_IDLE_MS + 1);
    assert_eq!(
        p.take_dropped(),
        vec![Dropped {
            generation: 1,
            had: 1,
            count: 2,
            seqs: vec![1]
        }]
    );
    // Many sets started, none finished: at most MAX_SETS held, the
    // oldest given up first.
    for g in 0..20u64 {
        let parts = whole(100 + g, &vec![b'x'; PART_BYTES + 1]);
        assert_eq!(p.add(g, &parts[0], g as i64), Ok(Added::Waiting));
    }
    let dropped = p.take_dropped();
    assert_eq!(dropped.len(), 20 - MAX_SETS);
    assert_eq!(dropped[0].generation, 100);
    assert!(p.held_bytes() <= MAX_SETS * PART_BYTES);
    // Sets of the largest total, many parts each: the bytes held stay
    // under MAX_UNPACKED_BYTES + one part.
    let mut p = Parts::default();
    let big = PART_BYTES as u64 * 70;
    let chunk = vec![b'y'; PART_BYTES];
    let mut seq = 0;
    for g in 0..3u64 {
        for index in 0..69 {
            let part = Part {
                generation: g,
                index,
                count: 70,
                total: big,
                chunk: &chunk,
            }
            .emit();
            seq += 1;
            assert_eq!(p.add(seq, &part, seq as i64), Ok(Added::Waiting));
            assert!(p.held_bytes() <= MAX_UNPACKED_BYTES + PART_BYTES);
        }
    }
    assert!(!p.take_dropped().is_empty());
}

/// What is unpacked from parts is bounded like one message: a packed
/// state whose length prefix says more than MAX_UNPACKED_BYTES is refused.
#[test]
fn a_reassembled_state_is_bounded_and_checked() {
    assert!(matches!(
        SiteTopology::unpack(&[0x80, 0x80, 0x80, 0x32, 0, 0], "b1"),
        Err(StateError::TooBigUnpacked { .. })
    ));
    let t = big_site("b1", 3);
    let parts = split(&t.pack().unwrap(), 9).unwrap();
    let mut p = Parts::default();
    let Some(Ok(Added::Complete { packed, .. })) = feed(&mut p, &parts, 1).pop() else {
        panic!()
    };
    assert!(matches!(
        SiteTopology::unpack(&packed, "b2"),
        Err(StateError::OtherSite { .. })
    ));
    assert_eq!(SiteTopology::unpack(&packed, "b1").unwrap(), t);
}

proptest::proptest! {
    /// Any bytes, and parts with any header fields, in any order: never a
    /// panic; a complete set is exactly its parts' chunks, of its total;
    /// what is held stays bounded.
    #[test]
    fn any_parts_never_panic_and_stay_bounded(
        raw in proptest::collection::vec(proptest::collection::vec(0u8..=255, 0..64), 0..8),
        parts in proptest::collection::vec(
            (0u64..4, 0u32..6, 0u32..6, 0u64..40, 0usize..16),
            0..40,
        ),
    ) {
        let mut p = Parts::default();
        for (seq, bytes) in raw.iter().enumerate() {
            let _ = p.add(seq as u64, bytes, 0);
        }
        for (seq, (generation, index, count, total, len)) in parts.into_iter().enumerate() {
            let chunk = vec![generation as u8; len];
            let part = Part { generation, index, count, total, chunk: &chunk }.emit();
            if let Ok(Added::Complete { packed, seqs }) = p.add(seq as u64, &part, seq as i64) {
                proptest::prop_assert_eq!(packed.len() as u64, total);
                proptest::prop_assert!(packed.iter().all(|b| *b == generation as u8));
                proptest::prop_assert!(seqs.len() >= count as usize);
            }
            proptest::prop_assert!(p.sets.len() <= MAX_SETS);
            proptest::prop_assert!(p.held_bytes() <= MAX_UNPACKED_BYTES);
        }
    }
}
