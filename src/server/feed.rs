//! The live feed behind `/api/events`: once a second the topology view is
//! rendered item by item (one JSON text per device and per link), compared
//! with the previous tick, and the changed items go out as a numbered
//! `delta` to every subscriber. A new subscriber, or one that fell behind
//! the broadcast buffer, gets a `snapshot` of every item instead.
//!
//! The same frame answers `/api/topology` and `/api/devices`: the whole map
//! is rendered at most once a second however many clients ask, its text is
//! built once per frame and shared (not copied) by every answer, and the
//! live state's lock is held only for one small chunk of items at a time,
//! so the pollers' writes never wait behind a big answer. With nobody
//! subscribed the ticks stop; a request then renders a fresh frame first.
//!
//! The diff and the event texts are pure ([`Frame::advance`],
//! [`render_delta`], [`Frame::snapshot`]); [`Feed`] holds the current frame
//! and the broadcast channel, [`run`] is the ticking task.
use super::api;
use crate::live::{Live, UnixMs};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// A rendered item (a device or link view) by its id.
type Items = BTreeMap<String, Arc<str>>;

/// The state of the map at one tick: every item's JSON text.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub seq: u64,
    pub generated_ms: UnixMs,
    devices: Items,
    links: Items,
    /// The texts built from this frame so far, shared by every answer.
    snapshot_text: Option<Arc<str>>,
    devices_text: Option<Arc<str>>,
}

/// One event of the feed. `data` is the JSON text of the SSE `data:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub seq: u64,
    pub kind: EventKind,
    pub data: Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Snapshot,
    Delta,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Snapshot => "snapshot",
            EventKind::Delta => "delta",
        }
    }
}

/// What changed between two sets of items.
#[derive(Debug, Default, PartialEq)]
struct Changes {
    changed: Vec<Arc<str>>,
    removed: Vec<String>,
}

fn diff(old: &Items, new: &Items) -> Changes {
    Changes {
        changed: new
            .iter()
            .filter(|(id, text)| old.get(*id) != Some(*text))
            .map(|(_, text)| text.clone())
            .collect(),
        removed: old
            .keys()
            .filter(|id| !new.contains_key(*id))
            .cloned()
            .collect(),
    }
}

fn push_items<'a>(out: &mut String, key: &str, items: impl Iterator<Item = &'a Arc<str>>) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":[");
    for (i, text) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(text);
    }
    out.push(']');
}

fn render_delta(seq: u64, generated_ms: UnixMs, devices: &Changes, links: &Changes) -> String {
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

/// Items rendered per hold of the live state's read lock.
const CHUNK: usize = 64;

fn to_text(v: Result<String, serde_json::Error>) -> Arc<str> {
    Arc::from(v.unwrap_or_else(|_| "null".to_string()))
}

/// Renders every device and link of the live state to JSON texts, taking
/// the read lock once per [`CHUNK`] items. Should the topology be replaced
/// between two chunks, this frame mixes the two for one tick; every item
/// is consistent in itself and the next tick is whole.
fn render_items(live: &Live, now_ms: UnixMs) -> (Items, Items) {
    let mut devices = Items::new();
    let mut links = Items::new();
    let mut at = 0;
    while live.read(|s| {
        let all = &s.topology.devices;
        for d in all.iter().skip(at).take(CHUNK) {
            devices.insert(
                d.id.0.clone(),
                to_text(serde_json::to_string(&api::device_view(s, d, now_ms))),
            );
        }
        at += CHUNK;
        at < all.len()
    }) {}
    at = 0;
    while live.read(|s| {
        let all = &s.topology.links;
        for l in all.iter().skip(at).take(CHUNK) {
            links.insert(
                l.id.clone(),
                to_text(serde_json::to_string(&api::link_view(s, l, now_ms))),
            );
        }
        at += CHUNK;
        at < all.len()
    }) {}
    (devices, links)
}

impl Frame {
    /// Moves to the next tick with the given items; returns the delta event.
    fn advance(&mut self, generated_ms: UnixMs, devices: Items, links: Items) -> FeedEvent {
        let d = diff(&self.devices, &devices);
        let l = diff(&self.links, &links);
        self.seq += 1;
        self.generated_ms = generated_ms;
        self.devices = devices;
        self.links = links;
        self.snapshot_text = None;
        self.devices_text = None;
        FeedEvent {
            seq: self.seq,
            kind: EventKind::Delta,
            data: render_delta(self.seq, generated_ms, &d, &l).into(),
        }
    }

    /// Every item of this frame, as a `snapshot` event. Its text is the
    /// `/api/topology` answer too: `{"seq","generated_ms","devices","links"}`.
    pub fn snapshot(&mut self) -> FeedEvent {
        let (seq, generated_ms) = (self.seq, self.generated_ms);
        let (devices, links) = (&self.devices, &self.links);
        let data = self
            .snapshot_text
            .get_or_insert_with(|| {
                let mut out = format!("{{\"seq\":{seq},\"generated_ms\":{generated_ms},");
                push_items(&mut out, "devices", devices.values());
                out.push(',');
                push_items(&mut out, "links", links.values());
                out.push('}');
                out.into()
            })
            .clone();
        FeedEvent {
            seq,
            kind: EventKind::Snapshot,
            data,
        }
    }

    /// Every device of this frame as a JSON array (the `/api/devices` answer).
    pub fn devices_text(&mut self) -> Arc<str> {
        let devices = &self.devices;
        self.devices_text
            .get_or_insert_with(|| {
                let mut out = String::from("[");
                for (i, text) in devices.values().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(text);
                }
                out.push(']');
                out.into()
            })
            .clone()
    }
}

