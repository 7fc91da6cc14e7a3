//! The broadcast bookkeeping's contract ([`BroadcastStore`]), run against every configured backend:
//! the chats a broadcast reaches, in id order, without those it already ran in; its marks written
//! once, only by the attempt that holds the job (alone or with a run's commit); its owner's
//! controls.

mod common;

use botyard_domain::arrival::{Arrival, NewArrival, Ticket};
use botyard_domain::conversation::Channel;
use botyard_domain::effects::RunEffects;
use botyard_domain::job::{JobKind, JobStatus, JobUpdate};
use botyard_domain::{ErrorCode, Timestamp};
use botyard_store::testing::backends;
use botyard_store::*;
use common::{T0, lease_of, new_job, open};
use serde_json::json;

#[tokio::test]
async fn a_broadcast_reaches_each_chat_once_and_only_its_attempt_marks_it() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "news").await;
        let other = common::bot(&store, &ws, "other").await;
        let user = common::user(&store, bot, Channel::Telegram, "1").await;
        let mut chats = Vec::new();
        for i in 1..=5 {
            chats.push(common::chat(&store, bot, Channel::Telegram, &i.to_string(), None).await.id);
        }
        let private = common::chat(&store, bot, Channel::Telegram, "1", None).await;
        assert_eq!(private.id, chats[0], "{backend:?}: the same chat");
        common::chat(&store, bot, Channel::System, "system", None).await;
        common::chat(&store, other, Channel::Telegram, "1", None).await;
        store.set_chat_blocked(bot, chats[3], true, T0).await.unwrap();
        store.set_chat_bot_blocked(chats[4], true, T0).await.unwrap();
        assert_eq!(store.count_broadcast_chats(bot, ChatFilter::All).await.unwrap(), 3, "{backend:?}");

        let mut job = new_job(JobKind::Broadcast, T0);
        job.bot = Some(bot);
        let job = store.enqueue(&job).await.unwrap();
        let claimed =
            store.claim_job("b1", T0, T0.plus_secs(60), &JobKind::BROADCASTS).await.unwrap().unwrap();
        let lease = lease_of(&claimed);
        let listed = store.broadcast_chats(bot, job.id, ChatFilter::All, 0, 100).await.unwrap();
        // A private chat comes with its user.
        assert_eq!(
            listed,
            vec![(chats[0], Some(user.id)), (chats[1], None), (chats[2], None)],
            "{backend:?}"
        );
        let page = store.broadcast_chats(bot, job.id, ChatFilter::All, chats[0], 1).await.unwrap();
        assert_eq!(page, vec![(chats[1], None)], "{backend:?}: after a chat, limited");

        // Marked alone (the run did not happen), once: a second mark of the chat changes nothing.
        store.mark_job(&lease, chats[0], true).await.unwrap();
        store.mark_job(&lease, chats[0], false).await.unwrap();
        assert_eq!(store.job_marks(job.id).await.unwrap(), (1, 0), "{backend:?}");

        // Marked with a run's commit; a run whose ticket was lost marks nothing.
        let entry = store
            .accept(
                "node-a",
                &NewArrival {
                    bot,
                    chat: chats[2],
                    user: None,
                    arrival: Arrival::Event { name: "e".into(), payload: json!(null) },
                },
                None,
                None,
                T0,
            )
            .await
            .unwrap()
            .unwrap()
            .0;
        let mark =
            |chat: i64, ok: bool, ticket: Option<Ticket>, lease: &botyard_domain::job::JobLease| RunEffects {
                bot,
                job: Some((lease.clone(), JobUpdate::Mark { mark: chat, ok })),
                ticket,
                ..Default::default()
            };
        let lost = Ticket { id: entry.id, node: "node-b".into() };
        let error =
            store.commit_runs(&[mark(chats[2], true, Some(lost), &lease)], "n", T0).await.unwrap_err();
        assert_eq!(error.message, TICKET_LOST, "{backend:?}");
        assert_eq!(store.job_marks(job.id).await.unwrap(), (1, 0), "{backend:?}");
        store.commit_runs(&[mark(chats[1], false, None, &lease)], "n", T0).await.unwrap();
        assert_eq!(store.job_marks(job.id).await.unwrap(), (2, 1), "{backend:?}: one failed");
        let left = store.broadcast_chats(bot, job.id, ChatFilter::All, 0, 100).await.unwrap();
        assert_eq!(left, vec![(chats[2], None)], "{backend:?}: marked chats are not reached again");

        // The worker died; the attempt that took over marks, the old one cannot.
        let later = T0.plus_secs(61);
        let retaken = store.claim_job("b2", later, later.plus_secs(60), &JobKind::BROADCASTS).await.unwrap();
        let new_lease = lease_of(&retaken.unwrap());
        let error = store.mark_job(&lease, chats[2], true).await.unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::Conflict, LEASE_LOST), "{backend:?}");
        let stale = mark(chats[2], true, Some(Ticket { id: entry.id, node: "node-a".into() }), &lease);
        let error = store.commit_runs(&[stale], "node-a", later).await.unwrap_err();
        assert_eq!(error.message, LEASE_LOST, "{backend:?}");
        assert_eq!(store.job_marks(job.id).await.unwrap(), (2, 1), "{backend:?}");
        let fresh = mark(chats[2], true, Some(Ticket { id: entry.id, node: "node-a".into() }), &new_lease);
        store.commit_runs(&[fresh], "node-a", later).await.unwrap();
        assert_eq!(store.job_marks(job.id).await.unwrap(), (3, 1), "{backend:?}");
        assert!(store.broadcast_chats(bot, job.id, ChatFilter::All, 0, 100).await.unwrap().is_empty());
        store.close().await;
    }
}

