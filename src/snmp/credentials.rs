//! Credential sets: what the engine needs to talk to an agent (v1/v2c
//! community or a v3 USM user), and their conversion to the library's types.
//! Secrets live in [`Secret`] and are exposed only here, at the protocol edge.
use crate::types::Secret;
use async_snmp::{Auth, AuthProtocol, PrivProtocol, UsmConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProto {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivProto {
    Des,
    Aes128,
    Aes192,
    Aes256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl AuthProto {
    /// Parse net-snmp's spellings (`MD5`, `SHA`, `SHA-256`, ...), any case.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "MD5" => AuthProto::Md5,
            "SHA" | "SHA1" | "SHA-1" => AuthProto::Sha1,
            "SHA-224" | "SHA224" => AuthProto::Sha224,
            "SHA-256" | "SHA256" => AuthProto::Sha256,
            "SHA-384" | "SHA384" => AuthProto::Sha384,
            "SHA-512" | "SHA512" => AuthProto::Sha512,
            _ => return None,
        })
    }
    pub(crate) fn lib(self) -> AuthProtocol {
        match self {
            AuthProto::Md5 => AuthProtocol::Md5,
            AuthProto::Sha1 => AuthProtocol::Sha1,
            AuthProto::Sha224 => AuthProtocol::Sha224,
            AuthProto::Sha256 => AuthProtocol::Sha256,
            AuthProto::Sha384 => AuthProtocol::Sha384,
            AuthProto::Sha512 => AuthProtocol::Sha512,
        }
    }
}

impl PrivProto {
    /// Parse net-snmp's spellings (`DES`, `AES`, `AES-192`, `AES-256`), any case.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "DES" => PrivProto::Des,
            "AES" | "AES128" | "AES-128" => PrivProto::Aes128,
            "AES192" | "AES-192" => PrivProto::Aes192,
            "AES256" | "AES-256" => PrivProto::Aes256,
            _ => return None,
        })
    }
    pub(crate) fn lib(self) -> PrivProtocol {
        match self {
            PrivProto::Des => PrivProtocol::Des,
            PrivProto::Aes128 => PrivProtocol::Aes128,
            // net-snmp's AES-192/256 key extension is the Blumenthal draft.
            PrivProto::Aes192 => PrivProtocol::Aes192Blumenthal,
            PrivProto::Aes256 => PrivProtocol::Aes256Blumenthal,
        }
    }
}

impl SecurityLevel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "noauthnopriv" => SecurityLevel::NoAuthNoPriv,
            "authnopriv" => SecurityLevel::AuthNoPriv,
            "authpriv" => SecurityLevel::AuthPriv,
            _ => return None,
        })
    }
}

/// One credential set. `name` is how logs and reports refer to it.
#[derive(Debug, Clone)]
pub enum Credential {
    V1 {
        name: String,
        community: Secret,
    },
    V2c {
        name: String,
        community: Secret,
    },
    V3 {
        name: String,
        user: String,
        level: SecurityLevel,
        auth: Option<(AuthProto, Secret)>,
        privacy: Option<(PrivProto, Secret)>,
    },
}

impl Credential {
    pub fn name(&self) -> &str {
        match self {
            Credential::V1 { name, .. }
            | Credential::V2c { name, .. }
            | Credential::V3 { name, .. } => name,
        }
    }

    /// True when this credential encrypts with DES (which needs durable salt state).
    pub fn uses_des(&self) -> bool {
        matches!(
            self,
            Credential::V3 {
                level: SecurityLevel::AuthPriv,
                privacy: Some((PrivProto::Des, _)),
                ..
            }
        )
    }

    pub fn is_v1(&self) -> bool {
        matches!(self, Credential::V1 { .. })
    }

    /// Build the library's auth value. Errors name the credential, never the secret.
    pub(crate) fn to_auth(&self) -> Result<Auth, String> {
        match self {
            Credential::V1 { community, .. } => Ok(Auth::v1(community.expose())),
            Credential::V2c { community, .. } => Ok(Auth::v2c(community.expose())),
            Credential::V3 {
                name,
                user,
                level,
                auth,
                privacy,
            } => {
                let base = UsmConfig::new(bytes::Bytes::copy_from_slice(user.as_bytes()));
                let cfg = match (level, auth, privacy) {
                    (SecurityLevel::NoAuthNoPriv, _, _) => Ok(base),
                    (SecurityLevel::AuthNoPriv, Some((a, ap)), _) => {
                        base.auth(a.lib(), ap.expose().as_bytes())
                    }
                    (SecurityLevel::AuthPriv, Some((a, ap)), Some((p, pp))) => base.auth_priv(
                        a.lib(),
                        ap.expose().as_bytes(),
                        p.lib(),
                        pp.expose().as_bytes(),
                    ),
                    _ => {
                        return Err(format!(
                            "credential {name}: security level needs auth (and priv) protocol and password"
                        ));
                    }
                };
                cfg.map(Auth::from)
                    .map_err(|e| format!("credential {name}: cannot derive keys: {e}"))
            }
        }
    }
}
