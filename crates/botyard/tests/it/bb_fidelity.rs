//! Bots.Business bots run as Bots.Business runs them: real bots from `../shared/fixtures/`
//! imported by git (repeated command names included) and driven through the web chat and a fake
//! Telegram, and the script-visible semantics they rely on — `request` as Telegram's update, the
//! documented globals, `command.folder`, missing admin panels, failed `need_reply` answers, `Api.*`
//! on the web chat, effects in script order, and callback answers.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_telegram::FakeTelegram;
use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::{bare_repo, quick_jobs};
use crate::webchat::{TestBot, cmd};

/// Real Bots.Business bots, in Bots.Business's git format.
const BOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/bots-business");

const TOKEN: &str = "123456:GOOD-token";

/// Every file of a folder, with paths relative to it.
fn files_of(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Imports a fixture bot by git into a new bot (with a Telegram token, if given) and starts it.
async fn import_fixture(s: &TestServer, owner: &Account, name: &str, token: Option<&str>) -> TestBot {
    let repos = tempfile::tempdir().unwrap();
    let remote = repos.path().join(format!("{name}.git"));
    let files = files_of(&Path::new(BOTS).join(name));
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    bare_repo(&remote, &borrowed);
    let mut body = json!({"name": name});
    if let Some(token) = token {
        body["token"] = json!(token);
    }
    let created = s.bb(owner, Method::POST, "/v2/bots", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let started = s
        .bb(
            owner,
            Method::POST,
            &format!("/v2/bots/{id}/git_import"),
            json!({"git_remote": remote.to_str().unwrap()}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let done = s.bb_task(owner, id, started.body["task_id"].as_i64().unwrap()).await;
    assert_eq!(done.body["status"], "ok", "{name}: {:?}", done.body);
    let launched =
        s.bb(owner, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_launch"})).await;
    assert_eq!(launched.body["status"], "works", "{:?}", launched.body);
    TestBot { id, webhook: created.body["web_channel_id"].as_str().unwrap().to_owned() }
}

/// The bot's error log, as its owner reads it.
async fn error_log(s: &TestServer, owner: &Account, bot: i64) -> Vec<Value> {
    let logs = s.bb(owner, Method::GET, &format!("/v2/bots/{bot}/error_logs"), Value::Null).await;
    logs.body.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_fixture_bot_imports_by_git_with_its_repeated_names() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        for entry in std::fs::read_dir(BOTS).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let bot = import_fixture(&s, &ann, &name, None).await;
            let commands = s
                .bb(&ann, Method::GET, &format!("/v2/bots/{}/commands?per_page=100", bot.id), Value::Null)
                .await;
            let files = files_of(&Path::new(BOTS).join(&name).join("commands"));
            assert_eq!(commands.body.as_array().unwrap().len(), files.len(), "{name}: one command per file");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn demo_res_bot_keeps_two_web_users_apart() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "DemoResBot", None).await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;

        let set = alice.ask("/set10", 2).await;
        assert!(set.iter().any(|m| m.contains("💰 money: 10.0000 USD")), "{set:?}");
        let balance = bob.ask("/balance", 2).await;
        assert_eq!(balance[0], "It is your resources");
        assert!(balance[1].contains("💰 money: 0.0000 USD"), "{balance:?}");
        // Bob's number, as the bot tells him to hand it out for transfers.
        let bob_id = balance[1].split("`/pay ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
        assert!(bob_id.parse::<i64>().is_ok(), "{bob_id}");

        assert_eq!(alice.ask(&format!("/pay {bob_id} 4"), 1).await, ["Transfered USD: 4"]);
        let after = bob.ask("💵 pay 100$", 3).await;
        assert_eq!(after[0], "You do not have 100 USD");
        assert!(after[2].contains("💰 money: 4.0000 USD"), "{after:?}");
        let alice_after = alice.ask("📦 Resources", 2).await;
        assert!(alice_after[1].contains("💰 money: 6.0000 USD"), "{alice_after:?}");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn scripts_see_the_update_the_globals_and_their_command() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Globals",
                &[
                    cmd(
                        "/req",
                        "",
                        "Bot.sendMessage([typeof request.message_id, request.from.id === user.telegramid, \
                         request.chat.id === chat.chatid, request.text, tgUpdate.text, typeof BB_API_URL, owner.email, \
                         payment_plan.name, iteration_quota.limit > 0, iteration_quota.progress >= 0, content === null, \
                         bot.name].join('|'))",
                    ),
                    cmd(
                        "/panel",
                        "",
                        "var v = AdminPanel.getPanelValues('Missing'); \
                         Bot.sendMessage('ok ' + JSON.stringify(v) + ' ' + AdminPanel.getFieldValue({panel_name: 'Missing', field_name: 'x'}))",
                    ),
                    json!({"command": "/ask", "answer": "Say?", "need_reply": true, "bjs_code": "throw new Error('bad answer')"}),
                    cmd("/api", "", "Api.sendMessage({chat_id: user.telegramid, text: 'via api'}); Bot.sendMessage('after')"),
                    cmd("/alert", "", "Api.answerCallbackQuery({callback_query_id: request.id, text: 'Careful', show_alert: true})"),
                    cmd("/sticker", "", "Api.sendSticker({chat_id: chat.chatid, sticker: 'x'})"),
                    cmd("/me", "", "Bot.sendMessageToChatWithId(chat.chatid, 'to ' + chat.chatid)"),
                ],
            )
            .await;
        let folder = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{}/commands_folders", bot.id),
                json!({"title": "Admin"}),
            )
            .await;
        assert_eq!(folder.status, StatusCode::CREATED, "{:?}", folder.body);
        let ban = json!({"command": "/ban", "commands_folder_id": folder.body["id"], "bjs_code": "Bot.sendMessage('in ' + command.folder)"});
        let created = s.bb(&ann, Method::POST, &format!("/v2/bots/{}/commands", bot.id), ban).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);

        let mut chat = s.chat(&bot).await;
        let seen = chat.ask("/req hello", 1).await;
        assert_eq!(
            seen[0],
            "number|true|true|/req hello|/req hello|string|ann@example.com|free|true|true|true|Globals"
        );
        assert_eq!(chat.ask("/ban", 1).await, ["in Admin"], "command.folder is the folder's title");
        assert_eq!(chat.ask("/panel", 1).await, ["ok {} undefined"], "a missing panel reads as empty");

        assert_eq!(chat.ask("/ask", 1).await, ["Say?"]);
        let failed = chat.ask("anything", 1).await;
        assert!(failed[0].contains("Sorry"), "{failed:?}");
        assert!(chat.ask("/req again", 1).await[0].ends_with("Globals"), "a failed answer ends the wait");

        assert_eq!(chat.ask("/api", 2).await, ["via api", "after"], "Api.* works in the web chat, in order");
        assert_eq!(chat.ask("/me", 1).await.len(), 1, "chat.chatid names the chat");
        let before = error_log(&s, &ann, bot.id).await.len();
        assert!(
            chat.ask("/sticker", 1).await[0].contains("Sorry"),
            "an Api method the web lacks fails the run"
        );
        let logs = error_log(&s, &ann, bot.id).await;
        assert_eq!(logs.len(), before + 1);
        assert!(logs.iter().any(|l| l.to_string().contains("web chat does not have")), "{logs:?}");
        s.stop().await;
    }
}

fn telegram(fake: &FakeTelegram) -> impl FnOnce(&mut botyard_core::Config) + '_ {
    move |c| {
        quick_jobs(c);
        c.telegram.api_base = fake.url.clone();
        c.telegram.poll_timeout_secs = 1;
        c.telegram.per_chat_per_second = 100.0;
    }
}