#[tokio::test]
async fn a_broadcast_owner_pauses_cancels_and_lists_them() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "news").await;
        let mut job = new_job(JobKind::Broadcast, T0);
        job.bot = Some(bot);
        let running = store.enqueue(&job).await.unwrap();
        let waiting = store.enqueue(&job).await.unwrap();
        let claimed =
            store.claim_job("b", T0, T0.plus_secs(60), &JobKind::BROADCASTS).await.unwrap().unwrap();
        assert_eq!(claimed.id, running.id, "{backend:?}");

        // A running broadcast is asked to pause, and to go on.
        assert!(store.set_job_control(running.id, Some("pause")).await.unwrap(), "{backend:?}");
        assert_eq!(store.job_control(running.id).await.unwrap().as_deref(), Some("pause"), "{backend:?}");
        assert!(store.set_job_control(running.id, None).await.unwrap(), "{backend:?}");
        assert_eq!(store.job_control(running.id).await.unwrap(), None, "{backend:?}");
        // One that has not started is canceled at once; it is never claimed.
        assert!(store.set_job_control(waiting.id, Some("cancel")).await.unwrap(), "{backend:?}");
        let canceled = store.job(waiting.id).await.unwrap().unwrap();
        assert_eq!(canceled.status, JobStatus::Canceled, "{backend:?}");
        let far = Timestamp(T0.millis() * 2);
        assert_eq!(store.claim_job("b", T0, far, &JobKind::BROADCASTS).await.unwrap(), None, "{backend:?}");

        // A finished one takes no more controls.
        assert!(store.finish_job(&lease_of(&claimed), &JobEnd::Canceled).await.unwrap());
        assert!(!store.set_job_control(running.id, Some("pause")).await.unwrap(), "{backend:?}");
        assert!(!store.set_job_control(waiting.id, Some("cancel")).await.unwrap(), "{backend:?}");

        let listed = store.bot_jobs(bot, JobKind::Broadcast, 10).await.unwrap();
        assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![waiting.id, running.id]);
        store.close().await;
    }
}
