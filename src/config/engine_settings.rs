//! Handing the SNMP engine its own part of the configuration: SNMP settings
//! and credential sets in the engine's own types. The engines never see the
//! config module; this file is the one-way bridge. (The server reads its own
//! sections in `server::settings`.)
use super::model::{AuthProtocol, Config, Credential, PrivProtocol, SecurityLevel, SnmpVersion};
use crate::snmp::{self, AuthProto, PrivProto, SnmpSettings};

impl Config {
    pub fn snmp_settings(&self) -> SnmpSettings {
        let s = &self.snmp;
        SnmpSettings {
            timeout: s.timeout(),
            retries: s.retries,
            max_repetitions: s.max_repetitions.max(1),
            per_agent_in_flight: s.per_agent_in_flight.max(1) as usize,
            global_in_flight: s.global_in_flight.max(1) as usize,
            port: s.port,
            ..SnmpSettings::default()
        }
    }

    /// The credential sets in the order they are tried.
    pub fn snmp_credentials(&self) -> Vec<snmp::Credential> {
        self.credentials.iter().filter_map(to_engine).collect()
    }
}

fn to_engine(c: &Credential) -> Option<snmp::Credential> {
    let name = c.name.clone();
    Some(match c.version {
        SnmpVersion::V1 => snmp::Credential::V1 {
            name,
            community: c.community.clone()?,
        },
        SnmpVersion::V2c => snmp::Credential::V2c {
            name,
            community: c.community.clone()?,
        },
        SnmpVersion::V3 => {
            let auth = c
                .auth_password
                .clone()
                .map(|p| (auth_proto(c.auth_protocol.unwrap_or(AuthProtocol::Sha1)), p));
            let privacy = c.priv_password.clone().map(|p| {
                (
                    priv_proto(c.priv_protocol.unwrap_or(PrivProtocol::Aes128)),
                    p,
                )
            });
            let level = match c.security_level {
                Some(SecurityLevel::NoAuthNoPriv) => snmp::SecurityLevel::NoAuthNoPriv,
                Some(SecurityLevel::AuthNoPriv) => snmp::SecurityLevel::AuthNoPriv,
                Some(SecurityLevel::AuthPriv) => snmp::SecurityLevel::AuthPriv,
                None if privacy.is_some() => snmp::SecurityLevel::AuthPriv,
                None if auth.is_some() => snmp::SecurityLevel::AuthNoPriv,
                None => snmp::SecurityLevel::NoAuthNoPriv,
            };
            snmp::Credential::V3 {
                name,
                user: c.user.clone()?,
                level,
                auth,
                privacy,
            }
        }
    })
}

fn auth_proto(p: AuthProtocol) -> AuthProto {
    match p {
        AuthProtocol::Md5 => AuthProto::Md5,
        AuthProtocol::Sha1 => AuthProto::Sha1,
        AuthProtocol::Sha224 => AuthProto::Sha224,
        AuthProtocol::Sha256 => AuthProto::Sha256,
        AuthProtocol::Sha384 => AuthProto::Sha384,
        AuthProtocol::Sha512 => AuthProto::Sha512,
    }
}

fn priv_proto(p: PrivProtocol) -> PrivProto {
    match p {
        PrivProtocol::Des => PrivProto::Des,
        PrivProtocol::Aes128 => PrivProto::Aes128,
        PrivProtocol::Aes192 => PrivProto::Aes192,
        PrivProtocol::Aes256 => PrivProto::Aes256,
    }
}
