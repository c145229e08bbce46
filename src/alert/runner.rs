//! The alerting task of `nocmap serve`: every second, the live snapshot
//! becomes observations, the evaluator steps, and its transitions go to the
//! store (history, firing alerts and outbox rows in one transaction); then
//! each receiver's delivery task is woken. Alerts raised elsewhere (a
//! central's site alerts, [`super::external`]) come in on a channel and are
//! recorded, notified and saved as active the same way; a central runs
//! this task even without rules. Owns the store connection of
//! alerting and reads time and the host's interfaces only through the
//! `io::Io` handles it is given; all decisions are in the pure core.
use super::deliver::{self, AlertmanagerApi, DeviceTags, Notifier, Target, Webhook};
use super::duty::Duty;
use super::eval::{ActiveAlert, Evaluator, Restored};
use super::external::External;
use super::isolation::{self, PollerLink};
use super::maintenance::Window;
use super::observe::Observations;
use super::rule::Rule;
use super::state::{AlertKey, Hold, Transition};
use crate::config::event_rules::RuleMibs;
use crate::config::{Config, RuleKind};
use crate::discovery::local::HostInterfaces;
use crate::io::Io;
use crate::live::Live;
use crate::store::{
    ActiveAlertRow, AlertEvent, EventRow, EventTap, Store, StoreConfig, StoreError,
};
use crate::topology::DeviceId;
use crate::types::{AlertEventKind as Event, AlertState, AlertStatus, UnixMillis};
use crate::util::clock::Clock;
use crate::util::http::Destination;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

/// At most this many past state changes are read back at start (the newest).
const MAX_RESTORED_CHANGES: u32 = 100_000;

/// Gives a new evaluator what the store saved before a restart: the firing
/// and flapping alerts, and the state changes within the longest flap
/// window of watched time (their flap history); the firing external
/// alerts go to `external`. Returns the saved alerts of rules no longer
/// configured.
pub(super) fn restore(
    evaluator: &mut Evaluator,
    external: &mut External,
    store: &Store,
    now: UnixMillis,
) -> Result<Vec<Restored>, StoreError> {
    let saved = external.restore(store.active_alerts()?);
    let gone = evaluator.restore(restored(saved));
    evaluator.restore_event_hits(now);
    let window = rules_flap_window_ms(evaluator.rules());
    if window > 0 {
        // Time nobody watched (from the last sample before the restart until
        // now, discovery included) is not stable time: the saved changes move
        // forward by it, so a flap window holds as much watched time as it
        // would have without the restart, and the changes missed meanwhile
        // do not read as the flapping having stopped.
        let unwatched = store
            .last_restart_gap()?
            .map_or(0, |(from, _)| now.since(from).max(0));
        let changes = store.alert_state_changes(now - window - unwatched, MAX_RESTORED_CHANGES)?;
        evaluator.restore_changes(changes.into_iter().map(|(key, at)| {
            let at = if at <= now - unwatched {
                at + unwatched
            } else {
                at
            };
            (AlertKey(key), at)
        }));
    }
    Ok(gone)
}

/// The firing and flapping alerts the store saved (tests: the evaluator's
/// share is what they restore).
#[cfg(test)]
pub(super) fn saved_alerts(store: &Store) -> Result<Vec<Restored>, StoreError> {
    Ok(restored(store.active_alerts()?))
}

/// The firing and flapping alerts the store saved, for the evaluator.
fn restored(saved: Vec<ActiveAlertRow>) -> Vec<Restored> {
    saved
        .into_iter()
        .map(|a| Restored {
            rule: a.rule,
            device: DeviceId(a.device),
            device_name: a.device_name,
            interface: a.interface,
            since_ms: a.since_ms,
            firing: a.status.is_firing(),
            value: a.value,
            notified: a.notified,
            flapping: a.flapping,
            flap_told: a.flap_told,
        })
        .collect()
}

/// The longest flap window of the rules (0: no rules).
fn rules_flap_window_ms(rules: &[Rule]) -> i64 {
    rules.iter().map(|r| r.flap_window_ms).max().unwrap_or(0)
}

/// How often the rules are evaluated.
pub const EVAL_INTERVAL: Duration = Duration::from_secs(1);

