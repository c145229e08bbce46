//! Test-only: a scripted [`SnmpTransport`] with agents as plain OID → value
//! tables, and per-agent steps that change the table, stay silent, answer
//! from a stranger's address or answer slowly, so the poller's and the
//! crawl's real loops run without sockets, in paused time.
use super::credentials::Credential;
use super::engine::DatagramStats;
use super::error::SnmpError;
use super::rejects::RejectCounts;
use super::transport::{AgentSession, SnmpTransport};
use super::walk::{WalkEnd, WalkResult};
use async_snmp::{Oid, Value, VarBind};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a scripted request waits before it times out.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// What an agent does at its next GET.
#[derive(Debug, Clone)]
pub enum Step {
    /// Set these objects, then answer from the table.
    Answer(Vec<(Vec<u32>, Value)>),
    /// No answer: a timeout after [`TIMEOUT`].
    Silent,
    /// The answer comes from `from`, which the transport drops: a timeout,
    /// with the stray answer counted on the address asked.
    Stranger(IpAddr),
    /// Like `Answer`, after waiting this long.
    Slow(Duration, Vec<(Vec<u32>, Value)>),
}

#[derive(Debug, Default)]
struct Agent {
    table: BTreeMap<Vec<u32>, Value>,
    steps: VecDeque<Step>,
}

/// Values an agent computes at each GET (from the time, say), before
/// its table is consulted.
pub type Computed = Arc<dyn Fn(&[u32]) -> Option<Value> + Send + Sync>;

/// Agents by address; an address without one never answers.
#[derive(Default)]
pub struct Scripted {
    agents: Mutex<HashMap<IpAddr, Agent>>,
    computed: Mutex<HashMap<IpAddr, Computed>>,
    elsewhere: Mutex<HashMap<IpAddr, Vec<(IpAddr, u64)>>>,
    /// Every request (opens, GETs, walks) by address, in order.
    log: Mutex<Vec<(IpAddr, &'static str)>>,
}

fn timeout(addr: IpAddr) -> SnmpError {
    SnmpError::Timeout {
        target: SocketAddr::new(addr, 161),
        timeout_ms: TIMEOUT.as_millis() as u64,
        attempts: 1,
    }
}

impl Scripted {
    pub fn new() -> Arc<Scripted> {
        Arc::new(Scripted::default())
    }

    /// Adds (or replaces) the agent at `addr` with `table`.
    pub fn agent(&self, addr: IpAddr, table: impl IntoIterator<Item = (Vec<u32>, Value)>) {
        let agent = Agent {
            table: table.into_iter().collect(),
            steps: VecDeque::new(),
        };
        self.agents.lock().unwrap().insert(addr, agent);
    }

    /// Objects of the agent at `addr` that `f` answers for (None: the table).
    pub fn compute(&self, addr: IpAddr, f: Computed) {
        self.computed.lock().unwrap().insert(addr, f);
    }

    /// Queues `steps` for the agent at `addr`'s next GETs.
    pub fn script(&self, addr: IpAddr, steps: impl IntoIterator<Item = Step>) {
        let mut agents = self.agents.lock().unwrap();
        agents.entry(addr).or_default().steps.extend(steps);
    }

    /// Steps the agent at `addr` has not played yet.
    pub fn steps_left(&self, addr: IpAddr) -> usize {
        self.agents
            .lock()
            .unwrap()
            .get(&addr)
            .map_or(0, |a| a.steps.len())
    }

    /// The requests sent so far, by address and kind ("open", "get", "walk").
    pub fn log(&self) -> Vec<(IpAddr, &'static str)> {
        self.log.lock().unwrap().clone()
    }

    fn note(&self, addr: IpAddr, what: &'static str) {
        self.log.lock().unwrap().push((addr, what));
    }

    /// A step that fails: the timeout it ends in, after [`TIMEOUT`]; a
    /// stranger's answer is counted on `addr` as the engine does.
    async fn failure(&self, addr: IpAddr, stranger: Option<IpAddr>) -> SnmpError {
        tokio::time::sleep(TIMEOUT).await;
        if let Some(from) = stranger {
            let mut e = self.elsewhere.lock().unwrap();
            let list = e.entry(addr).or_default();
            match list.iter_mut().find(|(ip, _)| *ip == from) {
                Some(n) => n.1 += 1,
                None => list.push((from, 1)),
            }
        }
        timeout(addr)
    }

