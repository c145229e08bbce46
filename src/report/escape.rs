//! The one escaping path for text in reports: [`html`] for every string
//! that reaches the HTML page, [`csv_text`] for every text cell of a CSV
//! file. Pure.

/// Escapes `& < > " '` so the text is inert in HTML element content and in
/// quoted attribute values (the crate's one markup escaper).
pub use crate::util::markup::html;

/// A text cell quoted per RFC 4180 (always in double quotes, inner quotes
/// doubled). A cell that a spreadsheet would take as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
/// `'` so it stays text.
pub fn csv_text(text: &str) -> String {
    let neutral = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => "'",
        _ => "",
    };
    format!("\"{neutral}{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(
            html("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(csv_text("plain"), "\"plain\"");
        assert_eq!(csv_text("a,\"b\"\nc"), "\"a,\"\"b\"\"\nc\"");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_text(lead).starts_with("\"'"), "{lead:?}");
        }
    }

    proptest! {
        #[test]
        fn escaped_html_has_no_markup(s in ".*") {
            let e = html(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        }

        #[test]
        fn csv_cells_parse_back(s in ".*") {
            let line = format!("{}\r\n", csv_text(&s));
            let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            let got = rec.get(0).unwrap();
            let want = match s.chars().next() {
                Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
                _ => s.clone(),
            };
            prop_assert_eq!(got, want.as_str());
        }
    }
}
