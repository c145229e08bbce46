//! [`Feed`]: the current frame and the broadcast channel its deltas go out
//! on; [`run`], the task that ticks it once a second while anyone
//! listens; [`fresh`], how the API takes a frame at most a tick old. The
//! rendering itself ([`super::items`]) runs off the reactor, one at a
//! time whoever asks.
use super::frame::{FeedEvent, Frame};
use super::items;
use crate::live::Live;
use crate::types::UnixMillis;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// The current frame and the channel its deltas go out on.
#[derive(Debug)]
pub struct Feed {
    frame: Mutex<Frame>,
    tx: Mutex<Option<broadcast::Sender<FeedEvent>>>,
    /// Held while rendering: one render at a time, whoever asks.
    rendering: Mutex<()>,
    /// The configured tags (`site:` ones name a device's site).
    tagging: Option<crate::config::Tagging>,
}

/// Deltas a subscriber may be behind before it is sent a snapshot instead.
pub(super) const BUFFERED_EVENTS: usize = 16;

impl Default for Feed {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(BUFFERED_EVENTS);
        Feed {
            frame: Mutex::new(Frame::default()),
            tx: Mutex::new(Some(tx)),
            rendering: Mutex::new(()),
            tagging: None,
        }
    }
}

impl Feed {
    pub fn new() -> Arc<Feed> {
        Arc::new(Feed::default())
    }

    /// A feed whose devices get their configured sites from `tagging`.
    pub fn with_tagging(tagging: crate::config::Tagging) -> Arc<Feed> {
        Arc::new(Feed {
            tagging: Some(tagging),
            ..Feed::default()
        })
    }

    fn frame(&self) -> std::sync::MutexGuard<'_, Frame> {
        self.frame.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renders the live state at `now_ms` and sends the delta.
    pub fn tick(&self, live: &Live, now_ms: UnixMillis) {
        let _one = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        self.tick_locked(live, now_ms);
    }

    fn tick_locked(&self, live: &Live, now_ms: UnixMillis) {
        let (devices, links) = items::render(live, self.tagging.as_ref(), now_ms);
        let event = self.frame().advance(now_ms, devices, links);
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            // No subscribers is fine.
            let _ = tx.send(event);
        }
    }

    /// Renders a new frame unless the current one is younger than
    /// `max_age_ms` at `now_ms`. Callers that arrive while another renders
    /// wait for it and take its frame. Blocking: call off the reactor.
    pub fn refresh(&self, live: &Live, now_ms: UnixMillis, max_age_ms: i64) {
        let fresh = |f: &Feed| {
            let frame = f.frame();
            frame.seq > 0 && UnixMillis(frame.generated_ms.0.saturating_add(max_age_ms)) > now_ms
        };
        if fresh(self) {
            return;
        }
        let _one = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        if !fresh(self) {
            self.tick_locked(live, UnixMillis::now().max(now_ms));
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
        let now = UnixMillis::now();
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
    let now = UnixMillis::now();
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

#[cfg(test)]
mod tests {
    use super::super::Subscriber;
    use super::*;

    #[test]
    fn refresh_renders_only_a_frame_older_than_asked() {
        let feed = Feed::new();
        let live = Live::default();
        feed.refresh(&live, UnixMillis(1_000), 1_000);
        let first = feed.current();
        assert_eq!(first.seq, 1, "an empty feed renders at once");
        feed.refresh(&live, UnixMillis(1_500), 1_000);
        assert_eq!(feed.current().seq, 1, "half a tick old: kept");
        assert!(
            Arc::ptr_eq(&first.data, &feed.current().data),
            "shared text"
        );
        feed.refresh(&live, UnixMillis(i64::MAX - 5), 1_000);
        assert_eq!(feed.current().seq, 2, "older than asked: rendered");
        assert!(!feed.has_subscribers());
        let _sub = Subscriber::new(feed.clone()).unwrap();
        assert!(feed.has_subscribers());
    }
}
