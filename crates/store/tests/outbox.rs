//! The Telegram outbox's contract ([`TelegramStore`]), run against every configured backend: the
//! sends and API calls a commit queues are handed out in order, one at a time per chat, to one
//! claimer at a time; an acknowledged (deleted) row never comes back, a claim whose lease lapsed
//! is handed out again, a retried row waits for its time and holds its chat's later rows back.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use botyard_domain::Timestamp;
use botyard_domain::conversation::Channel;
use botyard_domain::effects::{OutboxItem, OutgoingMessage, RunEffects};
use botyard_store::testing::backends;
use botyard_store::*;
use common::{T0, open};
use serde_json::json;

fn say(chat: i64, uid: &str) -> OutgoingMessage {
    OutgoingMessage {
        uid: uid.into(),
        chat_id: chat,
        payload: json!({"type": "text", "text": uid}),
        metadata: None,
        at: T0,
    }
}

/// After everything the tests commit: the commit stamps outbox rows with the wall clock.
fn later() -> Timestamp {
    Timestamp::now().plus_secs(3600)
}

/// `(chat, method, message uid or API method)` of claimed rows.
async fn describe(store: &Store, rows: &[OutboxRow]) -> Vec<(i64, String)> {
    let mut found = Vec::new();
    for row in rows {
        let what = match row.message {
            Some(id) => store.message_by_id(id).await.unwrap().unwrap().uid,
            None => row.method.clone(),
        };
        found.push((row.chat, what));
    }
    found
}

#[tokio::test]
async fn outbox_rows_come_in_order_one_at_a_time_per_chat_and_once() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "sender").await;
        let c1 = common::chat(&store, bot, Channel::Telegram, "1", None).await.id;
        let c2 = common::chat(&store, bot, Channel::Telegram, "2", None).await.id;
        let web = common::chat(&store, bot, Channel::Web, "w", None).await.id;
        let photo = OutboxItem {
            chat_id: c1,
            method: "sendPhoto".into(),
            params: json!({"photo": "p.png"}),
            callback: Some(json!({"on_result": "/done", "options": {"n": 1}})),
        };
        let first = RunEffects {
            bot,
            messages: vec![say(c1, "m1"), say(c2, "m2"), say(web, "m-web")],
            outbox: vec![photo.clone()],
            ..Default::default()
        };
        let second = RunEffects { bot, messages: vec![say(c1, "m3"), say(c2, "m4")], ..Default::default() };
        store.commit_runs(&[first], "n", T0).await.unwrap();
        store.commit_runs(&[second], "n", T0).await.unwrap();

        let now = later();
        let until = now.plus_secs(30);
        // The head of each chat, oldest first.
        let heads = store.claim_outbox("s1", now, until, 10).await.unwrap();
        assert_eq!(
            describe(&store, &heads).await,
            vec![(c1, "m1".to_owned()), (c2, "m2".to_owned())],
            "{backend:?}"
        );
        assert!(heads.iter().all(|r| r.method == "send" && r.attempts == 0 && r.bot == bot));
        // Claimed once: while the heads are out, nothing else of their chats is handed out.
        assert!(store.claim_outbox("s2", now, until, 10).await.unwrap().is_empty(), "{backend:?}");

        // Acknowledged rows are gone; each chat's next one comes.
        store.delete_outbox(heads[0].id).await.unwrap();
        let next = store.claim_outbox("s2", now, until, 10).await.unwrap();
        assert_eq!(next.len(), 1, "{backend:?}");
        assert_eq!((next[0].chat, next[0].method.as_str(), next[0].message), (c1, "sendPhoto", None));
        assert_eq!((&next[0].params, &next[0].callback), (&photo.params, &photo.callback), "{backend:?}");
        store.delete_outbox(next[0].id).await.unwrap();
        store.delete_outbox(heads[1].id).await.unwrap();
        let rest = store.claim_outbox("s1", now, until, 10).await.unwrap();
        assert_eq!(
            describe(&store, &rest).await,
            vec![(c1, "m3".to_owned()), (c2, "m4".to_owned())],
            "{backend:?}"
        );
        for row in &rest {
            store.delete_outbox(row.id).await.unwrap();
        }
        assert!(store.claim_outbox("s1", now, until, 10).await.unwrap().is_empty(), "{backend:?}");
        // Much later still, nothing acknowledged comes back (and the web chat never had a row).
        let far = now.plus_secs(100_000);
        assert!(store.claim_outbox("s3", far, far.plus_secs(30), 10).await.unwrap().is_empty());
        store.close().await;
    }
}

