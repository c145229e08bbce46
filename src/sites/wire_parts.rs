//! A site's topology or verdicts too big for one message, in parts, pure:
//! the packed state ([`super::wire::SiteState::pack`]) cut into parts of at
//! most [`PART_BYTES`], each on the site's parts subject
//! (`nocmap.site.<site>.topology.parts`, `.verdicts.parts`) behind a small
//! header — the set's generation, the part's index, the number of parts and
//! the packed state's length — and put back together at the central
//! ([`Parts`]) only once every part of one generation is there. A state that
//! fits in one message still goes whole on the old subject, so an older
//! central reads it and a newer central still reads an older site; an older
//! central drops the parts (a subject it does not know). A part is hostile
//! input: every count, index and length is checked, and what one site's
//! parts may hold at the central is bounded ([`MAX_SETS`] sets of at most
//! [`MAX_UNPACKED_BYTES`] together). No I/O and no clock: the caller passes
//! the time.
use super::wire::{MAX_STATE_BYTES, MAX_UNPACKED_BYTES};
use std::collections::BTreeMap;

/// A site's topology parts subject.
pub fn topology_parts_subject(site: &str) -> String {
    format!("nocmap.site.{site}.topology.parts")
}

/// A site's verdicts parts subject.
pub fn verdicts_parts_subject(site: &str) -> String {
    format!("nocmap.site.{site}.verdicts.parts")
}

/// The most packed bytes in one part (its header is [`HEADER`] bytes
/// more; the whole stays under [`MAX_STATE_BYTES`]).
pub const PART_BYTES: usize = 900_000;
/// The most parts of one set a reader takes (a writer needs at most
/// `MAX_UNPACKED_BYTES / PART_BYTES`, 75).
pub const MAX_PARTS: u32 = 128;
/// The most sets of one site's subject kept at once (a poller group's
/// members each send their own).
pub const MAX_SETS: usize = 4;
/// A set that got no part for this long is given up (its site sends again).
pub const SET_IDLE_MS: i64 = 60_000;

/// The magic that starts every part (`N`: never `{`, which starts JSON).
const MAGIC: &[u8; 4] = b"NMP1";
/// magic, generation (u64), index (u32), count (u32), total (u64), big-endian.
pub const HEADER: usize = 4 + 8 + 4 + 4 + 8;

/// Why a part was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    #[error("a part of {bytes} bytes: not a part (no header)")]
    NoHeader { bytes: usize },
    #[error("a part of {bytes} bytes is over the limit of {MAX_STATE_BYTES}")]
    TooBig { bytes: usize },
    #[error("a part says {count} parts; between 1 and {MAX_PARTS} are read")]
    Count { count: u32 },
    #[error("part {index} of a set of {count}")]
    Index { index: u32, count: u32 },
    #[error("a set of {total} bytes, over the limit of {MAX_UNPACKED_BYTES}")]
    TooBigTotal { total: u64 },
    #[error("part {index} of generation {generation} disagrees with the set's other parts")]
    Disagrees { generation: u64, index: u32 },
    #[error("the parts of generation {generation} hold {bytes} bytes, not the {total} they said")]
    Length {
        generation: u64,
        bytes: usize,
        total: u64,
    },
}

/// One part as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub generation: u64,
    pub index: u32,
    pub count: u32,
    /// The packed state's whole length.
    pub total: u64,
    pub chunk: &'a [u8],
}

impl<'a> Part<'a> {
    /// A part's payload read and checked on its own (not yet against its set).
    pub fn parse(payload: &'a [u8]) -> Result<Part<'a>, PartError> {
        let bytes = payload.len();
        if bytes > MAX_STATE_BYTES {
            return Err(PartError::TooBig { bytes });
        }
        if bytes < HEADER || &payload[..4] != MAGIC {
            return Err(PartError::NoHeader { bytes });
        }
        let u64_at = |i: usize| u64::from_be_bytes(payload[i..i + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |i: usize| u32::from_be_bytes(payload[i..i + 4].try_into().unwrap_or([0; 4]));
        let part = Part {
            generation: u64_at(4),
            index: u32_at(12),
            count: u32_at(16),
            total: u64_at(20),
            chunk: &payload[HEADER..],
        };
        if part.count == 0 || part.count > MAX_PARTS {
            return Err(PartError::Count { count: part.count });
        }
        if part.index >= part.count {
            return Err(PartError::Index {
                index: part.index,
                count: part.count,
            });
        }
        if part.total > MAX_UNPACKED_BYTES as u64 {
            return Err(PartError::TooBigTotal { total: part.total });
        }
        if part.chunk.len() as u64 > part.total {
            return Err(PartError::Length {
                generation: part.generation,
                bytes: part.chunk.len(),
                total: part.total,
            });
        }
        Ok(part)
    }

    /// The part's payload: header, then its chunk.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.chunk.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.total.to_be_bytes());
        out.extend_from_slice(self.chunk);
        out
    }
}

/// `packed` (a state's payload over [`MAX_STATE_BYTES`]) as the payloads
/// of its parts, in order, each at most [`PART_BYTES`] of it; `None` when
/// it is over [`MAX_UNPACKED_BYTES`] (`pack` never gives that).
pub fn split(packed: &[u8], generation: u64) -> Option<Vec<Vec<u8>>> {
    if packed.len() > MAX_UNPACKED_BYTES {
        return None;
    }
    let count = packed.len().div_ceil(PART_BYTES).max(1) as u32;
    let parts = (0..count)
        .map(|index| {
            let from = index as usize * PART_BYTES;
            let chunk = &packed[from..(from + PART_BYTES).min(packed.len())];
            Part {
                generation,
                index,
                count,
                total: packed.len() as u64,
                chunk,
            }
            .emit()
        })
        .collect();
    Some(parts)
}

/// What became of a part taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// Kept; its set is not complete yet.
    Waiting,
    /// Its set is complete: the packed state, and the stream sequences of
    /// every part (the newest last).
    Complete { packed: Vec<u8>, seqs: Vec<u64> },
}

/// A set given up (incomplete): what it had and the stream sequences of
/// its parts, for the caller to tell and delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub generation: u64,
    pub had: usize,
    pub count: u32,
    pub seqs: Vec<u64>,
}