    async fn get(&self, addr: IpAddr, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        self.note(addr, "get");
        let step = {
            let mut agents = self.agents.lock().unwrap();
            agents.get_mut(&addr).map(|a| a.steps.pop_front())
        };
        let updates = match step {
            None | Some(Some(Step::Silent)) => return Err(self.failure(addr, None).await),
            Some(Some(Step::Stranger(from))) => return Err(self.failure(addr, Some(from)).await),
            Some(None) => Vec::new(),
            Some(Some(Step::Answer(u))) => u,
            Some(Some(Step::Slow(wait, u))) => {
                tokio::time::sleep(wait).await;
                u
            }
        };
        let mut agents = self.agents.lock().unwrap();
        let Some(a) = agents.get_mut(&addr) else {
            return Err(timeout(addr));
        };
        a.table.extend(updates);
        let computed = self.computed.lock().unwrap().get(&addr).cloned();
        Ok(oids
            .iter()
            .map(|o| {
                let v = computed
                    .as_ref()
                    .and_then(|f| f(o.arcs()))
                    .or_else(|| a.table.get(o.arcs()).cloned());
                VarBind::new(o.clone(), v.unwrap_or(Value::NoSuchInstance))
            })
            .collect())
    }

    fn walk(&self, addr: IpAddr, root: &Oid) -> Result<WalkResult, SnmpError> {
        self.note(addr, "walk");
        let agents = self.agents.lock().unwrap();
        let a = agents.get(&addr).ok_or_else(|| timeout(addr))?;
        let root = root.arcs();
        let varbinds = a
            .table
            .range(root.to_vec()..)
            .skip_while(|(k, _)| k.as_slice() == root)
            .take_while(|(k, _)| k.starts_with(root))
            .map(|(k, v)| VarBind::new(Oid::from_slice(k), v.clone()))
            .collect();
        Ok(WalkResult {
            varbinds,
            end: WalkEnd::Complete,
            hold: None,
        })
    }
}

struct ScriptedSession {
    transport: Arc<Scripted>,
    addr: IpAddr,
}

impl AgentSession for ScriptedSession {
    fn target(&self) -> SocketAddr {
        SocketAddr::new(self.addr, 161)
    }

    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Vec<VarBind>, SnmpError>> {
        Box::pin(self.transport.get(self.addr, oids))
    }

    fn walk<'a>(&'a self, root: &'a Oid) -> BoxFuture<'a, Result<WalkResult, SnmpError>> {
        Box::pin(async move { self.transport.walk(self.addr, root) })
    }
}

impl SnmpTransport for Scripted {
    /// Succeeds at once for a known agent unless its next step fails; an
    /// unknown address times out.
    fn open<'a>(
        self: Arc<Self>,
        addr: IpAddr,
        _creds: &'a [Credential],
    ) -> BoxFuture<'a, Result<Box<dyn AgentSession>, SnmpError>> {
        Box::pin(async move {
            self.note(addr, "open");
            // The engine opens with a GET: a failing step fails the open.
            let failing = {
                let mut agents = self.agents.lock().unwrap();
                match agents.get_mut(&addr) {
                    None => Some(None),
                    Some(a) => match a.steps.front() {
                        Some(Step::Silent) => a.steps.pop_front().map(|_| None),
                        Some(Step::Stranger(from)) => {
                            let from = *from;
                            a.steps.pop_front().map(|_| Some(from))
                        }
                        _ => None,
                    },
                }
            };
            if let Some(stranger) = failing {
                return Err(self.failure(addr, stranger).await);
            }
            let s = ScriptedSession {
                transport: self.clone(),
                addr,
            };
            Ok(Box::new(s) as Box<dyn AgentSession>)
        })
    }

    fn per_agent_in_flight(&self) -> usize {
        4
    }

    fn datagram_stats(&self) -> DatagramStats {
        DatagramStats::default()
    }

    fn transport_renewals(&self) -> u64 {
        0
    }

    fn rejected_from(&self, _addr: IpAddr) -> RejectCounts {
        RejectCounts::default()
    }

    fn answered_from_elsewhere(&self, addr: IpAddr) -> Vec<(IpAddr, u64)> {
        let e = self.elsewhere.lock().unwrap();
        e.get(&addr).cloned().unwrap_or_default()
    }
}