/// The current frame and the channel its deltas go out on.
#[derive(Debug)]
pub struct Feed {
    frame: Mutex<Frame>,
    tx: Mutex<Option<broadcast::Sender<FeedEvent>>>,
    /// Held while rendering: one render at a time, whoever asks.
    rendering: Mutex<()>,
}

/// Deltas a subscriber may be behind before it is sent a snapshot instead.
const BUFFERED_EVENTS: usize = 16;

impl Default for Feed {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(BUFFERED_EVENTS);
        Feed {
            frame: Mutex::new(Frame::default()),
            tx: Mutex::new(Some(tx)),
            rendering: Mutex::new(()),
        }
    }
}

impl Feed {
    pub fn new() -> Arc<Feed> {
        Arc::new(Feed::default())
    }

    fn frame(&self) -> std::sync::MutexGuard<'_, Frame> {
        self.frame.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renders the live state at `now_ms` and sends the delta.
    pub fn tick(&self, live: &Live, now_ms: UnixMs) {
        let _one = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        self.tick_locked(live, now_ms);
    }

    fn tick_locked(&self, live: &Live, now_ms: UnixMs) {
        let (devices, links) = render_items(live, now_ms);
        let event = self.frame().advance(now_ms, devices, links);
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            // No subscribers is fine.
            let _ = tx.send(event);
        }
    }

    /// Renders a new frame unless the current one is younger than
    /// `max_age_ms` at `now_ms`. Callers that arrive while another renders
    /// wait for it and take its frame. Blocking: call off the reactor.
    pub fn refresh(&self, live: &Live, now_ms: UnixMs, max_age_ms: i64) {
        let fresh = |f: &Feed| {
            let frame = f.frame();
            frame.seq > 0 && frame.generated_ms.saturating_add(max_age_ms) > now_ms
        };
        if fresh(self) {
            return;
        }
        let _one = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        if !fresh(self) {
            self.tick_locked(live, crate::types::unix_now_ms().max(now_ms));
        }
    }

    /// Whether anyone holds an event stream.
    pub fn has_subscribers(&self) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// A receiver of the following deltas and the snapshot they follow.
    /// `None` once the feed is closed.
    pub fn subscribe(&self) -> Option<(broadcast::Receiver<FeedEvent>, FeedEvent)> {
        // Subscribe before reading the frame: no delta falls between them.
        let rx = self
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()?
            .subscribe();
        Some((rx, self.current()))
    }

    /// A snapshot of the current frame (its text built once per frame).
    pub fn current(&self) -> FeedEvent {
        self.frame().snapshot()
    }

    /// The current frame's devices as a JSON array (built once per frame).
    pub fn devices_text(&self) -> Arc<str> {
        self.frame().devices_text()
    }

    pub fn is_closed(&self) -> bool {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    /// Ends every subscriber's stream (server shutdown).
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// How often the feed renders the map and sends a delta.
pub const TICK: Duration = Duration::from_secs(1);

/// Ticks the feed every `period` until the feed is closed; skips the ticks
/// nobody listens to (a request renders its own frame then).
pub async fn run(feed: Arc<Feed>, live: Arc<Live>, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !feed.is_closed() {
        ticker.tick().await;
        if !feed.has_subscribers() {
            continue;
        }
        let (f, l) = (feed.clone(), live.clone());
        // Rendering a large map takes milliseconds: off the reactor.
        let now = crate::types::unix_now_ms();
        if tokio::task::spawn_blocking(move || f.tick(&l, now))
            .await
            .is_err()
        {
            tracing::error!("live feed tick failed");
        }
    }
}

/// Makes the feed's frame at most `max_age` old and returns `pick` of it
/// (e.g. [`Feed::devices_text`]), all off the reactor.
pub async fn fresh<T: Send + 'static>(
    feed: &Arc<Feed>,
    live: &Arc<Live>,
    max_age: Duration,
    pick: fn(&Feed) -> T,
) -> Option<T> {
    let (f, l) = (feed.clone(), live.clone());
    let now = crate::types::unix_now_ms();
    let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    let got = tokio::task::spawn_blocking(move || {
        f.refresh(&l, now, max_age_ms);
        pick(&f)
    })
    .await;
    if got.is_err() {
        tracing::error!("live feed render failed");
    }
    got.ok()
}

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

/// What a subscriber's stream does next.
pub enum Next {
    Send(FeedEvent),
    End,
}

