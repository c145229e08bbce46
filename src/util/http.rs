//! The outbound HTTP client (remote write, alert webhooks, Alertmanager): a
//! minimal HTTP/1.1 POST over one hyper client connection per push (pushes
//! are seconds apart), a deadline over connect, TLS handshake, send and
//! answer, and the receiver's URL checked up front. `http://` and
//! `https://` (rustls; the trust and client identity from
//! [`super::http_tls`]).
use super::http_tls::{TlsClient, TlsFileError, TlsFiles, handshake_problem};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// A checked receiver URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` to connect to.
    pub authority: String,
    /// Path and query sent in the request line.
    pub path: String,
    /// The `Host` header.
    pub host: String,
    /// `https://`: TLS to `server_name`.
    pub tls: bool,
    /// The host as the certificate must name it (no brackets, no port).
    pub server_name: String,
}

/// Why a URL is refused. The URL itself is not repeated: it may carry
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL like http://host:9090/api/v1/write")]
    Syntax,
    #[error("only http:// and https:// are supported")]
    Scheme,
    #[error("credentials in the URL are not allowed; use basic_auth_user/basic_auth_password")]
    UserInfo,
    #[error("the URL has no host")]
    NoHost,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
        let uri: Uri = url.parse().map_err(|_| UrlError::Syntax)?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            Some(_) => return Err(UrlError::Scheme),
            None => return Err(UrlError::Syntax),
        };
        let auth = uri.authority().ok_or(UrlError::NoHost)?;
        if auth.as_str().contains('@') {
            return Err(UrlError::UserInfo);
        }
        if auth.host().is_empty() {
            return Err(UrlError::NoHost);
        }
        let port = auth.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(Endpoint {
            authority: format!("{}:{port}", auth.host()),
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            host: auth.as_str().to_string(),
            tls,
            server_name: auth
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        })
    }
}

/// A receiver: its checked URL and, for `https://`, the TLS client.
#[derive(Debug, Clone)]
pub struct Destination {
    pub endpoint: Endpoint,
    tls: Option<TlsClient>,
}

/// Why a receiver cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("url: {0}")]
    Url(#[from] UrlError),
    #[error("ca_file, client_cert and client_key apply to https:// URLs only")]
    TlsFilesWithoutHttps,
    #[error("{0}")]
    Tls(#[from] TlsFileError),
}

impl Destination {
    /// Checks `url` and, for `https://`, builds the TLS client from `files`.
    pub fn new(url: &str, files: &TlsFiles) -> Result<Destination, DestinationError> {
        let endpoint = Endpoint::parse(url)?;
        let tls = if endpoint.tls {
            Some(TlsClient::from_files(files)?)
        } else if files.any() {
            return Err(DestinationError::TlsFilesWithoutHttps);
        } else {
            None
        };
        Ok(Destination { endpoint, tls })
    }

    /// This endpoint with `path` in place of the URL's own (Alertmanager's
    /// API below its base URL).
    pub fn with_path(mut self, path: &str) -> Destination {
        let base = self.endpoint.path.split('?').next().unwrap_or("");
        self.endpoint.path = format!("{}{path}", base.trim_end_matches('/'));
        self
    }
}

/// Why a push did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("connecting to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS handshake with {0}: {1}")]
    Tls(String, String),
    #[error("https:// to {0} without a TLS client")]
    NoTlsClient(String),
    #[error("HTTP exchange with {0}: {1}")]
    Http(String, hyper::Error),
    #[error("building the request: {0}")]
    Request(hyper::http::Error),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
}

