//! Bots running: matching in Bots.Business's order, answers, keyboards, properties, atomic effects,
//! limits, blocked chats, stopped bots, quotas, and the bot's own event handlers.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};
use crate::snap;
use crate::webchat::cmd;

#[tokio::test]
async fn commands_match_in_bots_business_order() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Matcher", &[
                cmd("/start", "", "Bot.sendMessage('start:' + params + ':' + shared)"),
                json!({"command": "/hello", "aliases": "hi, good morning", "bjs_code": "Bot.sendMessage('hello:' + message + ':' + params)"}),
                cmd("*", "", "Bot.sendMessage('master:' + message)"),
                cmd("@", "", "var shared = 'before'; if (message === '/stopped') { return; }"),
                cmd("@@", "", "Bot.sendMessage('after:' + shared)"),
                json!({"command": "/name", "answer": "What is your name?", "need_reply": true, "bjs_code": "User.setProperty('name', message); Bot.sendMessage('Nice to meet you, ' + message)"}),
                cmd("/greet", "Hello <name>, you have <coins> coins", ""),
                cmd("/join", "", "User.addToGroup('vip'); Bot.sendMessage('joined ' + User.getGroups().join(','))"),
                json!({"command": "/vip", "group": "vip", "bjs_code": "Bot.sendMessage('vip only')"}),
                cmd("touchbutton", "", "Bot.sendMessage('lower:' + params)"),
                cmd("/coins", "", "Bot.setProperty('coins', 5, 'integer')"),
            ])
            .await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/start ref123", 2).await, ["start:ref123:before", "after:before"]);
        assert_eq!(chat.ask("hi there", 2).await, ["hello:hi there:there", "after:before"]);
        assert_eq!(
            chat.ask("good morning sunshine", 2).await,
            ["hello:good morning sunshine:sunshine", "after:before"]
        );
        assert_eq!(chat.ask("unknown words", 2).await, ["master:unknown words", "after:before"]);
        chat.send("/stopped").await;
        chat.sent_one();
        chat.silence().await;
        assert_eq!(
            chat.ask("touchButton delete", 2).await,
            ["lower:delete", "after:before"],
            "case differs from the stored name"
        );
        assert_eq!(
            chat.ask("/vip", 2).await,
            ["master:/vip", "after:before"],
            "group-restricted commands are skipped"
        );
        assert_eq!(chat.ask("/join", 2).await, ["joined vip", "after:before"]);
        assert_eq!(chat.ask("/vip", 2).await, ["vip only", "after:before"]);
        assert_eq!(
            chat.ask("/name", 1).await,
            ["What is your name?"],
            "need_reply sends the answer and waits"
        );
        assert_eq!(
            chat.ask("/start is not a command now", 2).await,
            ["Nice to meet you, /start is not a command now", "after:before"]
        );
        assert_eq!(chat.ask("/coins", 1).await, ["after:before"]);
        assert_eq!(
            chat.ask("/greet", 2).await,
            ["Hello /start is not a command now, you have 5 coins", "after:before"]
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn keyboards_inline_buttons_and_edits() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Buttons", &[
                json!({"command": "/menu", "answer": "Pick one", "keyboard_body": "Buy, Sell\nHelp", "bjs_code": ""}),
                cmd("/inline", "", "Bot.sendInlineKeyboard([[{title: 'Delete', command: 'touchButton delete'}], [{title: 'Docs', url: 'https://example.com'}]], 'Choose')"),
                cmd("touchButton", "", "Bot.editInlineKeyboard([{title: 'Deleted ' + params, command: '/inline'}]); Bot.sendMessage('pressed ' + params)"),
                cmd("/edit", "", "var sent = Bot.sendMessage('draft'); Bot.editMessage('final', sent.message_id)"),
            ])
            .await;
        let mut chat = s.chat(&bot).await;
        chat.send("/menu").await;
        chat.sent_one();
        let menu = chat.wait_for(1).await;
        snap!(
            "reply_keyboard_message",
            crate::harness::Reply {
                status: StatusCode::OK,
                headers: Default::default(),
                body: menu[0].clone()
            }
        );

        chat.send("/inline").await;
        chat.sent_one();
        let inline = chat.wait_for(1).await.remove(0);
        assert_eq!(inline["payload"]["botyard"]["keyboard"]["rows"][1][0]["url"], "https://example.com");
        let pressed = chat.press(inline["id"].as_str().unwrap(), "touchButton delete").await;
        snap!("button_pressed", pressed);
        assert_eq!(chat.answers(1).await, ["pressed delete"]);
        let all = chat.messages().await;
        let edited = all.iter().find(|m| m["id"] == inline["id"]).unwrap();
        assert_eq!(edited["payload"]["botyard"]["keyboard"]["rows"][0][0]["title"], "Deleted delete");
        assert_eq!(edited["payload"]["text"], "Choose", "an inline keyboard edit keeps the text");

        assert_eq!(chat.ask("/edit", 1).await, ["final"], "a message edited in the same run is sent edited");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_failing_run_writes_nothing_but_its_error() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Atomic", &[
                cmd("/fail", "This answer is not sent", "Bot.setProperty('touched', true, 'boolean'); User.setProperty('u', 1); Bot.sendMessage('not sent'); throw new Error('boom')"),
                cmd("/ok", "", "Bot.sendMessage('touched=' + Bot.getProperty('touched', 'no'))"),
            ])
            .await;
        let mut chat = s.chat(&bot).await;
        let default = chat.ask("/fail", 1).await;
        assert_eq!(default, [botyard_runtime::run::DEFAULT_ERROR_MESSAGE]);
        assert_eq!(chat.ask("/ok", 1).await, ["touched=no"]);
        let props = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", bot.id), json!(null)).await;
        assert_eq!(props.body, json!([]), "no property of the failed run was written");
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await;
        snap!("error_log", errors);

        // With an error command, it answers instead of the default message.
        let handler = cmd(
            "!",
            "",
            "Bot.sendMessage('Oops in ' + command.name + ': ' + params + ' / ' + options.error.message)",
        );
        s.bb(&ann, Method::POST, &format!("/v2/bots/{}/commands", bot.id), handler).await;
        assert_eq!(chat.ask("/fail", 1).await, ["Oops in !: boom / boom"]);

        let since = botyard_domain::Timestamp(0).to_rfc3339();
        let logs = s
            .bp(&ann, Method::GET, &format!("/v1/admin/bots/{}/logs?timeStart={since}", bot.id), json!(null))
            .await;
        snap!("bp_bot_logs", logs);
        snap!(
            "bp_bot_logs_no_start",
            s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{}/logs", bot.id), json!(null)).await
        );
        let cleared =
            s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await;
        snap!("error_log_cleared", cleared);
        assert_eq!(
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await.body,
            json!([])
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn runaway_scripts_are_contained_while_other_bots_answer() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            c.sandbox.default_time_limit_secs = 1;
            c.sandbox.executors = 2;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let evil = s
            .bot(
                &ann,
                "Evil",
                &[
                    cmd("/loop", "", "while (true) {}"),
                    cmd("/memory", "", "var a = []; while (true) { a.push(new Array(100000).fill('x')) }"),
                    cmd("/recurse", "", "function f(n) { return f(n + 1) + 1 } f(0)"),
                ],
            )
            .await;
        let good = s.bot(&ann, "Good", &[cmd("/ping", "", "Bot.sendMessage('pong')")]).await;
        let mut evil_chat = s.chat(&evil).await;
        let mut good_chat = s.chat(&good).await;
        for command in ["/loop", "/memory", "/recurse"] {
            evil_chat.send(command).await;
            evil_chat.sent_one();
            // While the evil run goes on, the good bot answers.
            assert_eq!(good_chat.ask("/ping", 1).await, ["pong"]);
            assert_eq!(evil_chat.answers(1).await, [botyard_runtime::run::DEFAULT_ERROR_MESSAGE]);
        }
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", evil.id), json!(null)).await;
        let titles: Vec<&str> =
            errors.body.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
        assert_eq!(titles.len(), 3, "{titles:?}");
        assert!(titles[2].contains("timed out"), "{titles:?}");
        // QuickJS's own error ("InternalError: out of memory"), or botyard's when QuickJS could
        // not even allocate that error and threw null ("Out of memory: …").
        assert!(titles[1].to_lowercase().contains("out of memory"), "{titles:?}");
        assert!(titles[0].contains("Maximum call stack size exceeded"), "{titles:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn blocked_chats_stopped_bots_and_quotas() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.plans[0].iterations_per_month = 4).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Gated", &[cmd("/ping", "", "Bot.sendMessage('pong')")]).await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/ping", 1).await, ["pong"]);

        let chats = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/chats", bot.id), json!(null)).await;
        snap!("chats", chats);
        let chat_id = chats.body[0]["id"].as_i64().unwrap();
        snap!(
            "chat_blocked",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{}/chats/{chat_id}/block", bot.id), json!(null))
                .await
        );
        chat.send("/ping").await;
        chat.sent_one();
        chat.silence().await;
        snap!(
            "chat_unblocked",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{}/chats/{chat_id}/unblock", bot.id), json!(null))
                .await
        );
        assert_eq!(chat.ask("/ping", 1).await, ["pong"]);

        s.bb(&ann, Method::POST, &format!("/v2/bots/{}/status", bot.id), json!({"status": "start_stopping"}))
            .await;
        // A stopped bot does not run, and its sender is told so (a blocked chat hears nothing).
        assert_eq!(chat.ask("/ping", 1).await, [botyard_runtime::web::NOT_RUNNING]);
        chat.silence().await;
        s.bb(&ann, Method::POST, &format!("/v2/bots/{}/status", bot.id), json!({"status": "start_launch"}))
            .await;

        let usage = s.bb(&ann, Method::GET, "/v2/user/iterations", json!(null)).await;
        assert_eq!(usage.body["iterations_used"], 2);
        assert_eq!(chat.ask("/ping", 1).await, ["pong"]);
        assert_eq!(chat.ask("/ping", 1).await, ["pong"]);
        let refused = chat.send("/ping").await;
        snap!("quota_exceeded", refused);
        let usage = s.bb(&ann, Method::GET, "/v2/user/iterations", json!(null)).await;
        snap!("iterations", usage);
        snap!("payment_plan", s.bb(&ann, Method::GET, "/v2/user/payment_plan", json!(null)).await);
        snap!("cloud_plans", s.bb(&ann, Method::GET, "/v2/cloud_plans", json!(null)).await);
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await;
        assert!(errors.body[0]["title"].as_str().unwrap().contains("iterations"), "{:?}", errors.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn properties_routes_and_types() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let code = "Bot.setProperty('count', 1, 'integer'); Bot.setProperty('ratio', 0.5); User.setProperty('profile', {a: [1, 2]}, 'json'); \
                    Chat.setProperty('topic', 'news'); User.setProperty('since', '2026-01-02T03:04:05.000Z', 'datetime'); \
                    Bot.setProperty('gone', 'x'); Bot.setProperty('gone', null); \
                    Bot.sendMessage([typeof Bot.getProperty('count'), Bot.getProperty('ratio'), User.getProperty('profile').a[1], Chat.getProperty('topic'), Bot.getProperty('gone', 'default')].join(' '))";
        let bot = s
            .bot(
                &ann,
                "Props",
                &[
                    cmd("/set", "", code),
                    cmd("/big", "", "Bot.setProperty('big', new Array(20000).join('x'))"),
                    cmd("/badtype", "", "Bot.setProperty('n', 'abc', 'integer')"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/set", 1).await, ["number 0.5 2 news default"]);
        let listed = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", bot.id), json!(null)).await;
        snap!("properties", listed);
        let user_scope =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties?scope=user", bot.id), json!(null)).await;
        assert_eq!(user_scope.body.as_array().unwrap().len(), 2);
        let id = listed.body[0]["id"].as_i64().unwrap();
        snap!(
            "property_deleted",
            s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/properties/{id}", bot.id), json!(null)).await
        );
        snap!(
            "property_gone",
            s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/properties/{id}", bot.id), json!(null)).await
        );
        snap!(
            "properties_bad_scope",
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties?scope=galaxy", bot.id), json!(null))
                .await
        );
        chat.ask("/big", 1).await;
        chat.ask("/badtype", 1).await;
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await;
        let titles: Vec<&str> =
            errors.body.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
        assert_eq!(
            titles,
            [
                "Property \"n\": \"abc\" is not a valid integer",
                "Property \"big\" is too large (20001 bytes; the limit is 10 KB)"
            ]
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn the_bots_code_handles_messages_and_events() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Coded", &[cmd("/start", "", "Bot.sendMessage(greet(user.first_name))")]).await;
        let code = "function greet(name) { return 'Hi ' + name; }\n\
                    on('message', function (text) { if (text === 'secret') { Bot.sendMessage('intercepted'); return false; } });\n\
                    on('order', function (payload) { Bot.sendMessage('order ' + payload.id); });";
        let set = s.bp(&ann, Method::PUT, &format!("/v1/admin/bots/{}", bot.id), json!({"code": code})).await;
        assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/start", 1).await, ["Hi Tester"]);
        assert_eq!(chat.ask("secret", 1).await, ["intercepted"]);
        let event = chat
            .call(
                Method::POST,
                "/events",
                json!({"conversationId": chat.conversation, "payload": {"type": "order", "id": 42}}),
            )
            .await;
        assert_eq!(event.status, StatusCode::CREATED);
        assert_eq!(chat.answers(1).await, ["order 42"]);
        let runs = chat
            .call(
                Method::POST,
                "/events",
                json!({"conversationId": chat.conversation, "payload": {"type": "nobody-listens"}}),
            )
            .await;
        assert_eq!(runs.status, StatusCode::CREATED);
        chat.silence().await;
        s.stop().await;
    }
}

#[tokio::test]
async fn run_command_and_run_follow_ups() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Chain", &[
                cmd("/a", "A answer", "var r = Bot.runCommand('/b x', {n: 1}); Bot.sendMessage('a done ' + params + ' ' + r)"),
                cmd("/b", "B answer", "Bot.sendMessage('b ' + params + ' ' + options.n); return 'fromB'"),
                cmd("/later", "", "Bot.run({command: '/b later', options: {n: 2}}); Bot.sendMessage('first')"),
                cmd("/delayed", "", "Bot.run({command: '/b', run_after: 60})"),
                cmd("/forever", "", "Bot.runCommand('/forever')"),
            ])
            .await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/a p", 4).await, ["A answer", "B answer", "b x 1", "a done p fromB"]);
        assert_eq!(chat.ask("/later", 3).await, ["first", "B answer", "b later 2"]);
        chat.ask("/delayed", 0).await;
        assert_eq!(chat.ask("/forever", 1).await, [botyard_runtime::run::DEFAULT_ERROR_MESSAGE]);
        let errors = s.bb(&ann, Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), json!(null)).await;
        let titles: Vec<&str> =
            errors.body.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
        assert!(titles[0].starts_with("Too many sub commands"), "{titles:?}");
        assert_eq!(titles.len(), 1, "a delayed run is scheduled, not refused: {titles:?}");
        let usage = s.bb(&ann, Method::GET, "/v2/user/iterations", json!(null)).await;
        // /a: 1 + 1 runCommand; /later: 1 + 1 follow-up; /delayed: 1 + 1 for the delayed run;
        // /forever: 1 + 50 runCommands (the 51st is refused and not counted).
        assert_eq!(usage.body["iterations_used"], 57);
        s.stop().await;
    }
}
