//! The engine: one shared UDP transport per address family, the concurrency
//! caps, the remembered credential of each agent, and the request loops (get,
//! getnext, walk with max-repetitions fallback). All socket I/O of SNMP is
//! here; the pure walk rules are in `walk.rs`.
//!
//! A shared transport whose receive task has ended (a panic in the
//! library's per-datagram request-id parse, or a fatal socket error) answers
//! every request with "closed". The engine then binds a new socket in its
//! place, once per failure whoever notices first, and the request is sent
//! again on it, so one bad datagram cannot stop the polling of every agent.
use super::credentials::Credential;
use super::error::SnmpError;
use super::session::Session;
use async_snmp::transport::{UdpHandle, UdpTransport};
use async_snmp::{Client, DesSaltState, EngineCache, Oid, Retry};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// whatever the agents send. A quarter of it is kept for small walks
    /// (up to [`SMALL_WALK`] varbinds, or that quarter if less): endless
    /// tables of some agents can use up the rest, but not the room a
    /// healthy device's ordinary tables need.
    pub max_walked_varbinds_total: usize,
    /// Where DES privacy keeps its salt epoch (see `des_state`).
    pub state_dir: std::path::PathBuf,
}

/// A walk of at most this many varbinds may draw on the part of the budget
/// kept for small walks.
pub const SMALL_WALK: usize = 10_000;

