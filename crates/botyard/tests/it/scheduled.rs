//! Runs later and elsewhere: `Bot.run` with `run_after` in order, `Bot.clearRunAfter`, commands
//! with `auto_retry_time`, Botpress recurring events with their failure accounting, and scripts'
//! HTTP requests with their callbacks and the outbound deny-list.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, backends};
use crate::jobs_support::{quick_jobs, serve_file};
use crate::webchat::cmd;

fn quick(config: &mut botyard_core::Config) {
    quick_jobs(config);
    config.jobs.scheduler_interval_ms = 100;
}

#[tokio::test]
async fn delayed_runs_come_in_order_and_can_be_cleared() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Later",
                &[
                    cmd(
                        "/later",
                        "",
                        "Bot.run({command: '/ping', run_after: 1.2, options: {n: 2}}); \
                     Bot.run({command: '/ping', run_after: 0.6, options: {n: 1}}); \
                     Bot.run({command: '/ping', run_after: 1.8, label: 'drop', options: {n: 3}}); \
                     Bot.sendMessage('scheduled')",
                    ),
                    cmd("/cancel", "", "Bot.clearRunAfter({label: 'drop'}); Bot.sendMessage('cleared')"),
                    cmd(
                        "/fail",
                        "",
                        "Bot.run({command: '/ping', run_after: 0.1, options: {n: 9}}); throw new Error('no')",
                    ),
                    cmd("/ping", "", "Bot.sendMessage('ping ' + options.n + ' from ' + user.first_name)"),
                    cmd("/missing", "", "Bot.run({command: '/nope', run_after: 1})"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        let started = Instant::now();
        assert_eq!(chat.ask("/later", 1).await, ["scheduled"]);
        assert_eq!(chat.ask("/cancel", 1).await, ["cleared"]);
        assert_eq!(
            chat.answers(2).await,
            ["ping 1 from Tester", "ping 2 from Tester"],
            "in due order, as the user"
        );
        assert!(started.elapsed() >= Duration::from_millis(1100), "not before they are due");
        chat.silence().await;
        // A run that fails schedules nothing; an unknown command is refused at once.
        let failed = chat.ask("/fail", 1).await;
        assert!(failed[0].contains("Sorry"), "{failed:?}");
        chat.silence().await;
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        chat.ask("/missing", 1).await;
        let after = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        assert_eq!(after.body.as_array().unwrap().len(), errors.body.as_array().unwrap().len() + 1);
        assert!(after.body.to_string().contains("Command not found: /nope"), "{}", after.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn auto_retry_and_recurring_events_fire_on_schedule() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Clock",
                &[json!({"command": "/tick", "auto_retry_time": 1,
                "bjs_code": "Bot.setProperty('auto', (Bot.getProperty('auto') || 0) + 1, 'integer')"})],
            )
            .await;
        let uid = s.bb(&ann, Method::GET, &format!("/v2/bots/{}", bot.id), Value::Null).await.body["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = "on('beat', function (p) { Bot.setProperty('beats', (Bot.getProperty('beats') || 0) + 1, 'integer'); \
                    if (p.fail) { throw new Error('beat failed'); } });";
        let set = s
            .bp(&ann, Method::PUT, &format!("/v1/admin/bots/{uid}"), json!({
                "code": code,
                "recurringEvents": {"heartbeat": {"schedule": {"cron": "* * * * * *"}, "type": "beat", "payload": {}}}
            }))
            .await;
        assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
        let property = async |name: &str| -> i64 {
            let all = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", bot.id), Value::Null).await;
            all.body
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .and_then(|p| p["value"].as_i64())
                .unwrap_or(0)
        };
        let started = Instant::now();
        while property("auto").await < 2 || property("beats").await < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "auto {} beats {}",
                property("auto").await,
                property("beats").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed().as_secs() as i64;
        assert!(property("beats").await <= elapsed + 2, "never more than once per due second");

        // Failures are counted in a row, with the last reason.
        s.bp(&ann, Method::PUT, &format!("/v1/admin/bots/{uid}"), json!({
            "recurringEvents": {"heartbeat": {"schedule": {"cron": "* * * * * *"}, "type": "beat", "payload": {"fail": true}}}
        }))
        .await;
        let failing = s
            .poll(
                async || s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{uid}"), Value::Null).await,
                |b| {
                    b["bot"]["recurringEvents"]["heartbeat"]["failedAttempts"]
                        .as_u64()
                        .is_some_and(|n| n >= 2)
                },
            )
            .await;
        let event = &failing.body["bot"]["recurringEvents"]["heartbeat"];
        assert!(event["lastFailureReason"].as_str().unwrap().contains("beat failed"), "{event}");
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        assert!(errors.body.to_string().contains("beat failed"));

        // A stopped bot's schedules stop.
        s.bb(&ann, Method::POST, &format!("/v2/bots/{}/status", bot.id), json!({"status": "start_stopping"}))
            .await;
        // Once its queued runs are over, nothing more is queued: a witness bot started afterwards
        // sees the scheduler queue and run two of its own in the meantime.
        s.wait_for_count(
            &format!(
                "SELECT COUNT(*) FROM jobs WHERE bot_id = {} AND status IN ('enqueued', 'processing')",
                bot.id
            ),
            0,
        )
        .await;
        let (auto, beats) = (property("auto").await, property("beats").await);
        let witness = s
            .bot(
                &ann,
                "Witness",
                &[json!({"command": "/tick", "auto_retry_time": 1,
                "bjs_code": "Bot.setProperty('auto', (Bot.getProperty('auto') || 0) + 1, 'integer')"})],
            )
            .await;
        let witnessed = format!(
            "SELECT COUNT(*) FROM jobs WHERE bot_id = {} AND kind = 'auto_retry' AND status = 'succeeded'",
            witness.id
        );
        let started = Instant::now();
        while s.count(&witnessed).await < 2 {
            assert!(started.elapsed() < Duration::from_secs(20), "the witness never ran twice");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!((property("auto").await, property("beats").await), (auto, beats));
        s.stop().await;
    }
}

#[tokio::test]
async fn scripts_make_http_requests_with_callbacks() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick).await;
        let ann = s.sign_up("ann@example.com").await;
        let url = serve_file(br#"{"rate": 42}"#.to_vec()).await;
        let bot = s
            .bot(&ann, "Fetcher", &[
                cmd("/fetch", "", &format!("HTTP.get({{url: '{url}', success: '/ok', error: '/bad', options: {{tag: 'x'}}}})")),
                cmd("/post", "", &format!("HTTP.post({{url: '{url}', body: {{a: 1}}, success: '/ok', error: '/bad'}})")),
                cmd("/down", "", "HTTP.get({url: 'http://127.0.0.1:1/', success: '/ok', error: '/bad'})"),
                cmd("/ok", "", "Bot.sendMessage(http_status + ' ' + JSON.parse(content).rate + ' ' + (options && options.tag) + ' ' + http_headers['content-type'])"),
                cmd("/bad", "", "Bot.sendMessage('bad ' + http_status)"),
                cmd("/nocallback", "", "HTTP.get({url: 'ftp://x', success: '/ok'})"),
            ])
            .await;
        let mut chat = s.chat(&bot).await;
        chat.ask("/fetch", 0).await;
        assert_eq!(chat.answers(1).await, ["200 42 x text/csv"]);
        chat.ask("/post", 0).await;
        assert_eq!(chat.answers(1).await, ["200 42 null text/csv"]);
        chat.ask("/down", 0).await;
        assert_eq!(chat.answers(1).await, ["bad 0"]);
        let refused = chat.ask("/nocallback", 1).await;
        assert!(refused[0].contains("Sorry"), "{refused:?}");
        s.stop().await;

        // By default scripts cannot reach the server's own network.
        let s = TestServer::start_with(backend, |c| c.jobs.poll_interval_ms = 50).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Prober",
                &[
                    cmd("/probe", "", &format!("HTTP.get({{url: '{url}', success: '/ok', error: '/bad'}})")),
                    cmd("/ok", "", "Bot.sendMessage('reached')"),
                    cmd("/bad", "", "Bot.sendMessage(http_status + ': ' + content)"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        chat.ask("/probe", 0).await;
        let answer = chat.answers(1).await;
        assert!(answer[0].starts_with("0: ") && answer[0].contains("outbound.deny"), "{answer:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn scripts_start_imports() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick).await;
        let ann = s.sign_up("ann@example.com").await;
        let sheet = serve_file(b"command,answer\n/fromsheet,Synced\n".to_vec()).await;
        let bot =
            s.bot(&ann, "Sync", &[cmd("/sync", "", "Bot.importCSV(); Bot.sendMessage('started')")]).await;
        s.bb(&ann, Method::PUT, &format!("/v2/bots/{}", bot.id), json!({"csv_url": sheet})).await;
        let usage = async || {
            s.bb(&ann, Method::GET, "/v2/user/iterations", Value::Null).await.body["iterations_used"]
                .as_i64()
                .unwrap()
        };
        let before = usage().await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/sync", 1).await, ["started"]);
        s.poll(
            async || s.bb(&ann, Method::GET, &format!("/v2/bots/{}/commands", bot.id), Value::Null).await,
            |b| b.as_array().is_some_and(|a| a.iter().any(|c| c["command"] == "/fromsheet")),
        )
        .await;
        assert_eq!(usage().await - before, 6, "the message and five for the import");
        s.stop().await;
    }
}

#[tokio::test]
async fn delayed_runs_cannot_fan_out_without_bound() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            quick(c);
            c.sandbox.max_pending_runs_per_bot = 20;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        // Each run schedules two more: without a bound, 2^n jobs.
        let bot = s
            .bot(
                &ann,
                "Fan",
                &[cmd("/fan", "", "Bot.run({command: '/fan', run_after: 0.05}); Bot.run({command: '/fan', run_after: 0.05});")],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        chat.ask("/fan", 0).await;
        // Wait until the bound refused some runs.
        let errors = format!("/v2/bots/{}/error_logs", bot.id);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let logs = s.bb(&ann, Method::GET, &errors, Value::Null).await;
            if logs.body.to_string().contains("delayed runs waiting already") {
                break;
            }
            assert!(Instant::now() < deadline, "no refusal: {}", logs.body);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let pending =
            s.count("SELECT COUNT(*) FROM jobs WHERE kind = 'scheduled_run' AND status = 'enqueued'").await;
        assert!(pending <= 20, "at most the bound waits: {pending}");
        s.stop().await;
    }
}