#[tokio::test]
async fn on_telegram_effects_keep_script_order_and_presses_are_answered_once() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "Order", "token": TOKEN})).await;
        let bot = created.body["id"].as_i64().unwrap();
        for command in [
            cmd(
                "/mix",
                "",
                "Bot.sendMessage('one'); Api.sendPhoto({chat_id: chat.chatid, photo: 'https://example.com/p.png'}); Bot.sendMessage('two')",
            ),
            cmd(
                "/id",
                "",
                "Bot.sendMessage(request.message_id + ' ' + request.from.id + ' ' + request.chat.id + ' ' + bot.name)",
            ),
            cmd(
                "/menu",
                "",
                "Bot.sendInlineKeyboard([[{title: 'Alert', command: '/alert'}, {title: 'Plain', command: '/plain'}]], 'Pick')",
            ),
            cmd(
                "/alert",
                "",
                "Api.answerCallbackQuery({callback_query_id: request.id, text: 'Careful', show_alert: true}); Bot.editMessage('Alerted', request.message.message_id)",
            ),
            cmd("/plain", "", "Bot.sendMessage('plain ' + request.data)"),
            cmd("/block", "", "Bot.blockChat(String(params))"),
        ] {
            s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/commands"), command).await;
        }
        let started = s
            .bb(&ann, Method::POST, &format!("/v2/bots/{bot}/status"), json!({"status": "start_launch"}))
            .await;
        assert_eq!(started.body["status"], "works");

        fake.message(TOKEN, 501, 501, "/mix");
        let sends = fake.wait_calls("sendMessage", 2).await;
        let photo = fake.wait_calls("sendPhoto", 1).await;
        assert!(sends[0].at <= photo[0].at && photo[0].at <= sends[1].at, "one, photo, two");
        assert_eq!(fake.texts(501), ["one", "two"]);

        let update = fake.message(TOKEN, 501, 501, "/id");
        fake.wait_calls("sendMessage", 3).await;
        let message_id = update["message"]["message_id"].as_i64().unwrap();
        assert_eq!(
            fake.texts(501)[2],
            format!("{message_id} 501 501 test_bot"),
            "Telegram's ids; bot.name from getMe"
        );

        fake.message(TOKEN, 501, 501, "/menu");
        fake.wait_calls("sendMessage", 4).await;
        let menu = fake.last_sent_id();
        fake.press(TOKEN, 501, 501, menu, "/alert");
        let edits = fake.wait_calls("editMessageText", 1).await;
        assert_eq!(edits[0].params["message_id"], menu, "edited by Telegram's message id");
        fake.press(TOKEN, 501, 501, menu, "/plain");
        fake.wait_calls("sendMessage", 5).await;
        s.settled(bot).await;
        let answers = fake.calls("answerCallbackQuery");
        assert_eq!(answers.len(), 2, "each press answered once: {answers:?}");
        assert_eq!(answers[0].params["show_alert"], true, "the script's own answer");
        assert_eq!(answers[0].params["text"], "Careful");
        assert!(answers[1].params.get("text").is_none(), "the automatic answer");

        // A Telegram id given as a string blocks that chat, not the caller's.
        fake.message(TOKEN, 777, 777, "/id");
        fake.wait_calls("sendMessage", 6).await;
        fake.message(TOKEN, 501, 501, "/block 777");
        let chats = s
            .poll(
                async || s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/chats"), Value::Null).await,
                |b| {
                    b.as_array()
                        .is_some_and(|a| a.iter().any(|c| c["chatid"] == "777" && c["blocked"] == true))
                },
            )
            .await;
        let mine = chats.body.as_array().unwrap().iter().find(|c| c["chatid"] == "501").cloned().unwrap();
        assert_eq!(mine["blocked"], false, "{mine}");
        assert_eq!(error_log(&s, &ann, bot).await, Vec::<Value>::new());
        s.stop().await;
    }
}
