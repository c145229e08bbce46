//! The counter poll of one managed device: every interval, sysUpTime and
//! the counter columns read through the SNMP transport handle, turned into
//! rates (or explicit gaps) by `snmp_step`, into the live state and the
//! store. A slow or dead agent only delays its own loop; an overrun skips
//! deadlines and counts them.
use super::collect::{CHUNK, IfStatic, assemble, octet_readings, poll_oids};
use super::refresh_watch::RefreshTracker;
use super::snmp_step::{Previous, counter_step};
use super::{MonitorSettings, PollerContext, Ticker};
use crate::counters::{InexactReason, Metric, MonoMillis, Taken};
use crate::live::DeviceHealth;
use crate::snmp::rejects::RejectCounts;
use crate::snmp::strays;
use crate::snmp::{AgentSession, Credential, Oid, SnmpError, SnmpTransport, VarBind};
use crate::topology::DeviceId;
use crate::types::IfIndex;
use crate::types::UnixMillis;
use crate::util::clock::Clock;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

pub(super) struct Target {
    pub device: DeviceId,
    /// Its pollers' generation (`PollerContext::still_has`).
    pub generation: u64,
    pub addr: IpAddr,
    /// The device's other addresses (answers from them read as its own
    /// in the note; answers from any other address are named as strangers).
    pub others: Vec<IpAddr>,
    pub interfaces: BTreeMap<IfIndex, IfStatic>,
}

type ChunkReadings = (
    BTreeMap<IfIndex, super::collect::OctetReading>,
    Vec<VarBind>,
);

/// When a GET's values (sent, answered) were taken by the agent.
type TakenFor<'a> = &'a (dyn Fn(MonoMillis, MonoMillis) -> Result<Taken, InexactReason> + Sync);

/// One GET of sysUpTime and the polled columns of `chunk`'s interfaces.
async fn get_chunk(
    session: &dyn AgentSession,
    clock: &dyn Clock,
    chunk: &[IfIndex],
    taken: TakenFor<'_>,
) -> Result<ChunkReadings, SnmpError> {
    let oids: Vec<Oid> = poll_oids(chunk)
        .iter()
        .map(|a| Oid::from_slice(a))
        .collect();
    let sent = clock.mono_ms();
    let r = session.get(&oids).await;
    let got = clock.mono_ms();
    let at = MonoMillis((sent + got) / 2);
    let taken = taken(MonoMillis(sent), MonoMillis(got));
    r.map(|vbs| {
        let mut readings = octet_readings(chunk, &vbs, at);
        for o in readings.values_mut() {
            o.taken = taken;
        }
        (readings, vbs)
    })
}

async fn poll_once(
    session: &dyn AgentSession,
    clock: &dyn Clock,
    t: &Target,
    in_flight: usize,
    taken: TakenFor<'_>,
) -> Result<(Vec<super::collect::PolledInterface>, Vec<String>), SnmpError> {
    let idx: Vec<IfIndex> = t.interfaces.keys().copied().collect();
    let chunks: Vec<&[IfIndex]> = idx.chunks(CHUNK).collect();
    // The GETs go out as fast as the engine's per-agent cap lets them, each
    // stamped halfway through its own exchange. Only `in_flight` requests
    // exist at a time (in order), so a device with thousands of interfaces
    // does not build every request of the poll up front.
    let mut pending = futures::stream::FuturesOrdered::new();
    let mut todo = chunks.iter();
    let mut gets = Vec::with_capacity(chunks.len());
    loop {
        while pending.len() < in_flight.max(1) {
            let Some(chunk) = todo.next() else { break };
            pending.push_back(get_chunk(session, clock, chunk, taken));
        }
        let Some(g) = pending.next().await else { break };
        // A timeout ends the poll (below): do not wait for the rest of it.
        let timed_out = matches!(&g, Err(e) if e.is_timeout());
        gets.push(g);
        if timed_out {
            break;
        }
    }
    let mut octets = BTreeMap::new();
    let mut vbs: Vec<VarBind> = Vec::new();
    let mut partial = Vec::new();
    for (chunk, g) in chunks.iter().zip(gets) {
        match g {
            Ok((o, v)) => {
                octets.extend(o);
                vbs.extend(v);
            }
            // One failed chunk loses only its interfaces for this round.
            Err(e) if chunks.len() > 1 && !e.is_timeout() => {
                let numbers: Vec<u32> = chunk.iter().map(|i| i.0).collect();
                partial.push(format!("interfaces {numbers:?}: {e}"))
            }
            Err(e) => return Err(e),
        }
    }
    if octets.is_empty() && !idx.is_empty() {
        return Err(SnmpError::Protocol {
            target: session.target(),
            detail: "sysUpTime.0 is missing".into(),
        });
    }
    Ok((assemble(&vbs, &octets, &t.interfaces), partial))
}

