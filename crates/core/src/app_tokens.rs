//! The JWTs Kore.ai-dialect programs sign with their app's client secret, and the download links
//! botyard signs for them.
//!
//! An app token names its app in `appId`, is signed with HS256 or HS512 (nothing else, `none`
//! least of all), and lives at most the app's `token_lifetime_secs`: a token with an `exp` further
//! out is refused, one without `exp` expires that long after its `iat` (and without either it is
//! refused). `nbf` is honoured. Apps that require a `jti` get each one accepted once.
//!
//! Download tokens say `"typ": "download"` and name their file: they open that file through the
//! download route and nothing else, and app tokens are not download tokens.
//!
//! An app acts for the workspace member who created it: once they are no longer a member (or
//! may no longer change things), its tokens stop working.

use botyard_domain::app::ApiApp;
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::{AppStore, WorkspaceStore};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Services;

const INVALID_CREDENTIALS: &str = "Invalid SDK credentials";
/// The `typ` claim of download tokens.
const DOWNLOAD: &str = "download";
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: i64 = 60;

/// What a token is presented for.
#[derive(Debug, Clone, Copy)]
pub enum TokenUse<'a> {
    /// Any route of the dialect (the `auth` header).
    Api,
    /// The download of one file (`?token=` of a `downloadURL`).
    Download { file: &'a str },
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(rename = "appId")]
    app_id: Option<String>,
    jti: Option<String>,
    exp: Option<f64>,
    iat: Option<f64>,
    typ: Option<String>,
    #[serde(rename = "fileId")]
    file_id: Option<String>,
}

fn refused(detail: impl Into<String>) -> Error {
    Error::unauthorized(INVALID_CREDENTIALS).with_detail(detail)
}

impl Services {
    /// The app a token acts for, if the token is valid for `usage`.
    pub async fn authenticate_app(&self, token: &str, usage: TokenUse<'_>) -> Result<ApiApp> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| Error::unauthorized("Invalid JWT token"))?;
        if !matches!(header.alg, Algorithm::HS256 | Algorithm::HS512) {
            return Err(refused(format!("algorithm {:?}", header.alg)));
        }
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Claims>(token)
            .map_err(|_| Error::unauthorized("Invalid JWT token"))?
            .claims;
        let app_id = unverified.app_id.ok_or_else(|| refused("no appId claim"))?;
        let app = self.store.app(&app_id).await?.ok_or_else(|| refused("unknown app"))?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = LEEWAY_SECS as u64;
        let claims = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(app.client_secret.as_bytes()),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Error::unauthorized(format!("{INVALID_CREDENTIALS}: the token has expired"))
                    .with_detail(e.to_string())
            }
            _ => refused(e.to_string()),
        })?
        .claims;
        let expires = lifetime(&claims, app.token_lifetime_secs)?;
        let is_download = claims.typ.as_deref() == Some(DOWNLOAD);
        match usage {
            TokenUse::Api if is_download => return Err(refused("a download token used as an app token")),
            TokenUse::Download { file } if !is_download || claims.file_id.as_deref() != Some(file) => {
                return Err(refused("not a download token for this file"));
            }
            _ => {}
        }
        if app.require_jti && !is_download {
            let jti = claims.jti.as_deref().filter(|j| !j.is_empty() && j.len() <= 200).ok_or_else(|| {
                Error::unauthorized(format!("{INVALID_CREDENTIALS}: this app requires a jti claim"))
            })?;
            if !self.store.record_token_use(&app.client_id, jti, expires).await? {
                return Err(Error::unauthorized(format!("{INVALID_CREDENTIALS}: this jti was used before")));
            }
        }
        self.require_app_author(&app).await?;
        Ok(app)
    }

    /// The app whose secret signed this token, without any other check (for keying rate limits;
    /// nothing is recorded, so a `jti` is not spent).
    pub async fn app_of_token(&self, token: &str) -> Result<Option<String>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
        if !matches!(header.alg, Algorithm::HS256 | Algorithm::HS512) {
            return Ok(None);
        }
        let Ok(unverified) = jsonwebtoken::dangerous::insecure_decode::<Claims>(token) else {
            return Ok(None);
        };
        let Some(app_id) = unverified.claims.app_id.filter(|a| a.len() <= 100) else { return Ok(None) };
        let Some(app) = self.store.app(&app_id).await? else { return Ok(None) };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let key = DecodingKey::from_secret(app.client_secret.as_bytes());
        Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation).ok().map(|_| app.client_id))
    }

    /// Fails unless the app's creator is still a member who may change the workspace.
    async fn require_app_author(&self, app: &ApiApp) -> Result<()> {
        let author = app.created_by.ok_or_else(|| refused("the app has no author"))?;
        let role = self.store.role_of(author, &app.workspace_id).await?;
        match role {
            Some(role) if role.allows(botyard_domain::access::Permission::ChangeBots) => Ok(()),
            _ => Err(refused("the app's author is no longer a member who may change the workspace")),
        }
    }

    /// A download token for `file`, signed with the app's secret, valid for `secs`.
    pub fn download_token(&self, app: &ApiApp, file: &str, secs: i64) -> String {
        #[derive(Serialize)]
        struct DownloadClaims<'a> {
            #[serde(rename = "appId")]
            app_id: &'a str,
            #[serde(rename = "fileId")]
            file_id: &'a str,
            typ: &'a str,
            exp: i64,
            iat: i64,
            jti: String,
        }
        let now = Timestamp::now().millis() / 1000;
        let claims = DownloadClaims {
            app_id: &app.client_id,
            file_id: file,
            typ: DOWNLOAD,
            exp: now + secs.min(app.token_lifetime_secs),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let key = EncodingKey::from_secret(app.client_secret.as_bytes());
        // Signing with HMAC cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_default()
    }
}

/// When the token stops being valid, within the app's lifetime for tokens; refuses tokens that
/// would live longer, or that give neither `exp` nor `iat`.
fn lifetime(claims: &Claims, max_secs: i64) -> Result<Timestamp> {
    let now = Timestamp::now().millis() / 1000;
    let ends = match (claims.exp, claims.iat) {
        (Some(exp), _) => {
            let exp = exp as i64;
            if exp > now + max_secs + LEEWAY_SECS {
                return Err(Error::unauthorized(format!(
                    "{INVALID_CREDENTIALS}: the token lives longer than this app allows ({max_secs} s)"
                )));
            }
            exp
        }
        (None, Some(iat)) => {
            let iat = iat as i64;
            if iat > now + LEEWAY_SECS {
                return Err(refused("the token is issued in the future"));
            }
            if now > iat + max_secs + LEEWAY_SECS {
                return Err(Error::unauthorized(format!("{INVALID_CREDENTIALS}: the token has expired")));
            }
            iat + max_secs
        }
        (None, None) => {
            return Err(Error::unauthorized(format!(
                "{INVALID_CREDENTIALS}: the token needs an exp or iat claim"
            )));
        }
    };
    Ok(Timestamp((ends + LEEWAY_SECS) * 1000))
}