impl SnmpSettings {
    /// The budget split into (shared, kept for small walks), and the size
    /// of a small walk.
    pub(crate) fn walk_budget(&self) -> (usize, usize, usize) {
        let total = self.max_walked_varbinds_total.min(Semaphore::MAX_PERMITS);
        let small = total / 4;
        (total - small, small, SMALL_WALK.min(small))
    }
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
/// credential that worked last (on the transport of that generation).
struct Agent {
    gate: Arc<Semaphore>,
    /// The name of the credential set that worked last.
    remembered: Option<String>,
    client: Option<(String, BoundClient)>,
}

/// One address family's shared socket, and which one it is: the
/// generation counts the sockets bound for the family so far, so a request
/// that failed on a closed socket renews it only if nobody did already.
#[derive(Clone)]
struct FamilyTransport {
    transport: UdpTransport,
    generation: u64,
}

/// A client and the generation of the transport it sends on.
pub(super) type BoundClient = (u64, Client<UdpHandle>);

pub struct SnmpEngine {
    pub(super) settings: SnmpSettings,
    v4: Mutex<FamilyTransport>,
    v6: Mutex<Option<FamilyTransport>>,
    /// Held while a family's socket is bound or replaced.
    binding: tokio::sync::Mutex<()>,
    /// Datagram counts of the sockets replaced so far, so totals never drop.
    retired: Mutex<DatagramStats>,
    renewals: AtomicU64,
    pub(super) global: Arc<Semaphore>,
    pub(super) walked: Arc<Semaphore>,
    pub(super) walked_small: Arc<Semaphore>,
    agents: Mutex<HashMap<SocketAddr, Agent>>,
    pub(super) engine_cache: Arc<EngineCache>,
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

impl DatagramStats {
    fn add(&mut self, transport: &UdpTransport) {
        let s = transport.stats();
        self.correlated += s.correlated_datagrams;
        self.discarded += s.discarded_datagrams;
        self.malformed += s.malformed_datagrams;
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SnmpEngine {
    pub async fn new(settings: SnmpSettings) -> Result<Arc<Self>, SnmpError> {
        if settings.per_agent_in_flight == 0 || settings.global_in_flight == 0 {
            return Err(SnmpError::Config(
                "in-flight caps must be at least 1".into(),
            ));
        }
        if settings.walk_budget().0 < settings.max_repetitions as usize {
            return Err(SnmpError::Config(
                "max_walked_varbinds_total must hold at least one response in its shared three quarters".into(),
            ));
        }
        if settings.max_repetitions == 0 {
            return Err(SnmpError::Config(
                "max_repetitions must be at least 1".into(),
            ));
        }
        let v4 = FamilyTransport {
            transport: bind_transport("0.0.0.0:0").await?,
            generation: 0,
        };
        Ok(Arc::new(SnmpEngine {
            global: Arc::new(Semaphore::new(settings.global_in_flight)),
            walked: Arc::new(Semaphore::new(settings.walk_budget().0)),
            walked_small: Arc::new(Semaphore::new(settings.walk_budget().1)),
            settings,
            v4: Mutex::new(v4),
            v6: Mutex::new(None),
            binding: tokio::sync::Mutex::new(()),
            retired: Mutex::new(DatagramStats::default()),
            renewals: AtomicU64::new(0),
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
        let mut out = *lock(&self.retired);
        let current = [Some(lock(&self.v4).clone()), lock(&self.v6).clone()];
        for shared in current.into_iter().flatten() {
            out.add(&shared.transport);
        }
        out
    }

    /// How many times a shared socket was found closed and replaced.
    pub fn transport_renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    fn family(&self, target: SocketAddr) -> Option<FamilyTransport> {
        if target.is_ipv4() {
            Some(lock(&self.v4).clone())
        } else {
            lock(&self.v6).clone()
        }
    }

    /// The family's shared socket, bound on first use for IPv6.
    async fn transport(&self, target: SocketAddr) -> Result<FamilyTransport, SnmpError> {
        if let Some(shared) = self.family(target) {
            return Ok(shared);
        }
        let _one = self.binding.lock().await;
        if let Some(shared) = self.family(target) {
            return Ok(shared);
        }
        let shared = FamilyTransport {
            transport: bind_transport("[::]:0").await?,
            generation: 0,
        };
        *lock(&self.v6) = Some(shared.clone());
        Ok(shared)
    }

    /// Replace the family's socket if it is still the one of generation
    /// `seen`, which a request found closed; a later generation means
    /// another request renewed it already.
    pub(super) async fn renew(&self, target: SocketAddr, seen: u64) -> Result<(), SnmpError> {
        let _one = self.binding.lock().await;
        let Some(old) = self.family(target) else {
            return Ok(());
        };
        if old.generation != seen {
            return Ok(());
        }
        let bind = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let shared = FamilyTransport {
            transport: bind_transport(bind).await?,
            generation: seen + 1,
        };
        tracing::error!(
            old = %old.transport.local_addr(),
            new = %shared.transport.local_addr(),
            "the shared SNMP socket stopped receiving; bound a new one"
        );
        lock(&self.retired).add(&old.transport);
        if target.is_ipv4() {
            *lock(&self.v4) = shared;
        } else {
            *lock(&self.v6) = Some(shared);
        }
        // Clients cached on the old socket would only fail again.
        for agent in lock(&self.agents).values_mut() {
            agent.client = None;
        }
        self.renewals.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Fault injection for tests: shut the shared sockets down the way a
    /// receive task that ended leaves them (every request answers
    /// "closed"). Polling must recover by itself. Only with the
    /// `test-faults` feature (the tests' build).
    #[cfg(feature = "test-faults")]
    #[doc(hidden)]
    pub async fn fault_close_transports(&self) {
        let current = [Some(lock(&self.v4).clone()), lock(&self.v6).clone()];
        for shared in current.into_iter().flatten() {
            shared.transport.control().shutdown().await;
        }
    }

    fn agent_gate(&self, target: SocketAddr) -> Arc<Semaphore> {
        let mut agents = lock(&self.agents);
        agents
            .entry(target)
            .or_insert_with(|| Agent {
                gate: Arc::new(Semaphore::new(self.settings.per_agent_in_flight)),
                remembered: None,
                client: None,
            })
            .gate
            .clone()
    }

    /// The client cached for this agent and credential, if it was built on
    /// the family's current socket.
    fn cached_client(&self, target: SocketAddr, cred: &str) -> Option<BoundClient> {
        let generation = self.family(target)?.generation;
        let agents = lock(&self.agents);
        match agents.get(&target).and_then(|a| a.client.as_ref()) {
            Some((name, bound)) if name == cred && bound.0 == generation => Some(bound.clone()),
            _ => None,
        }
    }

    fn remember(&self, target: SocketAddr, cred: &str, client: &BoundClient) {
        let mut agents = lock(&self.agents);
        if let Some(a) = agents.get_mut(&target) {
            a.remembered = Some(cred.to_string());
            a.client = Some((cred.to_string(), client.clone()));
        }
    }

    /// The name of the credential that last worked for this agent, if any.
    pub fn remembered_credential(&self, addr: IpAddr) -> Option<String> {
        let target = SocketAddr::new(addr, self.settings.port);
        let agents = lock(&self.agents);
        agents.get(&target).and_then(|a| a.remembered.clone())
    }

    /// A client for `target` under `cred` on the family's current socket;
    /// should that socket turn out closed, it is renewed and the client
    /// built once more. `permits_held`: the caller already holds this
    /// agent's in-flight permits (a request being sent again).
    pub(super) async fn build_client(
        &self,
        target: SocketAddr,
        cred: &Credential,
        permits_held: bool,
    ) -> Result<BoundClient, SnmpError> {
        if let Some(c) = self.cached_client(target, cred.name()) {
            return Ok(c);
        }
        let _permits = if permits_held {
            None
        } else {
            acquire(&self.agent_gate(target), &self.global).await
        };
        let shared = self.transport(target).await?;
        match self.build_on(target, cred, &shared).await? {
            Err(e) if e.kind() == async_snmp::ErrorKind::Closed => {
                self.renew(target, shared.generation).await?;
                let shared = self.transport(target).await?;
                let client = self
                    .build_on(target, cred, &shared)
                    .await?
                    .map_err(|e| self.lib_err(target, &e))?;
                Ok((shared.generation, client))
            }
            Err(e) => Err(self.lib_err(target, &e)),
            Ok(client) => Ok((shared.generation, client)),
        }
    }

    async fn build_on(
        &self,
        target: SocketAddr,
        cred: &Credential,
        shared: &FamilyTransport,
    ) -> Result<async_snmp::Result<Client<UdpHandle>>, SnmpError> {
        let auth = cred.to_auth().map_err(SnmpError::Config)?;
        let retry = Retry::fixed(self.settings.retries, Duration::ZERO)
            .map_err(|e| SnmpError::Config(e.to_string()))?;
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
            .build_with(&shared.transport);
        // v3 engine discovery decodes the agent's first answer here.
        contained(target, built).await
    }

    pub(super) fn lib_err(&self, target: SocketAddr, e: &async_snmp::Error) -> SnmpError {
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
            let client = match self.build_client(target, cred, false).await {
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
                    self.remember(target, cred.name(), &session.bound());
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
        client: BoundClient,
    ) -> Session {
        Session {
            engine: self.clone(),
            gate: self.agent_gate(target),
            target,
            credential: cred.clone(),
            v1: cred.is_v1(),
            client: Mutex::new(client),
        }
    }
}

pub(super) async fn acquire(
    gate: &Arc<Semaphore>,
    global: &Arc<Semaphore>,
) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
    // Per-agent first, so one slow agent's queue never holds global slots.
    let a = gate.clone().acquire_owned().await.ok()?;
    let g = global.clone().acquire_owned().await.ok()?;
    Some((a, g))
}

/// Run one request future of the library (send, wait, decode) and turn a
/// panic inside it into this agent's error: a bug in the third-party BER
/// decoder, triggered by one agent's bytes, must not end the poller task of
/// that device (or the discovery of the network) without a word.
pub(super) async fn contained<T>(
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

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