pub(super) async fn run(
    shared: Arc<PollerContext>,
    snmp: Arc<dyn SnmpTransport>,
    creds: Arc<Vec<Credential>>,
    t: Target,
    s: MonitorSettings,
    first_now: bool,
) {
    let clock = shared.clock.clone();
    let start = if first_now {
        Ticker::now_then_grid
    } else {
        Ticker::new
    };
    let mut ticker = start(
        clock.mono_ms(),
        &format!("snmp {}", t.addr),
        s.snmp_interval.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    let mut prev = Previous::new();
    let mut session: Option<Box<dyn AgentSession>> = None;
    // Unusable datagrams from the agent's addresses, as of the last poll.
    let mut rejected = Rejected::now(&*snmp, &t);
    let wake = shared.wakes.register(&t.device);
    let mut refresh = RefreshTracker::new(t.interfaces.keys().copied());
    let interval_ms = s.snmp_interval.as_millis() as u64;
    loop {
        // A wake (a trap of a link change) polls now; the schedule stays.
        let woken = tokio::select! {
            _ = clock.sleep_until_mono(ticker.due_ms()) => false,
            _ = wake.notified() => true,
            _ = stop.changed() => return,
        };
        if !shared.still_has(&t.device, t.generation) {
            return;
        }
        let lag = if woken {
            0
        } else {
            clock.mono_ms().saturating_sub(ticker.due_ms())
        };
        let started = clock.mono_ms();
        if session.is_none() {
            session = snmp
                .clone()
                .open(t.addr, &creds)
                .await
                .map_err(|e| fail(&shared, &*snmp, &t, &e, &mut rejected, clock.wall_ms()))
                .ok();
        }
        // A woken poll is for the link state the trap announced: it does
        // not wait for the agent's counter refresh, and its rates are
        // flagged as over an unknown span.
        let watch = s.counter_refresh && !woken;
        if let Some(sess) = &session {
            let watched = if watch {
                refresh
                    .before_poll(&**sess, &*clock, &mut stop, interval_ms)
                    .await
            } else {
                Ok(true)
            };
            if let Ok(false) = watched {
                return;
            }
            let unknown = |_: MonoMillis, _: MonoMillis| Err(InexactReason::RefreshUnknown);
            let taken: TakenFor<'_> = if watch {
                &|a, b| refresh.taken_for(a, b)
            } else {
                &unknown
            };
            let polled = match watched {
                Err(e) => Err(e),
                Ok(_) => poll_once(&**sess, &*clock, &t, snmp.per_agent_in_flight(), taken).await,
            };
            if watch && polled.is_ok() {
                refresh
                    .after_poll(&**sess, &*clock, &mut stop, ticker.due_ms() + interval_ms)
                    .await;
            }
            refresh.warn_if_unmeasurable(t.addr, interval_ms);
            let watch_reads = refresh.take_reads();
            shared
                .live
                .update_poller(|p| p.snmp_refresh_watch_requests += watch_reads);
            match polled {
                Ok((polled, partial)) => {
                    let now = clock.wall_ms();
                    let mut out = counter_step(&t.device, &mut prev, polled, now);
                    if let (true, Some(p)) = (s.counter_refresh, refresh.model.period_ms()) {
                        // The period learnt, for check-config's warning.
                        out.samples.push(crate::store::Sample {
                            key: crate::store::SeriesKey::probe(
                                &t.device.0,
                                crate::counters::refresh::REFRESH_PERIOD_METRIC,
                            ),
                            at: now,
                            value: (p + refresh.model.jitter_ms()) / 1000.0,
                        });
                    }
                    refresh.set_busiest(busiest(&t, &out.interfaces));
                    rejected = Rejected::now(&*snmp, &t);
                    shared.live.update_interfaces(|interfaces| {
                        for (name, health) in out.interfaces {
                            interfaces.insert((t.device.clone(), name), health);
                        }
                    });
                    shared.live.update_devices(|devices| {
                        let h = devices
                            .entry(t.device.clone())
                            .or_insert_with(DeviceHealth::default);
                        h.snmp_ok = Some(partial.is_empty());
                        h.snmp_error = (!partial.is_empty()).then(|| partial.join("; "));
                        h.snmp_unusable_datagrams = rejected.own.total();
                        h.last_snmp_ms = Some(now);
                    });
                    shared.live.update_poller(|p| p.snmp_polls += 1);
                    shared.write(out.samples, out.gaps);
                }
                Err(e) => {
                    fail(&shared, &*snmp, &t, &e, &mut rejected, clock.wall_ms());
                    // Reopen next time: the agent may have restarted with new engine boots.
                    session = None;
                }
            }
        }
        // A watch that saw the stop signal consumed its change.
        if *stop.borrow() {
            return;
        }
        let took = clock.mono_ms().saturating_sub(started);
        let skipped = if woken {
            0
        } else {
            ticker.finish(clock.mono_ms())
        };
        let datagrams = snmp.datagram_stats();
        let renewals = snmp.transport_renewals();
        shared.live.update_poller(|p| {
            // Transport-wide totals: every device's loop reads the same.
            p.snmp_datagrams_discarded = p.snmp_datagrams_discarded.max(datagrams.discarded);
            p.snmp_datagrams_malformed = p.snmp_datagrams_malformed.max(datagrams.malformed);
            p.snmp_transport_renewals = p.snmp_transport_renewals.max(renewals);
            p.skipped_polls += skipped;
            p.poll_seconds_sum += took as f64 / 1000.0;
            p.poll_seconds_max = p.poll_seconds_max.max(took as f64 / 1000.0);
            p.lag_seconds_max = p.lag_seconds_max.max(lag as f64 / 1000.0);
        });
    }
}

