//! One HTTP request for a bot (a script's `HTTP.*`, a `csv_url`, a delivery to a Botpress bot):
//! the host checked and pinned by [`super::resolve`], no redirects followed, within a time limit
//! and a size limit.
//!
//! Clients are kept per (host, checked address) for a minute of idleness: building one loads the
//! system's root certificates (a tenth of a remote bot's delivery in profiles) and a kept client
//! keeps its connections alive. A client only ever connects to the address it was pinned to, so
//! reusing it checks nothing less: every request still resolves and checks the host first, and a
//! host that now resolves elsewhere gets another client.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use botyard_domain::net::Network;
use botyard_domain::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// An answer, read within the size limit.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Map<String, Value>,
    pub body: Vec<u8>,
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a Map<String, Value>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
    pub max_bytes: usize,
}

/// Kept clients, by host and the address it was checked to resolve to.
static CLIENTS: LazyLock<moka::sync::Cache<(String, SocketAddr), reqwest::Client>> = LazyLock::new(|| {
    moka::sync::Cache::builder().max_capacity(1_000).time_to_idle(Duration::from_secs(60)).build()
});

/// A client that connects to `host` only at `address` and follows no redirects.
fn pinned_client(host: &str, address: SocketAddr) -> Result<reqwest::Client> {
    CLIENTS
        .try_get_with((host.to_owned(), address), || {
            reqwest::Client::builder()
                .resolve(host, address)
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
        })
        .map_err(|e| Error::internal(format!("HTTP client: {e}")))
}

/// Sends a request; refuses denied addresses before connecting.
pub async fn send(deny: &[Network], request: Request<'_>) -> Result<Answer> {
    let url = url::Url::parse(request.url)
        .map_err(|_| Error::invalid(format!("\"{}\" is not a URL", request.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid("Only http and https URLs can be fetched"));
    }
    let host = url.host_str().ok_or_else(|| Error::invalid("The URL has no host"))?.to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let unreachable =
        |e: String| Error::new(ErrorCode::Unavailable, format!("Cannot reach {host}")).with_detail(e);
    let address = super::resolve(&host, port, deny).await?;
    let client = pinned_client(&host, address)?;
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| Error::invalid("Bad HTTP method"))?;
    let mut builder = client.request(method, url.clone()).timeout(request.timeout);
    for (name, value) in request.headers {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        builder = builder.header(name.as_str(), value);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(|e| {
        if e.is_timeout() {
            Error::new(
                ErrorCode::Timeout,
                format!("{url} did not answer within {} s", request.timeout.as_secs()),
            )
        } else {
            unreachable(e.to_string())
        }
    })?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (k.as_str().to_owned(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > request.max_bytes {
            return Err(Error::limit(format!(
                "The answer of {url} is larger than {} KiB",
                request.max_bytes / 1024
            )));
        }
    }
    Ok(Answer { status, headers, body })
}
