//! The tracer's pure core: which probe a reply answers, matched by (flow,
//! sequence) from what the reply quotes, never by arrival order; per-hop
//! sent, received, responders and RTTs for every flow; where each flow's
//! path ends; and the report. No sockets, no clock: times are offsets since
//! the trace started, handed in by the caller.
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use super::trace_wire::{QuotedProbe, QuotedTransport, TCP_ACK, TCP_RST, TCP_SYN, TcpSegment};
use super::wire::ErrorKind;

/// The probe protocol of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeProto {
    Icmp,
    Udp,
    Tcp,
}

/// One flow: the header fields ECMP hashes, constant for all its probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Flow {
    /// Index of the flow (0..flows).
    pub index: u16,
    /// UDP or TCP source port; echo identifier for ICMP.
    pub flow_field: u16,
}

/// What the receiving side saw, reduced to what matching needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// An ICMP error from `from` quoting a datagram.
    Quoted { from: IpAddr, probe: QuotedProbe },
    /// An echo reply from `from`.
    Echo { from: IpAddr, ident: u16, seq: u16 },
    /// A TCP segment (SYN-ACK or RST from the destination).
    Tcp(TcpSegment),
}

/// The key that ties a reply to its probe: the flow field and the sequence
/// (echo sequence, UDP checksum or TCP sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    flow_field: u16,
    seq: u32,
}

#[derive(Debug, Clone, Copy)]
struct Outstanding {
    flow: usize,
    ttl: u8,
    sent: Duration,
}

/// Per (flow, TTL) tallies.
#[derive(Debug, Clone, Default)]
struct HopTally {
    sent: u64,
    rtts: Vec<Duration>,
    responders: BTreeMap<IpAddr, u64>,
}

/// Which protocol, to whom, and the flows of one trace.
#[derive(Debug, Clone)]
pub struct TraceState {
    proto: ProbeProto,
    target: IpAddr,
    dst_port: u16,
    flows: Vec<Flow>,
    /// Base of TCP sequence numbers (random per trace).
    tcp_seq_base: u32,
    next_seq: u32,
    timeout: Duration,
    outstanding: HashMap<Key, Outstanding>,
    tallies: Vec<BTreeMap<u8, HopTally>>,
    /// Per flow: the smallest TTL at which the destination (or a router
    /// that refused the datagram) answered.
    ends: Vec<Option<u8>>,
    /// Replies that matched no outstanding probe (late, duplicate, foreign).
    pub unmatched: u64,
}

/// A probe to send: which flow, which TTL, and the sequence it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeToSend {
    pub flow: Flow,
    pub ttl: u8,
    /// Echo sequence (low 16 bits), UDP checksum (1..=0xfffe), or TCP sequence.
    pub seq: u32,
}

impl TraceState {
    pub fn new(
        proto: ProbeProto,
        target: IpAddr,
        dst_port: u16,
        flows: Vec<Flow>,
        tcp_seq_base: u32,
        timeout: Duration,
    ) -> TraceState {
        let n = flows.len();
        TraceState {
            proto,
            target,
            dst_port,
            flows,
            tcp_seq_base,
            next_seq: 0,
            timeout,
            outstanding: HashMap::new(),
            tallies: vec![BTreeMap::new(); n],
            ends: vec![None; n],
            unmatched: 0,
        }
    }

    /// The TTLs worth probing on `flow` up to `max_ttl`: past the end of its
    /// path once known, nothing.
    pub fn ttl_limit(&self, flow: usize, max_ttl: u8) -> u8 {
        self.ends
            .get(flow)
            .copied()
            .flatten()
            .map_or(max_ttl, |end| end.min(max_ttl))
    }

