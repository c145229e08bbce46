//! Prometheus text exposition format 0.0.4: metric families to text. Label
//! values are device data and are escaped exactly as the format says
//! (backslash, double quote, line feed); nothing else is interpreted. Pure.
use super::metrics::Family;
use std::fmt::Write;

/// The `Content-Type` of [`encode_text`] output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders families as exposition text: `# HELP`, `# TYPE`, then one line
/// per sample. Non-finite values are skipped.
pub fn encode_text(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in f.samples.iter().filter(|s| s.value.is_finite()) {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push_str("=\"");
                    escape_label_value_into(v, &mut out);
                    out.push('"');
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", format_value(s.value));
        }
    }
    out
}

/// Escapes a label value: `\` → `\\`, `"` → `\"`, line feed → `\n`.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    escape_label_value_into(v, &mut out);
    out
}

fn escape_label_value_into(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text escapes only backslash and line feed.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A finite float as Go's `strconv.ParseFloat` reads it; integers without a
/// fraction.
fn format_value(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::metrics::{MetricKind, MetricSample};

    #[test]
    fn lines_escaping_and_omission() {
        let f = Family {
            name: "x_total",
            help: "a\\b\nc",
            kind: MetricKind::Counter,
            samples: vec![
                MetricSample {
                    suffix: "",
                    labels: vec![("d", "q\"\\\n}".into()), ("e", "".into())],
                    value: 3.0,
                },
                MetricSample {
                    suffix: "",
                    labels: vec![],
                    value: f64::NAN,
                },
                MetricSample {
                    suffix: "",
                    labels: vec![],
                    value: 0.25,
                },
            ],
        };
        assert_eq!(
            encode_text(&[f]),
            "# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\n\
             x_total{d=\"q\\\"\\\\\\n}\",e=\"\"} 3\nx_total 0.25\n"
        );
        assert_eq!(format_value(-2.0), "-2");
        assert_eq!(format_value(1e20), "100000000000000000000");
        assert_eq!(format_value(1.5e-7), "0.00000015");
    }
}
