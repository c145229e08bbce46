//! One event stream's order: the snapshot it starts from, then every delta
//! in sequence; a subscriber that fell behind the broadcast buffer skips
//! the backlog and gets a snapshot of the current frame instead. Knows
//! nothing of HTTP or SSE framing.
use super::frame::FeedEvent;
use super::ticker::Feed;
use std::sync::Arc;
use tokio::sync::broadcast;

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
    use super::super::frame::EventKind;
    use super::super::ticker::BUFFERED_EVENTS;
    use super::*;
    use crate::live::Live;
    use crate::types::UnixMillis;

    #[tokio::test]
    async fn a_subscriber_gets_a_snapshot_then_deltas_and_a_snapshot_when_behind() {
        let feed = Feed::new();
        let live = Live::default();
        feed.tick(&live, UnixMillis(1));
        let mut sub = Subscriber::new(feed.clone()).unwrap();
        feed.tick(&live, UnixMillis(2));
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!((e.kind, e.seq), (EventKind::Snapshot, 1));
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!((e.kind, e.seq), (EventKind::Delta, 2));
        for t in 3..(3 + BUFFERED_EVENTS as i64 + 5) {
            feed.tick(&live, UnixMillis(t));
        }
        let Next::Send(e) = sub.next().await else {
            panic!()
        };
        assert_eq!(e.kind, EventKind::Snapshot);
        assert_eq!(e.seq, 2 + BUFFERED_EVENTS as u64 + 5);
        feed.tick(&live, UnixMillis(100));
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
