//! The event texts of the feed, assembled from the items' own JSON texts
//! (each rendered once by serde in [`super::items`]) without parsing them
//! again: the `delta`, the `snapshot` (also the `/api/topology` answer)
//! and the devices array (`/api/devices`). Pure string building; ids,
//! which are device data, are escaped by serde.
use super::frame::{Changes, Items};
use crate::types::UnixMillis;
use std::sync::Arc;

fn push_items<'a>(out: &mut String, key: &str, items: impl Iterator<Item = &'a Arc<str>>) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
    push_array(out, items);
}

fn push_array<'a>(out: &mut String, items: impl Iterator<Item = &'a Arc<str>>) {
    out.push('[');
    for (i, text) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(text);
    }
    out.push(']');
}

/// `{"seq","generated_ms","devices","links","removed_devices","removed_links"}`
/// with the changed items' texts and the removed ids.
pub(super) fn delta(
    seq: u64,
    generated_ms: UnixMillis,
    devices: &Changes,
    links: &Changes,
) -> String {
    let generated_ms = generated_ms.0;
    let mut out = format!("{{\"seq\":{seq},\"generated_ms\":{generated_ms},");
    push_items(&mut out, "devices", devices.changed.iter());
    out.push(',');
    push_items(&mut out, "links", links.changed.iter());
    // Ids are device data: serde escapes them.
    let ids = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    out.push_str(",\"removed_devices\":");
    out.push_str(&ids(&devices.removed));
    out.push_str(",\"removed_links\":");
    out.push_str(&ids(&links.removed));
    out.push('}');
    out
}

/// `{"seq","generated_ms","devices","links"}` with every item's text.
pub(super) fn snapshot(
    seq: u64,
    generated_ms: UnixMillis,
    devices: &Items,
    links: &Items,
) -> String {
    let generated_ms = generated_ms.0;
    let mut out = format!("{{\"seq\":{seq},\"generated_ms\":{generated_ms},");
    push_items(&mut out, "devices", devices.values());
    out.push(',');
    push_items(&mut out, "links", links.values());
    out.push('}');
    out
}

/// The texts as one JSON array.
pub(super) fn array<'a>(items: impl Iterator<Item = &'a Arc<str>>) -> String {
    let mut out = String::new();
    push_array(&mut out, items);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_texts_are_json_with_the_items_as_they_were_rendered() {
        let t = |s: &str| Arc::<str>::from(s);
        let d = Changes {
            changed: vec![t(r#"{"id":"r1"}"#)],
            removed: vec!["<x\"".into()],
        };
        let text = delta(3, UnixMillis(40), &d, &Changes::default());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"seq": 3, "generated_ms": 40, "devices": [{"id": "r1"}],
                "links": [], "removed_devices": ["<x\""], "removed_links": []})
        );
        let items: Items = [("a".to_string(), t("1")), ("b".to_string(), t("2"))].into();
        assert_eq!(array(items.values()), "[1,2]");
        assert_eq!(array(Items::new().values()), "[]");
        assert_eq!(
            snapshot(1, UnixMillis(2), &items, &Items::new()),
            r#"{"seq":1,"generated_ms":2,"devices":[1,2],"links":[]}"#
        );
    }
}
