//! Bots.Business bots run as Bots.Business runs them: real bots from `../shared/fixtures/`
//! imported by git (repeated command names included) and driven through the web chat and a fake
//! Telegram, and the script-visible semantics they rely on — `request` as Telegram's update, the
//! documented globals, `command.folder`, missing admin panels, failed `need_reply` answers, `Api.*`
//! on the web chat, effects in script order, and callback answers.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bb_support::{BOTS, command_file, error_log, files_of, import_fixture, import_repo, telegram};
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestServer, backends};
use crate::jobs_support::quick_jobs;
use crate::webchat::cmd;

const TOKEN: &str = "123456:GOOD-token";

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
            cmd(
                "/reply",
                "",
                "Bot.sendMessage('<b>replied</b>', {is_reply: true, parse_mode: 'HTML', disable_web_page_preview: true})",
            ),
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

        // Bot.sendMessage's options reach Telegram.
        let update = fake.message(TOKEN, 501, 501, "/reply");
        let sent = fake.wait_calls("sendMessage", 7).await;
        let reply = &sent[6].params;
        assert_eq!(reply["reply_to_message_id"], update["message"]["message_id"], "{reply}");
        assert_eq!(reply["parse_mode"], "HTML");
        assert_eq!(reply["disable_web_page_preview"], true);
        assert_eq!(error_log(&s, &ann, bot).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn webhook_urls_of_the_webhooks_library_run_their_command() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        // The Webhooks library as a real bot carries it, with commands of our own.
        let library = std::fs::read(Path::new(BOTS).join("TapGameDemoBot/libs/Webhooks.js")).unwrap();
        let url_command = command_file(
            "/url",
            "Bot.sendMessage(Libs.Webhooks.getUrlFor({command: '/hook', user_id: user.id, content: 'hi'}))",
        );
        let hook_command = command_file("/hook", "Bot.sendMessage('hook ' + content + ' ' + options.method)");
        let files: [(&str, &[u8]); 4] = [
            ("bot.json", b"{\"bb_sync_version\":\"1.0\",\"name\":\"Hooks\"}"),
            ("libs/Webhooks.js", &library),
            ("commands/_url.js", &url_command),
            ("commands/_hook.js", &hook_command),
        ];
        let bot = import_repo(&s, &ann, "Hooks", &files, None).await;
        let id = bot.id;
        let mut chat = s.chat(&bot).await;

        let url = chat.ask("/url", 1).await.remove(0);
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        assert!(url.contains(&format!("/v1/bots/{id}/new-webhook?")), "{url}");
        // The test server speaks plain HTTP.
        let url = url.replacen("https://", "http://", 1);
        let called = s.http.get(&url).send().await.unwrap();
        assert_eq!(called.status(), StatusCode::OK);
        assert_eq!(
            called.json::<Value>().await.unwrap(),
            json!({"answer": "hook hi GET"}),
            "the run's last message"
        );
        assert_eq!(chat.answers(1).await, ["hook hi GET"]);
        let posted = s.http.post(&url).body("paid").send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::OK);
        assert_eq!(chat.answers(1).await, ["hook paid POST"], "a posted body is the content");

        // The URL is signed: another user or command, or garbage, is refused and runs nothing.
        for forged in [
            url.replace("user_id=", "user_id=9"),
            url.replace("command=%2Fhook", "command=%2Furl"),
            format!(
                "http://{}/v1/bots/{id}/new-webhook?command=%2Fhook&public_user_token=zz",
                url.split('/').nth(2).unwrap()
            ),
        ] {
            let refused = s.http.get(&forged).send().await.unwrap();
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{forged}");
            let body: Value = refused.json().await.unwrap();
            assert!(body["errors"][0].as_str().unwrap().contains("public_user_token"), "{body}");
        }
        let missing = s
            .http
            .get(format!("http://{}/v1/bots/{id}/new-webhook", url.split('/').nth(2).unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
        chat.silence().await;
        assert_eq!(error_log(&s, &ann, id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn demo_inline_keyboard_bot_on_telegram() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "DemoInlineKeyboardBot", Some(TOKEN)).await;

        fake.message(TOKEN, 501, 501, "/start");
        let sent = fake.wait_calls("sendMessage", 1).await;
        assert!(sent[0].params["text"].as_str().unwrap().starts_with("It is demo for inline keyboard."));

        fake.message(TOKEN, 501, 501, "/keyboard");
        let sent = fake.wait_calls("sendMessage", 2).await;
        let markup = &sent[1].params["reply_markup"]["inline_keyboard"];
        assert_eq!(markup[0][0], json!({"text": "Go to Google", "url": "https://google.com"}));
        assert_eq!(markup[0][1]["callback_data"], "touchButton delete");
        assert_eq!(markup[2][0]["callback_data"], "touchButton3");
        let keyboard = fake.last_sent_id();

        // A press runs `touchbutton` with the rest as params and edits the pressed keyboard.
        fake.press(TOKEN, 501, 501, keyboard, "touchButton setText");
        let edits = fake.wait_calls("editMessageReplyMarkup", 1).await;
        assert_eq!(edits[0].params["message_id"], keyboard);
        assert_eq!(edits[0].params["reply_markup"]["inline_keyboard"][0].as_array().unwrap().len(), 4);
        fake.wait_calls("sendMessage", 3).await;
        assert_eq!(fake.texts(501)[2], "User501, your choice is: setText");

        // `touchbutton3` keeps the pressed message's Telegram id and asks for a title; the reply
        // edits that message's keyboard by its id.
        fake.press(TOKEN, 501, 501, keyboard, "touchButton3");
        fake.wait_calls("sendMessage", 4).await;
        assert_eq!(fake.texts(501)[3], "Please input text for button");
        s.settled(bot.id).await;
        fake.message(TOKEN, 501, 501, "My own title");
        let edits = fake.wait_calls("editMessageReplyMarkup", 2).await;
        assert_eq!(edits[1].params["message_id"], keyboard);
        assert_eq!(edits[1].params["reply_markup"]["inline_keyboard"][0][3]["text"], "My own title");
        fake.wait_calls("sendMessage", 5).await;
        assert_eq!(fake.texts(501)[4], "Done");

        s.settled(bot.id).await;
        assert_eq!(fake.calls("answerCallbackQuery").len(), 2, "each press answered");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

/// The command names of a fixture bot's files (`command:` of each header).
fn command_names(bot: &str) -> Vec<String> {
    files_of(&Path::new(BOTS).join(bot).join("commands"))
        .iter()
        .filter_map(|(_, content)| {
            let text = String::from_utf8_lossy(content).into_owned();
            let line = text.lines().find(|l| l.trim_start().starts_with("command:"))?;
            Some(line.trim_start().trim_start_matches("command:").trim().to_owned())
        })
        .collect()
}

/// Commands that fail when typed on Bots.Business too: they are reached from a button, a webhook
/// or a web page with the request or options they read, or hold what is not BJS.
const NOT_FOR_TYPING: &[(&str, &str)] = &[
    ("BBPointBot", "/acceptRequest"), // a button under a payment request: reads request.message
    ("BBPointBot", "/cancelRequest"), // likewise
    ("BBPointBot", "/afterNotify"),   // run by Api callbacks with options
    ("BBPointBot", "onexchange"),     // likewise
    ("TapGameDemoBot", "index.html"), // the web app's HTML template, not BJS
    ("TapGameDemoBot", "trackTapWork"), // the web app's API, called with options
    ("TapGameDemoBot", "upgradeBuilding"),
    // The bot's own ResourcesLib (which wins over a built-in one) has no `growth.remove`.
    ("TapGameDemoBot", "Reset"),
    ("TapGameDemoBot", "/reset"),
];

/// Commands that still fail on botyard, with what they need: kept here so that the test says when
/// one starts to work (it fails until the entry goes).
const NOT_YET: &[(&str, &str)] = &[
    ("BBPointBot", "/exchange"), // BBAdmin: Bots.Business's own account service
];

#[tokio::test]
async fn every_command_of_every_fixture_bot_runs_clean_when_typed_on_telegram() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let mut failures = Vec::new();
        for entry in std::fs::read_dir(BOTS).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let bot = import_fixture(&s, &ann, &name, Some(TOKEN)).await;
            let mut sent = 0;
            for command in command_names(&name) {
                let listed = |list: &[(&str, &str)]| list.contains(&(name.as_str(), command.as_str()));
                if command.is_empty()
                    || ["*", "@", "@@", "!"].contains(&command.as_str())
                    || listed(NOT_FOR_TYPING)
                {
                    continue;
                }
                fake.message(TOKEN, 501, 501, &command);
                sent += 1;
                s.wait_for_count(
                    &format!("SELECT COUNT(*) FROM telegram_updates WHERE bot_id = {}", bot.id),
                    sent,
                )
                .await;
                s.settled(bot.id).await;
                let logs = error_log(&s, &ann, bot.id).await;
                match (logs.is_empty(), listed(NOT_YET)) {
                    (true, true) => failures.push(format!("{name} {command} works now: take it off NOT_YET")),
                    (false, false) => failures.push(format!("{name} {command}: {}", logs[0])),
                    _ => {}
                }
                if !logs.is_empty() {
                    s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
                }
            }
            s.bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{}/status", bot.id),
                json!({"status": "start_stopping"}),
            )
            .await;
            s.wait_for_count(
                &format!(
                    "SELECT COUNT(*) FROM telegram_receivers WHERE bot_id = {} AND node IS NOT NULL",
                    bot.id
                ),
                0,
            )
            .await;
        }
        assert!(failures.is_empty(), "{failures:#?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn web_app_pages_render_templates_with_options() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Web",
                &[
                    cmd(
                        "/web",
                        "",
                        "Bot.sendMessage(WebApp.getUrl({command: 'page', options: {who: 'Ann'}}))",
                    ),
                    cmd("/json", "", "Bot.sendMessage(WebApp.getUrl({command: 'data'}))"),
                    cmd(
                        "page",
                        "",
                        "WebApp.render({template: 'index.html', options: {who: options.who, n: options.n}})",
                    ),
                    cmd(
                        "index.html",
                        "",
                        "<h1>Hello <% options.who %> from <%bot.name%></h1> 2+2=<% 2+2 %><% options.n %>",
                    ),
                    cmd(
                        "data",
                        "",
                        "Bot.setProperty('seen', true, 'boolean'); WebApp.render({content: {a: 1}})",
                    ),
                    cmd("broken", "", "throw new Error('no page')"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        let url = chat.ask("/web", 1).await.remove(0);
        assert!(url.contains(&format!("/v2/bots/{}/web-app/page?secret=", bot.id)), "{url}");
        let page = s.http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["content-type"], "text/html");
        assert_eq!(page.text().await.unwrap(), "<h1>Hello Ann from Web</h1> 2+2=4");
        let with_n = s.http.get(format!("{url}&n=5")).send().await.unwrap();
        assert_eq!(
            with_n.text().await.unwrap(),
            "<h1>Hello Ann from Web</h1> 2+2=45",
            "query parameters are options"
        );

        let json_url = chat.ask("/json", 1).await.remove(0);
        let data = s.http.get(&json_url).send().await.unwrap();
        assert_eq!(data.headers()["content-type"], "application/json");
        assert_eq!(data.json::<Value>().await.unwrap(), json!({"a": 1}));
        let properties =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", bot.id), Value::Null).await;
        assert!(properties.body.to_string().contains("\"seen\""), "a page's run commits its effects");

        // Only commands the bot handed a URL out for can be reached.
        let forged = url.replace("/web-app/page?", "/web-app/broken?");
        let refused = s.http.get(&forged).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        s.stop().await;
    }
}

#[tokio::test]
async fn demo_inline_keyboard_bot_in_the_web_chat() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "DemoInlineKeyboardBot", None).await;
        let mut chat = s.chat(&bot).await;
        assert!(chat.ask("/start", 1).await[0].starts_with("It is demo for inline keyboard."));
        chat.send("/keyboard").await;
        chat.sent_one();
        let keyboard = chat.wait_for(1).await.remove(0);
        let id = keyboard["id"].as_str().unwrap().to_owned();
        assert_eq!(keyboard["payload"]["botyard"]["keyboard"]["rows"][2][0]["command"], "touchButton3");

        chat.press(&id, "touchButton delete").await;
        assert_eq!(chat.answers(1).await, ["Tester, your choice is: delete"]);
        let edited = |all: &[Value]| all.iter().find(|m| m["id"] == id.as_str()).cloned().unwrap();
        let rows = edited(&chat.messages().await)["payload"]["botyard"]["keyboard"]["rows"].clone();
        assert_eq!(rows[0].as_array().unwrap().len(), 3, "the delete choice drops a button: {rows}");

        // The custom title: the press keeps the message's number, the typed reply edits it.
        chat.press(&id, "touchButton3").await;
        assert_eq!(chat.answers(1).await, ["Please input text for button"]);
        chat.server.settled(bot.id).await;
        assert_eq!(chat.ask("Shiny", 1).await, ["Done"]);
        let rows = edited(&chat.messages().await)["payload"]["botyard"]["keyboard"]["rows"].clone();
        assert_eq!(rows[0][3]["title"], "Shiny", "{rows}");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

