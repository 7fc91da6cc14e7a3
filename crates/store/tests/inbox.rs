//! The inbox's contract ([`InboxStore`]), run against every configured backend: what was accepted
//! and has no committed run is kept for its node; when the node's lease lapses (or it stops)
//! another node adopts it, oldest first, once; the node that lost a row can no longer commit it.

mod common;

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival, Ticket};
use botyard_domain::conversation::Channel;
use botyard_domain::effects::{OutgoingMessage, RunEffects};
use botyard_store::testing::backends;
use botyard_store::*;
use common::{T0, open};
use serde_json::json;

fn ids(entries: &[InboxEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.id).collect()
}

/// A run that consumes `ticket` and answers in `chat`.
fn answer(bot: i64, chat: i64, ticket: Ticket, text: &str) -> RunEffects {
    RunEffects {
        bot,
        messages: vec![OutgoingMessage {
            uid: format!("answer-{text}"),
            chat_id: chat,
            payload: json!({"type": "text", "text": text}),
            metadata: None,
            at: T0,
        }],
        ticket: Some(ticket),
        ..Default::default()
    }
}

#[tokio::test]
async fn arrivals_without_a_committed_run_are_adopted_in_order_once() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "inbox").await;
        let user = common::user(&store, bot, Channel::Web, "u").await;
        let chat_a = common::chat(&store, bot, Channel::Web, "a", Some(user.id)).await;
        let chat_b = common::chat(&store, bot, Channel::Web, "b", Some(user.id)).await;
        store.keep_node("node-a", T0, T0.plus_secs(10)).await.unwrap();

        let arrivals = [
            (chat_a.id, Arrival::Message { message: 0 }),
            (chat_b.id, Arrival::Button { data: "/buy".into(), message: None, callback: None }),
            (chat_a.id, Arrival::Event { name: "tick".into(), payload: json!({"n": 1}) }),
            (
                chat_b.id,
                Arrival::Command { text: "/later".into(), options: json!({}), globals: Default::default() },
            ),
            (chat_a.id, Arrival::Event { name: "tock".into(), payload: json!(null) }),
        ];
        let mut accepted = Vec::new();
        for (i, (chat, arrival)) in arrivals.into_iter().enumerate() {
            let new = NewArrival { bot, chat, user: Some(user.id), arrival };
            let message = NewMessage {
                uid: "in-1".into(),
                bot,
                chat_id: chat,
                user_id: Some(user.id),
                payload: json!({"type": "text", "text": "hello"}),
                metadata: None,
                at: T0,
                external_id: None,
            };
            let with_message = (i == 0).then_some(&message);
            let at = T0.plus_millis(i as i64);
            let (entry, stored) =
                store.accept("node-a", &new, with_message, None, at).await.unwrap().unwrap();
            if let Some(stored) = stored {
                // The arrival names the message stored with it.
                assert_eq!(entry.arrival, Arrival::Message { message: stored.id }, "{backend:?}");
            }
            assert_eq!((entry.node.as_str(), entry.at), ("node-a", at), "{backend:?}");
            accepted.push(entry);
        }
        // The second arrival's run committed: it is no longer in the inbox.
        let done = answer(bot, chat_b.id, Ticket { id: accepted[1].id, node: "node-a".into() }, "bought");
        store.commit_runs(&[done], "node-a", T0.plus_secs(1)).await.unwrap();

        // While node-a's lease holds, nobody adopts its arrivals.
        store.keep_node("node-b", T0, T0.plus_secs(100)).await.unwrap();
        assert!(store.adopt_arrivals("node-b", T0.plus_secs(5), false).await.unwrap().is_empty());
        assert!(
            store.adopt_arrivals("node-b", T0.plus_secs(10).plus_millis(-1), false).await.unwrap().is_empty()
        );

        // When it lapsed, node-b gets them, oldest first, as they were accepted.
        let adopted = store.adopt_arrivals("node-b", T0.plus_secs(11), false).await.unwrap();
        let waiting: Vec<&InboxEntry> =
            accepted.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, e)| e).collect();
        assert_eq!(ids(&adopted), waiting.iter().map(|e| e.id).collect::<Vec<_>>(), "{backend:?}");
        for (got, was) in adopted.iter().zip(&waiting) {
            assert_eq!(got.node, "node-b", "{backend:?}");
            let expected = InboxEntry { node: "node-b".into(), ..(*was).clone() };
            assert_eq!(got, &expected, "{backend:?}");
        }
        // Once: neither node-b again nor another node gets them while node-b lives.
        assert!(store.adopt_arrivals("node-b", T0.plus_secs(12), false).await.unwrap().is_empty());
        store.keep_node("node-c", T0, T0.plus_secs(1000)).await.unwrap();
        assert!(store.adopt_arrivals("node-c", T0.plus_secs(12), false).await.unwrap().is_empty());

        // node-a lost them: its commit is refused and writes nothing; node-b's goes through.
        let lost = answer(bot, chat_a.id, Ticket { id: accepted[2].id, node: "node-a".into() }, "late");
        let error = store.commit_runs(&[lost], "node-a", T0.plus_secs(12)).await.unwrap_err();
        assert_eq!(error.message, TICKET_LOST, "{backend:?}");
        assert!(store.message(bot, "answer-late").await.unwrap().is_none(), "{backend:?}");
        let owned = answer(bot, chat_a.id, Ticket { id: accepted[2].id, node: "node-b".into() }, "tick");
        store.commit_runs(&[owned], "node-b", T0.plus_secs(12)).await.unwrap();
        assert!(store.message(bot, "answer-tick").await.unwrap().is_some(), "{backend:?}");

        // node-b stops: node-c adopts what it left, in order, even before node-b's lease ends.
        store.remove_node("node-b").await.unwrap();
        let adopted = store.adopt_arrivals("node-c", T0.plus_secs(13), false).await.unwrap();
        assert_eq!(ids(&adopted), vec![accepted[0].id, accepted[3].id, accepted[4].id], "{backend:?}");

        // A forgotten arrival is never handed out again.
        store.forget_arrival(accepted[3].id).await.unwrap();
        // At start (one node: everything is left over) node-d takes all, even from a live node.
        let adopted = store.adopt_arrivals("node-d", T0.plus_secs(14), true).await.unwrap();
        assert_eq!(ids(&adopted), vec![accepted[0].id, accepted[4].id], "{backend:?}");
        assert!(store.adopt_arrivals("node-d", T0.plus_secs(14), true).await.unwrap().is_empty());
        assert_eq!(common::rows(&db, "inbox").await, 2, "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_telegram_update_is_accepted_once() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "tg").await;
        let other = common::bot(&store, &ws, "tg-other").await;
        let user = common::user(&store, bot, Channel::Telegram, "5").await;
        let chat = common::chat(&store, bot, Channel::Telegram, "5", Some(user.id)).await;
        let other_chat = common::chat(&store, other, Channel::Telegram, "5", None).await;
        let new =
            NewArrival { bot, chat: chat.id, user: Some(user.id), arrival: Arrival::Message { message: 0 } };
        let message = |uid: &str, chat: i64, bot: i64| NewMessage {
            uid: uid.into(),
            bot,
            chat_id: chat,
            user_id: None,
            payload: json!({"type": "text", "text": "hi"}),
            metadata: None,
            at: T0,
            external_id: Some("900".into()),
        };

        let first = store.accept("n", &new, Some(&message("m1", chat.id, bot)), Some(900), T0).await.unwrap();
        assert!(first.is_some(), "{backend:?}");
        // The same update again (a webhook retry, a second poller): nothing is stored.
        let again = store.accept("n", &new, Some(&message("m2", chat.id, bot)), Some(900), T0).await.unwrap();
        assert!(again.is_none(), "{backend:?}");
        assert!(store.message(bot, "m2").await.unwrap().is_none(), "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 1, "{backend:?}");
        assert_eq!(store.messages(chat.id, 0, 10).await.unwrap().len(), 1, "{backend:?}");
        assert!(!store.record_update(bot, 900, T0).await.unwrap(), "{backend:?}");

        // Update ids are per bot.
        let theirs = NewArrival {
            bot: other,
            chat: other_chat.id,
            user: None,
            arrival: Arrival::Message { message: 0 },
        };
        let accepted = store
            .accept("n", &theirs, Some(&message("m3", other_chat.id, other)), Some(900), T0)
            .await
            .unwrap();
        assert!(accepted.is_some(), "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 2, "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_group_of_arrivals_is_stored_in_order_and_a_repeated_update_once() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "group").await;
        let user = common::user(&store, bot, Channel::Telegram, "7").await;
        let chat_a = common::chat(&store, bot, Channel::Telegram, "7", Some(user.id)).await;
        let chat_b = common::chat(&store, bot, Channel::Telegram, "8", Some(user.id)).await;
        store
            .accept(
                "n",
                &NewArrival { bot, chat: chat_a.id, user: None, arrival: Arrival::Message { message: 0 } },
                Some(&NewMessage {
                    uid: "before".into(),
                    bot,
                    chat_id: chat_a.id,
                    user_id: Some(user.id),
                    payload: json!({"type": "text", "text": "0"}),
                    metadata: None,
                    at: T0,
                    external_id: None,
                }),
                Some(10),
                T0,
            )
            .await
            .unwrap()
            .unwrap();
        let chats = [chat_a.id, chat_b.id, chat_a.id, chat_b.id, chat_a.id];
        // Update 10 was recorded before; 12 comes twice in the group.
        let updates = [Some(11), Some(12), Some(10), Some(12), None];
        let arrivals: Vec<NewArrival> = chats
            .iter()
            .map(|chat| NewArrival {
                bot,
                chat: *chat,
                user: Some(user.id),
                arrival: Arrival::Message { message: 0 },
            })
            .collect();
        let messages: Vec<NewMessage> = (0..chats.len())
            .map(|i| NewMessage {
                uid: format!("g{i}"),
                bot,
                chat_id: chats[i],
                user_id: Some(user.id),
                payload: json!({"type": "text", "text": i.to_string()}),
                metadata: None,
                at: T0,
                external_id: None,
            })
            .collect();
        let group: Vec<Accepting<'_>> = (0..chats.len())
            .map(|i| Accepting {
                arrival: &arrivals[i],
                message: Some(&messages[i]),
                telegram_update: updates[i],
            })
            .collect();
        let accepted = store.accept_many("n", &group, T0).await.unwrap();
        let stored: Vec<Option<String>> = accepted
            .iter()
            .map(|a| a.as_ref().and_then(|(_, m)| m.as_ref()).map(|m| m.uid.clone()))
            .collect();
        assert_eq!(
            stored,
            [Some("g0".into()), Some("g1".into()), None, None, Some("g4".into())],
            "{backend:?}"
        );
        let entries: Vec<&InboxEntry> = accepted.iter().flatten().map(|(e, _)| e).collect();
        assert!(entries.windows(2).all(|w| w[0].id < w[1].id), "inbox rows in arrival order: {backend:?}");
        for (entry, message) in accepted.iter().flatten() {
            let message = message.as_ref().unwrap();
            assert_eq!(entry.arrival, Arrival::Message { message: message.id }, "{backend:?}");
            assert_eq!(entry.chat, message.chat_id, "{backend:?}");
        }
        assert!(store.message(bot, "g2").await.unwrap().is_none(), "{backend:?}");
        assert!(store.message(bot, "g3").await.unwrap().is_none(), "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 4, "{backend:?}");

        // Their runs commit as a group: a lost ticket fails the group, and nothing of it is written.
        let tickets: Vec<Ticket> =
            entries.iter().map(|e| Ticket { id: e.id, node: e.node.clone() }).collect();
        let mut runs: Vec<RunEffects> = tickets
            .iter()
            .zip(&entries)
            .map(|(t, e)| answer(bot, e.chat, t.clone(), &format!("r{}", t.id)))
            .collect();
        runs[1].ticket = Some(Ticket { id: tickets[1].id, node: "another".into() });
        let lost = store.commit_runs(&runs, "n", T0).await.unwrap_err();
        assert_eq!(lost.message, TICKET_LOST, "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 4, "{backend:?}");
        runs[1].ticket = Some(tickets[1].clone());
        let done = store.commit_runs(&runs, "n", T0).await.unwrap();
        assert_eq!(
            common::rows(&db, "inbox").await,
            1,
            "only the arrival before the group is left: {backend:?}"
        );
        for (run, committed) in runs.iter().zip(&done) {
            assert_eq!(committed.messages.len(), 1, "{backend:?}");
            assert_eq!(committed.messages[0].uid, run.messages[0].uid, "{backend:?}");
            assert_eq!(committed.messages[0].chat_id, run.messages[0].chat_id, "{backend:?}");
        }
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_adopting_at_once_split_the_arrivals() {
    const ARRIVALS: usize = 40;
    const ADOPTERS: usize = 6;
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "inbox").await;
        let chat = common::chat(&store, bot, Channel::Web, "c", None).await;
        let mut accepted = Vec::new();
        for i in 0..ARRIVALS {
            let arrival = Arrival::Event { name: format!("e{i}"), payload: json!(i) };
            let new = NewArrival { bot, chat: chat.id, user: None, arrival };
            accepted.push(store.accept("dead", &new, None, None, T0).await.unwrap().unwrap().0.id);
        }
        let now = T0.plus_secs(100);
        for n in 0..ADOPTERS {
            store.keep_node(&format!("node-{n}"), T0, now.plus_secs(60)).await.unwrap();
        }
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(ADOPTERS));
        let mut tasks = Vec::new();
        for n in 0..ADOPTERS {
            let (store, start) = (store.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                let node = format!("node-{n}");
                start.wait().await;
                let adopted = store.adopt_arrivals(&node, now, false).await.unwrap();
                assert!(adopted.iter().all(|e| e.node == node));
                assert!(adopted.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
                ids(&adopted)
            }));
        }
        let mut adopted = Vec::new();
        for task in tasks {
            adopted.extend(task.await.unwrap());
        }
        adopted.sort_unstable();
        assert_eq!(adopted, accepted, "{backend:?}: each arrival adopted by exactly one node");
        store.close().await;
    }
}

