//! The engine: one shared UDP transport per address family, the concurrency
//! caps, the remembered credential of each agent, and the request loops (get,
//! getnext, walk with max-repetitions fallback). All socket I/O of SNMP is
//! here; the pure walk rules are in `walk.rs`.
use super::credentials::Credential;
use super::error::SnmpError;
use super::walk::{WalkEnd, WalkResult, WalkStep, WalkStop, classify_step};
use async_snmp::transport::{UdpHandle, UdpTransport};
use async_snmp::{Client, DesSaltState, EngineCache, ErrorStatus, Oid, Retry, VarBind};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

/// Engine-wide settings. The defaults are for a LAN: 1 s x 2 attempts, so a
/// dead agent costs 2 s (the library's own default is about 23 s).
#[derive(Debug, Clone)]
pub struct SnmpSettings {
    pub timeout: Duration,
    /// Retransmissions after the first attempt.
    pub retries: u32,
    pub max_repetitions: u32,
    pub per_agent_in_flight: usize,
    pub global_in_flight: usize,
    pub port: u16,
    /// A walk that returns more varbinds than this is cut short (partial).
    pub max_walk_varbinds: usize,
    /// Varbinds all walks together may hold before their results are
    /// dropped (a discovery reads many agents at once); a walk that would
    /// go beyond it is cut short (partial), so memory stays bounded
    /// whatever the agents send.
    pub max_walked_varbinds_total: usize,
    /// Where DES privacy keeps its salt epoch (see `des_state`).
    pub state_dir: std::path::PathBuf,
}

impl Default for SnmpSettings {
    fn default() -> Self {
        SnmpSettings {
            timeout: Duration::from_millis(1000),
            retries: 1,
            max_repetitions: 25,
            per_agent_in_flight: 4,
            global_in_flight: 256,
            port: 161,
            max_walk_varbinds: 500_000,
            max_walked_varbinds_total: 2_000_000,
            state_dir: super::des_state::default_state_dir(),
        }
    }
}

impl SnmpSettings {
    fn attempts(&self) -> u32 {
        self.retries + 1
    }
}

/// Per-agent state: its in-flight gate and the client built for the
/// credential that worked last.
struct Agent {
    gate: Arc<Semaphore>,
    client: Option<(String, Client<UdpHandle>)>,
}

pub struct SnmpEngine {
    settings: SnmpSettings,
    v4: UdpTransport,
    v6: OnceCell<UdpTransport>,
    global: Arc<Semaphore>,
    walked: Arc<Semaphore>,
    agents: Mutex<HashMap<SocketAddr, Agent>>,
    engine_cache: Arc<EngineCache>,
    des: OnceCell<DesSaltState>,
}

/// Counts of received datagrams by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramStats {
    pub correlated: u64,
    pub discarded: u64,
    pub malformed: u64,
}

/// sysObjectID.0: the object used to test a credential.
fn probe_oid() -> Oid {
    Oid::from_slice(&[1, 3, 6, 1, 2, 1, 1, 2, 0])
}

async fn bind_transport(bind: &str) -> Result<UdpTransport, SnmpError> {
    UdpTransport::builder()
        .bind(bind)
        // v3 against net-snmp: advertise a large msgMaxSize, else snmpd answers
        // big GETBULKs with genErr instead of truncating.
        .max_message_size(65507)
        .recv_buffer_size(4 * 1024 * 1024)
        .build()
        .await
        .map_err(|e| SnmpError::Transport {
            bind: bind.to_string(),
            detail: e.to_string(),
        })
}

impl SnmpEngine {
    pub async fn new(settings: SnmpSettings) -> Result<Arc<Self>, SnmpError> {
        if settings.per_agent_in_flight == 0 || settings.global_in_flight == 0 {
            return Err(SnmpError::Config(
                "in-flight caps must be at least 1".into(),
            ));
        }
        if settings.max_walked_varbinds_total < settings.max_repetitions as usize {
            return Err(SnmpError::Config(
                "max_walked_varbinds_total must hold at least one response".into(),
            ));
        }
        if settings.max_repetitions == 0 {
            return Err(SnmpError::Config(
                "max_repetitions must be at least 1".into(),
            ));
        }
        let v4 = bind_transport("0.0.0.0:0").await?;
        Ok(Arc::new(SnmpEngine {
            global: Arc::new(Semaphore::new(settings.global_in_flight)),
            walked: Arc::new(Semaphore::new(
                settings
                    .max_walked_varbinds_total
                    .min(Semaphore::MAX_PERMITS),
            )),
            settings,
            v4,
            v6: OnceCell::new(),
            agents: Mutex::new(HashMap::new()),
            engine_cache: Arc::new(EngineCache::new()),
            des: OnceCell::new(),
        }))
    }

