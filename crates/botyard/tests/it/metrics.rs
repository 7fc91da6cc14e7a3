//! `GET /metrics`: every metric moves when its event happens (HTTP requests, BJS runs, queued
//! messages, jobs, Telegram sends and 429s, database pools); the token and the switch.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::bb_support::{telegram, telegram_bot};
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestServer, backends};
use crate::webchat::cmd;

const TOKEN: &str = "424242:metrics";

/// The sum of the samples of `name` whose labels include `labels`.
fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            if metric != name {
                return None;
            }
            let found = parse_labels(rest.strip_suffix('}').unwrap_or(rest));
            let matches = labels.iter().all(|(k, v)| found.iter().any(|(fk, fv)| fk == k && fv == v));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// `a="x",b="y"` as pairs (values without escapes, as botyard's labels are).
fn parse_labels(raw: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = raw;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some(end) = after.find('"') else { break };
        pairs.push((key.trim_start_matches(',').to_owned(), after[..end].to_owned()));
        rest = &after[end + 1..];
    }
    pairs
}

impl TestServer {
    async fn metrics(&self) -> String {
        let reply = self.http.get(self.url("/metrics")).send().await.expect("metrics are answered");
        assert_eq!(reply.status(), StatusCode::OK);
        let kind = reply.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
        reply.text().await.unwrap()
    }

