//! SNMPv3 notifications: the User-based Security Model (RFC 3414 §3.2) over
//! the receiver's own socket. Per datagram, in the RFC's order: the engine
//! id (an empty one is a discovery probe, answered with our engine id,
//! boots and time), the user, the security level, the HMAC, the time
//! window, the decryption, then the scoped PDU into the same
//! [`Notification`] a v2c datagram gives. The crypto (key localization,
//! HMAC, DES/AES) is async-snmp's; nothing here indexes the datagram.
//!
//! Traps are sent under the sender's own engine id: any engine id is
//! accepted, and each user's keys are localized to it on the fly from the
//! master keys derived once at start (one hash per engine id, not the
//! 1 MB password expansion). Localized keys are cached only once a
//! datagram verified with them, so a flood of invented engine ids cannot
//! fill the cache. Informs are sent to our engine id (we are
//! authoritative): they are checked against our boots and time, and
//! answered with an authenticated (and, for authPriv, encrypted) Response.
use super::decode::{self, Notification, TrapKind, TrapVersion};
use async_snmp::ber::Decoder;
use async_snmp::message::{
    MsgFlags, MsgGlobalData, RawMsgData, RawV3Message, ScopedPdu, SecurityLevel, V3Message,
};
use async_snmp::v3::auth::{authenticate_message, verify_message};
use async_snmp::v3::{
    MAX_ENGINE_TIME, PrivKey, SaltCounter, TIME_WINDOW, UsmSecurityParams,
    in_authoritative_time_window, report_oids, validate_engine_id,
};
use async_snmp::{
    DecodeConfig, DesSaltState, LocalizedKey, MasterKeys, MessageSize, Oid, OutboundErrorStatus,
    PduType, PrivProtocol, ResponsePdu, Value, VarBind, Version,
};
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Instant;

/// Localized key pairs and remote engines' clocks kept at most (then the
/// table starts again empty).
const MAX_CACHED: usize = 4_096;

/// One configured USM user: the lowest security level it is accepted at
/// and its master keys (none for a noAuthNoPriv user).
#[derive(Clone)]
pub struct UsmUser {
    pub name: Vec<u8>,
    pub min_level: SecurityLevel,
    pub keys: Option<MasterKeys>,
}

impl std::fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UsmUser({})", String::from_utf8_lossy(&self.name))
    }
}

/// This receiver's own engine (RFC 3411 snmpEngineID, snmpEngineBoots;
/// snmpEngineTime counts from `started`).
#[derive(Debug, Clone)]
pub struct LocalEngine {
    pub id: Vec<u8>,
    pub boots: u32,
    pub started: Instant,
}

impl LocalEngine {
    fn boots_time(&self, now: Instant) -> (u32, u32) {
        let t = now.saturating_duration_since(self.started).as_secs();
        (self.boots, t.min(u64::from(MAX_ENGINE_TIME)) as u32)
    }
}

/// Why a v3 datagram gave no notification (one drop reason each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsmRefusal {
    Malformed,
    /// An engine discovery probe (answered, not a notification).
    Discovery,
    UnknownEngineId,
    UnknownUser,
    UnsupportedSecLevel,
    WrongDigest,
    NotInTimeWindow,
    DecryptionError,
    NotNotification,
}

/// A refusal and the Report that answers it, if the sender asked for one.
#[derive(Debug)]
pub struct Refusal {
    pub why: UsmRefusal,
    pub report: Option<Vec<u8>>,
}

/// An accepted notification and, for an inform, its Response.
#[derive(Debug)]
pub struct Accepted {
    pub notification: Notification,
    pub response: Option<Vec<u8>>,
}

#[derive(Clone)]
struct Keys {
    auth: LocalizedKey,
    privacy: Option<PrivKey>,
}

/// A remote authoritative engine's clock as last authenticated
/// (RFC 3414 §2.3: boots, time, latestReceivedEngineTime).
struct RemoteClock {
    boots: u32,
    time: u32,
    latest: u32,
    at: Instant,
}

/// The USM state of the receive loop (owned by it: no locks).
pub struct Usm {
    engine: LocalEngine,
    users: HashMap<Vec<u8>, UsmUser>,
    localized: HashMap<(Vec<u8>, Vec<u8>), Keys>,
    remote: HashMap<Vec<u8>, RemoteClock>,
    salt: Option<SaltCounter>,
    des: Option<DesSaltState>,
    /// usmStats counters, sent in Reports.
    reported: [u32; 6],
}

