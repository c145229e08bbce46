//! A conversation with one agent under one credential set: get, getnext
//! and walks (GETBULK, GETNEXT for v1, max-repetitions halved on
//! tooBig/genErr), each request behind the agent's and the engine's
//! in-flight permits, sent again once on a new socket when the shared one
//! is found closed. The engine (`engine.rs`) opens sessions.
use super::credentials::Credential;
use super::engine::{BoundClient, SnmpEngine, acquire, contained, lock};
use super::error::SnmpError;
use super::walk::{WalkEnd, WalkHold, WalkResult, WalkStep, WalkStop, classify_step};
use async_snmp::transport::UdpHandle;
use async_snmp::{Client, ErrorStatus, Oid, VarBind};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

fn error_status(e: &async_snmp::Error) -> Option<ErrorStatus> {
    match e {
        async_snmp::Error::Snmp { status, .. } => Some(*status),
        async_snmp::Error::Exchange { source, .. } => error_status(source),
        async_snmp::Error::SharedOperation { source } => error_status(source),
        _ => None,
    }
}

/// A response with more varbinds than the request allows (RFC 3416: a GET
/// or GETNEXT answers each OID once, a GETBULK of one OID at most
/// max-repetitions) is refused, so one datagram cannot inflate a poll.
pub(super) fn check_count(target: SocketAddr, asked: usize, got: usize) -> Result<(), SnmpError> {
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
    pub(super) engine: Arc<SnmpEngine>,
    pub(super) gate: Arc<Semaphore>,
    pub(super) target: SocketAddr,
    pub(super) credential: Credential,
    pub(super) v1: bool,
    /// Replaced when the socket it sends on is found closed.
    pub(super) client: Mutex<BoundClient>,
}

impl Session {
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The name of the credential set this session uses.
    pub fn credential(&self) -> &str {
        self.credential.name()
    }

    /// SNMPv3: the agent's engine id from the engine discovery (the
    /// engine's cache of it); `None` for community sessions.
    pub fn discovered_engine_id(&self) -> Option<Vec<u8>> {
        if !matches!(self.credential, Credential::V3 { .. }) {
            return None;
        }
        let state = self.engine.engine_cache.get(&self.target)?;
        Some(state.engine_id().to_vec()).filter(|id| !id.is_empty())
    }

    pub(super) fn bound(&self) -> BoundClient {
        lock(&self.client).clone()
    }

    /// Run one request of the library with this session's client (the
    /// caller holds the in-flight permits). On a closed socket the engine
    /// renews it and the request is sent once more on the new one.
    async fn call<T, F, Fut>(&self, op: F) -> Result<async_snmp::Result<T>, SnmpError>
    where
        F: Fn(Client<UdpHandle>) -> Fut,
        Fut: std::future::Future<Output = async_snmp::Result<T>>,
    {
        let (generation, client) = self.bound();
        match contained(self.target, op(client)).await? {
            Err(e) if e.kind() == async_snmp::ErrorKind::Closed => {
                self.engine.renew(self.target, generation).await?;
                let bound = self
                    .engine
                    .build_client(self.target, &self.credential, true)
                    .await?;
                *lock(&self.client) = bound.clone();
                contained(self.target, op(bound.1)).await
            }
            other => Ok(other),
        }
    }

    pub async fn get(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        self.get_or_next(oids, false).await
    }

    pub async fn get_next(&self, oids: &[Oid]) -> Result<Vec<VarBind>, SnmpError> {
        self.get_or_next(oids, true).await
    }

    /// One GET (or GETNEXT) of `oids` under the in-flight permits; an
    /// answer with another number of varbinds than asked is refused.
    async fn get_or_next(&self, oids: &[Oid], next: bool) -> Result<Vec<VarBind>, SnmpError> {
        let _p = acquire(&self.gate, &self.engine.global).await;
        let vbs = self
            .call(|c| async move {
                if next {
                    c.get_next_many(oids).await
                } else {
                    c.get_many(oids).await
                }
            })
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
            self.call(|c| async move { c.get_next(oid).await.map(|r| r.varbinds) })
                .await
        } else {
            self.call(|c| async move { c.get_bulk(std::slice::from_ref(oid), 0, reps).await })
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
        let mut hold = WalkHold::default();
        let mut result = self.walk_holding(root, &mut hold).await?;
        result.hold = Some(Arc::new(hold));
        Ok(result)
    }

    async fn walk_holding(&self, root: &Oid, held: &mut WalkHold) -> Result<WalkResult, SnmpError> {
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
            let n = u32::try_from(vbs.len()).unwrap_or(u32::MAX);
            let (_, _, small_walk) = settings.walk_budget();
            if let Ok(share) = self.engine.walked.clone().try_acquire_many_owned(n) {
                keep(&mut held.shared, share);
            } else if let Some(share) = (out.len() + vbs.len() <= small_walk)
                .then(|| {
                    self.engine
                        .walked_small
                        .clone()
                        .try_acquire_many_owned(n)
                        .ok()
                })
                .flatten()
            {
                // The shared part is used up (endless tables elsewhere, say):
                // a small walk still completes from the part kept for it.
                keep(&mut held.small, share);
            } else {
                let cap = settings.max_walked_varbinds_total;
                tracing::warn!(target = %self.target, cap, "walk cut short: varbind budget of all walks reached");
                let kept = out.len();
                return Ok(WalkResult {
                    varbinds: out,
                    end: WalkEnd::Partial(WalkStop::MemoryBudget { cap, kept }),
                    hold: None,
                });
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

/// Adds `share` to what a walk holds of one part of the budget.
fn keep(
    slot: &mut Option<tokio::sync::OwnedSemaphorePermit>,
    share: tokio::sync::OwnedSemaphorePermit,
) {
    match slot {
        Some(held) => held.merge(share),
        None => *slot = Some(share),
    }
}
