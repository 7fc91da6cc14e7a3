//! One lifecycle, three words for it: a bot made in any dialect runs once started that
//! dialect's way (Botpress: at once; Bots.Business: `start_launch`; Kore.ai: publishing), and its
//! state reads alike everywhere — `works` ↔ `active` ↔ publish status `successful`; stopped ↔
//! `active` (Botpress has no word for a stopped bot) ↔ `unpublished` — while a stopped bot's web
//! chat sender is told it does not run.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, Reply, TestServer, backends};
use crate::jobs_support::{App, quick_jobs};
use crate::webchat::{TestBot, cmd};

/// A bot of the test: its `/v2` number, its Botpress id and web chat.
struct Made {
    number: i64,
    uuid: String,
    webhook: String,
    /// What it is asked, and what it answers while it runs.
    ask: &'static str,
    answer: &'static str,
}

/// The Kore.ai answers with their times and the bot's stream id replaced (they change from run
/// to run).
fn steady(reply: &Reply) -> Reply {
    fn fix(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match k.as_str() {
                        "requestedTime" | "lastModifiedOn" | "initiatedOn" | "publishedOn" => {
                            *v = Value::String(format!("[{k}]"));
                        }
                        "resourceId" if v.as_str().is_some_and(|s| s.starts_with("st-")) => {
                            *v = Value::String("[streamId]".into());
                        }
                        _ => fix(v),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(fix),
            _ => {}
        }
    }
    let mut body = reply.body.clone();
    fix(&mut body);
    Reply { status: reply.status, headers: reply.headers.clone(), body }
}

/// The bot's `/v1` id, looked up by its `/v2` number.
async fn uuid_of(s: &TestServer, owner: &Account, number: i64) -> String {
    let bot = s.bp(owner, Method::GET, &format!("/v1/admin/bots/{number}"), Value::Null).await;
    assert_eq!(bot.status, StatusCode::OK, "{:?}", bot.body);
    bot.body["bot"]["id"].as_str().unwrap().to_owned()
}

