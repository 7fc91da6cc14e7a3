//! A proxy on loopback for one git transfer. libgit2 opens its own connections and follows
//! redirects by itself, so instead of trusting it with addresses botyard points it at this proxy:
//! every connection it makes — the remote, and any host a redirect sends it to — arrives here as a
//! `CONNECT host:port` (https) and is checked with [`super::resolve`] and pinned before anything
//! is sent. libgit2 does not send plain-http requests through a proxy, so a plain-http remote
//! (when allowed) is fetched from the proxy's own address instead: requests arriving in origin
//! form go to the transfer's one [`TunnelPolicy::origin`], checked the same way. The proxy also
//! enforces the transfer's deadline and how many bytes may come back, while they arrive.
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
    /// `host:port` of a plain-http remote, which requests in origin form are forwarded to.
    pub origin: Option<(String, u16)>,
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
        let (Some((host, port)), true) = (&shared.policy.origin, target.starts_with('/')) else {
            return answer(&mut client, 400).await;
        };
        if !shared.policy.allow_http {
            shared.refuse(Error::invalid(
                "Plain http:// git remotes are refused: use https:// (or allow them with jobs.git_allow_http)",
            ));
            return answer(&mut client, 403).await;
        }
        (host.clone(), *port, Some(to_origin(method, target, host, *port, lines)))
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

/// A plain-http request for the origin server: its `Host`, no proxy headers, and
/// `Connection: close` so that libgit2 comes back through the proxy for its next request.
fn to_origin<'a>(
    method: &str,
    path: &str,
    host: &str,
    port: u16,
    headers: impl Iterator<Item = &'a str>,
) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}");
    if port != 80 {
        head.push_str(&format!(":{port}"));
    }
    head.push_str("\r\n");
    for line in headers.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if name.starts_with("proxy-") || matches!(name.as_str(), "connection" | "keep-alive" | "host") {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on 127.0.0.1 answering every request with `size` bytes.
    async fn server(size: usize) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let head =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&vec![b'x'; size]).await;
                });
            }
        });
        addr
    }

    fn policy(deny: &[&str], max_bytes: u64, origin: std::net::SocketAddr) -> TunnelPolicy {
        TunnelPolicy {
            deny: deny.iter().map(|n| Network::parse(n).unwrap()).collect(),
            allow_http: true,
            max_bytes,
            timeout: Duration::from_secs(5),
            origin: Some(("localhost".into(), origin.port())),
        }
    }

    /// A request to the transfer's origin, sent to the tunnel as libgit2 does for plain http.
    async fn get(tunnel: &Tunnel) -> std::result::Result<usize, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let response = client.get(format!("{}/x", tunnel.url())).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(response.status().to_string());
        }
        response.bytes().await.map(|b| b.len()).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn relays_allowed_hosts_within_the_budget() {
        let addr = server(1000).await;
        let tunnel = Tunnel::open(policy(&["10.0.0.0/8"], 1_000_000, addr)).await.unwrap();
        assert_eq!(get(&tunnel).await, Ok(1000));
        assert!(tunnel.refusal().is_none());
        assert!(tunnel.received() >= 1000);
    }

    #[tokio::test]
    async fn refuses_denied_hosts_and_cuts_large_answers() {
        let addr = server(2_000_000).await;
        let denied = Tunnel::open(policy(&["127.0.0.0/8", "::1/128"], 1_000_000, addr)).await.unwrap();
        assert!(get(&denied).await.is_err());
        let refusal = denied.refusal().unwrap();
        assert_eq!(refusal.code, ErrorCode::Forbidden);
        assert!(
            !refusal.message.contains("127.0.0.1"),
            "says nothing of what it resolved to: {}",
            refusal.message
        );

        // https goes through CONNECT, the initial request and any redirect alike: checked too.
        let tunnel = Tunnel::open(policy(&["127.0.0.0/8", "::1/128"], 1_000_000, addr)).await.unwrap();
        let client =
            reqwest::Client::builder().proxy(reqwest::Proxy::all(tunnel.url()).unwrap()).build().unwrap();
        let connect = format!("https://localhost:{}/x", addr.port());
        assert!(client.get(&connect).send().await.is_err());
        assert_eq!(tunnel.refusal().unwrap().code, ErrorCode::Forbidden);

        let small = Tunnel::open(policy(&[], 100_000, addr)).await.unwrap();
        assert!(get(&small).await.is_err());
        assert_eq!(small.refusal().unwrap().code, ErrorCode::LimitExceeded);
        assert!(small.received() < 400_000, "{}", small.received());
    }
}