    pub fn settings(&self) -> &SnmpSettings {
        &self.settings
    }

    /// What the shared transports did with the datagrams they received,
    /// over both families since start. Datagrams no request was waiting for
    /// (a wrong request id, another source, late or duplicate answers) are
    /// `discarded`; those without a readable request id are `malformed`.
    pub fn datagram_stats(&self) -> DatagramStats {
        let mut out = DatagramStats::default();
        for t in std::iter::once(&self.v4).chain(self.v6.get()) {
            let s = t.stats();
            out.correlated += s.correlated_datagrams;
            out.discarded += s.discarded_datagrams;
            out.malformed += s.malformed_datagrams;
        }
        out
    }

    async fn transport(&self, target: SocketAddr) -> Result<&UdpTransport, SnmpError> {
        if target.is_ipv4() {
            return Ok(&self.v4);
        }
        self.v6.get_or_try_init(|| bind_transport("[::]:0")).await
    }

    fn agent_gate(&self, target: SocketAddr) -> Arc<Semaphore> {
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        agents
            .entry(target)
            .or_insert_with(|| Agent {
                gate: Arc::new(Semaphore::new(self.settings.per_agent_in_flight)),
                client: None,
            })
            .gate
            .clone()
    }

    fn cached_client(&self, target: SocketAddr, cred: &str) -> Option<Client<UdpHandle>> {
        let agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        match agents.get(&target).and_then(|a| a.client.as_ref()) {
            Some((name, client)) if name == cred => Some(client.clone()),
            _ => None,
        }
    }

    fn remember(&self, target: SocketAddr, cred: &str, client: &Client<UdpHandle>) {
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = agents.get_mut(&target) {
            a.client = Some((cred.to_string(), client.clone()));
        }
    }

    /// The name of the credential that last worked for this agent, if any.
    pub fn remembered_credential(&self, addr: IpAddr) -> Option<String> {
        let target = SocketAddr::new(addr, self.settings.port);
        let agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        agents
            .get(&target)
            .and_then(|a| a.client.as_ref())
            .map(|(n, _)| n.clone())
    }

    async fn build_client(
        &self,
        target: SocketAddr,
        cred: &Credential,
    ) -> Result<Client<UdpHandle>, SnmpError> {
        if let Some(c) = self.cached_client(target, cred.name()) {
            return Ok(c);
        }
        let auth = cred.to_auth().map_err(SnmpError::Config)?;
        let retry = Retry::fixed(self.settings.retries, Duration::ZERO)
            .map_err(|e| SnmpError::Config(e.to_string()))?;
        let transport = self.transport(target).await?;
        let gate = self.agent_gate(target);
        let _permits = acquire(&gate, &self.global).await;
        let mut builder = Client::builder(target, auth);
        if cred.uses_des() {
            let dir = self.settings.state_dir.clone();
            let state = self
                .des
                .get_or_try_init(|| async move {
                    tokio::task::spawn_blocking(move || super::des_state::load_or_install(&dir))
                        .await
                        .map_err(|e| e.to_string())?
                })
                .await
                .map_err(SnmpError::Config)?;
            builder = builder.des_salt_state(state.clone());
        }
        let built = builder
            .request_timeout(self.settings.timeout)
            .construction_timeout(self.settings.timeout * self.settings.attempts())
            .retry(retry)
            .strict_source(true)
            .engine_cache(self.engine_cache.clone())
            .build_with(transport);
        // v3 engine discovery decodes the agent's first answer here.
        contained(target, built)
            .await?
            .map_err(|e| self.lib_err(target, &e))
    }

    fn lib_err(&self, target: SocketAddr, e: &async_snmp::Error) -> SnmpError {
        SnmpError::from_lib(
            target,
            self.settings.timeout.as_millis() as u64,
            self.settings.attempts(),
            e,
        )
    }