/// Answers larger than this are cut (only the status is used).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// POSTs `body` and returns the answer's status.
pub async fn post<N: AsRef<str> + Sync>(
    to: &Destination,
    headers: &[(N, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<StatusCode, PostError> {
    tokio::time::timeout(timeout, exchange(to, headers, body))
        .await
        .unwrap_or_else(|_| Err(PostError::Timeout(to.endpoint.authority.clone(), timeout)))
}

async fn exchange<N: AsRef<str> + Sync>(
    dest: &Destination,
    headers: &[(N, String)],
    body: Vec<u8>,
) -> Result<StatusCode, PostError> {
    let to = &dest.endpoint;
    let stream = tokio::net::TcpStream::connect(&to.authority)
        .await
        .map_err(|e| PostError::Connect(to.authority.clone(), e))?;
    if !to.tls {
        return send(to, TokioIo::new(stream), headers, body).await;
    }
    let tls = dest
        .tls
        .as_ref()
        .ok_or_else(|| PostError::NoTlsClient(to.authority.clone()))?;
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(to.server_name.clone())
        .map_err(|_| PostError::Tls(to.authority.clone(), "not a valid server name".into()))?;
    let stream = tokio_rustls::TlsConnector::from(tls.0.clone())
        .connect(name, stream)
        .await
        .map_err(|e| PostError::Tls(to.authority.clone(), handshake_problem(&e)))?;
    send(to, TokioIo::new(stream), headers, body).await
}

async fn send<N: AsRef<str> + Sync, S>(
    to: &Endpoint,
    io: TokioIo<S>,
    headers: &[(N, String)],
    body: Vec<u8>,
) -> Result<StatusCode, PostError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| PostError::Http(to.authority.clone(), e))?;
    let driver = tokio::spawn(conn);
    let mut req = Request::post(to.path.as_str()).header("host", to.host.as_str());
    for (name, value) in headers {
        req = req.header(name.as_ref(), value.as_str());
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(PostError::Request)?;
    let answer = sender
        .send_request(req)
        .await
        .map_err(|e| PostError::Http(to.authority.clone(), e));
    let result = match answer {
        Ok(resp) => {
            let status = resp.status();
            // Read (a bounded part of) the answer so the exchange completes.
            let _ = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await;
            Ok(status)
        }
        Err(e) => Err(e),
    };
    drop(sender);
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = Endpoint::parse("http://127.0.0.1:9090/api/v1/write?x=1").unwrap();
        assert_eq!(e.authority, "127.0.0.1:9090");
        assert_eq!(e.path, "/api/v1/write?x=1");
        assert_eq!(e.host, "127.0.0.1:9090");
        let e = Endpoint::parse("http://prom.example/write").unwrap();
        assert_eq!(e.authority, "prom.example:80");
        let e = Endpoint::parse("http://[::1]:9090").unwrap();
        assert_eq!((e.authority.as_str(), e.path.as_str()), ("[::1]:9090", "/"));
        let e = Endpoint::parse("https://[::1]/w").unwrap();
        assert_eq!((e.authority.as_str(), e.tls), ("[::1]:443", true));
        assert_eq!(e.server_name, "::1");
        assert_eq!(Endpoint::parse("ftp://p/w"), Err(UrlError::Scheme));
        assert_eq!(Endpoint::parse("http://u:pw@p/w"), Err(UrlError::UserInfo));
        assert!(Endpoint::parse("p:9090/w").is_err());
        assert_eq!(Endpoint::parse("/api/v1/write"), Err(UrlError::Syntax));
        assert_eq!(Endpoint::parse("not a url"), Err(UrlError::Syntax));
    }

    #[test]
    fn tls_files_need_https_and_paths_go_below_the_base() {
        let files = TlsFiles {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsFiles::default()
        };
        assert_eq!(
            Destination::new("http://127.0.0.1:9093", &files).unwrap_err(),
            DestinationError::TlsFilesWithoutHttps
        );
        let e = Destination::new("https://127.0.0.1:9093", &files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let d = Destination::new("http://127.0.0.1:9093/am/", &TlsFiles::default())
            .unwrap()
            .with_path("/api/v2/alerts");
        assert_eq!(d.endpoint.path, "/am/api/v2/alerts");
        let d = Destination::new("http://127.0.0.1:9093", &TlsFiles::default())
            .unwrap()
            .with_path("/api/v2/alerts");
        assert_eq!(d.endpoint.path, "/api/v2/alerts");
    }
}
