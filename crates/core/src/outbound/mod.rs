//! Connections botyard opens on behalf of users — scripts' `HTTP.*` calls, bots' `csv_url`, git
//! remotes — under one policy: every address a host resolves to is checked against
//! `outbound.deny`, the connection is pinned to a checked address (a second DNS answer cannot swap
//! it), and what is refused says only that it is denied, never what a name resolved to.
//!
//! [`http`] sends single requests (no redirects followed); [`tunnel`] is a proxy on loopback that
//! libgit2 is pointed at, so that every connection of a git transfer, redirects included, passes
//! the same check, within a deadline and a byte budget.

pub mod http;
pub mod tunnel;

use std::net::SocketAddr;

use botyard_domain::net::{Network, denied};
use botyard_domain::{Error, ErrorCode, Result};

pub use http::{Answer, Request, send};

/// The address to connect to for `host:port`: the first it resolves to, provided none of its
/// addresses is denied.
pub async fn resolve(host: &str, port: u16, deny: &[Network]) -> Result<SocketAddr> {
    let bare = host.trim_matches(['[', ']']);
    let unreachable = || Error::new(ErrorCode::Unavailable, format!("Cannot reach {host}"));
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| unreachable().with_detail(e.to_string()))?
        .collect();
    let first = addresses.first().copied().ok_or_else(unreachable)?;
    if addresses.iter().any(|a| denied(a.ip(), deny)) {
        return Err(denied_error(host));
    }
    Ok(first)
}

/// The refusal of a denied host: it names the host the caller gave and nothing it resolved to.
pub fn denied_error(host: &str) -> Error {
    Error::forbidden(format!("{host} is denied: botyard does not connect there for bots (outbound.deny)"))
}

impl crate::Services {
    /// Sends a request for a bot under the outbound policy.
    /// (with its URL rewritten as `outbound.rewrite` says).
    pub async fn send_outbound(&self, request: Request<'_>) -> Result<Answer> {
        let settings = &self.config.outbound;
        let url = settings.rewritten(request.url);
        send(&settings.denied_networks(), Request { url: &url, ..request }).await
    }

    /// Opens the proxy one git transfer of `remote` goes through, with the configured limits.
    pub async fn git_tunnel(&self, remote: &str) -> Result<tunnel::Tunnel> {
        let jobs = &self.config.jobs;
        let origin = url::Url::parse(remote.trim())
            .ok()
            .filter(|u| u.scheme() == "http")
            .and_then(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default()?)));
        tunnel::Tunnel::open(tunnel::TunnelPolicy {
            deny: self.config.outbound.denied_networks(),
            allow_http: jobs.git_allow_http,
            max_bytes: jobs.git_transfer_max_bytes,
            timeout: std::time::Duration::from_secs(jobs.git_timeout_secs),
            origin,
        })
        .await
    }
}
