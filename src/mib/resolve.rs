//! Parsing of the OID text users type (`1.3.6.1.2.1.2.2.1.10`,
//! `IF-MIB::ifHCInOctets.3`, `sysName.0`) into its parts. Pure string work;
//! it must not look anything up.
use super::error::MibError;

/// One piece of OID text, split but not yet looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidText<'a> {
    Numeric(Vec<u32>),
    Named {
        module: Option<&'a str>,
        name: &'a str,
        suffix: Vec<u32>,
    },
}

/// Splits `text` into numeric arcs or `(module, name, instance suffix)`.
pub fn parse(text: &str) -> Result<OidText<'_>, MibError> {
    let t = text.trim();
    if t.is_empty() || t == "." {
        return Err(MibError::Empty);
    }
    if t.starts_with('.') || t.as_bytes()[0].is_ascii_digit() {
        let body = t.strip_prefix('.').unwrap_or(t);
        let arcs = parse_arcs(body).map_err(|arc| MibError::BadNumericOid {
            text: text.to_string(),
            arc,
        })?;
        return Ok(OidText::Numeric(arcs));
    }
    let (module, rest) = match t.split_once("::") {
        Some((m, r)) => (Some(m), r),
        None => (None, t),
    };
    if module.is_some_and(|m| m.is_empty()) || rest.is_empty() {
        return Err(MibError::UnknownName {
            text: text.to_string(),
            name: rest.to_string(),
        });
    }
    let (name, suffix) = match rest.split_once('.') {
        Some((n, s)) => {
            let arcs = parse_arcs(s).map_err(|_| MibError::BadInstanceSuffix {
                text: text.to_string(),
                suffix: s.to_string(),
            })?;
            (n, arcs)
        }
        None => (rest, Vec::new()),
    };
    Ok(OidText::Named {
        module,
        name,
        suffix,
    })
}

/// Dotted decimal arcs; on failure returns the offending arc text.
fn parse_arcs(s: &str) -> Result<Vec<u32>, String> {
    s.split('.')
        .map(|a| a.parse::<u32>().map_err(|_| a.to_string()))
        .collect()
}

/// Dotted decimal without a leading dot: `1.3.6.1`.
pub fn format_numeric(oid: &[u32]) -> String {
    let mut s = String::with_capacity(oid.len() * 4);
    for (i, a) in oid.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&a.to_string());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_with_and_without_leading_dot() {
        assert_eq!(parse(".1.3.6").unwrap(), OidText::Numeric(vec![1, 3, 6]));
        assert_eq!(parse("1.3.6").unwrap(), OidText::Numeric(vec![1, 3, 6]));
    }

    #[test]
    fn named_forms() {
        assert_eq!(
            parse("IF-MIB::ifDescr.3").unwrap(),
            OidText::Named {
                module: Some("IF-MIB"),
                name: "ifDescr",
                suffix: vec![3]
            }
        );
        assert_eq!(
            parse("sysName").unwrap(),
            OidText::Named {
                module: None,
                name: "sysName",
                suffix: vec![]
            }
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(parse("  "), Err(MibError::Empty));
        assert!(matches!(
            parse("1.3.x"),
            Err(MibError::BadNumericOid { .. })
        ));
        assert!(matches!(parse("1..3"), Err(MibError::BadNumericOid { .. })));
        assert!(matches!(
            parse("ifDescr.a"),
            Err(MibError::BadInstanceSuffix { .. })
        ));
        assert!(matches!(
            parse("::ifDescr"),
            Err(MibError::UnknownName { .. })
        ));
        assert!(matches!(
            parse("1.99999999999"),
            Err(MibError::BadNumericOid { .. })
        ));
    }

    #[test]
    fn formats_dotted() {
        assert_eq!(format_numeric(&[1, 3, 6, 1]), "1.3.6.1");
        assert_eq!(format_numeric(&[]), "");
    }
}