#[tokio::test]
async fn chats_and_users_of_several_updates_are_read_together() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "lookups").await;
        let other = common::bot(&store, &ws, "lookups-other").await;
        let ann = common::user(&store, bot, Channel::Telegram, "5").await;
        let bob = common::user(&store, bot, Channel::Telegram, "6").await;
        common::user(&store, other, Channel::Telegram, "7").await;
        common::user(&store, bot, Channel::Web, "8").await;
        let chat = common::chat(&store, bot, Channel::Telegram, "5", Some(ann.id)).await;
        common::chat(&store, other, Channel::Telegram, "-7", None).await;
        let groups = RunEffects {
            bot,
            groups: vec![
                botyard_domain::effects::GroupChange::Add { user: ann.id, group: "vip".into() },
                botyard_domain::effects::GroupChange::Add { user: ann.id, group: "admins".into() },
            ],
            ..Default::default()
        };
        store.commit_runs(&[groups], "n", T0).await.unwrap();

        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut users = store
            .users_by_external_ids(bot, Channel::Telegram, &ids(&["5", "6", "7", "8", "9"]))
            .await
            .unwrap();
        users.sort_by_key(|u| u.id);
        let found: Vec<_> = users.iter().map(|u| (u.id, u.groups.clone())).collect();
        assert_eq!(
            found,
            [(ann.id, vec!["admins".to_owned(), "vip".to_owned()]), (bob.id, vec![])],
            "{backend:?}"
        );
        let chats =
            store.chats_by_external_ids(bot, Channel::Telegram, &ids(&["5", "-7", "6"])).await.unwrap();
        assert_eq!(chats.iter().map(|c| c.id).collect::<Vec<_>>(), [chat.id], "{backend:?}");
        assert!(store.users_by_external_ids(bot, Channel::Telegram, &[]).await.unwrap().is_empty());
        store.close().await;
    }
}

