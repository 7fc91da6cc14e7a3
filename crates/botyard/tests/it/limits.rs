//! Limits that keep one bot from hurting others: a busy workspace cannot hold every executor (a
//! quiet bot elsewhere is answered while six scripts spin), a run cannot write without bound, and a
//! chat cannot queue without bound.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::{TestServer, backends};
use crate::webchat::cmd;

#[tokio::test]
async fn a_spinning_workspace_leaves_room_for_a_quiet_one() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            c.sandbox.executors = 4;
            c.sandbox.default_time_limit_secs = 4;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let spinner = s.bot(&ann, "Spinner", &[cmd("/spin", "", "while (true) {}")]).await;
        let quiet = s.bot(&bob, "Quiet", &[cmd("/ping", "", "Bot.sendMessage('pong')")]).await;
        let mut spinning = Vec::new();
        for _ in 0..6 {
            let mut chat = s.chat(&spinner).await;
            chat.ask("/spin", 0).await;
            spinning.push(chat);
        }
        let mut chat = s.chat(&quiet).await;
        assert_eq!(chat.ask("/ping", 1).await, ["pong"]);
        // Answered while every spinning run still runs: none has failed yet.
        let errors =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", spinner.id), Value::Null).await;
        assert_eq!(errors.body.as_array().map(Vec::len), Some(0), "{:?}", errors.body);
        // The spinning runs end at their time limit, each with an error.
        for chat in &mut spinning {
            let answer = chat.answers(1).await;
            assert!(answer[0].contains("Sorry"), "{answer:?}");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn a_run_cannot_write_without_bound() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Flood",
                &[
                    cmd("/messages", "", "for (var i = 0; i < 10000; i++) { Bot.sendMessage('m' + i); }"),
                    cmd("/props", "", "for (var i = 0; i < 3000; i++) { User.setProperty('p' + i, 'x'.repeat(9000)); }"),
                    cmd("/edits", "", "var m = Bot.sendMessage('x'); for (var i = 0; i < 500; i++) { Bot.editMessage('e' + i, m.message_id); }"),
                    cmd("/caught", "", "try { for (var i = 0; i < 200; i++) { Bot.sendMessage('c' + i); } } catch (e) { }"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        for command in ["/messages", "/props", "/edits"] {
            let answer = chat.ask(command, 1).await;
            assert!(answer[0].contains("Sorry"), "{command} fails as a whole: {answer:?}");
        }
        let logs = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        let titles = logs.body.to_string();
        assert!(titles.contains("A run may send at most 100 messages"), "{titles}");
        assert!(titles.contains("A run may write properties at most 1000 times"), "{titles}");
        assert!(titles.contains("A run may edit messages at most 100 times"), "{titles}");
        // A script that catches the refusal keeps what fit.
        let kept = chat.ask("/caught", 100).await;
        assert_eq!(kept.first().map(String::as_str), Some("c0"));
        assert_eq!(kept.last().map(String::as_str), Some("c99"));
        chat.silence().await;
        s.stop().await;
    }
}

#[tokio::test]
async fn a_chat_cannot_queue_without_bound() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.runtime.max_queued_per_chat = 3).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Slow",
                &[cmd(
                    "/slow",
                    "",
                    "var t = Date.now(); while (Date.now() - t < 300) {} Bot.sendMessage('ok')",
                )],
            )
            .await;
        let chat = s.chat(&bot).await;
        let mut statuses = Vec::new();
        for _ in 0..8 {
            statuses.push(chat.send("/slow").await.status);
        }
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        assert_eq!(statuses[0], StatusCode::CREATED);
        let refused = chat.send("/slow").await;
        if refused.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(refused.body["message"].as_str().unwrap_or("").contains("waiting"), "{:?}", refused.body);
        }
        s.stop().await;
    }
}
