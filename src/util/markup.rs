//! Escaping text for markup, one loop for both languages we write: [`html`]
//! (the report pages) and [`xml`] (the GraphML export). Pure; callers own
//! the rule that every device-provided string passes through here.

/// Escapes `& < > " '` so the text is inert in HTML element content and in
/// quoted attribute values.
pub fn html(text: &str) -> String {
    escape(text, Markup::Html)
}

/// Escapes text for XML 1.0 element content and attribute values alike.
/// Markup characters become entities; tab, newline and carriage return
/// become character references (so attribute normalisation cannot eat them);
/// characters XML 1.0 forbids outright (NUL and the other C0 controls,
/// U+FFFE, U+FFFF) cannot be written at all and become U+FFFD.
pub fn xml(text: &str) -> String {
    escape(text, Markup::Xml)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Markup {
    Html,
    Xml,
}

fn escape(text: &str, to: Markup) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (c, to) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', _) => out.push_str("&quot;"),
            ('\'', Markup::Html) => out.push_str("&#39;"),
            ('\'', Markup::Xml) => out.push_str("&apos;"),
            ('\t', Markup::Xml) => out.push_str("&#9;"),
            ('\n', Markup::Xml) => out.push_str("&#10;"),
            ('\r', Markup::Xml) => out.push_str("&#13;"),
            (c, Markup::Xml) if !is_xml_char(c) => out.push('\u{FFFD}'),
            (c, _) => out.push(c),
        }
    }
    out
}

/// The XML 1.0 `Char` production (surrogates cannot occur in a Rust `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}
