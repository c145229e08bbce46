//! A site's events (traps, syslog, nocmap's own: path and discovery
//! changes) as they travel to the central, pure: the subject, the batch
//! (the site's event ids kept, so the central writes each once), the
//! message id JetStream deduplicates on, and batches cut by size so none
//! exceeds the bound.
use super::wire::SiteState;
use crate::store::EventRow;
use serde::{Deserialize, Serialize};

/// A site's events subject.
pub fn events_subject(site: &str) -> String {
    format!("nocmap.site.{site}.events")
}

/// The largest batch sent, in bytes of JSON (well under the bound a
/// message is read with).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Events of one site, in the site's id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    pub site: String,
    /// The poller group member that stored them: each member numbers its
    /// own events, so its ids are its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poller: Option<String>,
    pub events: Vec<EventRow>,
}

impl EventBatch {
    /// The message id: the site (and group member) and the first and
    /// last site event ids; two members' batches never share one.
    pub fn message_id(&self) -> String {
        let first = self.events.first().map_or(0, |e| e.id);
        let last = self.events.last().map_or(0, |e| e.id);
        format!("{}:ev:{first}-{last}", self.sender())
    }

    /// Whose ids these are: the site, or the site and the group member
    /// (`.` is in no site name) — the central's mark of what it took.
    pub fn sender(&self) -> String {
        super::wire::sender(&self.site, self.poller.as_deref())
    }

    /// The newest site event id in the batch.
    pub fn last_id(&self) -> Option<i64> {
        self.events.iter().map(|e| e.id).max()
    }
}

/// Read with the same bound and site check as the topology and verdicts.
impl SiteState for EventBatch {
    const WHAT: &'static str = "a site's events";
    fn site(&self) -> &str {
        &self.site
    }
}

/// The first batch of `events` (oldest first) whose JSON stays within
/// [`MAX_BATCH_BYTES`], and its payload; at least one event, so a single
/// large one still goes (alone). `None` when `events` is empty.
pub fn first_batch(
    site: &str,
    poller: Option<&str>,
    events: &[EventRow],
) -> Option<(EventBatch, Vec<u8>)> {
    if events.is_empty() {
        return None;
    }
    // The envelope, then each event's own size (plus its comma).
    let mut size = site.len() + 32;
    let mut n = 0;
    for e in events {
        let one = serde_json::to_vec(e)
            .map(|v| v.len())
            .unwrap_or(usize::MAX / 2)
            + 1;
        if n > 0 && size + one > MAX_BATCH_BYTES {
            break;
        }
        size += one;
        n += 1;
    }
    let batch = EventBatch {
        site: site.to_string(),
        poller: poller.map(str::to_string),
        events: events[..n].to_vec(),
    };
    let payload = serde_json::to_vec(&batch).ok()?;
    Some((batch, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::wire::{MAX_STATE_BYTES, StateError};
    use crate::types::UnixMillis;

    fn ev(id: i64, text_len: usize) -> EventRow {
        EventRow {
            id,
            ..EventRow::observed(
                UnixMillis(id),
                "r1",
                "nocmap",
                "path",
                &"x".repeat(text_len),
                vec![],
            )
        }
    }

    #[test]
    fn batches_are_cut_by_size_and_keep_the_site_ids() {
        let events: Vec<EventRow> = (1..=40).map(|i| ev(i, 20_000)).collect();
        let (b, payload) = first_batch("east", None, &events).unwrap();
        assert!(payload.len() <= MAX_BATCH_BYTES, "{}", payload.len());
        assert!(
            b.events.len() > 1 && b.events.len() < 40,
            "{}",
            b.events.len()
        );
        assert_eq!(b.events[0].id, 1);
        assert_eq!(b.message_id(), format!("east:ev:1-{}", b.events.len()));
        let back = EventBatch::decode(&payload, "east").unwrap();
        assert_eq!(back, b);
        assert_eq!(back.last_id(), Some(b.events.len() as i64));
        // One event over the batch size still goes, alone.
        let (b, _) = first_batch("east", None, &[ev(7, 300_000), ev(8, 10)]).unwrap();
        assert_eq!(b.events.len(), 1);
        assert!(first_batch("east", None, &[]).is_none());
    }

    /// Two members of a poller group number their events each: their
    /// batches of the same ids have different message ids (JetStream
    /// would drop the second as a duplicate) and different senders (the
    /// central's mark of what it took).
    #[test]
    fn group_members_batches_are_told_apart() {
        let (a, pa) = first_batch("east", Some("p1"), &[ev(1, 10), ev(2, 10)]).unwrap();
        let (b, _) = first_batch("east", Some("p2"), &[ev(1, 10), ev(2, 10)]).unwrap();
        assert_ne!(a.message_id(), b.message_id());
        assert_eq!(a.message_id(), "east.p1:ev:1-2");
        assert_eq!(
            (a.sender().as_str(), b.sender().as_str()),
            ("east.p1", "east.p2")
        );
        assert_eq!(
            EventBatch::decode(&pa, "east").unwrap().poller.as_deref(),
            Some("p1")
        );
        let (c, _) = first_batch("east", None, &[ev(1, 10)]).unwrap();
        assert_eq!(c.sender(), "east");
    }

    #[test]
    fn a_batch_is_refused_when_too_big_unreadable_or_of_another_site() {
        let (_, payload) = first_batch("east", None, &[ev(1, 10)]).unwrap();
        assert!(matches!(
            EventBatch::decode(&payload, "west"),
            Err(StateError::OtherSite { .. })
        ));
        assert!(matches!(
            EventBatch::decode(b"{", "east"),
            Err(StateError::Unreadable { .. })
        ));
        let huge = vec![b' '; MAX_STATE_BYTES + 1];
        assert!(matches!(
            EventBatch::decode(&huge, "east"),
            Err(StateError::TooBig { .. })
        ));
    }
}