/// Events waiting for the event rules (`trap`, `syslog`); beyond it the
/// receivers' writers drop them and count the drop.
pub const EVENT_QUEUE_LEN: usize = 20_000;
/// Events one evaluation step takes at most (the rest wait for the next).
const EVENTS_PER_STEP: usize = 20_000;

/// The tap the receivers' writers hand their events to, and its reading
/// end for [`spawn`], when a rule matches events.
pub fn event_tap(config: &Config) -> Option<(EventTap, mpsc::Receiver<EventRow>)> {
    config
        .alerts
        .iter()
        .any(|r| r.kind.is_event())
        .then(|| EventTap::channel(EVENT_QUEUE_LEN))
}

/// The rules, event matchers compiled (OIDs by name resolved against the
/// MIBs, patterns built with their size limits).
fn rules(config: &Config) -> Result<Vec<Rule>, StartError> {
    let mut mibs = RuleMibs::new(config);
    config
        .alerts
        .iter()
        .map(|r| {
            Rule::compile(r, &mut mibs).map_err(|message| StartError::Rule {
                name: r.name.clone(),
                message,
            })
        })
        .collect()
}

/// Delivered or refused outbox rows are kept this long (for inspection).
const OUTBOX_KEEP_MS: i64 = 7 * 86_400_000;
/// Alert history is kept a year, like the hourly series.
const HISTORY_KEEP_MS: i64 = 365 * 86_400_000;
const PRUNE_EVERY_MS: i64 = 3_600_000;

/// Why alerting could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("alerting: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("alerting: rule {name}: {message}")]
    Rule { name: String, message: String },
    #[error("alerting: receiver {name}: {source}")]
    Url {
        name: String,
        source: crate::util::http::DestinationError,
    },
}

