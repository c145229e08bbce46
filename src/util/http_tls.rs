//! TLS for the outbound HTTP client (`https://` webhooks, Alertmanager and
//! remote write): a rustls client configuration from files — the trusted
//! CAs (a `ca_file`, or else the system's CA bundle) and an optional client
//! certificate and key. Errors name the file and what is wrong with it,
//! never a byte of a key. The server name checked is the URL's host (a DNS
//! name or an IP address, matched against the certificate's names).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls::{
    self, ClientConfig, RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};

/// The system CA bundles looked for, in order, when no `ca_file` is given
/// (Debian/Ubuntu, Fedora/RHEL, Alpine/BSD). `SSL_CERT_FILE` comes first.
pub const SYSTEM_CA_BUNDLES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Where the client's trust and identity come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificates trusted instead of the system's CA bundle.
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain presented to a server that asks for one.
    pub client_cert: Option<PathBuf>,
    /// Its PEM private key.
    pub client_key: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether any file is configured.
    pub fn any(&self) -> bool {
        self.ca_file.is_some() || self.client_cert.is_some() || self.client_key.is_some()
    }
}

/// Why the client's TLS configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsFileError {
    #[error("CA file {path}: {message}")]
    Ca { path: PathBuf, message: String },
    #[error(
        "no system CA bundle found (looked at SSL_CERT_FILE and {}); set ca_file",
        SYSTEM_CA_BUNDLES.join(", ")
    )]
    NoSystemBundle,
    #[error("client certificate {path}: {message}")]
    Cert { path: PathBuf, message: String },
    #[error("client key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("client_cert and client_key go together (one is missing)")]
    HalfPair,
    #[error("client certificate and key: {0}")]
    Pair(String),
}

/// A rustls client configuration, shared by every push to one receiver.
#[derive(Clone)]
pub struct TlsClient(pub(crate) Arc<ClientConfig>);

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsClient")
    }
}

impl TlsClient {
    /// Builds the configuration from `files`: TLS 1.2 and 1.3 with the ring
    /// provider, the CAs of `ca_file` (only those) or the system bundle.
    pub fn from_files(files: &TlsFiles) -> Result<TlsClient, TlsFileError> {
        let (ca, from_system) = match &files.ca_file {
            Some(p) => (p.clone(), false),
            None => (system_bundle().ok_or(TlsFileError::NoSystemBundle)?, true),
        };
        let roots = roots(&ca, from_system)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsFileError::Pair(e.to_string()))?
            .with_root_certificates(roots);
        let config = match (&files.client_cert, &files.client_key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let (chain, key_der) = identity(cert, key)?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| TlsFileError::Pair(pair_problem(&e)))?
            }
            _ => return Err(TlsFileError::HalfPair),
        };
        Ok(TlsClient(Arc::new(config)))
    }
}

/// `SSL_CERT_FILE`, or the first system bundle that exists.
fn system_bundle() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    SYSTEM_CA_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn roots(path: &Path, from_system: bool) -> Result<RootCertStore, TlsFileError> {
    let err = |message: String| TlsFileError::Ca {
        path: path.to_path_buf(),
        message,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(pem_problem(&e, "certificate")))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(pem_problem(&e, "certificate")))?;
    let mut store = RootCertStore::empty();
    if from_system {
        // A system bundle may hold a certificate rustls cannot parse; the
        // others still count.
        store.add_parsable_certificates(certs);
    } else {
        for c in certs {
            store
                .add(c)
                .map_err(|_| err("a certificate in it is not a usable CA certificate".into()))?;
        }
    }
    if store.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(store)
}

/// Which of a certificate and key pair could not be read, and why (in
/// words that name no byte of either file).
pub enum PemPairProblem {
    Cert(String),
    Key(String),
}

/// A certificate chain and its private key read from PEM files: the
/// client's identity here, the server's certificate in `server::tls`.
pub fn read_pem_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PemPairProblem> {
    let cert_err = |e| PemPairProblem::Cert(pem_problem(&e, "certificate"));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(cert_err)?
        .collect::<Result<_, _>>()
        .map_err(cert_err)?;
    if chain.is_empty() {
        return Err(PemPairProblem::Cert(
            "no PEM CERTIFICATE block in the file".into(),
        ));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| PemPairProblem::Key(pem_problem(&e, "private key")))?;
    Ok((chain, key_der))
}

fn identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsFileError> {
    read_pem_pair(cert, key).map_err(|p| match p {
        PemPairProblem::Cert(message) => TlsFileError::Cert {
            path: cert.to_path_buf(),
            message,
        },
        PemPairProblem::Key(message) => TlsFileError::Key {
            path: key.to_path_buf(),
            message,
        },
    })
}

/// What went wrong reading a PEM file (`expected`: "certificate", "private
/// key"), in words that name no byte of it. Shared with the server's own
/// certificate loading.
pub fn pem_problem(e: &rustls::pki_types::pem::Error, expected: &str) -> String {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::Io(io) => format!("cannot read: {io}"),
        E::NoItemsFound => format!("no PEM {expected} block in the file"),
        E::MissingSectionEnd { .. } | E::IllegalSectionStart { .. } => {
            "a PEM block is not closed or not well formed".into()
        }
        E::Base64Decode(_) => "a PEM block is not valid base64".into(),
        _ => "not a readable PEM file".into(),
    }
}

/// Why rustls refused a certificate and key pair; its messages name no key
/// material, but only the kinds are passed on so that this stays true.
pub fn pair_problem(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InconsistentKeys(_) => {
            "the private key does not belong to the first certificate".into()
        }
        rustls::Error::General(_) => "the private key is not one rustls can use".into(),
        _ => "the certificate or key is not usable".into(),
    }
}

/// A handshake failure in words a user can act on. rustls's own message
/// names the reason (unknown issuer, name mismatch, expired); no secret is
/// in it.
pub(crate) fn handshake_problem(e: &std::io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => {
            use rustls::CertificateError as C;
            let hint = match c {
                C::UnknownIssuer | C::BadSignature => {
                    " (the server's certificate is not signed by a trusted CA: add its CA to ca_file)"
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    " (the certificate does not name the URL's host)"
                }
                C::Expired | C::ExpiredContext { .. } => " (the certificate has expired)",
                // webpki's CaUsedAsEndEntity: a self-signed certificate made
                // as a CA, not issued by one in ca_file.
                C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                    " (the server presents a CA certificate, e.g. a self-signed one, as its own; \
                     trust its issuer through ca_file)"
                }
                _ => " (is the server's CA in ca_file?)",
            };
            format!("the server's certificate was refused: {c:?}{hint}")
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_not_pem_name_the_file_and_never_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "secret-looking bytes\n").unwrap();
        let e = TlsClient::from_files(&TlsFiles {
            ca_file: Some(ca.clone()),
            ..TlsFiles::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("ca.pem"), "{e}");
        assert!(!e.contains("secret-looking"), "{e}");
        let missing = dir.path().join("missing.pem");
        let e = TlsClient::from_files(&TlsFiles {
            ca_file: Some(missing),
            ..TlsFiles::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        let e = TlsClient::from_files(&TlsFiles {
            client_cert: Some(dir.path().join("c.pem")),
            ..TlsFiles::default()
        })
        .unwrap_err();
        // Without a system bundle the CA error comes first; with one, the pair.
        assert!(
            matches!(e, TlsFileError::HalfPair | TlsFileError::NoSystemBundle),
            "{e}"
        );
    }
}