impl Usm {
    pub fn new(engine: LocalEngine, users: Vec<UsmUser>) -> Usm {
        Usm {
            engine,
            users: users.into_iter().map(|u| (u.name.clone(), u)).collect(),
            localized: HashMap::new(),
            remote: HashMap::new(),
            salt: SaltCounter::new().ok(),
            des: DesSaltState::install(|_| Ok::<(), std::io::Error>(())).ok(),
            reported: [0; 6],
        }
    }

    pub fn engine(&self) -> &LocalEngine {
        &self.engine
    }

    /// Processes one SNMPv3 datagram received at `now`.
    pub fn process(&mut self, datagram: &[u8], now: Instant) -> Result<Accepted, Refusal> {
        let refuse = |why| Refusal { why, report: None };
        let data = Bytes::copy_from_slice(datagram);
        let raw = RawV3Message::decode(data, DecodeConfig::default())
            .map_err(|_| refuse(UsmRefusal::Malformed))?
            .value;
        let usm = UsmSecurityParams::decode(raw.security_params().clone(), DecodeConfig::default())
            .map_err(|_| refuse(UsmRefusal::Malformed))?
            .value;
        let global = raw.global_data().clone();
        let level = raw.security_level();
        let ctx = Ctx {
            msg_id: global.msg_id(),
            reportable: global.msg_flags().reportable,
            user: usm.username().clone(),
        };
        let engine_id = usm.engine_id().to_vec();
        if engine_id.is_empty() {
            return Err(self.fail(&ctx, UsmRefusal::Discovery, None, now));
        }
        if validate_engine_id(&engine_id).is_err() {
            return Err(self.fail(&ctx, UsmRefusal::UnknownEngineId, None, now));
        }
        let local = engine_id == self.engine.id;
        let Some(user) = self.users.get(usm.username().as_ref()) else {
            return Err(self.fail(&ctx, UsmRefusal::UnknownUser, None, now));
        };
        let has_priv = user
            .keys
            .as_ref()
            .is_some_and(|k| k.priv_protocol().is_some());
        let supported = level >= user.min_level
            && (!level.requires_auth() || user.keys.is_some())
            && (!level.requires_priv() || has_priv);
        if !supported {
            return Err(self.fail(&ctx, UsmRefusal::UnsupportedSecLevel, None, now));
        }
        let cache_key = (usm.username().to_vec(), engine_id.clone());
        let keys = if level.requires_auth() {
            let keys = match self.localized.get(&cache_key).cloned() {
                Some(k) => k,
                None => {
                    let master = user.keys.as_ref().ok_or(refuse(UsmRefusal::Malformed))?;
                    let (auth, privacy) = master
                        .localize(&engine_id)
                        .map_err(|_| refuse(UsmRefusal::Malformed))?;
                    Keys { auth, privacy }
                }
            };
            let verified = UsmSecurityParams::find_auth_params_offset(datagram)
                .and_then(|(at, len)| verify_message(&keys.auth, datagram, at, len).ok())
                .unwrap_or(false);
            if !verified {
                return Err(self.fail(&ctx, UsmRefusal::WrongDigest, None, now));
            }
            // Step 7: timeliness (7a for our engine, 7b for a sender's).
            let timely = if local {
                let (b, t) = self.engine.boots_time(now);
                in_authoritative_time_window(b, t, usm.engine_boots(), usm.engine_time())
            } else {
                self.remote_timely(&engine_id, usm.engine_boots(), usm.engine_time(), now)
            };
            if !timely {
                // The Report is authenticated so the sender can trust our time.
                let report = local.then(|| self.report(&ctx, 4, Some(&keys.auth), now));
                return Err(Refusal {
                    why: UsmRefusal::NotInTimeWindow,
                    report: report.flatten(),
                });
            }
            Some(keys)
        } else {
            None
        };
        let scoped = match raw.msg_data() {
            RawMsgData::Plaintext { data, .. } => {
                ScopedPdu::decode(&mut Decoder::new(data.clone()))
                    .map_err(|_| refuse(UsmRefusal::Malformed))
            }
            RawMsgData::Encrypted(ct) => keys
                .as_ref()
                .and_then(|k| k.privacy.as_ref())
                .and_then(|p| {
                    p.decrypt(ct, usm.engine_boots(), usm.engine_time(), usm.priv_params())
                        .ok()
                })
                .and_then(|plain| ScopedPdu::decode(&mut Decoder::new(plain)).ok())
                .ok_or(refuse(UsmRefusal::DecryptionError)),
        };
        let scoped = match scoped {
            Ok(s) => s,
            Err(r) => {
                return Err(self.fail(&ctx, r.why, None, now));
            }
        };
        let kind = match scoped.pdu.pdu_type() {
            PduType::TrapV2 => TrapKind::Trap,
            // An inform goes to its receiver's engine id (RFC 3412 §7.1).
            PduType::InformRequest if local => TrapKind::Inform,
            PduType::InformRequest => return Err(refuse(UsmRefusal::UnknownEngineId)),
            _ => return Err(refuse(UsmRefusal::NotNotification)),
        };
        let mut n = decode::from_pdu(TrapVersion::V3, kind, &scoped.pdu)
            .map_err(|_| refuse(UsmRefusal::Malformed))?;
        n.community = usm.username().to_vec();
        n.context_engine_id = Some(scoped.context_engine_id.to_vec()).filter(|c| !c.is_empty());
        n.sender_engine_id = (kind == TrapKind::Trap).then(|| engine_id.clone());
        let response = if kind == TrapKind::Inform {
            self.response(&global, level, &usm, &scoped, keys.as_ref(), now)
        } else {
            None
        };
        if let Some(k) = keys {
            if self.localized.len() >= MAX_CACHED {
                self.localized.clear();
            }
            self.localized.insert(cache_key, k);
        }
        Ok(Accepted {
            notification: n,
            response,
        })
    }