/// Starts evaluation and delivery when the configuration has rules or
/// alerts come from elsewhere (`external`: a central's site alerts);
/// `None` otherwise. `events` are the receivers' events for the event rules
/// (from [`event_tap`]). The tasks end when `stop` turns true.
pub fn spawn(
    config: &Config,
    live: Arc<Live>,
    db: &Path,
    io: &Io,
    events: Option<mpsc::Receiver<EventRow>>,
    external: Option<mpsc::UnboundedReceiver<AlertEvent>>,
    duty: Duty,
    stop: watch::Receiver<bool>,
) -> Result<Option<JoinHandle<()>>, StartError> {
    if config.alerts.is_empty() && external.is_none() {
        return Ok(None);
    }
    let origin = super::payload::origin(config);
    let mut receivers = Vec::new();
    let tags = device_tags(config, live.clone());
    for r in &config.receivers {
        let mut endpoint =
            Destination::new(&r.url, &r.tls_files()).map_err(|source| StartError::Url {
                name: r.name.clone(),
                source,
            })?;
        let api = (r.format == crate::config::ReceiverFormat::AlertmanagerApi).then(|| {
            endpoint = endpoint.clone().with_path("/api/v2/alerts");
            AlertmanagerApi {
                resend: Duration::from_secs(r.resend_s()),
                map_url: r.map_url.clone(),
                tags: tags.clone(),
                origin: origin.clone(),
            }
        });
        let hook = Webhook {
            endpoint,
            bearer_token: r.bearer_token.clone(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            timeout: Duration::from_millis(r.timeout_ms),
            origin: origin.clone(),
        };
        receivers.push((
            Target {
                name: r.name.clone(),
                format: r.format,
                // Alertmanager merges a pair's alerts itself.
                duty: if api.is_some() {
                    Duty::Always
                } else {
                    duty.clone()
                },
                api,
                origin: origin.clone(),
            },
            hook,
        ));
    }
    let store = tokio::task::block_in_place(|| Store::open(db, StoreConfig::default()))?;
    let inputs = Inputs { events, external };
    Ok(Some(start(
        config, live, store, receivers, io, inputs, stop,
    )?))
}

/// What the runner takes in besides the live picture.
#[derive(Default)]
pub struct Inputs {
    /// The receivers' events, for the event rules ([`event_tap`]).
    pub events: Option<mpsc::Receiver<EventRow>>,
    /// Alerts raised elsewhere ([`super::external`]).
    pub external: Option<mpsc::UnboundedReceiver<AlertEvent>>,
}

/// A device's tags from its id: the config's tag rules over its name and
/// addresses in the live topology (none for a device no longer there).
fn device_tags(config: &Config, live: Arc<Live>) -> Arc<DeviceTags> {
    let tagging = config.tagging();
    Arc::new(move |id: &str| {
        live.read(|v| {
            v.topology
                .devices
                .iter()
                .find(|d| d.id.0 == id)
                .map(|d| {
                    let mut addrs = d.addresses.clone();
                    addrs.extend(d.mgmt_addr.filter(|a| !d.addresses.contains(a)));
                    tagging.tags_for(d.sys_name.as_deref(), &addrs)
                })
                .unwrap_or_default()
        })
    })
}

/// Starts evaluation on `io`'s clock (the first step at once, then every
/// [`EVAL_INTERVAL`]) and one delivery task per receiver, with the alerts
/// `store` saved restored first; the poller's own links are read from
/// `io`'s host interfaces; `inputs` are the events for the event rules
/// and the alerts raised elsewhere. The tasks end when `stop` turns true.
pub fn start<N: Notifier>(
    config: &Config,
    live: Arc<Live>,
    store: Store,
    receivers: Vec<(Target, N)>,
    io: &Io,
    inputs: Inputs,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, StartError> {
    let (clock, host) = (io.clock.clone(), io.host.clone());
    let rules = rules(config)?;
    let windows: Vec<Window> = config.maintenance.iter().map(Window::from_config).collect();
    let mut evaluator = Evaluator::new(rules, windows);
    let mut external = External::default();
    for gone in restore(&mut evaluator, &mut external, &store, clock.wall_ms())? {
        tracing::warn!(rule = %gone.rule, device = %gone.device_name, "a firing alert of a rule no longer configured is dropped");
    }
    let store = Arc::new(Mutex::new(store));
    let mut wakes = BTreeMap::new();
    let mut tasks = Vec::new();
    for (target, notifier) in receivers {
        let wake = Arc::new(Notify::new());
        wakes.insert(target.name.clone(), wake.clone());
        tasks.push(tokio::spawn(deliver::run(
            target,
            notifier,
            store.clone(),
            wake,
            clock.clone(),
            stop.clone(),
        )));
    }
    let all_receivers: Vec<String> = config.receivers.iter().map(|r| r.name.clone()).collect();
    let tagging = config.tagging();
    Ok(tokio::spawn(async move {
        let tags =
            move |name: Option<&str>, addrs: &[std::net::IpAddr]| tagging.tags_for(name, addrs);
        let wiring = Wiring {
            store,
            all_receivers,
            wakes,
            clock,
            host,
            inputs,
            external,
        };
        evaluate(evaluator, live, &tags, wiring, stop).await;
        for t in tasks {
            let _ = t.await;
        }
    }))
}

/// Where the evaluation loop's results go, its clock and the host's
/// interfaces.
struct Wiring {
    store: Arc<Mutex<Store>>,
    all_receivers: Vec<String>,
    wakes: BTreeMap<String, Arc<Notify>>,
    clock: Arc<dyn Clock>,
    host: Arc<dyn HostInterfaces>,
    inputs: Inputs,
    /// The firing alerts raised elsewhere.
    external: External,
}

async fn evaluate(
    mut evaluator: Evaluator,
    live: Arc<Live>,
    tags: &super::observe::TagsOf,
    wiring: Wiring,
    mut stop: watch::Receiver<bool>,
) {
    let Wiring {
        store,
        all_receivers,
        wakes,
        clock,
        host,
        inputs,
        mut external,
    } = wiring;
    let Inputs {
        mut events,
        external: mut raised,
    } = inputs;
    let rules = !evaluator.rules().is_empty();
    let mut received = Vec::new();
    let every = EVAL_INTERVAL.as_millis() as u64;
    // Like a tokio interval with `Delay`: the first step at once, then one
    // interval after the last, or after the late start of an overrun one.
    let mut due = clock.mono_ms();
    let mut saved: Option<Vec<ActiveAlert>> = None;
    let mut last_prune = UnixMillis::EPOCH;
    loop {
        tokio::select! {
            _ = clock.sleep_until_mono(due) => {}
            _ = stop.changed() => return,
        }
        let woke = clock.mono_ms();
        due = if woke > due + 5 { woke } else { due } + every;
        let now = clock.wall_ms();
        if now - last_prune >= PRUNE_EVERY_MS {
            last_prune = now;
            let s = store.clone();
            let pruned = tokio::task::spawn_blocking(move || {
                let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                s.prune_alerts(now - OUTBOX_KEEP_MS, now - HISTORY_KEEP_MS)
            })
            .await;
            if let Ok(Err(e)) = pruned {
                tracing::warn!(error = %e, "pruning alert history failed");
            }
        }
        // Alerts raised elsewhere, each recorded once (to every receiver).
        let mut told = Vec::new();
        if let Some(rx) = raised.as_mut() {
            while let Ok(e) = rx.try_recv() {
                if let Some(e) = external.take(e) {
                    tracing::info!(key = %e.key, event = e.event.as_str(), "alert");
                    told.push((e, all_receivers.clone()));
                }
            }
        }
        let mut obs = if rules {
            live.read(|s| Observations::from_live(s, now, tags))
        } else {
            Observations::default()
        };
        obs.poller_links = poller_links(&obs, host.as_ref());
        if let Some(rx) = events.as_mut() {
            received.clear();
            while received.len() < EVENTS_PER_STEP {
                match rx.try_recv() {
                    Ok(e) => received.push(e),
                    Err(_) => break,
                }
            }
            evaluator.take_events(&received, &obs);
        }
        let transitions = evaluator.step(&obs, now);
        let active = evaluator.active();
        if transitions.is_empty() && told.is_empty() && saved.as_ref() == Some(&active) {
            continue;
        }
        for t in &transitions {
            tracing::info!(key = %t.key.0, event = t.event.as_str(), notify = t.notify, held = ?t.held.as_ref().map(hold_name), "alert");
        }
        let events: Vec<(AlertEvent, Vec<String>)> = told
            .into_iter()
            .chain(transitions.iter().map(|t| {
                let to: Vec<String> = if !t.notify {
                    Vec::new()
                } else if t.receivers.is_empty() {
                    all_receivers.clone()
                } else {
                    t.receivers.clone()
                };
                (record(t, &active, &obs), to)
            }))
            .collect();
        let mut rows: Vec<ActiveAlertRow> = active.iter().map(active_row).collect();
        rows.extend(external.rows().cloned());
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        let notify: Vec<String> = events.iter().flat_map(|(_, r)| r.clone()).collect();
        let s = store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
            s.record_alerts(&events, Some(&rows), now)
        })
        .await;
        match result {
            Ok(Ok(_)) => {
                saved = Some(active);
                for r in notify {
                    if let Some(w) = wakes.get(&r) {
                        w.notify_one();
                    }
                }
            }
            // The transitions are lost from the history; the evaluator's
            // state stands, so the next change is recorded normally.
            Ok(Err(e)) => tracing::error!(error = %e, "recording alerts failed"),
            Err(e) => tracing::error!(error = %e, "alert recording task failed"),
        }
    }
}

