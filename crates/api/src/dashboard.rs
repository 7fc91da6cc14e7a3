//! The dashboard for bot owners: a single page at `/` with its scripts and styles under
//! `/dashboard/`, embedded in the binary (no build step, no CDN). The page drives the same HTTP
//! APIs every client uses — Bots.Business's `/v2` for accounts, bots, commands, chats, logs and
//! broadcasts, botyard's `/v1/admin` for jobs and Botpress configurations — with the session
//! token sign-in hands out, so it can do nothing a user's script could not.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use tower_http::compression::CompressionLayer;

use crate::AppState;

/// The page and its assets: (name, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../assets/dashboard/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/app.js")),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/ui.js")),
    ("editor.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/editor.js")),
    ("bots.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/bots.js")),
    ("commands.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/commands.js")),
    ("workspace.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/workspace.js")),
    ("schema_form.js", "text/javascript; charset=utf-8", include_str!("../assets/dashboard/schema_form.js")),
];

const INDEX: &str = include_str!("../assets/dashboard/index.html");

/// Scripts, styles and frames only from this server; the try-it panel frames the web chat page.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/dashboard/{file}", get(asset))
        .layer(CompressionLayer::new().gzip(true))
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, content)) => page(kind, content),
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

fn page(kind: &'static str, content: &'static str) -> Response {
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Assets change with the binary: revalidate rather than cache stale scripts.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}
