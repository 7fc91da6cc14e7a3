//! The Botpress Chat API (`/chat/{webhookId}`): users, conversations, messages, participants, the
//! event stream, and its errors.

use std::time::Duration;

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestServer, backends};
use crate::snap;
use crate::webchat::cmd;

#[tokio::test]
async fn users_conversations_messages_and_participants() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Chatty", &[cmd("/start", "Welcome!", "")]).await;
        let base = format!("/chat/{}", bot.webhook);
        snap!("chat_hello", s.call(Method::GET, &format!("{base}/hello/"), &[], Value::Null).await);
        let created = s
            .call(
                Method::POST,
                &format!("{base}/users"),
                &[],
                json!({"id": "alice", "name": "Alice", "profile": "likes tea"}),
            )
            .await;
        snap!("chat_user_created", created);
        let key = created.body["key"].as_str().unwrap().to_owned();
        let h = [("x-user-key", key.as_str())];
        snap!(
            "chat_user_taken",
            s.call(Method::POST, &format!("{base}/users"), &[], json!({"id": "alice"})).await
        );
        snap!(
            "chat_user_bad_id",
            s.call(Method::POST, &format!("{base}/users"), &[], json!({"id": "not ok!"})).await
        );
        snap!("chat_me", s.call(Method::GET, &format!("{base}/users/me"), &h, Value::Null).await);
        snap!(
            "chat_me_updated",
            s.call(
                Method::PUT,
                &format!("{base}/users/me"),
                &h,
                json!({"pictureUrl": "https://example.com/a.png"})
            )
            .await
        );
        snap!(
            "chat_get_or_create_user",
            s.call(Method::POST, &format!("{base}/users/get-or-create"), &h, json!({})).await
        );

        let conversation =
            s.call(Method::POST, &format!("{base}/conversations"), &h, json!({"id": "conv-1"})).await;
        snap!("chat_conversation_created", conversation);
        snap!(
            "chat_conversation_taken",
            s.call(Method::POST, &format!("{base}/conversations"), &h, json!({"id": "conv-1"})).await
        );
        snap!(
            "chat_conversation_get_or_create",
            s.call(Method::POST, &format!("{base}/conversations/get-or-create"), &h, json!({"id": "conv-1"}))
                .await
        );
        snap!(
            "chat_conversations",
            s.call(Method::GET, &format!("{base}/conversations"), &h, Value::Null).await
        );
        let sent = s
            .call(Method::POST, &format!("{base}/messages"), &h, json!({"conversationId": "conv-1", "payload": {"type": "text", "text": "/start"}, "metadata": {"source": "test"}}))
            .await;
        snap!("chat_message_created", sent);
        let id = sent.body["message"]["id"].as_str().unwrap().to_owned();
        snap!(
            "chat_message_get",
            s.call(Method::GET, &format!("{base}/messages/{id}"), &h, Value::Null).await
        );
        let mut listed = Reply { status: StatusCode::OK, headers: Default::default(), body: Value::Null };
        for _ in 0..200 {
            listed =
                s.call(Method::GET, &format!("{base}/conversations/conv-1/messages"), &h, Value::Null).await;
            if listed.body["messages"].as_array().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        snap!("chat_messages", listed);
        assert_eq!(
            listed.body["messages"][1]["userId"],
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}", bot.id), Value::Null).await.body["uid"]
        );
        snap!(
            "chat_empty_text",
            s.call(
                Method::POST,
                &format!("{base}/messages"),
                &h,
                json!({"conversationId": "conv-1", "payload": {"type": "text", "text": ""}})
            )
            .await
        );
        snap!(
            "chat_unknown_payload",
            s.call(
                Method::POST,
                &format!("{base}/messages"),
                &h,
                json!({"conversationId": "conv-1", "payload": {"type": "hologram"}})
            )
            .await
        );

        let bob = s.call(Method::POST, &format!("{base}/users"), &[], json!({"id": "bob"})).await;
        let bob_key = bob.body["key"].as_str().unwrap().to_owned();
        let as_bob = [("x-user-key", bob_key.as_str())];
        snap!(
            "chat_not_participant",
            s.call(Method::GET, &format!("{base}/conversations/conv-1"), &as_bob, Value::Null).await
        );
        snap!(
            "chat_participant_added",
            s.call(
                Method::POST,
                &format!("{base}/conversations/conv-1/participants"),
                &h,
                json!({"userId": "bob"})
            )
            .await
        );
        assert_eq!(
            s.call(Method::GET, &format!("{base}/conversations/conv-1"), &as_bob, Value::Null).await.status,
            StatusCode::OK
        );
        snap!(
            "chat_participants",
            s.call(Method::GET, &format!("{base}/conversations/conv-1/participants"), &h, Value::Null).await
        );
        snap!(
            "chat_participant",
            s.call(Method::GET, &format!("{base}/conversations/conv-1/participants/bob"), &h, Value::Null)
                .await
        );
        snap!(
            "chat_owner_not_removable",
            s.call(
                Method::DELETE,
                &format!("{base}/conversations/conv-1/participants/alice"),
                &as_bob,
                json!({})
            )
            .await
        );
        snap!(
            "chat_participant_removed",
            s.call(Method::DELETE, &format!("{base}/conversations/conv-1/participants/bob"), &h, json!({}))
                .await
        );
        snap!(
            "chat_not_own_message",
            s.call(Method::DELETE, &format!("{base}/messages/{id}"), &as_bob, json!({})).await
        );
        snap!(
            "chat_message_deleted",
            s.call(Method::DELETE, &format!("{base}/messages/{id}"), &h, json!({})).await
        );
        snap!(
            "chat_event_not_kept",
            s.call(Method::GET, &format!("{base}/events/evt_1"), &h, Value::Null).await
        );
        snap!("chat_no_key", s.call(Method::GET, &format!("{base}/users/me"), &[], Value::Null).await);
        snap!(
            "chat_bad_key",
            s.call(Method::GET, &format!("{base}/users/me"), &[("x-user-key", "nope")], Value::Null).await
        );
        snap!(
            "chat_unknown_webhook",
            s.call(Method::GET, "/chat/00000000-0000-0000-0000-000000000000/users/me", &h, Value::Null).await
        );
        snap!(
            "chat_conversation_deleted",
            s.call(Method::DELETE, &format!("{base}/conversations/conv-1"), &h, json!({})).await
        );
        snap!("chat_user_deleted", s.call(Method::DELETE, &format!("{base}/users/me"), &h, json!({})).await);
        s.stop().await;
    }
}

