//! The Telegram channel against a fake Bot API: a bad token, long-polling and webhook
//! conversations with keyboards, inline buttons and edits, no update processed twice, 429 retries,
//! 403s marking chats, group → supergroup migrations, and `Api.*` calls with their callbacks.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use botyard_store::Backend;

use crate::fake_telegram::FakeTelegram;
use crate::harness::{Account, TestServer, backends};
use crate::snap;
use crate::webchat::cmd;

const TOKEN: &str = "123456:GOOD-token";

fn telegram(fake: &FakeTelegram) -> impl FnOnce(&mut botyard_core::Config) + '_ {
    move |c| {
        c.telegram.api_base = fake.url.clone();
        c.telegram.poll_timeout_secs = 1;
        c.telegram.per_chat_per_second = 100.0;
        c.jobs.poll_interval_ms = 50;
    }
}

/// A server whose Telegram bots receive updates by webhook, at `https://botyard.example`.
async fn webhook_server(backend: Backend, fake: &FakeTelegram) -> TestServer {
    TestServer::start_with(backend, |c| {
        telegram(fake)(c);
        c.telegram.mode = "webhook".into();
        c.public_url = "https://botyard.example".into();
    })
    .await
}

/// A Telegram bot with these commands, started.
async fn telegram_bot(s: &TestServer, owner: &Account, commands: &[Value]) -> i64 {
    crate::bb_support::telegram_bot(s, owner, "TgBot", TOKEN, commands).await
}

#[tokio::test]
async fn a_bad_token_is_refused_when_the_bot_starts() {
    let fake = FakeTelegram::start(&[TOKEN]).await;
    for backend in backends() {
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "Bad", "token": "999:bad"})).await.body
            ["id"]
            .as_i64()
            .unwrap();
        let refused = s
            .bb(&ann, Method::POST, &format!("/v2/bots/{bot}/status"), json!({"status": "start_launch"}))
            .await;
        snap!("bad_token", refused);
        let shown = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}"), Value::Null).await;
        assert_eq!(shown.body["status"], "stopped");
        s.stop().await;
    }
}

