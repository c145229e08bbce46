//! Bearer-token authorisation: which [`Role`] a request's `Authorization`
//! header grants. Tokens are compared in constant time; a token's text never
//! reaches a log line, an error or a response. Pure: no I/O.
use crate::types::Secret;
use subtle::ConstantTimeEq;

/// What a token may do. Roles are ordered: `Admin` may do everything
/// `ReadOnly` may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Every GET route: devices, topology, series, `/metrics`.
    ReadOnly,
    /// Also the routes that change state (saving map positions, ...).
    Admin,
}

/// The tokens the server accepts. `None` in [`super::AppState::auth`] means
/// no authorisation at all (loopback use only: the CLI refuses a
/// non-loopback listen address without a token).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub admin_token: Secret,
    pub read_only_token: Option<Secret>,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization: Bearer` header, or a token that matches none.
    Unauthenticated,
    /// A valid token whose role is below the route's.
    Forbidden,
}

impl AuthConfig {
    /// The role `token` grants, if any. Every configured token is compared,
    /// each in constant time.
    pub fn role_of(&self, token: &[u8]) -> Option<Role> {
        let admin = ct_eq(token, self.admin_token.expose().as_bytes());
        let read_only = self
            .read_only_token
            .as_ref()
            .is_some_and(|t| ct_eq(token, t.expose().as_bytes()));
        if admin {
            Some(Role::Admin)
        } else if read_only {
            Some(Role::ReadOnly)
        } else {
            None
        }
    }
}

/// The role a request holds: admin when the server asks for no token.
pub fn role_of_request(auth: Option<&AuthConfig>, header: Option<&[u8]>) -> Option<Role> {
    match auth {
        None => Some(Role::Admin),
        Some(auth) => auth.role_of(header.and_then(bearer_token)?),
    }
}

/// Decides a request: `auth` is the server's configuration, `header` the
/// request's `Authorization` value, `required` the route's role.
pub fn authorize(
    auth: Option<&AuthConfig>,
    header: Option<&[u8]>,
    required: Role,
) -> Result<(), Denied> {
    let Some(auth) = auth else {
        return Ok(());
    };
    let token = header
        .and_then(bearer_token)
        .ok_or(Denied::Unauthenticated)?;
    match auth.role_of(token) {
        None => Err(Denied::Unauthenticated),
        Some(role) if role < required => Err(Denied::Forbidden),
        Some(_) => Ok(()),
    }
}

/// The token of an `Authorization: Bearer TOKEN` value (scheme name
/// case-insensitive, RFC 7235); `None` for another scheme or an empty token.
fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = header.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Constant time for equal lengths; a length mismatch returns at once
/// (the length of a token is not its secret).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AuthConfig {
        AuthConfig {
            admin_token: Secret::new("admin-token-0123456789"),
            read_only_token: Some(Secret::new("viewer-token-0123456789")),
        }
    }

    #[test]
    fn roles_from_headers() {
        let c = cfg();
        let ok = |h: &str, r| authorize(Some(&c), Some(h.as_bytes()), r);
        assert_eq!(ok("Bearer admin-token-0123456789", Role::Admin), Ok(()));
        assert_eq!(ok("bearer admin-token-0123456789", Role::ReadOnly), Ok(()));
        assert_eq!(ok("Bearer viewer-token-0123456789", Role::ReadOnly), Ok(()));
        assert_eq!(
            ok("Bearer viewer-token-0123456789", Role::Admin),
            Err(Denied::Forbidden)
        );
        for bad in [
            "Bearer admin-token-012345678",
            "Bearer admin-token-01234567890",
            "Basic admin-token-0123456789",
            "Bearer ",
            "Bearer",
            "",
        ] {
            assert_eq!(
                ok(bad, Role::ReadOnly),
                Err(Denied::Unauthenticated),
                "{bad}"
            );
        }
        assert_eq!(
            authorize(Some(&c), None, Role::ReadOnly),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(authorize(None, None, Role::Admin), Ok(()));
    }

    #[test]
    fn without_a_read_only_token_only_admin_works() {
        let c = AuthConfig {
            read_only_token: None,
            ..cfg()
        };
        assert_eq!(c.role_of(b"viewer-token-0123456789"), None);
        assert_eq!(c.role_of(b"admin-token-0123456789"), Some(Role::Admin));
    }
}