#[tokio::test]
async fn a_lapsed_claim_is_handed_out_again_and_a_retry_waits_in_order() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "retry").await;
        let c1 = common::chat(&store, bot, Channel::Telegram, "1", None).await.id;
        let c2 = common::chat(&store, bot, Channel::Telegram, "2", None).await.id;
        let run = RunEffects {
            bot,
            messages: vec![say(c1, "a1"), say(c1, "a2"), say(c2, "b1")],
            ..Default::default()
        };
        store.commit_runs(&[run], "n", T0).await.unwrap();
        let now = later();

        let limited = store.claim_outbox("s1", now, now.plus_secs(1), 1).await.unwrap();
        assert_eq!(describe(&store, &limited).await, vec![(c1, "a1".to_owned())], "{backend:?}");
        let head = limited[0].clone();
        // Up to the end of the lease nobody else gets it (only the other chat's head); then
        // another sender does.
        let other = store.claim_outbox("s2", now.plus_secs(1), now.plus_secs(30), 10).await.unwrap();
        assert_eq!(describe(&store, &other).await, vec![(c2, "b1".to_owned())], "{backend:?}");
        store.delete_outbox(other[0].id).await.unwrap();
        let again = store.claim_outbox("s2", now.plus_millis(1_001), now.plus_secs(30), 10).await.unwrap();
        assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), vec![head.id], "{backend:?}");
        assert_eq!(again[0].attempts, 0, "{backend:?}: claiming is not an attempt");

        // A failed send waits until its time, and its chat's later rows wait behind it.
        let retry_at = now.plus_secs(60);
        store.retry_outbox(head.id, retry_at, 1).await.unwrap();
        let early = retry_at.plus_millis(-1);
        assert!(store.claim_outbox("s3", early, early.plus_secs(30), 10).await.unwrap().is_empty());
        let due = store.claim_outbox("s3", retry_at, retry_at.plus_secs(30), 10).await.unwrap();
        assert_eq!(due.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(), vec![(head.id, 1)]);

        // A chat that blocked the bot loses what waits for it; other chats keep theirs.
        let run = RunEffects { bot, messages: vec![say(c2, "b2")], ..Default::default() };
        store.commit_runs(&[run], "n", T0).await.unwrap();
        assert_eq!(store.drop_chat_outbox(c1).await.unwrap(), 2, "{backend:?}");
        let far = now.plus_secs(100_000);
        let left = store.claim_outbox("s4", far, far.plus_secs(30), 10).await.unwrap();
        assert_eq!(describe(&store, &left).await, vec![(c2, "b2".to_owned())], "{backend:?}");
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_an_outbox_row() {
    const CHATS: usize = 30;
    const CLAIMERS: usize = 6;
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "many").await;
        let mut messages = Vec::new();
        for i in 0..CHATS {
            let chat = common::chat(&store, bot, Channel::Telegram, &format!("{i}"), None).await.id;
            messages.push(say(chat, &format!("first-{i}")));
            messages.push(say(chat, &format!("second-{i}")));
        }
        let committed =
            store.commit_runs(&[RunEffects { bot, messages, ..Default::default() }], "n", T0).await;
        let firsts: BTreeSet<i64> = committed.unwrap()[0]
            .messages
            .iter()
            .filter(|m| m.uid.starts_with("first-"))
            .map(|m| m.id)
            .collect();

        let now = later();
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
        let mut tasks = Vec::new();
        for s in 0..CLAIMERS {
            let store = store.clone();
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                let node = format!("sender-{s}");
                start.wait().await;
                let mut mine = Vec::new();
                loop {
                    let rows = store.claim_outbox(&node, now, now.plus_secs(60), 4).await.unwrap();
                    if rows.is_empty() {
                        return mine;
                    }
                    assert!(rows.len() <= 4);
                    mine.extend(rows);
                }
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.unwrap());
        }
        let ids: BTreeSet<i64> = claimed.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), claimed.len(), "{backend:?}: a row was handed out twice");
        let sent: BTreeSet<i64> = claimed.iter().filter_map(|r| r.message).collect();
        assert_eq!(sent, firsts, "{backend:?}: each chat's first send, and only it, was handed out");
        store.close().await;
    }
}