#[tokio::test]
async fn long_polling_conversations_with_keyboards_buttons_and_edits() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = telegram_bot(&s, &ann, &[
            json!({"command": "/start", "answer": "Hello *there*", "keyboard_body": "Menu,Help\nAbout"}),
            cmd("/menu", "", "Bot.sendInlineKeyboard([[{title: 'Tap', command: 'tap one'}, {title: 'Site', url: 'https://example.com'}], \
                 [{title: 'Long', command: 'pick ' + 'x'.repeat(80)}]], 'Choose')"),
            cmd("tap", "", "Bot.editInlineKeyboard([[{title: 'Tapped ' + params, command: 'tap again'}]])"),
            cmd("pick", "", "Bot.editMessage('Chosen: ' + params.slice(0, 3), request.message.message_id); \
                 Bot.editInlineKeyboard([[{title: 'Picked', command: 'tap again'}]])"),
            cmd("Help", "", "Bot.sendMessage('Group help for ' + user.first_name)"),
        ])
        .await;

        fake.message(TOKEN, 501, 501, "/start");
        let sent = fake.wait_calls("sendMessage", 1).await;
        assert_eq!(sent[0].params["chat_id"], 501);
        assert_eq!(sent[0].params["text"], "Hello *there*");
        assert_eq!(sent[0].params["parse_mode"], "Markdown");
        assert_eq!(
            sent[0].params["reply_markup"],
            json!({"keyboard": [[{"text": "Menu"}, {"text": "Help"}], [{"text": "About"}]], "resize_keyboard": true})
        );

        fake.message(TOKEN, 501, 501, "/menu");
        let sent = fake.wait_calls("sendMessage", 2).await;
        let markup = &sent[1].params["reply_markup"]["inline_keyboard"];
        assert_eq!(markup[0][0], json!({"text": "Tap", "callback_data": "tap one"}));
        assert_eq!(markup[0][1], json!({"text": "Site", "url": "https://example.com"}));
        assert_eq!(markup[1][0]["callback_data"], "#1:0", "commands over 64 bytes travel by position");
        let sent_id = fake.last_sent_id();
        fake.press(TOKEN, 501, 501, sent_id, "#1:0");
        let text_edits = fake.wait_calls("editMessageText", 1).await;
        assert_eq!(text_edits[0].params["message_id"], sent_id);
        assert_eq!(text_edits[0].params["text"], "Chosen: xxx", "the long command was found by position");
        assert_eq!(
            text_edits[0].params["reply_markup"]["inline_keyboard"][0][0]["text"], "Picked",
            "both edits in one call"
        );
        fake.wait_calls("answerCallbackQuery", 1).await;
        fake.press(TOKEN, 501, 501, sent_id, "tap one");
        let markup_edits = fake.wait_calls("editMessageReplyMarkup", 1).await;
        assert_eq!(markup_edits[0].params["message_id"], sent_id);
        assert_eq!(markup_edits[0].params["reply_markup"]["inline_keyboard"][0][0]["text"], "Tapped one");

        // A group chat, with its own user.
        fake.message(TOKEN, -900, 7, "Help");
        fake.wait_calls("sendMessage", 3).await;
        assert_eq!(fake.texts(-900), ["Group help for User7"]);

        let chats = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/chats"), Value::Null).await;
        let kinds: Vec<&str> =
            chats.body.as_array().unwrap().iter().map(|c| c["chat_type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["private", "group"]);

        // Stopping the bot stops receiving.
        s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/status"), json!({"status": "start_stopping"}))
            .await;
        let receiving =
            format!("SELECT COUNT(*) FROM telegram_receivers WHERE bot_id = {bot} AND node IS NOT NULL");
        s.wait_for_count(&receiving, 0).await;
        let polls = fake.calls("getUpdates").len();
        fake.message(TOKEN, 501, 501, "/start");
        s.settled(bot).await;
        assert_eq!(fake.calls("getUpdates").len(), polls, "no polling after the bot stopped");
        assert_eq!(fake.calls("sendMessage").len(), 3, "the update waits at Telegram");
        s.stop().await;
    }
}

#[tokio::test]
async fn webhook_updates_are_checked_and_handled_once() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = webhook_server(backend, &fake).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = telegram_bot(&s, &ann, &[json!({"command": "/start", "answer": "Hooked"})]).await;
        let registered = fake.wait_calls("setWebhook", 1).await;
        let uid = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}"), Value::Null).await.body["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(registered[0].params["url"], format!("https://botyard.example/telegram/{uid}"));
        let secret = registered[0].params["secret_token"].as_str().unwrap().to_owned();
        assert!(fake.calls("getUpdates").is_empty(), "no polling in webhook mode");

        let update = json!({"update_id": 77, "message": {"message_id": 5, "date": 1, "from": {"id": 3, "is_bot": false, "first_name": "W"},
                             "chat": {"id": 3, "type": "private"}, "text": "/start"}});
        let post = async |secret: &str| {
            s.call(
                Method::POST,
                &format!("/telegram/{uid}"),
                &[("x-telegram-bot-api-secret-token", secret)],
                update.clone(),
            )
            .await
        };
        snap!("webhook_wrong_secret", post("wrong").await);
        assert_eq!(post(&secret).await.status, StatusCode::OK);
        assert_eq!(post(&secret).await.status, StatusCode::OK, "Telegram may deliver an update twice");
        fake.wait_calls("sendMessage", 1).await;
        s.settled(bot).await;
        assert_eq!(fake.texts(3), ["Hooked"], "handled once");
        s.stop().await;
    }
}

