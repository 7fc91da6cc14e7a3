//! The store's contract, run against every configured backend.

use botyard_domain::account::Workspace;
use botyard_domain::bot::{Bot, BotDefinition, DeployStatus, RunState};
use botyard_domain::page::SortDirection;
use botyard_domain::{BotId, BotRef, ErrorCode, Timestamp, WorkspaceId};
use botyard_store::testing::{TestDatabase, backends};
use botyard_store::*;

fn new_account(email: &str, ws: &WorkspaceId) -> NewAccount {
    NewAccount {
        email: email.into(),
        password_hash: "hash".into(),
        api_key_hash: format!("key-{email}"),
        api_key_hint: "byk_".into(),
        workspace: Workspace {
            id: ws.clone(),
            name: "Personal".into(),
            personal_of: None,
            plan: "free".into(),
            created_at: Timestamp(1),
        },
        now: Timestamp(1),
    }
}

fn new_bot(ws: &WorkspaceId, name: &str, at: i64) -> Bot {
    let mut definition = BotDefinition::default();
    definition.tags.insert("env".into(), if at % 2 == 0 { "prod".into() } else { "dev".into() });
    Bot {
        id: BotId::generate(),
        number: 0,
        workspace_id: ws.clone(),
        name: name.into(),
        dev: false,
        status: DeployStatus::Active,
        run_state: RunState::Stopped,
        origin: Default::default(),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        deployed_at: None,
        created_by: None,
        signing_secret: "s".into(),
        web_channel_id: format!("web-{name}"),
        telegram_token: None,
        telegram_username: None,
        csv_url: None,
        git_remote: None,
        definition,
    }
}

#[tokio::test]
async fn accounts_and_bots_round_trip() {
    for backend in backends() {
        let db = TestDatabase::create(backend).await;
        let store = Store::open(&db.url, &StoreOptions::default()).await.unwrap();
        let ws = WorkspaceId::generate();
        let user = store.create_account(new_account("a@x.io", &ws)).await.unwrap();
        let dup = store.create_account(new_account("a@x.io", &WorkspaceId::generate())).await;
        assert_eq!(dup.unwrap_err().code, ErrorCode::AlreadyExists, "{backend:?}");
        assert_eq!(store.user_by_api_key("key-a@x.io").await.unwrap().unwrap().id, user.id);
        assert_eq!(store.memberships(user.id).await.unwrap().len(), 1);

        let mut numbers = Vec::new();
        for i in 0..5 {
            numbers.push(store.insert_bot(&new_bot(&ws, &format!("b{i}"), 10 + i)).await.unwrap().number);
        }
        let bot = store.bot(&BotRef::Number(numbers[0])).await.unwrap().unwrap();
        let refused = store
            .modify_bot(&bot.id, |b| {
                b.name = "half-done".into();
                Err(botyard_domain::Error::invalid("no"))
            })
            .await;
        assert!(refused.is_err());
        let bot = store
            .modify_bot(&bot.id, |b| {
                b.name = "renamed".into();
                Ok(())
            })
            .await
            .unwrap();
        let again = store.bot(&BotRef::Id(bot.id.clone())).await.unwrap().unwrap();
        assert_eq!(again.name, "renamed");

        let mut query = BotListQuery {
            workspaces: vec![ws.clone()],
            dev: Some(false),
            limit: 2,
            direction: SortDirection::Desc,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.list_bots(&query).await.unwrap();
            seen.extend(page.items.iter().map(|b| b.number));
            match page.next_token {
                Some(t) => query.page_token = Some(t),
                None => break,
            }
        }
        let mut expected = numbers.clone();
        expected.reverse();
        assert_eq!(seen, expected, "{backend:?}");

        let tagged = BotListQuery {
            workspaces: vec![ws.clone()],
            tags: vec![("env".into(), "prod".into())],
            limit: 10,
            ..Default::default()
        };
        assert_eq!(store.list_bots(&tagged).await.unwrap().items.len(), 3);
        assert!(store.delete_bot(&bot).await.unwrap());
        store.close().await;
    }
}
