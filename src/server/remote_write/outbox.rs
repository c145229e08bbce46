//! The remote-write queue: encoded pushes waiting to be sent, bounded (the
//! oldest is dropped when full), and the retry decision with exponential
//! backoff. Pure: the caller sends and sleeps.
use std::collections::VecDeque;
use std::time::Duration;

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: done.
    Sent,
    /// Any other status (4xx but 429, a redirect): the receiver will never
    /// take it; dropped.
    Rejected(u16),
    /// 5xx, 429, a connection error or a timeout: try again later.
    Retry,
}

impl Outcome {
    pub fn from_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Sent,
            429 | 500..=599 => Outcome::Retry,
            _ => Outcome::Rejected(status),
        }
    }
}

pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Outbox {
    queue: VecDeque<Vec<u8>>,
    capacity: usize,
    backoff: Duration,
    /// Pushes dropped because the queue was full.
    pub dropped: u64,
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            backoff: FIRST_BACKOFF,
            dropped: 0,
        }
    }

    /// Queues a push; returns true when the oldest had to be dropped.
    pub fn push(&mut self, body: Vec<u8>) -> bool {
        let full = self.queue.len() >= self.capacity;
        if full {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(body);
        full
    }

    /// The push to send next.
    pub fn front(&self) -> Option<&[u8]> {
        self.queue.front().map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Records the outcome of sending [`Outbox::front`]; returns how long to
    /// wait before the next attempt (zero after a success or a rejection).
    pub fn settle(&mut self, outcome: Outcome) -> Duration {
        match outcome {
            Outcome::Sent | Outcome::Rejected(_) => {
                self.queue.pop_front();
                self.backoff = FIRST_BACKOFF;
                Duration::ZERO
            }
            Outcome::Retry => {
                let wait = self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_queue_and_backoff() {
        let mut o = Outbox::new(2);
        assert!(!o.push(vec![1]));
        assert!(!o.push(vec![2]));
        assert!(o.push(vec![3]));
        assert_eq!((o.len(), o.dropped, o.front()), (2, 1, Some(&[2u8][..])));
        assert_eq!(o.settle(Outcome::Retry), FIRST_BACKOFF);
        assert_eq!(o.settle(Outcome::Retry), FIRST_BACKOFF * 2);
        for _ in 0..20 {
            o.settle(Outcome::Retry);
        }
        assert_eq!(o.settle(Outcome::Retry), MAX_BACKOFF);
        assert_eq!(o.front(), Some(&[2u8][..]));
        assert_eq!(o.settle(Outcome::Rejected(400)), Duration::ZERO);
        assert_eq!(o.front(), Some(&[3u8][..]));
        assert_eq!(o.settle(Outcome::Retry), FIRST_BACKOFF);
        assert_eq!(o.settle(Outcome::Sent), Duration::ZERO);
        assert!(o.is_empty());
    }

    #[test]
    fn statuses() {
        assert_eq!(Outcome::from_status(204), Outcome::Sent);
        assert_eq!(Outcome::from_status(400), Outcome::Rejected(400));
        assert_eq!(Outcome::from_status(429), Outcome::Retry);
        assert_eq!(Outcome::from_status(503), Outcome::Retry);
        assert_eq!(Outcome::from_status(301), Outcome::Rejected(301));
    }
}
