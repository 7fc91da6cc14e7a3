//! Jobs as Kore.ai shows them: import requests (`bir-…`) with their `statusLogs`, export
//! requests (`ber-…`), bot function imports.

use botyard_domain::job::{Job, JobStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Kore.ai's word for a job's state: `pending` until it ends, then `success` or `failed`.
pub fn status(job: &Job) -> &'static str {
    match job.status {
        JobStatus::Enqueued | JobStatus::Processing => "pending",
        JobStatus::Succeeded => "success",
        JobStatus::Failed | JobStatus::Canceled => "failed",
    }
}

fn created_by(job: &Job) -> String {
    job.created_by.map(|u| format!("u-{}", u.0)).unwrap_or_default()
}

/// An import request and its progress (`GET /bot/import/status/{bir}`).
#[derive(Serialize, ToSchema)]
pub struct ImportStatus {
    #[serde(rename = "_id")]
    id: String,
    status: &'static str,
    #[serde(rename = "streamRefId")]
    stream_ref_id: String,
    #[serde(rename = "statusLogs")]
    #[schema(value_type = Vec<Object>)]
    status_logs: Value,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "requestType")]
    request_type: &'static str,
    #[serde(rename = "createdOn")]
    created_on: String,
    #[serde(rename = "__v")]
    version: u32,
    #[serde(rename = "streamId", skip_serializing_if = "Option::is_none")]
    stream_id: Option<String>,
    /// botyard: why the import failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl ImportStatus {
    pub fn new(job: &Job) -> Self {
        let details = &job.details;
        Self {
            id: format!("bir-{}", job.uid),
            status: status(job),
            stream_ref_id: details.get("streamRefId").and_then(Value::as_str).unwrap_or(&job.uid).to_owned(),
            status_logs: details.get("statusLogs").cloned().unwrap_or(Value::Array(Vec::new())),
            created_by: created_by(job),
            request_type: "Botimport",
            created_on: job.enqueued_at.to_rfc3339(),
            version: 0,
            stream_id: details.get("streamId").and_then(Value::as_str).map(str::to_owned),
            message: job.error.as_ref().map(|e| e.message.clone()),
        }
    }
}

/// An export request as `POST /bot/{botId}/export` answers it.
#[derive(Serialize, ToSchema)]
pub struct ExportRequest {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "streamId")]
    stream_id: String,
    status: &'static str,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "exportType")]
    export_type: String,
    #[serde(rename = "requestType")]
    request_type: &'static str,
    #[serde(rename = "createdOn")]
    created_on: String,
    #[serde(rename = "__v")]
    version: u32,
}

impl ExportRequest {
    pub fn new(job: &Job, bot_uuid: &str) -> Self {
        Self {
            id: format!("ber-{}", job.uid),
            stream_id: format!("st-{bot_uuid}"),
            status: status(job),
            created_by: created_by(job),
            export_type: job.params.get("exportType").and_then(Value::as_str).unwrap_or("latest").to_owned(),
            request_type: "Botexport",
            created_on: job.enqueued_at.to_rfc3339(),
            version: 0,
        }
    }
}

/// The latest export of a bot (`GET /bot/{botId}/export/status`).
#[derive(Serialize, ToSchema)]
pub struct ExportStatus {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "botId")]
    bot_id: String,
    #[serde(rename = "streamId")]
    stream_id: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "exportType")]
    export_type: String,
    #[serde(rename = "requestType")]
    request_type: &'static str,
    status: &'static str,
    #[serde(rename = "createdOn")]
    created_on: String,
    #[serde(rename = "__v")]
    version: u32,
    #[serde(rename = "downloadURL", skip_serializing_if = "Option::is_none")]
    download_url: Option<String>,
    #[serde(rename = "fileId", skip_serializing_if = "Option::is_none")]
    file_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    store: Option<Value>,
    /// Bytes, as a string (as Kore.ai sends it).
    #[serde(rename = "fileSize", skip_serializing_if = "Option::is_none")]
    file_size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl ExportStatus {
    pub fn new(job: &Job, bot_uuid: &str, download_url: Option<String>) -> Self {
        let request = ExportRequest::new(job, bot_uuid);
        let file_id = job.details.get("fileId").and_then(Value::as_str).map(str::to_owned);
        Self {
            id: request.id,
            bot_id: request.stream_id.clone(),
            stream_id: request.stream_id,
            created_by: request.created_by,
            export_type: request.export_type,
            request_type: request.request_type,
            status: request.status,
            created_on: request.created_on,
            version: 0,
            store: download_url.as_ref().map(|_| serde_json::json!({"urlParams": ""})),
            download_url,
            file_id,
            file_size: job.details.get("fileSize").and_then(Value::as_str).map(str::to_owned),
            message: job.error.as_ref().map(|e| e.message.clone()),
        }
    }
}