    /// Registers a probe on `flow` at `ttl` sent at `now`; returns what it carries.
    pub fn register(&mut self, flow: usize, ttl: u8, now: Duration) -> Option<ProbeToSend> {
        let f = *self.flows.get(flow)?;
        self.next_seq = self.next_seq.wrapping_add(1);
        let seq = match self.proto {
            ProbeProto::Icmp => self.next_seq & 0xffff,
            // A UDP checksum of 0 means none and 0xffff is how 0 is sent.
            ProbeProto::Udp => self.next_seq.wrapping_sub(1) % 0xfffe + 1,
            ProbeProto::Tcp => self.tcp_seq_base.wrapping_add(self.next_seq),
        };
        let key = Key {
            flow_field: f.flow_field,
            seq,
        };
        self.outstanding.insert(
            key,
            Outstanding {
                flow,
                ttl,
                sent: now,
            },
        );
        self.tallies[flow].entry(ttl).or_default().sent += 1;
        Some(ProbeToSend { flow: f, ttl, seq })
    }

    /// Matches a reply received at `now`; true when it answered a probe.
    pub fn on_reply(&mut self, reply: &Reply, now: Duration) -> bool {
        let Some((key, from, terminal)) = self.key_of(reply) else {
            self.unmatched += 1;
            return false;
        };
        let Some(probe) = self.outstanding.remove(&key) else {
            self.unmatched += 1;
            return false;
        };
        let rtt = now.saturating_sub(probe.sent);
        if rtt > self.timeout {
            self.unmatched += 1;
            return false;
        }
        let tally = self.tallies[probe.flow].entry(probe.ttl).or_default();
        tally.rtts.push(rtt);
        *tally.responders.entry(from).or_default() += 1;
        if terminal {
            let end = &mut self.ends[probe.flow];
            *end = Some(end.map_or(probe.ttl, |e| e.min(probe.ttl)));
        }
        true
    }

    /// Forgets probes older than the timeout at `now` (they stay lost).
    pub fn expire(&mut self, now: Duration) {
        let timeout = self.timeout;
        self.outstanding
            .retain(|_, p| now.saturating_sub(p.sent) <= timeout);
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// (key, responder, whether the path ends there) of a reply to one of
    /// our probes to this target; `None` for anything else.
    fn key_of(&self, reply: &Reply) -> Option<(Key, IpAddr, bool)> {
        match (*reply, self.proto) {
            (Reply::Quoted { from, probe }, _) => {
                if probe.dst != self.target {
                    return None;
                }
                let (flow_field, seq) = match (probe.transport, self.proto) {
                    (QuotedTransport::Echo { ident, seq, .. }, ProbeProto::Icmp) => {
                        (ident, u32::from(seq))
                    }
                    (
                        QuotedTransport::Udp {
                            src_port,
                            dst_port,
                            checksum,
                        },
                        ProbeProto::Udp,
                    ) if dst_port == self.dst_port => (src_port, u32::from(checksum)),
                    (
                        QuotedTransport::Tcp {
                            src_port,
                            dst_port,
                            seq,
                        },
                        ProbeProto::Tcp,
                    ) if dst_port == self.dst_port => (src_port, seq),
                    _ => return None,
                };
                let terminal = from == self.target
                    || matches!(probe.kind, ErrorKind::DestinationUnreachable(_));
                Some((Key { flow_field, seq }, from, terminal))
            }
            (Reply::Echo { from, ident, seq }, ProbeProto::Icmp) if from == self.target => {
                let key = Key {
                    flow_field: ident,
                    seq: u32::from(seq),
                };
                Some((key, from, true))
            }
            (Reply::Tcp(seg), ProbeProto::Tcp) => {
                let answers = seg.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
                    || seg.flags & (TCP_RST | TCP_ACK) == TCP_RST | TCP_ACK;
                if seg.src != self.target || seg.src_port != self.dst_port || !answers {
                    return None;
                }
                let key = Key {
                    flow_field: seg.dst_port,
                    seq: seg.ack.wrapping_sub(1),
                };
                Some((key, seg.src, true))
            }
            _ => None,
        }
    }

    /// The report: per flow its hops up to the end of its path (or up to the
    /// last TTL anything answered), and all flows merged per TTL.
    pub fn report(&self) -> TraceReport {
        let paths: Vec<FlowPath> = self
            .flows
            .iter()
            .enumerate()
            .map(|(i, flow)| {
                let tallies = &self.tallies[i];
                let last = self.ends[i].or_else(|| {
                    tallies
                        .iter()
                        .filter(|(_, t)| !t.rtts.is_empty())
                        .map(|(ttl, _)| *ttl)
                        .max()
                });
                let hops = tallies
                    .iter()
                    .filter(|(ttl, _)| last.is_some_and(|l| **ttl <= l))
                    .map(|(ttl, t)| HopReport::from_tallies(*ttl, [t]))
                    .collect();
                FlowPath {
                    flow: *flow,
                    reached: self.ends[i].is_some(),
                    hops,
                }
            })
            .collect();
        let max_ttl = paths
            .iter()
            .filter_map(|p| p.hops.last().map(|h| h.ttl))
            .max()
            .unwrap_or(0);
        let hops = (1..=max_ttl)
            .filter_map(|ttl| {
                let ts: Vec<&HopTally> = self
                    .tallies
                    .iter()
                    .zip(&paths)
                    .filter(|(_, p)| p.hops.iter().any(|h| h.ttl == ttl))
                    .filter_map(|(t, _)| t.get(&ttl))
                    .collect();
                (!ts.is_empty()).then(|| HopReport::from_tallies(ttl, ts))
            })
            .collect();
        TraceReport {
            target: self.target,
            proto: self.proto,
            port: (self.proto != ProbeProto::Icmp).then_some(self.dst_port),
            reached: self.ends.iter().any(Option::is_some),
            hops,
            paths,
            unmatched_replies: self.unmatched,
        }
    }
}

/// One responder at a hop and how many replies it sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Responder {
    pub addr: IpAddr,
    pub replies: u64,
}

