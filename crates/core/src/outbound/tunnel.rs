//! A proxy on loopback for one git transfer. libgit2 opens its own connections and follows
//! redirects by itself, so instead of trusting it with addresses botyard points it at this proxy:
//! every connection it makes — the remote, and any host a redirect sends it to — arrives here as a
//! `CONNECT host:port` (https) or an absolute-form request (plain http, when allowed), and is
//! checked with [`super::resolve`] and pinned before anything is sent. The proxy also enforces the
//! transfer's deadline and how many bytes may come back, while they arrive.
//!
//! What the proxy refused is kept ([`Tunnel::refusal`]) so the job reports that, not libgit2's
//! wording of a closed connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use botyard_domain::net::Network;
use botyard_domain::{Error, ErrorCode, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The longest request head the proxy reads.
const HEAD_MAX_BYTES: usize = 16 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one transfer may do.
#[derive(Debug, Clone)]
pub struct TunnelPolicy {
    pub deny: Vec<Network>,
    /// Whether plain `http://` remotes may be reached (https only otherwise).
    pub allow_http: bool,
    /// The most bytes the remote may send, in all connections together.
    pub max_bytes: u64,
    /// How long the whole transfer may take.
    pub timeout: Duration,
}

/// A running proxy; it stops when dropped.
pub struct Tunnel {
    url: String,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

struct Shared {
    policy: TunnelPolicy,
    deadline: Instant,
    received: AtomicU64,
    refusal: Mutex<Option<Error>>,
}

impl Shared {
    fn refuse(&self, error: Error) {
        let mut refusal = self.refusal.lock().unwrap_or_else(|e| e.into_inner());
        refusal.get_or_insert(error);
    }
}

impl Tunnel {
    /// Starts a proxy on 127.0.0.1 for one transfer.
    pub async fn open(policy: TunnelPolicy) -> Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|e| Error::internal(format!("git proxy: {e}")))?;
        let address = listener.local_addr().map_err(|e| Error::internal(format!("git proxy: {e}")))?;
        let shared = Arc::new(Shared {
            deadline: Instant::now() + policy.timeout,
            policy,
            received: AtomicU64::new(0),
            refusal: Mutex::new(None),
        });
        let stop = CancellationToken::new();
        let (serving, stopped) = (shared.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = tokio::time::sleep_until(serving.deadline) => {
                        serving.refuse(timed_out(&serving.policy));
                        stopped.cancel();
                        return;
                    }
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                let (shared, stop) = (serving.clone(), stopped.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep_until(shared.deadline) => shared.refuse(timed_out(&shared.policy)),
                        _ = serve(client, &shared) => {}
                    }
                });
            }
        });
        Ok(Self { url: format!("http://{address}"), shared, stop })
    }

    /// The proxy's URL, for libgit2's proxy options.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Bytes received from remotes so far.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// What the proxy refused, if anything: a denied host, plain http, the size or the time limit.
    pub fn refusal(&self) -> Option<Error> {
        self.shared.refusal.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn timed_out(policy: &TunnelPolicy) -> Error {
    Error::new(
        ErrorCode::Timeout,
        format!("The git transfer took longer than {} seconds", policy.timeout.as_secs()),
    )
}

fn too_large(policy: &TunnelPolicy) -> Error {
    Error::limit(format!(
        "The git remote sent more than {} MiB; a bot's repository must be smaller",
        (policy.max_bytes / (1024 * 1024)).max(1)
    ))
}

/// One connection from libgit2.
async fn serve(mut client: TcpStream, shared: &Shared) {
    let Ok(Some((head, rest))) = read_head(&mut client).await else { return };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let (host, port, forward) = if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = target.rsplit_once(':') else { return answer(&mut client, 400).await };
        let Ok(port) = port.parse::<u16>() else { return answer(&mut client, 400).await };
        (host.to_owned(), port, None)
    } else {
        let Ok(url) = url::Url::parse(target) else { return answer(&mut client, 400).await };
        if url.scheme() != "http" {
            return answer(&mut client, 400).await;
        }
        if !shared.policy.allow_http {
            shared.refuse(Error::invalid(
                "Plain http:// git remotes are refused: use https:// (or allow them with jobs.git_allow_http)",
            ));
            return answer(&mut client, 403).await;
        }
        let host = url.host_str().unwrap_or("").to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        (host, port, Some(origin_form(method, &url, lines)))
    };
    let address = match super::resolve(&host, port, &shared.policy.deny).await {
        Ok(address) => address,
        Err(e) => {
            let status = if e.code == ErrorCode::Forbidden { 403 } else { 502 };
            shared.refuse(e);
            return answer(&mut client, status).await;
        }
    };
    let server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(server)) => server,
        _ => {
            shared.refuse(Error::new(ErrorCode::Unavailable, format!("Cannot reach {host}")));
            return answer(&mut client, 502).await;
        }
    };
    let _ = server.set_nodelay(true);
    let (mut from_server, mut to_server) = server.into_split();
    match forward {
        None => {
            if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                return;
            }
        }
        Some(head) => {
            if to_server.write_all(head.as_bytes()).await.is_err() {
                return;
            }
        }
    }
    if !rest.is_empty() && to_server.write_all(&rest).await.is_err() {
        return;
    }
    let (mut from_client, mut to_client) = client.into_split();
    let upstream = async {
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        let _ = to_server.shutdown().await;
    };
    let downstream = relay_counted(&mut from_server, &mut to_client, shared);
    tokio::join!(upstream, downstream);
}

/// Copies what the remote sends, counting it against the transfer's budget.
async fn relay_counted(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    shared: &Shared,
) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let total = shared.received.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > shared.policy.max_bytes {
            shared.refuse(too_large(&shared.policy));
            break;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// The request head, and whatever arrived after it.
async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            buffer.truncate(end);
            return Ok(Some((buffer, rest)));
        }
        if buffer.len() > HEAD_MAX_BYTES {
            return Ok(None);
        }
    }
}

/// A plain-http request rewritten for the origin server: origin-form target, no proxy headers,
/// and `Connection: close` so that libgit2 comes back through the proxy for its next request.
fn origin_form<'a>(method: &str, url: &url::Url, headers: impl Iterator<Item = &'a str>) -> String {
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for line in headers.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if name.starts_with("proxy-") || name == "connection" || name == "keep-alive" {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

async fn answer(client: &mut TcpStream, status: u16) {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Bad Gateway",
    };
    let _ = client
        .write_all(
            format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
    let _ = client.shutdown().await;
}