#[tokio::test]
async fn rate_limits_blocked_users_and_migrations() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = telegram_bot(
            &s,
            &ann,
            &[
                cmd("/hi", "", "Bot.sendMessage('hi ' + chat.chatid)"),
                cmd("/two", "", "Bot.sendMessage('one'); Bot.sendMessage('two')"),
            ],
        )
        .await;

        // 429: retried after retry_after, and the chat's messages keep their order.
        fake.inject("sendMessage", Some(11), 429, json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}), 1);
        fake.message(TOKEN, 11, 11, "/two");
        let calls = fake.wait_calls("sendMessage", 3).await;
        let to_11: Vec<_> = calls.iter().filter(|c| c.params["chat_id"] == 11).collect();
        let gap = to_11[1].at - to_11[0].at;
        assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
        assert_eq!(fake.texts(11), ["one", "one", "two"]);

        // 403: the user blocked the bot; the chat is marked and nothing more is sent there.
        fake.inject(
            "sendMessage",
            Some(12),
            403,
            json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
            1,
        );
        fake.message(TOKEN, 12, 12, "/hi");
        fake.wait_calls("sendMessage", 4).await;
        let chats = s
            .poll(
                async || s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/chats"), Value::Null).await,
                |b| {
                    b.as_array()
                        .is_some_and(|a| a.iter().any(|c| c["chatid"] == "12" && c["bot_blocked"] == true))
                },
            )
            .await;
        assert!(chats.body.to_string().contains("\"bot_blocked\":true"));
        let updates = s.count(&format!("SELECT COUNT(*) FROM telegram_updates WHERE bot_id = {bot}")).await;
        fake.message(TOKEN, 12, 12, "/hi");
        s.wait_for_count(&format!("SELECT COUNT(*) FROM telegram_updates WHERE bot_id = {bot}"), updates + 1)
            .await;
        s.settled(bot).await;
        assert_eq!(fake.texts(12).len(), 1, "nothing is sent to a chat that blocked the bot");

        // my_chat_member: a user who unblocks the bot is reachable again.
        fake.push(TOKEN, json!({"my_chat_member": {"chat": {"id": 12, "type": "private"}, "from": {"id": 12, "first_name": "U"},
            "date": 1, "old_chat_member": {"status": "kicked"}, "new_chat_member": {"status": "member"}}}));
        s.poll(
            async || s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/chats"), Value::Null).await,
            |b| {
                b.as_array()
                    .is_some_and(|a| a.iter().any(|c| c["chatid"] == "12" && c["bot_blocked"] == false))
            },
        )
        .await;

        // A group that became a supergroup: the chat moves, and sends go to the new id.
        fake.message(TOKEN, -300, 5, "/hi");
        fake.wait_calls("sendMessage", 5).await;
        fake.push(
            TOKEN,
            json!({"message": {"message_id": 1, "date": 1, "chat": {"id": -300, "type": "group"},
            "from": {"id": 5, "first_name": "U"}, "migrate_to_chat_id": -100300}}),
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        fake.message(TOKEN, -100300, 5, "/hi");
        fake.wait_calls("sendMessage", 6).await;
        assert_eq!(fake.texts(-100300), ["hi -100300"]);
        let chats = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/chats"), Value::Null).await;
        let groups: Vec<_> = chats
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["chatid"].as_str().unwrap().starts_with('-'))
            .collect();
        assert_eq!(groups.len(), 1, "one chat, moved: {groups:?}");
        assert_eq!(groups[0]["chat_type"], "supergroup");

        // A send refused with migrate_to_chat_id moves the chat and goes again.
        fake.message(TOKEN, -400, 5, "/hi");
        fake.inject("sendMessage", Some(-400), 400, json!({"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": -100400}}), 1);
        let calls = fake.wait_calls("sendMessage", 8).await;
        assert_eq!(calls[7].params["chat_id"], -100400);
        s.stop().await;
    }
}

