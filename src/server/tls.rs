//! HTTPS for the API and the map: the certificate chain and private key
//! named by `[server] tls_cert` and `tls_key` (PEM files), loaded once when
//! serve starts into a rustls server configuration (ring provider, TLS 1.2
//! and 1.3, HTTP/1.1 by ALPN). A problem with either file stops serve at
//! start with the file's path and what is wrong with it; the key's bytes
//! never reach an error or a log.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("server.tls_cert {path}: {message}")]
    Cert { path: PathBuf, message: String },
    #[error("server.tls_key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("server.tls_cert and server.tls_key: {0}")]
    Pair(String),
}

/// Reads both files and builds the acceptor. The chain is the PEM
/// `CERTIFICATE` blocks of `cert` in order (the server's own first); the
/// key is the first private key block of `key` (PKCS#8, PKCS#1 or SEC1) and
/// must belong to the first certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_err = |message: String| TlsError::Cert {
        path: cert.to_path_buf(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(pem_problem(&e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(cert_err("no PEM CERTIFICATE block in the file".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_path_buf(),
        message: pem_problem(&e),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| TlsError::Pair(pair_problem(&e)))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What went wrong reading a PEM file, in words that name no byte of it.
fn pem_problem(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::Io(io) => format!("cannot read: {io}"),
        E::NoItemsFound => "no PEM private key block in the file".into(),
        E::MissingSectionEnd { .. } | E::IllegalSectionStart { .. } => {
            "a PEM block is not closed or not well formed".into()
        }
        E::Base64Decode(_) => "a PEM block is not valid base64".into(),
        _ => "not a readable PEM file".into(),
    }
}

/// Why rustls refused the pair; its messages name no key material, but only
/// the kinds are passed on so that this stays true.
fn pair_problem(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InconsistentKeys(_) => {
            "the private key does not belong to the first certificate".into()
        }
        rustls::Error::General(_) => "the private key is not one rustls can use".into(),
        _ => "the certificate or key is not usable".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cert: &Path, key: &Path) -> String {
        match acceptor(cert, key) {
            Ok(_) => panic!("accepted {cert:?} and {key:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn missing_and_empty_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = refused(&cert, &key);
        assert!(
            e.starts_with("server.tls_cert ") && e.contains("cannot read"),
            "{e}"
        );
        std::fs::write(&cert, "not pem\n").unwrap();
        let e = refused(&cert, &key);
        assert!(e.contains("no PEM CERTIFICATE block"), "{e}");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = refused(&cert, &key);
        assert!(e.contains("base64") || e.contains("PEM"), "{e}");
    }
}
