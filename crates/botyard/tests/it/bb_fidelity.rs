//! The script-visible semantics Bots.Business bots rely on (the real bots themselves are driven in
//! `bb_fixture_bots`): `request` as Telegram's update, the documented globals, `command.folder`,
//! missing admin panels, failed `need_reply` answers, `Api.*` on the web chat, effects in script
//! order, callback answers, webhook URLs, web app pages, Telegram login, and hostile input.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bb_support::{BOTS, command_file, error_log, import_repo, telegram, telegram_bot};
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestServer, backends};
use crate::jobs_support::quick_jobs;
use crate::webchat::cmd;

const TOKEN: &str = "123456:GOOD-token";

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
        let bot = telegram_bot(&s, &ann, "Order", TOKEN, &[
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
        ])
        .await;

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

#[tokio::test]
async fn api_callbacks_run_in_the_web_chat() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Callbacks",
                &[
                    cmd("/cb", "", "Api.sendMessage({text: 'sent', on_result: '/got', bb_options: {tag: 'T'}})"),
                    cmd("/got", "", "Bot.sendMessage('got ' + options.ok + ' ' + options.tag + ' ' + typeof options.result.message_id)"),
                    cmd("/bad", "", "Api.sendSticker({sticker: 'x', on_error: '/err'})"),
                    cmd("/err", "", "Bot.sendMessage('err ' + options.ok + ' ' + (options.description.indexOf('web chat') >= 0))"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/cb", 2).await, ["sent", "got true T string"]);
        assert_eq!(chat.ask("/bad", 1).await, ["err false true"], "on_error handles the refusal");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}