/// One hop: probes sent at this TTL, answers, loss and RTTs (like mtr).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HopReport {
    pub ttl: u8,
    /// Who answered, most replies first.
    pub responders: Vec<Responder>,
    pub sent: u64,
    pub received: u64,
    pub loss_pct: f64,
    pub rtt_min_ms: Option<f64>,
    pub rtt_avg_ms: Option<f64>,
    pub rtt_max_ms: Option<f64>,
}

impl HopReport {
    fn from_tallies<'a>(ttl: u8, tallies: impl IntoIterator<Item = &'a HopTally>) -> HopReport {
        let (mut sent, mut rtts, mut by_addr) = (0, Vec::new(), BTreeMap::<IpAddr, u64>::new());
        for t in tallies {
            sent += t.sent;
            rtts.extend(t.rtts.iter().map(|d| d.as_secs_f64() * 1000.0));
            for (addr, n) in &t.responders {
                *by_addr.entry(*addr).or_default() += n;
            }
        }
        let received = rtts.len() as u64;
        let mut responders: Vec<Responder> = by_addr
            .into_iter()
            .map(|(addr, replies)| Responder { addr, replies })
            .collect();
        responders.sort_by(|a, b| b.replies.cmp(&a.replies).then(a.addr.cmp(&b.addr)));
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let avg = (!rtts.is_empty()).then(|| round(rtts.iter().sum::<f64>() / rtts.len() as f64));
        HopReport {
            ttl,
            responders,
            sent,
            received,
            loss_pct: if sent == 0 {
                0.0
            } else {
                round(100.0 * sent.saturating_sub(received) as f64 / sent as f64)
            },
            rtt_min_ms: rtts.iter().copied().reduce(f64::min).map(round),
            rtt_avg_ms: avg,
            rtt_max_ms: rtts.iter().copied().reduce(f64::max).map(round),
        }
    }
}

/// One flow's path.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FlowPath {
    pub flow: Flow,
    /// True when the destination (or a router refusing the datagram) answered.
    pub reached: bool,
    pub hops: Vec<HopReport>,
}

/// The result of a trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceReport {
    pub target: IpAddr,
    pub proto: ProbeProto,
    pub port: Option<u16>,
    pub reached: bool,
    /// All flows merged per TTL.
    pub hops: Vec<HopReport>,
    /// Each flow on its own (Paris: one path per flow).
    pub paths: Vec<FlowPath>,
    pub unmatched_replies: u64,
}

#[cfg(test)]
#[path = "trace_state_tests.rs"]
mod tests;
