//! `POST /uploadfile` (files for imports: a multipart form; any other body is refused in the
//! dialect's envelope, 415) and `GET /files/{fileId}` (export archives).

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::HeaderValue;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::sync::Arc;

use axum::Extension;

use super::auth::{KoreApp, download_app};
use super::{KoreLimits, Result};
use crate::AppState;
use crate::common::extract::QueryPairs;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_file)).routes(routes!(download_file))
}

const EXTENSIONS: [&str; 5] = ["json", "js", "zip", "csv", "png"];

#[derive(Serialize, ToSchema)]
struct Uploaded {
    #[serde(rename = "fileId")]
    file_id: String,
    hash: String,
    #[serde(rename = "fileName")]
    file_name: String,
}

/// Upload a file for an import (multipart: `file`, `fileContext`, `fileExtension`).
#[utoipa::path(post, path = "/uploadfile", tag = "Kore.ai: files",
    params(("auth" = String, Header, description = "JWT signed with the app's client secret")),
    responses((status = 200, description = "The uploaded file's id, to give to an import", body = Uploaded)))]
async fn upload_file(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    headers: http::HeaderMap,
    form: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Json<Uploaded>> {
    limits.check(&format!("upload:{}", app.0.client_id))?;
    let mut form = form.map_err(|rejection| not_a_form(&headers, &rejection))?;
    let mut file = None;
    let mut context = "bulkImport".to_owned();
    let mut extension = None;
    while let Some(field) = form.next_field().await.map_err(|e| multipart_error(&e))? {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                file = Some((name, bytes.to_vec()));
            }
            "fileContext" => context = field.text().await.map_err(|e| multipart_error(&e))?.trim().to_owned(),
            "fileExtension" => {
                let raw = field.text().await.map_err(|e| multipart_error(&e))?;
                extension = Some(raw.trim().trim_start_matches('.').to_ascii_lowercase());
            }
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or_else(|| Error::invalid("The form has no file"))?;
    let extension = extension
        .or_else(|| name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase()))
        .ok_or_else(|| Error::invalid("fileExtension is required"))?;
    if !EXTENSIONS.contains(&extension.as_str()) {
        return Err(Error::invalid(format!("fileExtension must be one of {}", EXTENSIONS.join(", "))).into());
    }
    if context.is_empty() || context.len() > 50 {
        return Err(Error::invalid("fileContext must be bulkImport").into());
    }
    let name = name.unwrap_or_else(|| format!("file.{extension}"));
    let stored = state.jobs.upload(&app.0.workspace_id, &name, &extension, &context, bytes).await?;
    Ok(Json(Uploaded { file_id: stored.id, hash: stored.hash, file_name: stored.name }))
}

/// Why a request is not an upload form: another content type (or none) is refused as such,
/// in the dialect's envelope rather than axum's plain text.
fn not_a_form(headers: &http::HeaderMap, rejection: &MultipartRejection) -> Error {
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match content_type {
        Some(ct) if ct.to_ascii_lowercase().starts_with("multipart/form-data") => {
            Error::invalid(format!("Cannot read the form: {}", rejection.body_text()))
        }
        other => Error::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Upload the file as a multipart/form-data form (file, fileContext, fileExtension); got {}",
                other.unwrap_or("no Content-Type")
            ),
        ),
    }
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> Error {
    if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::new(ErrorCode::PayloadTooLarge, "The file is too large")
    } else {
        Error::invalid(format!("Cannot read the form: {}", e.body_text()))
    }
}

/// Download an export archive: with the app's `auth` header, or the `token` of its `downloadURL`.
#[utoipa::path(get, path = "/files/{fileId}", tag = "Kore.ai: files", params(("fileId" = String, Path)),
    responses((status = 200, description = "The export archive (a zip file)", content_type = "application/zip")))]
async fn download_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
    headers: http::HeaderMap,
) -> Result<Response> {
    let auth = headers.get("auth").and_then(|v| v.to_str().ok());
    let app = download_app(&state, auth, query.get("token"), &id).await?;
    let file = state.jobs.app_export_archive(&app, &id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file.name.replace(['"', '\\'], "_"));
    let mut response = file.content.into_response();
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