    /// RFC 3414 §3.2 step 7b: the cached clock of a sender's engine moves
    /// forward with each authenticated message; one older than 150 s behind
    /// it, or from an earlier boot, is a replay.
    fn remote_timely(&mut self, id: &[u8], boots: u32, time: u32, now: Instant) -> bool {
        if !self.remote.contains_key(id) && self.remote.len() >= MAX_CACHED {
            self.remote.clear();
        }
        let c = self.remote.entry(id.to_vec()).or_insert(RemoteClock {
            boots,
            time,
            latest: time,
            at: now,
        });
        if boots > c.boots || (boots == c.boots && time > c.latest) {
            *c = RemoteClock {
                boots,
                time,
                latest: time,
                at: now,
            };
        }
        let elapsed = now.saturating_duration_since(c.at).as_secs();
        let estimate = u64::from(c.time) + elapsed;
        !(c.boots == MAX_ENGINE_TIME
            || boots < c.boots
            || (boots == c.boots && u64::from(time) + u64::from(TIME_WINDOW) < estimate))
    }

    fn fail(
        &mut self,
        ctx: &Ctx,
        why: UsmRefusal,
        key: Option<&LocalizedKey>,
        now: Instant,
    ) -> Refusal {
        let slot = match why {
            UsmRefusal::UnsupportedSecLevel => 0,
            UsmRefusal::NotInTimeWindow => 4,
            UsmRefusal::UnknownUser => 1,
            UsmRefusal::Discovery | UsmRefusal::UnknownEngineId => 2,
            UsmRefusal::WrongDigest => 3,
            UsmRefusal::DecryptionError => 5,
            UsmRefusal::Malformed | UsmRefusal::NotNotification => {
                return Refusal { why, report: None };
            }
        };
        Refusal {
            why,
            report: self.report(ctx, slot, key, now),
        }
    }

    /// The Report of a usmStats counter (RFC 3412 §7.1 step 3: only when
    /// the message was reportable).
    fn report(
        &mut self,
        ctx: &Ctx,
        slot: usize,
        key: Option<&LocalizedKey>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let count = self.reported.get_mut(slot)?;
        *count = count.wrapping_add(1);
        let count = *count;
        if !ctx.reportable {
            return None;
        }
        let oid: Oid = match slot {
            0 => report_oids::unsupported_sec_levels(),
            1 => report_oids::unknown_user_names(),
            2 => report_oids::unknown_engine_ids(),
            3 => report_oids::wrong_digests(),
            4 => report_oids::not_in_time_windows(),
            _ => report_oids::decryption_errors(),
        }
        .child(0);
        let pdu = ResponsePdu::report(0, vec![VarBind::new(oid, Value::Counter32(count))])
            .ok()?
            .into_raw();
        let (boots, time) = self.engine.boots_time(now);
        let head = Head {
            msg_id: ctx.msg_id,
            level: match key {
                Some(_) => SecurityLevel::AuthNoPriv,
                None => SecurityLevel::NoAuthNoPriv,
            },
            reportable: false,
            engine_id: &self.engine.id,
            boots,
            time,
            user: ctx.user.clone(),
        };
        let scoped = ScopedPdu::new(Bytes::copy_from_slice(&self.engine.id), Bytes::new(), pdu);
        let keys = key.map(|k| Keys {
            auth: k.clone(),
            privacy: None,
        });
        encode(&head, scoped, keys.as_ref(), (None, None))
    }