/// The Login Widget's data for a Telegram user, signed for the login bot `token`.
fn widget_data(token: &str, telegram_id: i64, username: &str) -> Value {
    use hmac::{KeyInit, Mac};
    use sha2::{Digest, Sha256};
    let auth_date = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut fields =
        json!({"id": telegram_id, "first_name": "Tg", "username": username, "auth_date": auth_date});
    let mut lines: Vec<String> = fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
        .collect();
    lines.sort();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&Sha256::digest(token.as_bytes())).unwrap();
    mac.update(lines.join("\n").as_bytes());
    fields["hash"] = json!(hex::encode(mac.finalize().into_bytes()));
    fields
}

#[tokio::test]
async fn telegram_login_links_signs_in_and_signs_up() {
    const LOGIN_BOT: &str = "777:login-bot";
    for backend in backends() {
        let off = TestServer::start(backend).await;
        let refused = off.call(Method::GET, "/v2/auth/telegram_login_url", &[], Value::Null).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", refused.body);
        assert!(refused.body["errors"][0].as_str().unwrap().contains("telegram_login_token"));
        off.stop().await;

        let s = TestServer::start_with(backend, |c| c.auth.telegram_login_token = LOGIN_BOT.into()).await;
        let url = s.call(Method::GET, "/v2/auth/telegram_login_url", &[], Value::Null).await;
        let url = url.body["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with("https://oauth.telegram.org/auth?bot_id=777&"), "{url}");

        // Ann links her Telegram account, then signs in with it alone.
        let ann = s.sign_up("ann@example.com").await;
        let linked =
            s.bb(&ann, Method::POST, "/v2/auth/telegram_login", widget_data(LOGIN_BOT, 1001, "ann_tg")).await;
        assert_eq!(linked.status, StatusCode::OK, "{:?}", linked.body);
        let accounts = s.bb(&ann, Method::GET, "/v2/user/telegram_accounts", Value::Null).await;
        assert_eq!(accounts.body[0]["telegram_id"], 1001);
        assert_eq!(accounts.body[0]["username"], "ann_tg");
        let signed_in = s
            .call(Method::POST, "/v2/auth/telegram_login", &[], widget_data(LOGIN_BOT, 1001, "ann_tg"))
            .await;
        assert_eq!(signed_in.status, StatusCode::OK);
        assert_eq!(signed_in.body["data"]["email"], "ann@example.com");
        let token = signed_in.body["access_token"].as_str().unwrap().to_owned();
        let me = s
            .call(Method::GET, "/v2/user", &[("authorization", &format!("Bearer {token}"))], Value::Null)
            .await;
        assert_eq!(me.body["email"], "ann@example.com");

        // Forged or another bot's data is refused; an unknown Telegram user gets an account.
        let mut forged = widget_data(LOGIN_BOT, 1001, "ann_tg");
        forged["id"] = json!(1002);
        let refused = s.call(Method::POST, "/v2/auth/telegram_login", &[], forged).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let other_bot =
            s.call(Method::POST, "/v2/auth/telegram_login", &[], widget_data("1:other", 1003, "x")).await;
        assert_eq!(other_bot.status, StatusCode::UNAUTHORIZED);
        let new = s
            .call(Method::POST, "/v2/auth/telegram_login", &[], widget_data(LOGIN_BOT, 2002, "newbie"))
            .await;
        assert_eq!(new.status, StatusCode::OK, "{:?}", new.body);
        assert_eq!(new.body["data"]["email"], "telegram-2002@telegram.invalid");
        // Linked to Ann, 1001 cannot be linked to the new account.
        let bearer = format!("Bearer {}", new.body["access_token"].as_str().unwrap());
        let taken = s
            .call(
                Method::POST,
                "/v2/auth/telegram_login",
                &[("authorization", &bearer)],
                widget_data(LOGIN_BOT, 1001, "ann_tg"),
            )
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", taken.body);

        // A session on demand, and the ads flag.
        let session = s.bb(&ann, Method::POST, "/v2/user/session_token", Value::Null).await;
        assert!(session.body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
        let ads = s.bb(&ann, Method::PUT, "/v2/user/ads", json!({"enabled": false})).await;
        assert_eq!(ads.body, json!({"ads_enabled": false}));
        let bad = s.bb(&ann, Method::PUT, "/v2/user/ads", json!({"enabled": "maybe"})).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_library_that_throws_at_load_fails_runs_with_its_name() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let start = command_file("/start", "Bot.sendMessage('never')");
        let files: [(&str, &[u8]); 3] = [
            ("bot.json", b"{\"bb_sync_version\":\"1.0\",\"name\":\"Broken\"}"),
            ("libs/Broken.js", b"var x = 1;\nthrow new Error('boom at load');"),
            ("commands/_start.js", &start),
        ];
        let bot = import_repo(&s, &ann, "Broken", &files, None).await;
        let id = bot.id;
        let mut chat = s.chat(&bot).await;
        assert!(chat.ask("/start", 1).await[0].contains("Sorry"));
        let logs = error_log(&s, &ann, id).await;
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0]["title"], "Library Broken failed to load: boom at load", "{logs:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn bb_point_bot_in_a_telegram_group() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "BBPointBot", Some(TOKEN)).await;
        let group = |from: i64, text: &str, reply_to: Option<&Value>| {
            let mut message = json!({"message_id": 9000 + from * 10 + text.len() as i64, "date": 1_700_000_000,
                "from": {"id": from, "is_bot": false, "first_name": format!("User{from}"), "username": format!("user{from}")},
                "chat": {"id": -700, "type": "supergroup", "title": "BB chat"}, "text": text});
            if let Some(original) = reply_to {
                message["reply_to_message"] = original.clone();
            }
            fake.push(TOKEN, json!({"message": message.clone()}));
            message
        };
        let received = async |count: i64| {
            s.wait_for_count(
                &format!("SELECT COUNT(*) FROM telegram_updates WHERE bot_id = {}", bot.id),
                count,
            )
            .await;
            s.settled(bot.id).await;
        };

        // Plain talk in the group runs the `*` command, which ignores it.
        let hello = group(501, "hello all", None);
        received(1).await;
        assert!(fake.calls("sendMessage").is_empty());

        // A numeric reply gives points: Bob has none, and is told so in a reply to his message.
        let reply = group(502, "1", Some(&hello));
        received(2).await;
        let sent = fake.wait_calls("sendMessage", 1).await;
        assert_eq!(sent[0].params["chat_id"], -700);
        assert_eq!(sent[0].params["text"], "Not enough 💎.\nYou have only: 0💎");
        assert_eq!(
            sent[0].params["reply_to_message_id"], reply["message_id"],
            "is_reply answers Bob's message"
        );

        // Points offered to the bot itself (it knows its username from getMe) are declined.
        let from_bot = json!({"message_id": 42, "date": 1_700_000_000, "chat": {"id": -700, "type": "supergroup"},
            "from": {"id": 42, "is_bot": true, "first_name": "Test", "username": "test_bot"}, "text": "Thanks"});
        group(503, "5", Some(&from_bot));
        received(3).await;
        fake.wait_calls("sendMessage", 2).await;
        assert_eq!(fake.texts(-700)[1], "I don't need your BB Points 😅");

        // In private, the balance.
        fake.message(TOKEN, 502, 502, "/balance");
        received(4).await;
        fake.wait_calls("sendMessage", 3).await;
        assert_eq!(fake.texts(502), ["You have: 0💎"]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn tap_game_demo_bot_with_its_web_app_on_telegram() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "TapGameDemoBot", Some(TOKEN)).await;
        let plain = |url: &str| url.replacen("https://", "http://", 1);

        // /start offers the game as a Telegram web app button.
        fake.message(TOKEN, 501, 501, "/start");
        let sent = fake.wait_calls("sendMessage", 1).await;
        assert!(sent[0].params["text"].as_str().unwrap().starts_with("Hello. It is demo Tap Game Bot."));
        let markup = &sent[0].params["reply_markup"];
        assert_eq!(markup["keyboard"][0][1]["text"], "+100$");
        let page_url = markup["inline_keyboard"][0][0]["web_app"]["url"].as_str().unwrap().to_owned();
        assert!(
            page_url.contains(&format!("/v2/bots/{}/web-app/renderWebApp?secret=", bot.id)),
            "{page_url}"
        );

        // The page renders the bot's HTML template; its loadUrl (a signed webhook) gives the
        // user's game data with the URLs of its API.
        let page = s.http.get(&page_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["content-type"], "text/html");
        assert!(page.text().await.unwrap().contains("<html"));
        let load_url = url::Url::parse(&page_url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "loadUrl")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let data: Value = s.http.get(plain(&load_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(data["user"]["balance"], 0, "{data}");
        let track = plain(data["urls"]["trackTapWork"].as_str().unwrap());

        // Tapping saves the balance through the game's API; the bot's menu reads it back.
        let energy = data["user"]["energy"].as_i64().unwrap();
        let tapped =
            s.http.post(&track).json(&json!({"balance": 10, "energy": energy - 10})).send().await.unwrap();
        assert_eq!(tapped.json::<Value>().await.unwrap(), json!({"success": true}));
        fake.message(TOKEN, 501, 501, "Balance");
        fake.wait_calls("sendMessage", 2).await;
        fake.message(TOKEN, 501, 501, "+100$");
        fake.wait_calls("sendMessage", 3).await;
        assert_eq!(fake.texts(501)[1..], ["Your balance: 10", "Your new balance: 110"]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn demo_res_bot_on_telegram_with_two_users() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_fixture(&s, &ann, "DemoResBot", Some(TOKEN)).await;
        let say = async |user: i64, text: &str, answers: usize| -> Vec<String> {
            let before = fake.texts(user).len();
            fake.message(TOKEN, user, user, text);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
            while fake.texts(user).len() < before + answers {
                assert!(std::time::Instant::now() < deadline, "{text}: {:?}", fake.texts(user));
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            fake.texts(user)[before..].to_vec()
        };

        assert!(say(501, "/start", 1).await[0].starts_with("This bot is demo for ResourcesLib"));
        let set = say(501, "🔧 Set 10 for all resoures", 2).await;
        assert!(set[1].contains("💰 money: 10.0000 USD"), "{set:?}");
        assert!(set[1].contains("`/pay 501 45`"), "Telegram ids in the transfer hint: {set:?}");
        assert_eq!(say(501, "/pay 502 4", 1).await, ["Transfered USD: 4"]);
        assert_eq!(say(501, "/pay 502", 1).await, ["No amount. Need amount"]);
        let bob = say(502, "📦 Resources", 2).await;
        assert!(bob[1].contains("💰 money: 4.0000 USD"), "{bob:?}");
        let put = say(501, "🏦Put 10$ to bank deposit", 1).await;
        assert_eq!(put, ["You have not such USD: 10"], "6 USD left after the transfer");
        let random = say(502, "🎲 Get random res", 2).await;
        assert!(random[1].contains("💎 crystals:"), "{random:?}");
        // The reply keyboard of /balance, as Telegram shows it.
        let keyboard = fake
            .calls("sendMessage")
            .into_iter()
            .find(|c| c.params["text"] == "It is your resources")
            .unwrap();
        assert_eq!(keyboard.params["reply_markup"]["keyboard"][0][0]["text"], "📦 Resources");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn huge_requests_are_refused_and_change_nothing() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Big", &[cmd("/hook", "", "Bot.sendMessage('ran')")]).await;
        let mut chat = s.chat(&bot).await;
        let huge = "x".repeat(3 * 1024 * 1024);
        let refused = chat.send(&huge).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        assert_eq!(refused.body["message"], "payload.text must be at most 4096 characters");
        let webhook = s.url(&format!("/v1/bots/{}/new-webhook?command=%2Fhook&public_user_token=x", bot.id));
        let posted = s.http.post(&webhook).body(huge.clone()).send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = posted.json().await.unwrap();
        assert!(body["errors"][0].as_str().unwrap().contains("KiB"), "{body}");
        let page = s.url(&format!("/v2/bots/{}/web-app/%2Fhook?secret=x", bot.id));
        let posted = s.http.post(&page).body(huge).send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::PAYLOAD_TOO_LARGE);
        chat.silence().await;
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn api_delete_message_works_in_the_web_chat() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Deleter",
                &[
                    cmd("/send", "", "var m = Bot.sendMessage('to delete'); User.setProperty('last', m.message_id, 'string')"),
                    cmd("/del", "", "Api.deleteMessage({chat_id: chat.chatid, message_id: User.getProperty('last')}); Bot.sendMessage('deleted')"),
                    cmd("/same", "", "var m = Bot.sendMessage('never seen'); Api.deleteMessage({message_id: m.message_id}); Bot.sendMessage('kept')"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/send", 1).await, ["to delete"]);
        assert_eq!(chat.ask("/same", 1).await, ["kept"], "a message deleted in its own run is never sent");
        chat.send("/del").await;
        let texts = |all: Vec<Value>| -> Vec<String> {
            all.iter().filter_map(|m| m["payload"]["text"].as_str().map(str::to_owned)).collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !texts(chat.messages().await).contains(&"deleted".to_owned()) {
            assert!(std::time::Instant::now() < deadline);
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(texts(chat.messages().await), ["/send", "/same", "kept", "/del", "deleted"]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}
