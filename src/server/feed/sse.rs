//! Server-sent-events framing of feed events: the shared event text goes
//! out as it is (one `Bytes` over the same `Arc<str>` for every
//! subscriber), only the head and the blank line are new bytes. Pure.
use super::frame::FeedEvent;
use std::sync::Arc;

/// Bytes that share `text` instead of copying it.
pub fn shared_bytes(text: Arc<str>) -> bytes::Bytes {
    struct Shared(Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    bytes::Bytes::from_owner(Shared(text))
}

/// One event in server-sent-events framing, as chunks: the head, the data
/// (shared with every other subscriber, not copied) and the blank line.
/// The data is compact JSON: serde escapes line breaks inside strings, so
/// it is one `data:` line; should one ever hold a line break, each line
/// gets its own `data:` field as the format requires.
pub fn sse_chunks(e: &FeedEvent) -> Vec<bytes::Bytes> {
    let head = format!("event:{}\nid:{}\n", e.kind.name(), e.seq);
    let mut out = vec![bytes::Bytes::from(head)];
    if e.data.contains(['\n', '\r']) {
        let mut text = String::with_capacity(e.data.len() + 64);
        for line in e.data.split(['\n', '\r']) {
            text.push_str("data:");
            text.push_str(line);
            text.push('\n');
        }
        out.push(text.into());
    } else {
        out.push(bytes::Bytes::from_static(b"data:"));
        out.push(shared_bytes(e.data.clone()));
        out.push(bytes::Bytes::from_static(b"\n"));
    }
    out.push(bytes::Bytes::from_static(b"\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::super::frame::EventKind;
    use super::*;

    #[test]
    fn sse_framing_shares_the_data_and_keeps_one_field_per_line() {
        let e = FeedEvent {
            seq: 7,
            kind: EventKind::Delta,
            data: Arc::from(r#"{"a":"x\ny"}"#),
        };
        let chunks = sse_chunks(&e);
        let text: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "event:delta\nid:7\ndata:{\"a\":\"x\\ny\"}\n\n"
        );
        assert_eq!(chunks[2].as_ptr(), e.data.as_ptr(), "not copied");
        let odd = FeedEvent {
            data: Arc::from("a\nb\r\nc"),
            ..e
        };
        let text: Vec<u8> = sse_chunks(&odd).iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "event:delta\nid:7\ndata:a\ndata:b\ndata:\ndata:c\n\n"
        );
    }
}
