//! One lifecycle for every bot: a bot created or updated through the Botpress dialect is
//! deployed and runs, as on Botpress Cloud; a message to a bot that does not run is answered
//! with a notice and logged, never dropped in silence.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bb_support::error_log;
use crate::harness::{TestServer, backends};
use crate::webchat::TestBot;

#[tokio::test]
async fn a_botpress_bot_runs_once_created_and_a_stopped_one_says_so() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let code = "on('message', function (text) { Bot.sendMessage('echo: ' + text); return false; });";
        let created = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "echo", "code": code})).await;
        assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
        let id = created.body["bot"]["id"].as_str().unwrap().to_owned();
        // Bots.Business shows the same bot working.
        let bots = s.bb(&ann, Method::GET, "/v2/bots", Value::Null).await;
        let seen = bots.body.as_array().unwrap().iter().find(|b| b["name"] == "echo").unwrap().clone();
        assert_eq!(seen["status"], "works");
        let bot = TestBot {
            id: seen["id"].as_i64().unwrap(),
            webhook: seen["web_channel_id"].as_str().unwrap().to_owned(),
        };
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("hello", 1).await, ["echo: hello"]);

        // Stopped (here through Bots.Business): the sender is told, the owner sees why.
        let stopped = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{}/status", bot.id),
                json!({"status": "start_stopping"}),
            )
            .await;
        assert_eq!(stopped.body["status"], "stopped");
        assert_eq!(chat.ask("anyone there?", 1).await, [botyard_runtime::web::NOT_RUNNING]);
        let logged = error_log(&s, &ann, bot.id).await;
        assert!(
            logged.iter().any(|e| e["title"].as_str().unwrap_or("").contains("while the bot was stopped")),
            "{logged:?}"
        );

        // An update through the Botpress dialect deploys it again.
        let updated =
            s.bp(&ann, Method::PUT, &format!("/v1/admin/bots/{id}"), json!({"tags": {"v": "2"}})).await;
        assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
        assert_eq!(chat.ask("back?", 1).await, ["echo: back?"]);
        s.stop().await;
    }
}
