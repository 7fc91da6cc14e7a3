//! `GET /metrics` (Prometheus's text format) and the layer counting HTTP requests by dialect,
//! route template and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::AppState;

/// Records every request's dialect, route template, status and time.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let response = next.run(request).await;
    let route = match route {
        // A nested router's fallback matches a wildcard of axum's own.
        Some(route) if !route.contains("__private__") => route,
        _ => "unmatched".to_owned(),
    };
    state.services.metrics.http_request(
        dialect(&path),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The dialect a path belongs to, as the metrics name it.
fn dialect(path: &str) -> &'static str {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/v1/bots") && path.ends_with("/new-webhook") {
        // Bots.Business's webhook URLs live under `/v1`, as on Bots.Business.
        "bots_business"
    } else if under("/v1") {
        "botpress"
    } else if under("/v2") {
        "bots_business"
    } else if under("/chat") {
        "chat"
    } else if under("/api/public") || under("/chatbot") {
        "koreai"
    } else {
        "other"
    }
}

/// `GET /metrics`: every metric of this server; with `metrics.token` set, only for a caller who
/// sends it as a bearer token.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = &state.services.config.metrics.token;
    if !token.is_empty() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Compared in constant time, so the answer's timing does not reveal the token.
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "the metrics need Authorization: Bearer <metrics.token>\n",
            )
                .into_response();
        }
    }
    state.runtime.observe_queue();
    if let Err(e) = state.jobs.observe_queue().await {
        tracing::warn!(error = %e, "could not count the queued jobs for the metrics");
    }
    let text = state.services.render_metrics();
    ([(header::CONTENT_TYPE, botyard_core::metrics::CONTENT_TYPE)], text).into_response()
}