#[tokio::test]
async fn api_calls_run_their_callbacks() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = telegram_bot(&s, &ann, &[
            cmd("/api", "", "Api.sendMessage({text: 'from the api', on_result: '/done', on_error: '/failed', bb_options: {k: 7}})"),
            cmd("/raw", "", "Api.call('pinChatMessage', {message_id: 5, on_error: '/failed'})"),
            cmd("/done", "", "Bot.sendMessage('done ' + options.ok + ' ' + options.result.message_id + ' ' + options.k)"),
            cmd("/failed", "", "Bot.sendMessage('failed ' + options.ok + ' ' + options.description)"),
        ])
        .await;
        fake.message(TOKEN, 21, 21, "/api");
        let calls = fake.wait_calls("sendMessage", 2).await;
        assert_eq!(calls[0].params, json!({"text": "from the api", "chat_id": 21}));
        let answer = calls[1].params["text"].as_str().unwrap();
        assert!(answer.starts_with("done true ") && answer.ends_with(" 7"), "{answer}");

        fake.inject(
            "pinChatMessage",
            None,
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: message to pin not found"}),
            1,
        );
        fake.message(TOKEN, 21, 21, "/raw");
        let calls = fake.wait_calls("sendMessage", 3).await;
        assert_eq!(calls[2].params["text"], "failed false Bad Request: message to pin not found");
        let pinned = fake.calls("pinChatMessage");
        assert_eq!(pinned[0].params, json!({"message_id": 5, "chat_id": 21}));
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/error_logs"), Value::Null).await;
        assert!(errors.body.to_string().contains("Telegram refused pinChatMessage"), "{}", errors.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn sends_without_an_answer_are_retried_with_backoff() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, |c| {
            telegram(&fake)(c);
            c.telegram.request_timeout_secs = 1;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        telegram_bot(&s, &ann, &[cmd("/hi", "", "Bot.sendMessage('hi')")]).await;
        // The first send gets no answer within the time limit: it is tried again after a backoff
        // (and the user may see it twice, as Telegram offers no idempotency).
        fake.stall("sendMessage", 13, Duration::from_secs(3));
        fake.message(TOKEN, 13, 13, "/hi");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while fake.texts(13).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "not retried: {:?}", fake.texts(13));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let tries: Vec<_> =
            fake.calls("sendMessage").into_iter().filter(|c| c.params["chat_id"] == 13).collect();
        assert!(tries[1].at - tries[0].at >= Duration::from_millis(1400), "timed out, then backed off");
        s.stop().await;
    }
}

/// Updates of a user and a chat seen for the first time, arriving together, are grouped into one
/// creation: each is created once, and exactly one of the runs sees it `just_created`.
#[tokio::test]
async fn a_new_user_is_just_created_in_exactly_one_run_when_their_updates_arrive_together() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = webhook_server(backend, &fake).await;
        let ann = s.sign_up("ann@example.com").await;
        let code = "Bot.sendMessage((user.just_created ? 'new user' : 'known user') + ', ' + (chat.just_created ? 'new chat' : 'known chat'))";
        let bot = telegram_bot(&s, &ann, &[json!({"command": "/hi", "bjs_code": code})]).await;
        let registered = fake.wait_calls("setWebhook", 1).await;
        let url = registered[0].params["url"].as_str().unwrap().replace("https://botyard.example", "");
        let secret = registered[0].params["secret_token"].as_str().unwrap().to_owned();
        let post = async |update_id: i64, message_id: i64| {
            let update = json!({"update_id": update_id, "message": {"message_id": message_id, "date": 1,
                "from": {"id": 9, "is_bot": false, "first_name": "Nina"}, "chat": {"id": 9, "type": "private"}, "text": "/hi"}});
            let answer = s
                .call(Method::POST, &url, &[("x-telegram-bot-api-secret-token", secret.as_str())], update)
                .await;
            assert_eq!(answer.status, StatusCode::OK);
        };
        tokio::join!(post(101, 1), post(102, 2), post(103, 3));
        fake.wait_calls("sendMessage", 3).await;
        s.settled(bot).await;
        post(104, 4).await;
        fake.wait_calls("sendMessage", 4).await;
        let mut texts = fake.texts(9);
        assert_eq!(texts.pop().as_deref(), Some("known user, known chat"), "{backend:?}");
        texts.sort();
        assert_eq!(
            texts,
            ["known user, known chat", "known user, known chat", "new user, new chat"],
            "{backend:?}: created once, told once"
        );
        s.stop().await;
    }
}