#[tokio::test]
async fn key_users_conversations_and_properties_of_several_requests_are_read_together() {
    use botyard_domain::conversation::UserProfile;
    use botyard_domain::effects::PropertyWrite;
    use botyard_domain::property::{PropertyScope, PropertyType};
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "web").await;
        let other = common::bot(&store, &ws, "web-other").await;
        let profile = UserProfile::default();
        let ann = store.create_key_user(bot, "ann", &profile, "digest-ann", T0).await.unwrap();
        let bob = store.create_key_user(other, "bob", &profile, "digest-bob", T0).await.unwrap();
        let vip = RunEffects {
            bot,
            groups: vec![botyard_domain::effects::GroupChange::Add { user: ann.id, group: "vip".into() }],
            ..Default::default()
        };
        store.commit_runs(&[vip], "n", T0).await.unwrap();

        // Users by key digest, of any bot, in the order asked, with their groups.
        let digests = ["digest-bob", "nobody", "digest-ann", "digest-ann"].map(String::from);
        let found: Vec<_> = store
            .users_by_keys(&digests)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.map(|u| (u.id, u.groups)))
            .collect();
        assert_eq!(
            found,
            [
                Some((bob.id, vec![])),
                None,
                Some((ann.id, vec!["vip".to_owned()])),
                Some((ann.id, vec!["vip".to_owned()]))
            ],
            "{backend:?}"
        );

        // Conversations by id, each with whether the asking user takes part.
        let chat = common::chat(&store, bot, Channel::Web, "conv-1", Some(ann.id)).await;
        store.add_participant(chat.id, ann.id, T0).await.unwrap();
        let asks = [
            (bot, Channel::Web, "conv-1".to_owned(), ann.id),
            (bot, Channel::Web, "conv-1".to_owned(), bob.id),
            (bot, Channel::Telegram, "conv-1".to_owned(), ann.id),
            (other, Channel::Web, "conv-1".to_owned(), ann.id),
            (bot, Channel::Web, "conv-2".to_owned(), ann.id),
        ];
        let found: Vec<_> = store
            .chats_with_participants(&asks)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.map(|(c, takes_part)| (c.id, takes_part)))
            .collect();
        assert_eq!(found, [Some((chat.id, true)), Some((chat.id, false)), None, None, None], "{backend:?}");

        // Properties of several scopes and owners, absent ones as such.
        let write = |scope, owner, name: &str, value| PropertyWrite {
            scope,
            owner,
            name: name.into(),
            value: Some((PropertyType::Integer, json!(value))),
            at: T0,
        };
        let effects = RunEffects {
            bot,
            properties: vec![
                write(PropertyScope::User, ann.id, "n", 3),
                write(PropertyScope::Bot, 0, "n", 7),
                write(PropertyScope::Chat, chat.id, "topic", 1),
            ],
            ..Default::default()
        };
        store.commit_runs(&[effects], "n", T0).await.unwrap();
        let keys = [
            (bot, PropertyScope::User, ann.id, "n".to_owned()),
            (bot, PropertyScope::User, bob.id, "n".to_owned()),
            (other, PropertyScope::Bot, 0, "n".to_owned()),
            (bot, PropertyScope::Bot, 0, "n".to_owned()),
            (bot, PropertyScope::Chat, chat.id, "topic".to_owned()),
            (bot, PropertyScope::Chat, chat.id, "Topic".to_owned()),
        ];
        let values: Vec<_> =
            store.properties_of(&keys).await.unwrap().into_iter().map(|p| p.map(|p| p.value)).collect();
        assert_eq!(values, [Some(json!(3)), None, None, Some(json!(7)), Some(json!(1)), None], "{backend:?}");
        // On SQLite these reads run on the calling thread, on connections of their own: a write
        // committed through the writer is seen by the very next read.
        assert_eq!(store.reads_locally(), backend == Backend::Sqlite);
        for n in 4..8 {
            let effects = RunEffects {
                bot,
                properties: vec![write(PropertyScope::User, ann.id, "n", n)],
                ..Default::default()
            };
            store.commit_runs(&[effects], "n", T0).await.unwrap();
            let read = store.properties_of(&keys[..1]).await.unwrap().pop().flatten().map(|p| p.value);
            assert_eq!(read, Some(json!(n)), "{backend:?}");
        }
        assert!(store.users_by_keys(&[]).await.unwrap().is_empty());
        assert!(store.chats_with_participants(&[]).await.unwrap().is_empty());
        assert!(store.properties_of(&[]).await.unwrap().is_empty());
        store.close().await;
    }
}

