//! The outbound HTTP client (remote write, alert webhooks): a minimal
//! HTTP/1.1 POST over one hyper client connection per push (pushes are
//! seconds apart), a deadline over connect, send and
//! answer, and the receiver's URL checked up front. Plain `http://` only:
//! put a TLS-terminating proxy in front of an `https` receiver.
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
}

/// Why a URL is refused. The URL itself is not repeated: it may carry
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL like http://host:9090/api/v1/write")]
    Syntax,
    #[error("only http:// is supported (terminate TLS at a proxy)")]
    Scheme,
    #[error("credentials in the URL are not allowed; use basic_auth_user/basic_auth_password")]
    UserInfo,
    #[error("the URL has no host")]
    NoHost,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
        let uri: Uri = url.parse().map_err(|_| UrlError::Syntax)?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(UrlError::Scheme),
            None => return Err(UrlError::Syntax),
        }
        let auth = uri.authority().ok_or(UrlError::NoHost)?;
        if auth.as_str().contains('@') {
            return Err(UrlError::UserInfo);
        }
        if auth.host().is_empty() {
            return Err(UrlError::NoHost);
        }
        let port = auth.port_u16().unwrap_or(80);
        Ok(Endpoint {
            authority: format!("{}:{port}", auth.host()),
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            host: auth.as_str().to_string(),
        })
    }
}

/// Why a push did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("connecting to {0}: {1}")]
    Connect(String, std::io::Error),
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
    to: &Endpoint,
    headers: &[(N, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<StatusCode, PostError> {
    tokio::time::timeout(timeout, exchange(to, headers, body))
        .await
        .unwrap_or_else(|_| Err(PostError::Timeout(to.authority.clone(), timeout)))
}

async fn exchange<N: AsRef<str> + Sync>(
    to: &Endpoint,
    headers: &[(N, String)],
    body: Vec<u8>,
) -> Result<StatusCode, PostError> {
    let stream = tokio::net::TcpStream::connect(&to.authority)
        .await
        .map_err(|e| PostError::Connect(to.authority.clone(), e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
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
        assert_eq!(Endpoint::parse("https://p/w"), Err(UrlError::Scheme));
        assert_eq!(Endpoint::parse("http://u:pw@p/w"), Err(UrlError::UserInfo));
        assert!(Endpoint::parse("p:9090/w").is_err());
        assert_eq!(Endpoint::parse("/api/v1/write"), Err(UrlError::Syntax));
        assert_eq!(Endpoint::parse("not a url"), Err(UrlError::Syntax));
    }
}