    /// Scrapes until `check` holds (10 s at most); the last scrape.
    async fn metrics_until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.metrics().await;
            if check(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{what} never moved:\n{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn every_metric_moves_with_its_event() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;

        // HTTP: by dialect, route template and status; unknown routes are "unmatched".
        let before = s.metrics().await;
        let created_bots = |t: &str| {
            sum(
                t,
                "botyard_http_requests_total",
                &[("dialect", "bots_business"), ("route", "/v2/bots"), ("status", "201")],
            )
        };
        let bot = s
            .bot(
                &ann,
                "Metered",
                &[
                    cmd("/hi", "", "Bot.sendMessage('hi')"),
                    cmd("/boom", "", "throw new Error('boom')"),
                    cmd(
                        "/slow",
                        "",
                        "let t = Date.now() + 1500; while (Date.now() < t) {} Bot.sendMessage('slow')",
                    ),
                    cmd("/later", "", "Bot.run({command: '/hi', run_after: 3600}); Bot.sendMessage('later')"),
                ],
            )
            .await;
        s.call(Method::GET, "/v1/no/such/route", &[], json!(null)).await;
        s.call(Method::GET, "/nowhere", &[], json!(null)).await;
        let after = s.metrics().await;
        assert_eq!(created_bots(&after) - created_bots(&before), 1.0);
        let unmatched = |t: &str, dialect: &str| {
            sum(
                t,
                "botyard_http_requests_total",
                &[("dialect", dialect), ("route", "unmatched"), ("status", "404")],
            )
        };
        assert_eq!(unmatched(&after, "botpress") - unmatched(&before, "botpress"), 1.0, "{after}");
        assert_eq!(unmatched(&after, "other") - unmatched(&before, "other"), 1.0);
        let by_id = |t: &str| sum(t, "botyard_http_requests_total", &[("route", "/v2/bots/{id}")]);
        s.bb(&ann, Method::GET, &format!("/v2/bots/{}", bot.id), json!(null)).await;
        let later = s.metrics().await;
        assert!(by_id(&later) > by_id(&after), "no /v2/bots/{{id}} request counted:\n{later}");
        assert!(
            sum(&later, "botyard_http_request_duration_seconds_count", &[("dialect", "bots_business")])
                > sum(
                    &before,
                    "botyard_http_request_duration_seconds_count",
                    &[("dialect", "bots_business")]
                )
        );

        // Runs: a BJS run that completes, one that fails, each with its time in the sandbox.
        let runs =
            |t: &str, outcome: &str| sum(t, "botyard_runs_total", &[("kind", "bjs"), ("outcome", outcome)]);
        let timed = |t: &str| sum(t, "botyard_run_duration_seconds_count", &[("kind", "bjs")]);
        let before = s.metrics().await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/hi", 1).await, ["hi"]);
        chat.ask("/boom", 1).await;
        let after =
            s.metrics_until("botyard_runs_total", |t| runs(t, "failed") > runs(&before, "failed")).await;
        assert!(runs(&after, "completed") - runs(&before, "completed") >= 1.0, "{after}");
        assert_eq!(runs(&after, "failed") - runs(&before, "failed"), 1.0);
        assert!(timed(&after) - timed(&before) >= 2.0);

        // The runtime's queue: what waits behind a slow run in the same chat.
        let queued = |t: &str| sum(t, "botyard_runtime_queued", &[]);
        assert_eq!(queued(&after), 0.0);
        for text in ["/slow", "/hi", "/hi"] {
            assert_eq!(chat.send(text).await.status, StatusCode::CREATED);
            chat.sent_one();
        }
        s.metrics_until("botyard_runtime_queued", |t| queued(t) >= 1.0).await;
        chat.answers(3).await;
        s.metrics_until("botyard_runtime_queued back to 0", |t| queued(t) == 0.0).await;

        // Jobs: a delayed run waits in the queue; a CSV import runs and is timed.
        let waiting = |t: &str| sum(t, "botyard_jobs_queued", &[("kind", "scheduled_run")]);
        assert_eq!(waiting(&s.metrics().await), 0.0);
        assert_eq!(chat.ask("/later", 1).await, ["later"]);
        s.metrics_until("botyard_jobs_queued", |t| waiting(t) == 1.0).await;
        let imports = |t: &str| sum(t, "botyard_job_duration_seconds_count", &[("kind", "csv_import")]);
        let succeeded =
            |t: &str| sum(t, "botyard_jobs_total", &[("kind", "csv_import"), ("outcome", "succeeded")]);
        let before = s.metrics().await;
        let started = s
            .call_raw(
                Method::POST,
                &format!("/v2/bots/{}/csv_import_tasks?api_key={}", bot.id, ann.api_key),
                &[],
                "text/csv",
                b"command,answer\n/csv,From a sheet\n".to_vec(),
            )
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
        let after = s.metrics_until("botyard_job_duration_seconds", |t| imports(t) > imports(&before)).await;
        assert_eq!(succeeded(&after) - succeeded(&before), 1.0);

        // Telegram: sends, a 429 and the lag from enqueueing to sending.
        let sends = |t: &str| sum(t, "botyard_telegram_sends_total", &[("outcome", "ok")]);
        let limited = |t: &str| sum(t, "botyard_telegram_429_total", &[]);
        let lags = |t: &str| sum(t, "botyard_telegram_outbox_lag_seconds_count", &[]);
        telegram_bot(
            &s,
            &ann,
            "Telegrammed",
            TOKEN,
            &[cmd("/two", "", "Bot.sendMessage('one'); Bot.sendMessage('two')")],
        )
        .await;
        let before = s.metrics().await;
        fake.inject(
            "sendMessage",
            Some(31),
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
            1,
        );
        fake.message(TOKEN, 31, 31, "/two");
        fake.wait_calls("sendMessage", 3).await;
        let after =
            s.metrics_until("botyard_telegram_sends_total", |t| sends(t) - sends(&before) >= 2.0).await;
        assert_eq!(limited(&after) - limited(&before), 1.0);
        assert_eq!(lags(&after) - lags(&before), 2.0);
        assert!(
            sum(&after, "botyard_telegram_outbox_lag_seconds_sum", &[]) >= 1.0,
            "the 429 made one send wait"
        );

        // Database pools: read and write, with their connections.
        for pool in ["read", "write"] {
            assert!(sum(&after, "botyard_db_connections", &[("pool", pool), ("state", "max")]) >= 1.0);
            let open = sum(&after, "botyard_db_connections", &[("pool", pool), ("state", "in_use")])
                + sum(&after, "botyard_db_connections", &[("pool", pool), ("state", "idle")]);
            assert!(open >= 1.0, "{pool}: {after}");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn a_token_guards_the_metrics_and_they_can_be_switched_off() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.metrics.token = "scrape-me".into()).await;
        let anonymous = s.call(Method::GET, "/metrics", &[], json!(null)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let wrong = s.call(Method::GET, "/metrics", &[("authorization", "Bearer nope")], json!(null)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let right =
            s.call(Method::GET, "/metrics", &[("authorization", "Bearer scrape-me")], json!(null)).await;
        assert_eq!(right.status, StatusCode::OK);
        assert!(right.body.as_str().unwrap().contains("botyard_http_requests_total"));
        s.stop().await;

        let s = TestServer::start_with(backend, |c| c.metrics.enabled = false).await;
        let off = s.call(Method::GET, "/metrics", &[], json!(null)).await;
        assert_eq!(off.status, StatusCode::NOT_FOUND);
        s.stop().await;
    }
}

/// Properties a command names literally are read before its run, with other runs' reads, and the
/// run sees them exactly as if it had read them itself; names built at run time are read when the
/// script asks. The counter of property reads tells the two apart.
#[tokio::test]
async fn properties_named_in_the_code_are_read_ahead_with_the_same_answers() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Counter",
                &[
                    cmd(
                        "/count",
                        "",
                        "var n = (User.getProperty('n') || 0) + 1; User.setProperty('n', n, 'integer'); Bot.sendMessage('n=' + n);",
                    ),
                    cmd("/built", "", "var k = ['n'].join(''); Bot.sendMessage('n is ' + User.getProperty(k));"),
                    cmd(
                        "/total",
                        "",
                        "Bot.setProperty('total', Bot.getProp(\"total\", 0) + 2, 'integer'); Bot.sendMessage('total=' + Bot.getProperty('total') + ', topic=' + Chat.getProperty('topic'));",
                    ),
                ],
            )
            .await;
        let reads = |t: &str, when: &str| sum(t, "botyard_property_reads_total", &[("when", when)]);
        let before = s.metrics().await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/count", 1).await, ["n=1"]);
        assert_eq!(chat.ask("/count", 1).await, ["n=2"]);
        assert_eq!(chat.ask("/built", 1).await, ["n is 2"]);
        assert_eq!(chat.ask("/total", 1).await, ["total=2, topic=undefined"]);
        assert_eq!(chat.ask("/total", 1).await, ["total=4, topic=undefined"]);
        let after = s.metrics().await;
        // /count reads `n` ahead twice; /total reads `total` (named twice) and `topic` ahead, twice.
        assert_eq!(reads(&after, "before_run") - reads(&before, "before_run"), 6.0, "{after}");
        // Only /built's name is not in its code.
        assert_eq!(reads(&after, "during_run") - reads(&before, "during_run"), 1.0, "{after}");
        s.stop().await;
    }
}