#[tokio::test]
async fn the_listen_stream_carries_every_message() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Streamer",
                &[cmd(
                    "/start",
                    "Hello!",
                    "Bot.sendInlineKeyboard([{title: 'Go', command: '/start'}], 'Buttons')",
                )],
            )
            .await;
        let chat = s.chat(&bot).await;
        let response = s
            .http
            .get(s.url(&format!("{}/conversations/{}/listen", chat.base, chat.conversation)))
            .header("x-user-key", &chat.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let mut body = response.bytes_stream();
        chat.send("/start").await;
        let mut text = String::new();
        let mut signals = Vec::new();
        while signals.len() < 3 {
            let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
                .await
                .expect("events arrive")
                .unwrap()
                .unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                for line in block.lines() {
                    assert!(!line.starts_with("event:"), "events must not be named: {line}");
                    if let Some(data) = line.strip_prefix("data: ") {
                        signals.push(serde_json::from_str::<Value>(data).unwrap());
                    }
                }
            }
        }
        assert_eq!(signals[0]["data"]["userId"], chat.user_id.as_str());
        assert_eq!(signals[0]["data"]["isBot"], false);
        let body = Reply { status: StatusCode::OK, headers: Default::default(), body: Value::Array(signals) };
        snap!("chat_listen_signals", body);
        s.stop().await;
    }
}