/// The poller's interfaces that carry topology links, with their state on
/// this host (`host`: up with a carrier). Empty when the poller is not in
/// the topology or its link ends have no names.
fn poller_links(obs: &Observations, host: &dyn HostInterfaces) -> Vec<PollerLink> {
    let Some(p) = &obs.poller else {
        return Vec::new();
    };
    let names = isolation::poller_link_names(&obs.topology, p);
    if names.is_empty() {
        return Vec::new();
    }
    let locals = host.interfaces();
    names
        .into_iter()
        .map(|name| {
            let up = locals.iter().find(|l| l.name == name).map(|l| l.up);
            PollerLink { name, up }
        })
        .collect()
}

fn hold_name(h: &Hold) -> &'static str {
    match h {
        Hold::Suppressed { .. } => "suppressed",
        Hold::Maintenance { .. } => "maintenance",
        Hold::Flapping => "flapping",
    }
}

fn name_of(obs: &Observations, id: &DeviceId) -> String {
    obs.devices
        .get(id)
        .map_or_else(|| id.0.clone(), |d| d.name.clone())
}

/// One line a human reads in a notification.
fn summary(t: &Transition, active: &[ActiveAlert], obs: &Observations) -> String {
    let subject = match &t.interface {
        Some(i) => format!("{} {i}", t.device_name),
        None => t.device_name.clone(),
    };
    let what = match (t.kind, t.value, t.threshold) {
        (RuleKind::DeviceUnreachable, _, _) => "unreachable".to_string(),
        (RuleKind::InterfaceDown, _, _) => "interface down".to_string(),
        (k, _, _) if k.is_event() => match &t.detail {
            Some(text) => format!("{} {text}", k.as_str()),
            None => k.as_str().to_string(),
        },
        (RuleKind::PollerIsolated, _, _) => match isolation::cut_off(obs) {
            Some(why) if t.firing => {
                format!("cut off from the network: {}", why.as_str())
            }
            _ => "cut off from the network".to_string(),
        },
        (k, Some(v), Some(th)) => format!("{} {v:.2} (threshold {th})", k.as_str()),
        (k, _, _) => k.as_str().to_string(),
    };
    let state = AlertState::from_firing(t.firing);
    let mut s = match t.event {
        Event::Resolved => format!("resolved: {subject} {what}"),
        Event::FlappingStarted => format!(
            "flapping started: {subject} {what}; further state changes of this alert are held; now {state}"
        ),
        Event::FlappingStopped => {
            format!("flapping stopped: {subject} {what}; current state: {state}")
        }
        Event::Fired | Event::Suppressed => format!("{subject} {what}"),
    };
    let behind: Vec<String> = active
        .iter()
        .filter(|a| a.caused_by.contains(&t.device))
        .map(|a| a.device_name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if t.event == Event::Fired && !behind.is_empty() {
        s.push_str(&format!("; root cause for {}", behind.join(", ")));
    }
    if !t.caused_by().is_empty() {
        let names: Vec<String> = t.caused_by().iter().map(|d| name_of(obs, d)).collect();
        s.push_str(&format!("; behind {}", names.join(", ")));
    }
    s
}

pub(super) fn record(t: &Transition, active: &[ActiveAlert], obs: &Observations) -> AlertEvent {
    AlertEvent {
        id: 0,
        key: t.key.0.clone(),
        fingerprint: t.key.fingerprint(),
        rule: t.rule.clone(),
        kind: t.kind,
        severity: t.severity,
        event: t.event,
        state: AlertState::from_firing(t.firing),
        device: t.device.0.clone(),
        device_name: t.device_name.clone(),
        interface: t.interface.clone(),
        value: t.value,
        threshold: t.threshold,
        at_ms: t.at_ms,
        started_ms: t.started_ms,
        notified: t.notify,
        catch_up: t.catch_up,
        held: t.held.as_ref().map(|h| hold_name(h).to_string()),
        caused_by: t.caused_by().iter().map(|d| d.0.clone()).collect(),
        maintenance: match &t.held {
            Some(Hold::Maintenance { window }) => Some(window.clone()),
            _ => None,
        },
        flapping: t.flapping,
        summary: summary(t, active, obs),
    }
}

pub(super) fn active_row(a: &ActiveAlert) -> ActiveAlertRow {
    ActiveAlertRow {
        key: a.key.0.clone(),
        rule: a.rule.clone(),
        severity: a.severity,
        device: a.device.0.clone(),
        device_name: a.device_name.clone(),
        interface: a.interface.clone(),
        status: if !a.firing {
            AlertStatus::Resolved
        } else if a.caused_by.is_empty() {
            AlertStatus::Firing
        } else {
            AlertStatus::Suppressed
        },
        since_ms: a.since_ms,
        value: a.value,
        caused_by: a.caused_by.iter().map(|d| d.0.clone()).collect(),
        maintenance: a.maintenance.clone(),
        flapping: a.flapping,
        notified: a.notified,
        flap_told: a.flap_told,
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
