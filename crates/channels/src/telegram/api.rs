//! The Telegram Bot API: `POST <base>/bot<token>/<method>` with JSON, answering
//! `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description", "parameters"}`.

use std::time::Duration;

use serde_json::{Value, json};

/// What a call can end in besides a result.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Telegram answered with an error.
    Refused { code: u16, description: String, retry_after: Option<u64>, migrate_to_chat_id: Option<i64> },
    /// No answer (connection, timeout, or not JSON).
    Network(String),
}

impl ApiError {
    pub fn describe(&self) -> String {
        match self {
            Self::Refused { code, description, .. } => format!("{code}: {description}"),
            Self::Network(e) => format!("network: {e}"),
        }
    }
}

/// A client of the Bot API at a base URL.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl BotApi {
    pub fn new(base: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap_or_default();
        Self { http, base: base.trim_end_matches('/').to_owned(), timeout }
    }

    /// Calls `method`; `wait` is added to the time limit (long polls).
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        params: &Value,
        wait: Duration,
    ) -> Result<Value, ApiError> {
        let url = format!("{}/bot{token}/{method}", self.base);
        let response = self
            .http
            .post(&url)
            .json(params)
            .timeout(self.timeout + wait)
            .send()
            .await
            .map_err(|e| ApiError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(e) if status >= 400 => {
                return Err(ApiError::Refused {
                    code: status,
                    description: format!("HTTP {status} ({})", e.without_url()),
                    retry_after: None,
                    migrate_to_chat_id: None,
                });
            }
            Err(e) => return Err(ApiError::Network(e.without_url().to_string())),
        };
        if body["ok"] == json!(true) {
            return Ok(body.get("result").cloned().unwrap_or(Value::Null));
        }
        let parameters = &body["parameters"];
        Err(ApiError::Refused {
            code: body["error_code"].as_u64().map_or(status, |c| c as u16),
            description: body["description"].as_str().unwrap_or("refused").to_owned(),
            retry_after: parameters["retry_after"].as_u64(),
            migrate_to_chat_id: parameters["migrate_to_chat_id"].as_i64(),
        })
    }
}