/// The sets of one site's parts subject being put back together.
#[derive(Debug, Default)]
pub struct Parts {
    sets: Vec<Set>,
    dropped: Vec<Dropped>,
    /// The generations last completed (a part of one delivered again, its
    /// acknowledgement lost, starts no new set).
    completed: std::collections::VecDeque<u64>,
}

/// How many completed generations are remembered.
const COMPLETED_KEPT: usize = 8;

#[derive(Debug)]
struct Set {
    generation: u64,
    count: u32,
    total: u64,
    chunks: BTreeMap<u32, Vec<u8>>,
    bytes: usize,
    seqs: Vec<u64>,
    last_ms: i64,
}

impl Set {
    fn given_up(self) -> Dropped {
        Dropped {
            generation: self.generation,
            had: self.chunks.len(),
            count: self.count,
            seqs: self.seqs,
        }
    }
}

impl Parts {
    /// Takes the part at stream sequence `seq`, received at `now_ms`. A
    /// complete set is handed back whole and forgotten; sets idle for
    /// [`SET_IDLE_MS`], or beyond [`MAX_SETS`] or the byte bound (oldest
    /// first), are given up ([`Parts::take_dropped`]).
    pub fn add(&mut self, seq: u64, payload: &[u8], now_ms: i64) -> Result<Added, PartError> {
        self.expire(now_ms);
        let part = Part::parse(payload)?;
        if self.completed.contains(&part.generation) {
            return Ok(Added::Waiting);
        }
        let i = match self
            .sets
            .iter()
            .position(|s| s.generation == part.generation)
        {
            Some(i) => i,
            None => {
                self.sets.push(Set {
                    generation: part.generation,
                    count: part.count,
                    total: part.total,
                    chunks: BTreeMap::new(),
                    bytes: 0,
                    seqs: vec![],
                    last_ms: now_ms,
                });
                self.sets.len() - 1
            }
        };
        let set = &mut self.sets[i];
        let disagrees = PartError::Disagrees {
            generation: part.generation,
            index: part.index,
        };
        if set.count != part.count || set.total != part.total {
            return Err(disagrees);
        }
        if let Some(had) = set.chunks.get(&part.index) {
            if had.as_slice() != part.chunk {
                return Err(disagrees);
            }
            // The same part again (delivered twice): its copy goes too.
            set.seqs.push(seq);
            set.last_ms = now_ms;
            return Ok(Added::Waiting);
        }
        let bytes = set.bytes + part.chunk.len();
        if bytes as u64 > set.total {
            let set = self.sets.remove(i);
            let err = PartError::Length {
                generation: set.generation,
                bytes,
                total: set.total,
            };
            self.dropped.push(set.given_up());
            return Err(err);
        }
        set.chunks.insert(part.index, part.chunk.to_vec());
        set.bytes = bytes;
        set.seqs.push(seq);
        set.last_ms = now_ms;
        if set.chunks.len() == set.count as usize {
            let set = self.sets.remove(i);
            if set.bytes as u64 != set.total {
                let err = PartError::Length {
                    generation: set.generation,
                    bytes: set.bytes,
                    total: set.total,
                };
                self.dropped.push(set.given_up());
                return Err(err);
            }
            let mut packed = Vec::with_capacity(set.bytes);
            for chunk in set.chunks.values() {
                packed.extend_from_slice(chunk);
            }
            if self.completed.len() == COMPLETED_KEPT {
                self.completed.pop_front();
            }
            self.completed.push_back(set.generation);
            let mut seqs = set.seqs;
            seqs.sort_unstable();
            return Ok(Added::Complete { packed, seqs });
        }
        self.bound(i);
        Ok(Added::Waiting)
    }

    /// Gives up the sets idle for [`SET_IDLE_MS`] at `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        let (idle, kept): (Vec<Set>, Vec<Set>) = std::mem::take(&mut self.sets)
            .into_iter()
            .partition(|s| now_ms - s.last_ms > SET_IDLE_MS);
        self.sets = kept;
        self.dropped.extend(idle.into_iter().map(Set::given_up));
    }

    /// The sets given up since the last call.
    pub fn take_dropped(&mut self) -> Vec<Dropped> {
        std::mem::take(&mut self.dropped)
    }

    /// Bytes held now (every set's parts).
    pub fn held_bytes(&self) -> usize {
        self.sets.iter().map(|s| s.bytes).sum()
    }

    /// Whether no set is being put back together.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Gives up the oldest sets other than `keep` while over [`MAX_SETS`]
    /// or [`MAX_UNPACKED_BYTES`] together.
    fn bound(&mut self, keep: usize) {
        let keep = self.sets[keep].generation;
        // One set alone is never over the bytes (its total is checked).
        while self.sets.len() > MAX_SETS || self.held_bytes() > MAX_UNPACKED_BYTES {
            let Some(oldest) = self
                .sets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.generation != keep)
                .min_by_key(|(_, s)| s.last_ms)
                .map(|(i, _)| i)
            else {
                break;
            };
            let set = self.sets.remove(oldest);
            self.dropped.push(set.given_up());
        }
    }
}

#[cfg(test)]
#[path = "wire_parts_tests.rs"]
mod tests;
