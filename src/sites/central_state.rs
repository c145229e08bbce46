//! The central's handling of a site's topology and verdicts as they
//! arrive: whole, or in parts put back together first
//! ([`wire_parts::Parts`]), a set only once complete — so a partial set
//! never replaces the map the site sent before. The newest (by stream
//! sequence, a set's by its last part) wins; what it replaces, and the
//! parts of a set given up, are returned for the caller to delete from
//! the stream.
use super::super::wire::{self, SiteState};
use super::super::wire_parts::{self, Added};
use super::{Sites, newer, seq_of};
use crate::types::UnixMillis;
use tokio::task::block_in_place;

impl Sites {
    /// A site's topology (its message, or its parts', at `seqs`) handed to
    /// `serve` when it is the site's newest: what it replaces.
    pub(super) fn topology(&mut self, t: wire::SiteTopology, seqs: Vec<u64>) -> Vec<u64> {
        let Some(before) = newer(&mut self.topology_seq, &t.site, seqs) else {
            return vec![];
        };
        tracing::info!(
            site = %t.site,
            devices = t.topology.devices.len(),
            links = t.topology.links.len(),
            "central: a site's topology"
        );
        let _ = self.wiring.topologies.send((t.site, t.topology));
        before
    }

    /// A site's verdicts (in a poller group, a member's), kept and applied
    /// when they are the sender's newest: what they replace. `msg` is the
    /// message that brought them (its last part).
    pub(super) fn verdicts(
        &mut self,
        site: &str,
        v: wire::SiteVerdicts,
        seqs: Vec<u64>,
        msg: &async_nats::jetstream::Message,
    ) -> Vec<u64> {
        let key = wire::sender(site, v.poller.as_deref());
        let Some(before) = newer(&mut self.verdicts_seq, &key, seqs) else {
            return vec![];
        };
        // When the stream took it in (the server's clock; a message read
        // again after a restart is not new).
        let published = msg
            .info()
            .map(|i| (i.published.unix_timestamp_nanos() / 1_000_000) as i64)
            .unwrap_or(i64::MAX);
        let received = UnixMillis(UnixMillis::now().0.min(published));
        self.apply_interfaces(site, &v.interfaces, received);
        self.wiring
            .status
            .observe_verdicts(site, &key, &v.devices, UnixMillis::now());
        self.verdicts.insert(key, v);
        self.apply(site);
        before
    }

    /// One part of a site's topology or verdicts: kept until its set is
    /// complete, then read as the whole message would be. Returns what
    /// leaves the stream: what a complete set replaced, a refused part, the
    /// parts of a set given up (logged).
    pub(super) fn part(
        &mut self,
        site: &str,
        kind: &wire::Kind,
        msg: &async_nats::jetstream::Message,
    ) -> Vec<u64> {
        let seq = seq_of(msg);
        let parts = self.parts.entry(msg.subject.to_string()).or_default();
        let added = parts.add(seq, &msg.payload, UnixMillis::now().0);
        let mut gone = given_up(site, parts.take_dropped());
        let (packed, seqs) = match added {
            Ok(Added::Waiting) => return gone,
            Ok(Added::Complete { packed, seqs }) => (packed, seqs),
            Err(e) => {
                tracing::warn!(site, error = %e, "central: a part of a site's state refused");
                gone.push(seq);
                return gone;
            }
        };
        let parts = seqs.len();
        // Up to 64 MiB of JSON: read off the reactor's other tasks.
        let replaced = if *kind == wire::Kind::TopologyPart {
            match block_in_place(|| wire::SiteTopology::unpack(&packed, site)) {
                Ok(t) => Ok(self.topology(t, seqs.clone())),
                Err(e) => Err(e),
            }
        } else {
            match block_in_place(|| wire::SiteVerdicts::unpack(&packed, site)) {
                Ok(v) => Ok(self.verdicts(site, v, seqs.clone(), msg)),
                Err(e) => Err(e),
            }
        };
        match replaced {
            Ok(before) => {
                tracing::debug!(
                    site,
                    bytes = packed.len(),
                    parts,
                    "central: a state in parts"
                );
                gone.extend(before);
            }
            Err(e) => {
                tracing::warn!(site, error = %e, parts, "central: a site's state in parts dropped");
                gone.extend(seqs);
            }
        }
        gone
    }

    /// Gives up the sets of parts idle too long: their parts' sequences.
    pub(super) fn expire_parts(&mut self, now: i64) -> Vec<u64> {
        let mut gone = Vec::new();
        for (subject, parts) in &mut self.parts {
            parts.expire(now);
            let site = wire::parse_subject(subject).map_or("?", |(s, _)| s);
            gone.extend(given_up(site, parts.take_dropped()));
        }
        // Each site subject's entry stays (small: the generations it last
        // completed, so a part delivered again starts no set).
        gone
    }
}

/// The sets given up, logged: their parts' sequences.
fn given_up(site: &str, dropped: Vec<wire_parts::Dropped>) -> Vec<u64> {
    let mut gone = Vec::new();
    for d in dropped {
        tracing::warn!(
            site,
            generation = d.generation,
            had = d.had,
            of = d.count,
            "central: a site's state in parts given up incomplete; the map it sent before stays"
        );
        gone.extend(d.seqs);
    }
    gone
}