    /// Open a session to `addr`, trying the credential sets in order (the one
    /// that worked last time first) with a GET of sysObjectID.0, so a silent
    /// agent costs one timeout x attempts per credential and no more.
    pub async fn open(
        self: &Arc<Self>,
        addr: IpAddr,
        creds: &[Credential],
    ) -> Result<Session, SnmpError> {
        let target = SocketAddr::new(addr, self.settings.port);
        if creds.is_empty() {
            return Err(SnmpError::Config("no credential sets given".into()));
        }
        let remembered = self.remembered_credential(addr);
        let mut order: Vec<&Credential> = creds.iter().collect();
        if let Some(name) = remembered {
            order.sort_by_key(|c| c.name() != name);
        }
        let mut tried = Vec::new();
        let mut last: Option<SnmpError> = None;
        for cred in order {
            tried.push(cred.name().to_string());
            let client = match self.build_client(target, cred).await {
                Ok(c) => c,
                Err(e @ (SnmpError::Timeout { .. } | SnmpError::Auth { .. })) => {
                    tracing::debug!(%target, credential = cred.name(), error = %e, "credential failed");
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let session = self.session(target, cred, client);
            match session.get(&[probe_oid()]).await {
                Ok(_) => {
                    self.remember(target, cred.name(), &session.client);
                    return Ok(session);
                }
                Err(e @ (SnmpError::Timeout { .. } | SnmpError::Auth { .. })) => {
                    tracing::debug!(%target, credential = cred.name(), error = %e, "credential failed");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        // With one credential its own failure says most (a timeout: agent
        // down or community wrong); with several, name them all.
        match last {
            Some(e) if tried.len() == 1 => Err(e),
            _ => Err(SnmpError::NoCredential {
                target,
                tried: tried.join(", "),
            }),
        }
    }

    fn session(
        self: &Arc<Self>,
        target: SocketAddr,
        cred: &Credential,
        client: Client<UdpHandle>,
    ) -> Session {
        Session {
            engine: self.clone(),
            gate: self.agent_gate(target),
            target,
            credential: cred.name().to_string(),
            v1: cred.is_v1(),
            client,
        }
    }
}

async fn acquire(
    gate: &Arc<Semaphore>,
    global: &Arc<Semaphore>,
) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
    // Per-agent first, so one slow agent's queue never holds global slots.
    let a = gate.clone().acquire_owned().await.ok()?;
    let g = global.clone().acquire_owned().await.ok()?;
    Some((a, g))
}

fn error_status(e: &async_snmp::Error) -> Option<ErrorStatus> {
    match e {
        async_snmp::Error::Snmp { status, .. } => Some(*status),
        async_snmp::Error::Exchange { source, .. } => error_status(source),
        async_snmp::Error::SharedOperation { source } => error_status(source),
        _ => None,
    }
}

/// Run one request future of the library (send, wait, decode) and turn a
/// panic inside it into this agent's error: a bug in the third-party BER
/// decoder, triggered by one agent's bytes, must not end the poller task of
/// that device (or the discovery of the network) without a word.
async fn contained<T>(
    target: SocketAddr,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, SnmpError> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|_| {
            // The panic message is left out: it may quote the agent's bytes.
            tracing::error!(%target, "the SNMP library panicked on this agent's response");
            SnmpError::Protocol {
                target,
                detail: "the SNMP library panicked while handling the response".into(),
            }
        })
}

/// A response with more varbinds than the request allows (RFC 3416: a GET
/// or GETNEXT answers each OID once, a GETBULK of one OID at most
/// max-repetitions) is refused, so one datagram cannot inflate a poll.
fn check_count(target: SocketAddr, asked: usize, got: usize) -> Result<(), SnmpError> {
    if got > asked {
        return Err(SnmpError::Protocol {
            target,
            detail: format!("oversized response: {got} varbinds for {asked} asked"),
        });
    }
    Ok(())
}

/// A conversation with one agent under one credential set.
pub struct Session {
    engine: Arc<SnmpEngine>,
    gate: Arc<Semaphore>,
    target: SocketAddr,
    credential: String,
    v1: bool,
    client: Client<UdpHandle>,
}

impl Session {
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The name of the credential set this session uses.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    pub async fn get(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        let _p = acquire(&self.gate, &self.engine.global).await;
        let vbs = contained(self.target, self.client.get_many(oids))
            .await?
            .map(|r| r.varbinds)
            .map_err(|e| self.engine.lib_err(self.target, &e))?;
        check_count(self.target, oids.len(), vbs.len())?;
        Ok(vbs)
    }

    pub async fn get_next(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        let _p = acquire(&self.gate, &self.engine.global).await;
        let vbs = contained(self.target, self.client.get_next_many(oids))
            .await?
            .map(|r| r.varbinds)
            .map_err(|e| self.engine.lib_err(self.target, &e))?;
        check_count(self.target, oids.len(), vbs.len())?;
        Ok(vbs)
    }

    /// One GETBULK (GETNEXT for v1) of `oid`. The outer error is ours (a
    /// panic contained); the inner one the library's, kept whole so the walk
    /// can react to tooBig/genErr/noSuchName.
    async fn bulk(
        &self,
        oid: &Oid,
        reps: u32,
    ) -> Result<Result<Vec<VarBind>, Box<async_snmp::Error>>, SnmpError> {
        let _p = acquire(&self.gate, &self.engine.global).await;
        if self.v1 {
            contained(self.target, self.client.get_next(oid))
                .await
                .map(|r| r.map(|r| r.varbinds))
        } else {
            contained(
                self.target,
                self.client.get_bulk(std::slice::from_ref(oid), 0, reps),
            )
            .await
        }
    }

    /// How a walk ends on `err`: an error when nothing was collected yet,
    /// else a partial result keeping every varbind so far.
    fn stop_walk(&self, out: Vec<VarBind>, err: SnmpError) -> Result<WalkResult, SnmpError> {
        if out.is_empty() {
            return Err(err);
        }
        let stop = if err.is_timeout() {
            WalkStop::Timeout {
                after_varbinds: out.len(),
            }
        } else {
            WalkStop::AgentError {
                detail: err.to_string(),
            }
        };
        Ok(WalkResult {
            varbinds: out,
            end: WalkEnd::Partial(stop),
            hold: None,
        })
    }

    /// Walk the subtree under `root` (GETBULK, or GETNEXT for v1). Returns an
    /// error only when the very first request fails; a fault later on gives a
    /// partial result that keeps every varbind collected before it. The
    /// result holds its varbinds' share of the engine's budget
    /// (`max_walked_varbinds_total`) until it is dropped.
    pub async fn walk(&self, root: &Oid) -> Result<WalkResult, SnmpError> {
        let mut hold = None;
        let mut result = self.walk_holding(root, &mut hold).await?;
        result.hold = hold.map(Arc::new);
        Ok(result)
    }

    async fn walk_holding(
        &self,
        root: &Oid,
        hold: &mut Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<WalkResult, SnmpError> {
        let settings = &self.engine.settings;
        let mut reps = settings.max_repetitions;
        let mut last = root.clone();
        let mut out: Vec<VarBind> = Vec::new();
        loop {
            let vbs = match self.bulk(&last, reps).await {
                Err(panicked) => return self.stop_walk(out, panicked),
                Ok(Ok(v)) => v,
                Ok(Err(e)) => {
                    let status = error_status(&e);
                    if matches!(status, Some(ErrorStatus::TooBig | ErrorStatus::GenErr)) && reps > 1
                    {
                        reps = (reps / 2).max(1);
                        tracing::debug!(target = %self.target, reps, "tooBig/genErr: fewer repetitions");
                        continue;
                    }
                    if self.v1 && matches!(status, Some(ErrorStatus::NoSuchName)) {
                        return Ok(WalkResult {
                            varbinds: out,
                            end: WalkEnd::Complete,
                            hold: None,
                        });
                    }
                    let err = self.engine.lib_err(self.target, &e);
                    return self.stop_walk(out, err);
                }
            };
            // More varbinds than asked for is a broken (or hostile) agent.
            let asked = if self.v1 { 1 } else { reps as usize };
            if let Err(e) = check_count(self.target, asked, vbs.len()) {
                return self.stop_walk(out, e);
            }
            if vbs.is_empty() {
                return Ok(WalkResult {
                    varbinds: out,
                    end: WalkEnd::Partial(WalkStop::EmptyResponse),
                    hold: None,
                });
            }
            let Ok(share) = self
                .engine
                .walked
                .clone()
                .try_acquire_many_owned(u32::try_from(vbs.len()).unwrap_or(u32::MAX))
            else {
                let cap = settings.max_walked_varbinds_total;
                tracing::warn!(target = %self.target, cap, "walk cut short: varbind budget of all walks reached");
                return Ok(WalkResult {
                    varbinds: out,
                    end: WalkEnd::Partial(WalkStop::MemoryBudget { cap }),
                    hold: None,
                });
            };
            match hold {
                Some(h) => h.merge(share),
                None => *hold = Some(share),
            }
            for vb in vbs {
                // Compare with the last accepted row in place: no OID clone per varbind.
                let prev = out.last().map(|v| &v.oid).unwrap_or(&last);
                let end = match classify_step(root, prev, &vb) {
                    WalkStep::Accept => None,
                    WalkStep::Done => Some(WalkEnd::Complete),
                    WalkStep::NonIncreasing => Some(WalkEnd::Partial(WalkStop::NonIncreasing {
                        previous: prev.to_string(),
                        returned: vb.oid.to_string(),
                    })),
                };
                if let Some(end) = end {
                    return Ok(WalkResult {
                        varbinds: out,
                        end,
                        hold: None,
                    });
                }
                out.push(vb);
                if out.len() >= settings.max_walk_varbinds {
                    let cap = settings.max_walk_varbinds;
                    let end = WalkEnd::Partial(WalkStop::TooManyVarbinds { cap });
                    return Ok(WalkResult {
                        varbinds: out,
                        end,
                        hold: None,
                    });
                }
            }
            // Every varbind of this response was accepted: go on from the last.
            if let Some(v) = out.last() {
                last = v.oid.clone();
            }
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
