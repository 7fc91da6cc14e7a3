//! botyard's HTTP API. Each dialect (Botpress under `/v1`, Bots.Business under `/v2`, the
//! Botpress Chat API and the web chat page under `/chat/{webhookId}`) is a module tree of routes
//! and wire types over the same [`Services`] and [`Runtime`]; [`app`] mounts them under
//! their prefixes with the shared layers: request ids and tracing, body limits, CORS, rate
//! limiting, and JSON fallbacks in each dialect's envelope. `GET /openapi.json` describes every
//! route, generated from the handlers' annotations.

pub mod common;
pub mod dashboard;
pub mod dialects;
mod openapi;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use botyard_core::Services;
use botyard_runtime::Runtime;
use http::{HeaderName, HeaderValue, Method};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use common::dialect::Dialect;
use common::rate_limit::{RateLimiter, limit};
use dialects::botpress::{self, Botpress};
use dialects::bots_business::{self, BotsBusiness};
use dialects::chat;
use dialects::koreai::{self, KoreAi, KoreLimits};

/// What every handler can reach; one shared allocation, so the per-request clones axum makes of
/// the state (one per `State` extractor) cost one reference count instead of one per service.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<SharedState>,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.shared
    }
}

/// The services behind [`AppState`].
pub struct SharedState {
    pub services: Services,
    pub runtime: Runtime,
    pub jobs: botyard_jobs::Jobs,
    pub telegram: botyard_channels::Telegram,
    /// The rate limits of every dialect, keyed on who is calling.
    pub limiter: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(
        services: Services,
        runtime: Runtime,
        jobs: botyard_jobs::Jobs,
        telegram: botyard_channels::Telegram,
    ) -> Self {
        let http = &services.config.http;
        let limiter = Arc::new(RateLimiter::new(http.rate_limit_per_second, http.rate_limit_burst));
        Self { shared: Arc::new(SharedState { services, runtime, jobs, telegram, limiter }) }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let config = state.services.config.clone();

    let (bp_routes, bp_doc) = botpress::router().split_for_parts();
    let bp_routes = bp_routes
        // The runtime API bots call (`/v1/chat/...`), in the same envelope and limits.
        .merge(dialects::bp_runtime::router())
        .fallback(botpress::not_found)
        .method_not_allowed_fallback(botpress::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), limit::<Botpress>));
    let (bb_routes, bb_doc) = bots_business::router().split_for_parts();
    let bb_routes = bb_routes
        .fallback(bots_business::not_found)
        .method_not_allowed_fallback(bots_business::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), limit::<BotsBusiness>));

    let (chat_routes, chat_doc) = chat::router().split_for_parts();
    let chat_routes = chat_routes
        .fallback(chat::not_found)
        .method_not_allowed_fallback(botpress::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), limit::<Botpress>));

    let (kore_routes, kore_doc) = koreai::router().split_for_parts();
    let kore_routes = kore_routes
        .fallback(koreai::not_found)
        .method_not_allowed_fallback(koreai::method_not_allowed)
        .layer(axum::Extension(Arc::new(KoreLimits::default())))
        .layer(from_fn_with_state(state.clone(), limit::<KoreAi>))
        // Uploads of bot definitions and archives are larger than API bodies.
        .layer(DefaultBodyLimit::max(config.jobs.upload_max_bytes.max(config.http.body_limit_bytes)));

    // Bots.Business's webhook URLs live under `/v1` (as on Bots.Business) but take any body.
    let webhook_routes = Router::new()
        .route(
            "/v1/bots/{bot}/new-webhook",
            get(common::webhooks::new_webhook).post(common::webhooks::new_webhook),
        )
        .route(
            "/v2/bots/{bot}/web-app/{command}",
            get(common::webhooks::web_app).post(common::webhooks::web_app),
        )
        .layer(from_fn_with_state(state.clone(), limit::<BotsBusiness>));
    let kore_webhook_routes =
        koreai::webhook_router().layer(from_fn_with_state(state.clone(), limit::<KoreAi>));

    let doc = openapi::document(vec![
        openapi::Part { prefix: "/v1", dialect: "Botpress", doc: bp_doc },
        openapi::Part { prefix: "/v2", dialect: "BotsBusiness", doc: bb_doc },
        openapi::Part { prefix: "/chat/{webhook}", dialect: "Chat", doc: chat_doc },
        openapi::Part { prefix: "/api/public", dialect: "KoreAi", doc: kore_doc },
    ]);
    let request_id = HeaderName::from_static("x-request-id");

    let mut router = Router::new();
    if config.metrics.enabled {
        router = router.route("/metrics", get(common::metrics::scrape));
    }
    router
        .route("/healthz", get(common::health::healthz))
        .route("/readyz", get(common::health::readyz))
        .route("/openapi.json", get(move || std::future::ready(axum::Json(doc.clone()))))
        .route("/telegram/{bot}", axum::routing::post(common::telegram::webhook))
        .merge(webhook_routes)
        .merge(kore_webhook_routes)
        .merge(dashboard::router())
        .nest("/v1", bp_routes)
        .nest("/v2", bb_routes)
        .nest("/chat/{webhook}", chat_routes)
        .nest("/api/public", kore_routes)
        .fallback(root_not_found)
        .layer(from_fn_with_state(state.clone(), common::metrics::record))
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes))
        .layer(cors(&config.http.cors_origins))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            common::dialect::render::<Plain>(&botyard_domain::Error::internal("a handler panicked"))
        }))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(Duration::from_secs(3600))
}

/// The envelope of routes outside any dialect.
struct Plain;

impl Dialect for Plain {
    fn error_response(error: &botyard_domain::Error) -> Response {
        let status = http::StatusCode::from_u16(error.code.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(serde_json::json!({"code": status.as_u16(), "message": error.message})))
            .into_response()
    }
}

async fn root_not_found() -> Response {
    common::dialect::render::<Plain>(&botyard_domain::Error::new(
        botyard_domain::ErrorCode::NotFound,
        "Not found: the APIs live under /v1 (Botpress), /v2 (Bots.Business) and /api/public (Kore.ai); see /openapi.json",
    ))
}