/// One subscriber: its receiver and the last sequence number it was sent.
pub struct Subscriber {
    feed: Arc<Feed>,
    rx: broadcast::Receiver<FeedEvent>,
    last_seq: u64,
    first: Option<FeedEvent>,
}

impl Subscriber {
    pub fn new(feed: Arc<Feed>) -> Option<Subscriber> {
        let (rx, snapshot) = feed.subscribe()?;
        Some(Subscriber {
            feed,
            rx,
            last_seq: snapshot.seq,
            first: Some(snapshot),
        })
    }

    /// The next event: the first snapshot, then each delta in order; a
    /// snapshot again after falling behind.
    pub async fn next(&mut self) -> Next {
        if let Some(first) = self.first.take() {
            return Next::Send(first);
        }
        loop {
            match self.rx.recv().await {
                Ok(e) if e.seq <= self.last_seq => continue,
                Ok(e) if e.seq == self.last_seq + 1 => {
                    self.last_seq = e.seq;
                    return Next::Send(e);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Skip what is left of the backlog: the snapshot covers it.
                    self.rx = self.rx.resubscribe();
                    let snap = self.feed.current();
                    self.last_seq = snap.seq;
                    return Next::Send(snap);
                }
                Err(broadcast::error::RecvError::Closed) => return Next::End,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(pairs: &[(&str, &str)]) -> Items {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Arc::from(*v)))
            .collect()
    }

    fn parse(e: &FeedEvent) -> serde_json::Value {
        serde_json::from_str(&e.data).unwrap()
    }

    #[test]
    fn deltas_carry_changed_and_removed_items_only() {
        let mut f = Frame::default();
        let e = f.advance(
            10,
            items(&[("r1", r#"{"id":"r1","v":1}"#), ("r2", r#"{"id":"r2"}"#)]),
            items(&[("l1", r#"{"id":"l1"}"#)]),
        );
        let v = parse(&e);
        assert_eq!(v["seq"], 1);
        assert_eq!(v["devices"].as_array().unwrap().len(), 2);
        let e = f.advance(
            20,
            items(&[("r1", r#"{"id":"r1","v":2}"#), ("<x\"", r#"{"id":"<x\""}"#)]),
            items(&[("l1", r#"{"id":"l1"}"#)]),
        );
        let v = parse(&e);
        assert_eq!(v["seq"], 2);
        assert_eq!(v["generated_ms"], 20);
        let ids: Vec<&str> = v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["<x\"", "r1"]);
        assert_eq!(v["links"].as_array().unwrap().len(), 0);
        assert_eq!(v["removed_devices"], serde_json::json!(["r2"]));
        assert_eq!(v["removed_links"], serde_json::json!([]));
        let s = parse(&f.snapshot());
        assert_eq!(f.snapshot().data, f.snapshot().data);
        let d: serde_json::Value = serde_json::from_str(&f.devices_text()).unwrap();
        assert_eq!(d.as_array().unwrap().len(), 2);
        assert_eq!(s["seq"], 2);
        assert_eq!(s["devices"].as_array().unwrap().len(), 2);
        assert_eq!(s["links"][0]["id"], "l1");
    }

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

    #[test]
    fn refresh_renders_only_a_frame_older_than_asked() {
        let feed = Feed::new();
        let live = Live::default();
        feed.refresh(&live, 1_000, 1_000);
        let first = feed.current();
        assert_eq!(first.seq, 1, "an empty feed renders at once");
        feed.refresh(&live, 1_500, 1_000);
        assert_eq!(feed.current().seq, 1, "half a tick old: kept");
        assert!(
            Arc::ptr_eq(&first.data, &feed.current().data),
            "shared text"
        );
        feed.refresh(&live, i64::MAX - 5, 1_000);
        assert_eq!(feed.current().seq, 2, "older than asked: rendered");
        assert!(!feed.has_subscribers());
        let _sub = Subscriber::new(feed.clone()).unwrap();
        assert!(feed.has_subscribers());
    }

    #[tokio::test]
    async fn a_subscriber_gets_a_snapshot_then_deltas_and_a_snapshot_when_behind() {
        let feed = Feed::new();
        let live = Live::default();
        feed.tick(&live, 1);
        let mut sub = Subscriber::new(feed.clone()).unwrap();
        feed.tick(&live, 2);
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!((e.kind, e.seq), (EventKind::Snapshot, 1));
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!((e.kind, e.seq), (EventKind::Delta, 2));
        for t in 3..(3 + BUFFERED_EVENTS as i64 + 5) {
            feed.tick(&live, t);
        }
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!(e.kind, EventKind::Snapshot);
        assert_eq!(e.seq, 2 + BUFFERED_EVENTS as u64 + 5);
        feed.tick(&live, 100);
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!(
            (e.kind, e.seq),
            (EventKind::Delta, 3 + BUFFERED_EVENTS as u64 + 5)
        );
        feed.close();
        assert!(matches!(sub.next().await, Next::End));
        assert!(Subscriber::new(feed).is_none());
    }
}
