//! Hex text for binary identifiers (SNMP engine ids in the config and in
//! the receiver's state file).

/// `80001f88...` (an optional `0x`, either case) → bytes; `None` for odd
/// lengths or non-hex characters.
pub fn parse(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Bytes → lower-case hex.
pub fn encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_refusals() {
        assert_eq!(super::parse("0x0a0B"), Some(vec![10, 11]));
        assert_eq!(super::parse("abc"), None);
        assert_eq!(super::parse("zz"), None);
        assert_eq!(super::parse("é1"), None);
        assert_eq!(super::encode(&[0x80, 1]), "8001");
    }
}