/// The bot's state as Bots.Business, Botpress and Kore.ai's publish status read it.
async fn words(s: &TestServer, owner: &Account, app: &App, bot: &Made) -> [String; 3] {
    let bb = s.bb(owner, Method::GET, &format!("/v2/bots/{}", bot.number), Value::Null).await;
    let bp = s.bp(owner, Method::GET, &format!("/v1/admin/bots/{}", bot.uuid), Value::Null).await;
    let kore =
        s.kore(&app.token(), Method::GET, &format!("/bot/st-{}/publish/status", bot.uuid), Value::Null).await;
    for reply in [&bb, &bp, &kore] {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    [&bb.body["status"], &bp.body["bot"]["status"], &kore.body["status"]]
        .map(|v| v.as_str().unwrap_or_default().to_owned())
}

/// A one-dialog Kore.ai definition whose dialog answers "run the test" with `text`.
fn definition(name: &str, text: &str) -> Value {
    json!({
        "name": name,
        "defaultLanguage": "en",
        "localeData": {"en": {"name": name}},
        "dialogs": [{"_id": "dg-1", "refId": "ref-dialog", "lname": "runtest", "localeData": {"en": {"name": "RunTest"}},
            "nodes": [
                {"nodeId": "intent0", "type": "intent", "componentId": "dc-intent", "transitions": [{"default": "m1"}]},
                {"nodeId": "m1", "type": "message", "componentId": "dc-m1", "transitions": [{"default": "end"}]}
            ]}],
        "dialogComponents": [
            {"_id": "dc-intent", "refId": "ref-intent", "name": "RunTest", "type": "intent", "dialogId": "dg-1"},
            {"_id": "dc-m1", "name": "dc-m1", "type": "message", "message": [{"channel": "default", "localeData": {"en": {"text": text, "type": "basic"}}}]}
        ],
        "sentences": [{"taskId": "dc-intent", "sentence": "run the test", "language": "en"}],
    })
}

#[tokio::test]
async fn a_bot_of_each_dialect_starts_its_way_and_reads_alike_everywhere() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let app = s.app(&ann, &["Bot Import", "Bot Publish"], false).await;
        let token = app.token();
        let mut bots = Vec::new();

        // Botpress: created, it runs at once.
        let code = "on('message', function (t) { Bot.sendMessage('echo ' + t); return false; })";
        let created =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "bp-echo", "code": code})).await;
        assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
        let uuid = created.body["bot"]["id"].as_str().unwrap().to_owned();
        let seen = s.bb(&ann, Method::GET, &format!("/v2/bots/{uuid}"), Value::Null).await;
        assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
        bots.push(Made {
            number: seen.body["id"].as_i64().unwrap(),
            uuid,
            webhook: seen.body["web_channel_id"].as_str().unwrap().to_owned(),
            ask: "hi",
            answer: "echo hi",
        });

        // Bots.Business: created stopped, started with start_launch.
        let bb = s.bot(&ann, "bb-command", &[cmd("/hello", "Hello from Bots.Business", "")]).await;
        bots.push(Made {
            number: bb.id,
            uuid: uuid_of(&s, &ann, bb.id).await,
            webhook: bb.webhook,
            ask: "/hello",
            answer: "Hello from Bots.Business",
        });

        // Kore.ai: imported unpublished, published through the Kore.ai dialect.
        let bytes = serde_json::to_vec(&definition("kore-dialog", "Hello from a dialog")).unwrap();
        let file = s.upload_id(&token, "botDefinition.json", "json", bytes).await;
        let import = json!({"botDefinition": file, "uploadMode": "JSON", "name": "kore-dialog"});
        let started = s.kore(&token, Method::POST, "/bot/import", import).await;
        assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
        let done = s.kore_import(&token, started.body["_id"].as_str().unwrap()).await;
        assert_eq!(done.body["status"], "success", "{:?}", done.body);
        let stream = done.body["streamId"].as_str().unwrap().to_owned();
        let seen = s.bb(&ann, Method::GET, &format!("/v2/bots/{stream}"), Value::Null).await;
        assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
        let kore = Made {
            number: seen.body["id"].as_i64().unwrap(),
            uuid: stream.strip_prefix("st-").unwrap().to_owned(),
            webhook: seen.body["web_channel_id"].as_str().unwrap().to_owned(),
            ask: "run the test",
            answer: "Hello from a dialog",
        };
        assert_eq!(words(&s, &ann, &app, &kore).await, ["stopped", "active", "unpublished"]);
        let status_path = format!("/bot/{stream}/publish/status");
        crate::snap!(
            "kore_publish_status_unpublished",
            steady(&s.kore(&token, Method::GET, &status_path, Value::Null).await)
        );
        let mut chat = s.chat(&TestBot { id: kore.number, webhook: kore.webhook.clone() }).await;
        assert_eq!(chat.ask(kore.ask, 1).await, [botyard_runtime::web::NOT_RUNNING]);

        // Kore.ai's rules: the scope, a version comment.
        let publish_path = format!("/bot/{stream}/publish");
        let importer = s.app(&ann, &["Bot Import", "Publish Status"], false).await;
        crate::snap!(
            "kore_publish_without_scope",
            s.kore(&importer.token(), Method::POST, &publish_path, json!({"versionComment": "v1"})).await
        );
        crate::snap!(
            "kore_publish_without_comment",
            s.kore(&token, Method::POST, &publish_path, json!({"initiateTraining": true})).await
        );
        let published = s
            .kore(
                &token,
                Method::POST,
                &publish_path,
                json!({"versionComment": "v1", "initiateTraining": true}),
            )
            .await;
        crate::snap!("kore_publish", steady(&published));
        crate::snap!(
            "kore_publish_status_published",
            steady(&s.kore(&importer.token(), Method::GET, &status_path, Value::Null).await)
        );
        bots.push(kore);

        for bot in &bots {
            assert_eq!(words(&s, &ann, &app, bot).await, ["works", "active", "successful"], "{}", bot.ask);
            let mut chat = s.chat(&TestBot { id: bot.number, webhook: bot.webhook.clone() }).await;
            assert_eq!(chat.ask(bot.ask, 1).await, [bot.answer], "{}", bot.ask);

            // Stopped through Bots.Business: every dialect reads it, the sender is told.
            let path = format!("/v2/bots/{}/status", bot.number);
            let stopped = s.bb(&ann, Method::POST, &path, json!({"status": "start_stopping"})).await;
            assert_eq!(stopped.body["status"], "stopped", "{:?}", stopped.body);
            assert_eq!(words(&s, &ann, &app, bot).await, ["stopped", "active", "unpublished"], "{}", bot.ask);
            assert_eq!(chat.ask(bot.ask, 1).await, [botyard_runtime::web::NOT_RUNNING], "{}", bot.ask);
        }

        // Publishing through Kore.ai starts a bot of any dialect again.
        for bot in &bots {
            let path = format!("/bot/{}/publish", bot.number);
            let again = s.kore(&token, Method::POST, &path, json!({"versionComment": "again"})).await;
            assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
            assert_eq!(words(&s, &ann, &app, bot).await, ["works", "active", "successful"], "{}", bot.ask);
            let mut chat = s.chat(&TestBot { id: bot.number, webhook: bot.webhook.clone() }).await;
            assert_eq!(chat.ask(bot.ask, 1).await, [bot.answer], "{}", bot.ask);
        }
        s.stop().await;
    }
}
