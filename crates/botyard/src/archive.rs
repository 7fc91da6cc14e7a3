//! `botyard export` and `botyard import`: a bot to and from a botyard archive, through a running
//! server's API (`POST /v1/admin/bots/{id}/export`, `POST /v1/admin/bots/import`, and the job
//! they start), with progress bars.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Where the server is and who asks.
pub struct Remote {
    pub server: String,
    pub api_key: String,
    /// The workspace to import into; default: the caller's personal one.
    pub workspace: Option<String>,
    /// Whether to draw progress bars.
    pub progress: bool,
}

impl Remote {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.trim_end_matches('/'))
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().await.with_context(|| format!("cannot reach {}", self.server))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["message"]
                .as_str()
                .or_else(|| body["errors"][0].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| body.to_string());
            bail!("the server answered {status}: {message}");
        }
        Ok(body)
    }

    fn bar(&self, len: Option<u64>, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = match len {
            Some(len) => ProgressBar::new(len).with_style(
                ProgressStyle::with_template("{msg:12} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(message.to_owned());
        if len.is_none() {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        bar
    }

    /// Polls a job until it ends; fails with its error.
    async fn wait(
        &self,
        http: &reqwest::Client,
        workspace: &str,
        job: &str,
        what: &str,
    ) -> anyhow::Result<Value> {
        let bar = self.bar(None, what);
        loop {
            let body = self
                .json(
                    http.get(self.url(&format!("/v1/admin/jobs/{job}")))
                        .bearer_auth(&self.api_key)
                        .header("x-workspace-id", workspace),
                )
                .await?;
            let job = &body["job"];
            match job["status"].as_str() {
                Some("succeeded") => {
                    bar.finish_and_clear();
                    return Ok(job.clone());
                }
                Some("failed" | "canceled") => {
                    bar.finish_and_clear();
                    bail!("{what} failed: {}", job["error"]["message"].as_str().unwrap_or("no reason given"));
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// Exports `bot` (its id or number) to `output`; returns the archive's size.
pub async fn export(remote: &Remote, bot: &str, output: &Path, properties: bool) -> anyhow::Result<u64> {
    let http = reqwest::Client::new();
    let found = remote
        .json(http.get(remote.url(&format!("/v2/bots/{bot}"))).query(&[("api_key", remote.api_key.as_str())]))
        .await
        .context("looking up the bot")?;
    let (uid, workspace) = (
        found["uid"].as_str().ok_or_else(|| anyhow!("the server did not give the bot's id"))?.to_owned(),
        found["workspace_id"]
            .as_str()
            .ok_or_else(|| anyhow!("the server did not give the bot's workspace"))?
            .to_owned(),
    );
    let started = remote
        .json(
            http.post(remote.url(&format!("/v1/admin/bots/{uid}/export")))
                .bearer_auth(&remote.api_key)
                .header("x-workspace-id", &workspace)
                .json(&serde_json::json!({"properties": properties})),
        )
        .await?;
    let job =
        started["job"]["id"].as_str().ok_or_else(|| anyhow!("the server did not start a job"))?.to_owned();
    remote.wait(&http, &workspace, &job, "exporting").await?;
    let response = http
        .get(remote.url(&format!("/v1/admin/jobs/{job}/download")))
        .bearer_auth(&remote.api_key)
        .header("x-workspace-id", &workspace)
        .send()
        .await?
        .error_for_status()
        .context("downloading the archive")?;
    let bar = remote.bar(response.content_length(), "downloading");
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bar.inc(chunk.len() as u64);
        bytes.extend_from_slice(&chunk);
    }
    bar.finish_and_clear();
    std::fs::write(output, &bytes).with_context(|| format!("writing {}", output.display()))?;
    Ok(bytes.len() as u64)
}

/// Imports the archive at `input` as a new bot; returns the new bot's id.
pub async fn import(remote: &Remote, input: &Path, name: Option<&str>) -> anyhow::Result<String> {
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let http = reqwest::Client::new();
    let workspace = match &remote.workspace {
        Some(ws) => ws.clone(),
        None => {
            let user = remote
                .json(http.get(remote.url("/v2/user")).query(&[("api_key", remote.api_key.as_str())]))
                .await?;
            let workspaces = user["workspaces"].as_array().cloned().unwrap_or_default();
            let personal = workspaces.iter().find(|w| w["personal"] == true).or(workspaces.first());
            personal
                .and_then(|w| w["id"].as_str())
                .ok_or_else(|| anyhow!("you belong to no workspace"))?
                .to_owned()
        }
    };
    let bar = remote.bar(Some(bytes.len() as u64), "uploading");
    let chunks: Vec<Vec<u8>> = bytes.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let progress = bar.clone();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks.into_iter().map(move |chunk| {
        progress.inc(chunk.len() as u64);
        Ok::<_, std::io::Error>(chunk)
    })));
    let mut request = http
        .post(remote.url("/v1/admin/bots/import"))
        .bearer_auth(&remote.api_key)
        .header("x-workspace-id", &workspace)
        .header("content-type", "application/zip")
        .header("content-length", bytes.len())
        .body(body);
    if let Some(name) = name {
        request = request.query(&[("name", name)]);
    }
    let started = remote.json(request).await;
    bar.finish_and_clear();
    let job =
        started?["job"]["id"].as_str().ok_or_else(|| anyhow!("the server did not start a job"))?.to_owned();
    let done = remote.wait(&http, &workspace, &job, "importing").await?;
    Ok(done["details"]["botId"].as_str().unwrap_or_default().to_owned())
}
