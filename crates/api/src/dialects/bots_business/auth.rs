//! Who calls the Bots.Business dialect: `?api_key=`, `Authorization: Bearer <key or session
//! token>`, or the `access-token`/`client`/`uid` headers handed out at sign-in.

use axum::extract::FromRequestParts;
use botyard_core::Caller;
use botyard_domain::Error;
use http::request::Parts;

use super::{BotsBusiness, SIGN_IN_REQUIRED};
use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::{bearer, header};

pub struct BbCaller(pub Caller);

impl FromRequestParts<AppState> for BbCaller {
    type Rejection = ApiError<BotsBusiness>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = MaybeBbCaller::from_request_parts(parts, state).await?.0;
        caller.map(Self).ok_or_else(|| ApiError::new(Error::unauthorized(SIGN_IN_REQUIRED)))
    }
}

/// The caller if the request carries valid credentials, `None` otherwise.
pub struct MaybeBbCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeBbCaller {
    type Rejection = ApiError<BotsBusiness>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let services = &state.services;
        let api_key = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "api_key")
                .map(|(_, v)| v.into_owned())
        });
        let caller = if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            services.authenticate_api_key(&key).await?
        } else if let Some(token) = bearer(parts) {
            services.authenticate_bearer(token).await?
        } else if let Some(token) = header(parts, "access-token") {
            services.authenticate_session(token, header(parts, "client"), header(parts, "uid")).await?
        } else {
            None
        };
        Ok(Self(caller))
    }
}
