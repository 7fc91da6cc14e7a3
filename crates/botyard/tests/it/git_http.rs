//! A git server over smart HTTP for the tests: `git http-backend` (git's own CGI program) behind a
//! small axum server on a loopback address, serving the bare repositories of a directory, with
//! push enabled. It can also answer every request with a redirect, or stall.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use tokio::io::AsyncWriteExt;

#[derive(Clone)]
pub enum Behaviour {
    /// Serve the repositories under this directory.
    Serve(PathBuf),
    /// Answer 302 to the same path on another base URL.
    Redirect(String),
    /// Never answer.
    Stall,
}

/// Starts a server on `ip` (a loopback address); returns its base URL (`http://ip:port`).
pub async fn start(ip: &str, behaviour: Behaviour) -> String {
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(handle).with_state(behaviour);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn handle(State(behaviour): State<Behaviour>, request: Request) -> Response {
    match behaviour {
        Behaviour::Serve(root) => cgi(&root, request).await,
        Behaviour::Redirect(base) => {
            let target =
                format!("{base}{}", request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            Response::builder().status(302).header("location", target).body(Body::empty()).unwrap()
        }
        Behaviour::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::empty())
        }
    }
}

/// Runs `git http-backend` for one request.
async fn cgi(root: &Path, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 256 * 1024 * 1024).await.unwrap_or_default();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", "tester")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("git http-backend starts");
    let mut stdin = child.stdin.take().unwrap();
    tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await.expect("git http-backend answers");
    let raw = output.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, gap)) = split else { return Response::builder().status(500).body(Body::empty()).unwrap() };
    let mut response = Response::builder().status(200);
    for line in String::from_utf8_lossy(&raw[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let code = value.split(' ').next().and_then(|c| c.parse::<u16>().ok()).unwrap_or(500);
            response = response.status(code);
        } else {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(raw[end + gap..].to_vec())).unwrap()
}