#[tokio::test]
async fn users_and_chats_of_several_updates_are_created_together_each_once() {
    use botyard_domain::conversation::UserProfile;
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "new-ones").await;
        let other = common::bot(&store, &ws, "new-ones-other").await;
        let known = common::user(&store, bot, Channel::Telegram, "1").await;
        let user = |bot, channel, id: &str, name: &str| NewUser {
            bot,
            channel,
            external_id: id.into(),
            profile: UserProfile { first_name: Some(name.into()), ..UserProfile::default() },
        };
        let asks = [
            user(bot, Channel::Telegram, "2", "Ann"),
            user(bot, Channel::Telegram, "1", "Known"),
            user(bot, Channel::Telegram, "2", "Ann again"),
            user(other, Channel::Telegram, "2", "Ann elsewhere"),
            user(bot, Channel::Web, "2", "Ann on the web"),
        ];
        let answers = store.upsert_users(&asks, T0).await.unwrap();
        let created: Vec<bool> = answers.iter().map(|(_, created)| *created).collect();
        assert_eq!(created, [true, false, false, true, true], "{backend:?}: each user created once");
        assert_eq!(answers[0].0.id, answers[2].0.id, "{backend:?}");
        assert_eq!(answers[1].0.id, known.id);
        assert_eq!(answers[0].0.first_name.as_deref(), Some("Ann"), "{backend:?}: the first ask's profile");
        assert_eq!(answers[3].0.bot_number, other);
        assert_eq!(answers[4].0.channel, Channel::Web);
        let again = store.upsert_users(&asks[..1], T0).await.unwrap();
        assert_eq!((again[0].0.id, again[0].1), (answers[0].0.id, false), "{backend:?}");

        let chat = |bot, id: &str, kind: &str| NewChat {
            bot,
            channel: Channel::Telegram,
            external_id: id.into(),
            chat_type: kind.into(),
            title: (kind != "private").then(|| "A group".to_owned()),
            owner: None,
        };
        let asks = [chat(bot, "2", "private"), chat(bot, "-5", "group"), chat(bot, "2", "private")];
        let answers = store.upsert_chats(&asks, T0).await.unwrap();
        let created: Vec<bool> = answers.iter().map(|(_, created)| *created).collect();
        assert_eq!(created, [true, true, false], "{backend:?}");
        assert_eq!(answers[0].0.id, answers[2].0.id);
        assert_eq!(
            (answers[1].0.chat_type.as_str(), answers[1].0.title.as_deref()),
            ("group", Some("A group"))
        );
        assert!(store.upsert_chats(&[], T0).await.unwrap().is_empty());
        store.close().await;
    }
}
