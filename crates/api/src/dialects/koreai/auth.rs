//! Who calls the Kore.ai dialect: an app, by a JWT in the `auth` header signed with the app's
//! client secret (HS256 or HS512) and naming it in the `appId` claim. Refused: no token, a token
//! that is not a JWT, `alg: none` or any other algorithm, an unknown app, a wrong signature, an
//! expired `exp`, a missing `jti` when the app requires one, a missing scope.

use axum::extract::FromRequestParts;
use botyard_domain::app::ApiApp;
use botyard_domain::{BotRef, Error, ErrorCode};
use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::KoreAi;
use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::header;

const INVALID_CREDENTIALS: &str = "Invalid SDK credentials";

/// The app a request acts for.
pub struct KoreApp(pub ApiApp);

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(rename = "appId")]
    app_id: Option<String>,
    jti: Option<String>,
    /// Set on download links: the file the token opens.
    #[serde(rename = "fileId")]
    file_id: Option<String>,
}

impl FromRequestParts<AppState> for KoreApp {
    type Rejection = ApiError<KoreAi>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = header(parts, "auth").ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS))?;
        let (app, _) = verify(state, token).await?;
        Ok(Self(app))
    }
}

/// Checks a token; returns the app and the claims.
async fn verify(state: &AppState, token: &str) -> Result<(ApiApp, Option<String>), Error> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Error::unauthorized("Invalid JWT token"))?;
    if !matches!(header.alg, Algorithm::HS256 | Algorithm::HS512) {
        return Err(
            Error::unauthorized(INVALID_CREDENTIALS).with_detail(format!("algorithm {:?}", header.alg))
        );
    }
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Claims>(token)
        .map_err(|_| Error::unauthorized("Invalid JWT token"))?
        .claims;
    let app_id = unverified
        .app_id
        .ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS).with_detail("no appId claim"))?;
    let app = state
        .services
        .app(&app_id)
        .await?
        .ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS).with_detail("unknown app"))?;
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![header.alg];
    validation.required_spec_claims.clear();
    validation.validate_exp = true;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(app.client_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        let detail = format!("{e}");
        match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Error::unauthorized(format!("{INVALID_CREDENTIALS}: the token has expired"))
                    .with_detail(detail)
            }
            _ => Error::unauthorized(INVALID_CREDENTIALS).with_detail(detail),
        }
    })?
    .claims;
    if app.require_jti && claims.jti.as_deref().is_none_or(str::is_empty) {
        return Err(Error::unauthorized(format!("{INVALID_CREDENTIALS}: this app requires a jti claim")));
    }
    Ok((app, claims.file_id))
}

impl KoreApp {
    /// Fails unless the app's scopes cover `scope`.
    pub fn require(&self, scope: &str) -> Result<(), Error> {
        if self.0.allows(scope) {
            Ok(())
        } else {
            Err(Error::forbidden("Permission denied. Scope is incorrect!"))
        }
    }

    /// A bot of the app's workspace; "Invalid StreamId" otherwise.
    pub async fn bot(&self, state: &AppState, raw: &str) -> Result<botyard_domain::bot::Bot, Error> {
        let invalid = || Error::new(ErrorCode::InvalidIdentifier, "Invalid StreamId");
        let bot = BotRef::parse(raw).map_err(|_| invalid())?;
        let bot = state.services.find_bot(&bot).await?.ok_or_else(invalid)?;
        if bot.workspace_id != self.0.workspace_id {
            return Err(invalid());
        }
        Ok(bot)
    }

    /// A download token for `file`, signed like the app's own tokens, valid for `secs`.
    pub fn download_token(&self, file: &str, secs: i64) -> String {
        #[derive(Serialize)]
        struct DownloadClaims<'a> {
            #[serde(rename = "appId")]
            app_id: &'a str,
            #[serde(rename = "fileId")]
            file_id: &'a str,
            exp: i64,
            jti: String,
        }
        let claims = DownloadClaims {
            app_id: &self.0.client_id,
            file_id: file,
            exp: botyard_domain::Timestamp::now().millis() / 1000 + secs,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let key = EncodingKey::from_secret(self.0.client_secret.as_bytes());
        // Signing with HMAC cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_default()
    }
}

/// The app of a download: from the `auth` header, or a download token in `?token=` that must
/// name this file.
pub async fn download_app(
    state: &AppState,
    parts_auth: Option<&str>,
    token: Option<&str>,
    file: &str,
) -> Result<ApiApp, Error> {
    if let Some(auth) = parts_auth {
        return Ok(verify(state, auth).await?.0);
    }
    let token = token.ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS))?;
    let (app, file_claim) = verify(state, token).await?;
    if file_claim.as_deref() != Some(file) {
        return Err(Error::unauthorized(INVALID_CREDENTIALS).with_detail("the token opens another file"));
    }
    Ok(app)
}