/// Each polled interface with its octet rate (in + out) of this poll.
fn busiest(t: &Target, polled: &[(String, crate::live::InterfaceHealth)]) -> Vec<(IfIndex, f64)> {
    polled
        .iter()
        .filter_map(|(name, h)| {
            let r = h.rates.as_ref()?;
            let v = r.value(Metric::InBitsPerSec).unwrap_or(0.0)
                + r.value(Metric::OutBitsPerSec).unwrap_or(0.0);
            let idx = t.interfaces.iter().find(|(_, st)| &st.name == name)?.0;
            Some((*idx, v))
        })
        .collect()
}

/// What the transport dropped from the agent's address, and the answers to
/// requests sent to it that came from another address (by sender).
struct Rejected {
    own: RejectCounts,
    elsewhere: Vec<(IpAddr, u64)>,
}

impl Rejected {
    fn now(snmp: &dyn SnmpTransport, t: &Target) -> Rejected {
        Rejected {
            own: snmp.rejected_from(t.addr),
            elsewhere: snmp.answered_from_elsewhere(t.addr),
        }
    }
}

/// A failed poll. What the transport dropped from the agent's address
/// since the last poll is told with the error: "no answer" while the agent
/// sent garbage or wrong request ids is a different fault from silence,
/// and so is an agent whose answers come from another address.
fn fail(
    shared: &PollerContext,
    snmp: &dyn SnmpTransport,
    t: &Target,
    e: &SnmpError,
    rejected: &mut Rejected,
    now: UnixMillis,
) {
    let counts = Rejected::now(snmp, t);
    let own = counts.own.describe_growth(&rejected.own);
    let growth = strays::growth(&counts.elsewhere, &rejected.elsewhere);
    let others = strays::note(t.addr, &growth, Some(&t.others));
    let mut text = e.to_string();
    if let Some(own) = own {
        text.push_str("; datagrams from this address that could not be used: ");
        text.push_str(&own);
    }
    if let Some(others) = others {
        text.push_str("; ");
        text.push_str(&others);
    }
    let unusable = counts.own.total();
    *rejected = counts;
    shared.live.update_devices(|devices| {
        let h = devices
            .entry(t.device.clone())
            .or_insert_with(DeviceHealth::default);
        h.snmp_ok = Some(false);
        h.snmp_error = Some(text);
        h.snmp_unusable_datagrams = unusable;
        h.last_snmp_ms = Some(now);
    });
    shared.live.update_poller(|p| {
        p.snmp_polls += 1;
        p.snmp_failures += 1;
        if e.is_timeout() {
            p.snmp_timeouts += 1;
        }
    });
}