    /// The Response to an inform, at the inform's security level, from our
    /// engine (RFC 3416 §4.2.7: same request id and varbinds; none if those
    /// will not encode).
    fn response(
        &self,
        global: &MsgGlobalData,
        level: SecurityLevel,
        usm: &UsmSecurityParams,
        scoped: &ScopedPdu,
        keys: Option<&Keys>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let id = scoped.pdu.request_id();
        let pdu = |vbs: Vec<VarBind>| {
            ResponsePdu::new(Version::V3, id, OutboundErrorStatus::NoError, None, vbs).ok()
        };
        let pdu = pdu(scoped.pdu.varbinds().to_vec()).or_else(|| pdu(Vec::new()))?;
        let scoped = ScopedPdu::new(
            scoped.context_engine_id.clone(),
            scoped.context_name.clone(),
            pdu.into_raw(),
        );
        let (boots, time) = self.engine.boots_time(now);
        let head = Head {
            msg_id: global.msg_id(),
            level,
            reportable: false,
            engine_id: &self.engine.id,
            boots,
            time,
            user: usm.username().clone(),
        };
        let salts = (self.salt.as_ref(), self.des.as_ref());
        encode(&head, scoped, keys, salts)
    }
}

/// The header fields of an outgoing v3 message.
struct Head<'a> {
    msg_id: i32,
    level: SecurityLevel,
    reportable: bool,
    engine_id: &'a [u8],
    boots: u32,
    time: u32,
    user: Bytes,
}

/// One v3 message at `head.level`: encrypted with the privacy key for
/// authPriv, then signed with the auth key (RFC 3414 §3.1).
fn encode(
    head: &Head,
    scoped: ScopedPdu,
    keys: Option<&Keys>,
    (salt, des): (Option<&SaltCounter>, Option<&DesSaltState>),
) -> Option<Vec<u8>> {
    let engine = Bytes::copy_from_slice(head.engine_id);
    let mut params =
        UsmSecurityParams::new(engine, head.boots, head.time, head.user.clone()).ok()?;
    let flags = MsgFlags::new(head.level, head.reportable);
    let global = MsgGlobalData::new(head.msg_id, max_size(), flags).ok()?;
    let auth = if head.level.requires_auth() {
        Some(&keys?.auth)
    } else {
        None
    };
    if let Some(k) = auth {
        params = params.with_auth_placeholder(k.mac_len()).ok()?;
    }
    let msg = if head.level.requires_priv() {
        let p = keys?.privacy.as_ref()?;
        let plain = scoped.encode_to_bytes().ok()?;
        let (ct, salt) = match p.protocol() {
            PrivProtocol::Des | PrivProtocol::Des3 => p.encrypt_des_family(&plain, des?).ok()?,
            _ => p.encrypt_aes(&plain, head.boots, head.time, salt?).ok()?,
        };
        params = params.with_priv_params(salt).ok()?;
        V3Message::new_with_opaque_encrypted_scoped_pdu(global, params.encode().ok()?, ct)
    } else {
        V3Message::new(global, params.encode().ok()?, scoped)
    };
    let mut bytes = msg.ok()?.encode().ok()?.to_vec();
    if let Some(k) = auth {
        sign(k, &mut bytes)?;
    }
    Some(bytes)
}

struct Ctx {
    msg_id: i32,
    reportable: bool,
    user: Bytes,
}

/// The msgMaxSize we advertise (the largest UDP payload).
const MAX_SIZE: MessageSize = match MessageSize::new(65_507) {
    Ok(m) => m,
    Err(_) => panic!("65507 is a valid msgMaxSize"),
};

fn max_size() -> MessageSize {
    MAX_SIZE
}

fn sign(key: &LocalizedKey, bytes: &mut [u8]) -> Option<()> {
    let (at, len) = UsmSecurityParams::find_auth_params_offset(bytes)?;
    authenticate_message(key, bytes, at, len).ok()
}

#[cfg(test)]
#[path = "usm_tests.rs"]
mod tests;
