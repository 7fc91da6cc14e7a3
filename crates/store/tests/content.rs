//! The content store's contract ([`ContentStore`]), run against every configured backend: a
//! replacement of a bot's content (an import's, a CSV synchronisation's, a bot created with its
//! content, the components of one kind) is applied whole or not at all, together with the end of
//! its job, and touches nothing of other kinds or other bots.

mod common;

use botyard_domain::command::Command;
use botyard_domain::content::{AdminPanel, BotContent, BotProperty, CommandContent, CsvPlan, Lib};
use botyard_domain::job::{FailPoints, JobKind, JobLease, JobStatus};
use botyard_domain::koreai::{Component, ComponentKind};
use botyard_domain::property::PropertyType;
use botyard_domain::{BotRef, ErrorCode};
use botyard_store::testing::backends;
use botyard_store::*;
use common::{T0, claimed_job, draft, open};
use serde_json::json;

fn component(kind: ComponentKind, name: &str) -> Component {
    Component {
        kind,
        ref_id: Some(format!("ref-{name}")),
        name: name.into(),
        document: json!({"name": name}),
    }
}

fn command(name: &str, aliases: &[&str], folder: Option<&str>) -> CommandContent {
    CommandContent {
        draft: draft(name, aliases),
        folder: folder.map(str::to_owned),
        created_via_csv_import: false,
    }
}

fn lib(name: &str) -> Lib {
    Lib { name: name.into(), code: format!("var {name} = 1;"), store_id: None }
}

fn panel(name: &str) -> AdminPanel {
    AdminPanel {
        name: name.into(),
        document: json!({"fields": [{"name": "f", "type": "string", "value": name}]}),
    }
}

/// Content as the store gives it back: folders and commands in order, libraries and properties
/// by name, panels in order, components by kind.
fn content(tag: &str) -> BotContent {
    BotContent {
        folders: vec![format!("{tag}-folder")],
        commands: vec![
            command(&format!("/{tag}-start"), &[&format!("/{tag}-s")], Some(&format!("{tag}-folder"))),
            command(&format!("/{tag}-help"), &[], None),
        ],
        libs: vec![lib(&format!("{tag}A")), lib(&format!("{tag}B"))],
        panels: vec![panel(&format!("{tag}-panel"))],
        components: vec![
            component(ComponentKind::Settings, &format!("{tag}-settings")),
            component(ComponentKind::Dialog, &format!("{tag}-d1")),
            component(ComponentKind::Dialog, &format!("{tag}-d2")),
            component(ComponentKind::Event, &format!("{tag}-e1")),
        ],
        properties: Some(vec![BotProperty {
            name: format!("{tag}-prop"),
            kind: PropertyType::Json,
            value: json!({"tag": tag}),
        }]),
    }
}

/// The end a refused replacement asks for (it must not be written).
const DONE: JobEnd = JobEnd::Canceled;

fn succeeded() -> JobEnd {
    JobEnd::Succeeded { details: json!({"imported": true}), bot: None }
}

/// Gives a bot `content` through an import job.
async fn import(store: &Store, bot: i64, content: &BotContent) {
    let (_, lease) = claimed_job(store, JobKind::ArchiveImport, Some(bot), T0).await;
    let fields = BotFieldsUpdate::default();
    store.replace_content(&lease, bot, content, ContentParts::ALL, &fields, &succeeded()).await.unwrap();
}

fn crashing(lease: &JobLease, point: &str) -> JobLease {
    JobLease { failpoints: FailPoints::new([point.to_owned()]), ..lease.clone() }
}

#[tokio::test]
async fn a_refused_import_leaves_the_old_content_and_its_job() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "target").await;
        let other = common::bot(&store, &ws, "bystander").await;
        import(&store, bot, &content("old")).await;
        import(&store, other, &content("other")).await;
        let old = store.bot_content(bot, true).await.unwrap();
        assert_eq!(old, content("old"), "{backend:?}: the content round-trips");
        let theirs = store.bot_content(other, true).await.unwrap();
        let rename =
            BotFieldsUpdate { name: Some("renamed".into()), csv_url: Some(Some("https://x.test".into())) };

        let (job, lease) = claimed_job(&store, JobKind::KoreImport, Some(bot), T0).await;
        // Each of these is refused after the old commands were deleted and new ones written.
        let mut libs_twice = content("new");
        libs_twice.libs.push(lib("newA"));
        let mut panels_twice = content("new");
        panels_twice.panels.push(panel("new-panel"));
        for (what, refused) in [("a library twice", libs_twice), ("a panel twice", panels_twice)] {
            let result =
                store.replace_content(&lease, bot, &refused, ContentParts::ALL, &rename, &DONE).await;
            let error = result.unwrap_err();
            assert_eq!(error.code, ErrorCode::AlreadyExists, "{backend:?}, {what}: {error:?}");
            assert_eq!(store.bot_content(bot, true).await.unwrap(), old, "{backend:?}, {what}");
            assert_eq!(common::bot_name(&store, bot).await, "target", "{backend:?}, {what}");
            let job = store.job(job.id).await.unwrap().unwrap();
            assert_eq!(job.status, JobStatus::Processing, "{backend:?}, {what}: the job did not end");
        }

        // The worker "crashes" between the commands and the rest.
        let crash = crashing(&lease, "import.apply");
        let result =
            store.replace_content(&crash, bot, &content("new"), ContentParts::ALL, &rename, &DONE).await;
        assert!(FailPoints::is_crash(&result.unwrap_err()), "{backend:?}");
        assert_eq!(
            store.bot_content(bot, true).await.unwrap(),
            old,
            "{backend:?}: the crash applied nothing"
        );
        assert_eq!(store.job(job.id).await.unwrap().unwrap().status, JobStatus::Processing);

        // Another worker took the job over: this attempt applies nothing, even fully written.
        let later = T0.plus_secs(61);
        let retaken = store.claim_job("other", later, later.plus_secs(60), &[JobKind::KoreImport]).await;
        assert_eq!(retaken.unwrap().map(|j| j.attempts), Some(2), "{backend:?}");
        let result = store
            .replace_content(&lease, bot, &content("new"), ContentParts::ALL, &rename, &succeeded())
            .await;
        let error = result.unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::Conflict, LEASE_LOST), "{backend:?}");
        assert_eq!(store.bot_content(bot, true).await.unwrap(), old, "{backend:?}");
        assert_eq!(common::bot_name(&store, bot).await, "target", "{backend:?}");

        assert_eq!(
            store.bot_content(other, true).await.unwrap(),
            theirs,
            "{backend:?}: other bots untouched"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn an_import_replaces_only_the_parts_it_names() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "target").await;
        let other = common::bot(&store, &ws, "bystander").await;
        import(&store, bot, &content("old")).await;
        import(&store, other, &content("other")).await;
        let theirs = store.bot_content(other, true).await.unwrap();

        let (job, lease) = claimed_job(&store, JobKind::GitImport, Some(bot), T0).await;
        let parts = ContentParts { commands: true, libs: true, ..Default::default() };
        let fields = BotFieldsUpdate { name: Some("renamed".into()), csv_url: None };
        store.replace_content(&lease, bot, &content("new"), parts, &fields, &succeeded()).await.unwrap();

        let now = store.bot_content(bot, true).await.unwrap();
        let (old, new) = (content("old"), content("new"));
        assert_eq!(
            (now.folders, now.commands, now.libs),
            (new.folders, new.commands, new.libs),
            "{backend:?}"
        );
        assert_eq!(
            (now.panels, now.components, now.properties),
            (old.panels, old.components, old.properties)
        );
        assert_eq!(common::bot_name(&store, bot).await, "renamed", "{backend:?}");
        let job = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.details),
            (JobStatus::Succeeded, json!({"imported": true})),
            "{backend:?}"
        );
        assert_eq!(
            store.bot_content(other, true).await.unwrap(),
            theirs,
            "{backend:?}: other bots untouched"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn replacing_components_of_one_kind_leaves_other_kinds_and_bots_alone() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "kore").await;
        let other = common::bot(&store, &ws, "bystander").await;
        import(&store, bot, &content("old")).await;
        import(&store, other, &content("other")).await;
        let theirs = store.bot_content(other, true).await.unwrap();
        let before = store.bot_content(bot, true).await.unwrap();

        // Components of other kinds in the list are not this replacement's business.
        let given = [
            component(ComponentKind::Dialog, "new-d1"),
            component(ComponentKind::Event, "stray-event"),
            component(ComponentKind::Dialog, "new-d0"),
        ];
        store.replace_components_of_kind(bot, ComponentKind::Dialog, &given).await.unwrap();
        let expected = vec![
            component(ComponentKind::Settings, "old-settings"),
            component(ComponentKind::Dialog, "new-d1"),
            component(ComponentKind::Dialog, "new-d0"),
            component(ComponentKind::Event, "old-e1"),
        ];
        assert_eq!(store.components(bot).await.unwrap(), expected, "{backend:?}");

        // A kind the bot had none of is added; replacing with nothing removes a kind.
        let functions = [Component {
            kind: ComponentKind::BotFunction,
            ref_id: None,
            name: "functions.js".into(),
            document: json!({"fileName": "functions.js", "content": "function f() {}"}),
        }];
        store.replace_components_of_kind(bot, ComponentKind::BotFunction, &functions).await.unwrap();
        store.replace_components_of_kind(bot, ComponentKind::Event, &[]).await.unwrap();
        let expected = vec![
            component(ComponentKind::Settings, "old-settings"),
            functions[0].clone(),
            component(ComponentKind::Dialog, "new-d1"),
            component(ComponentKind::Dialog, "new-d0"),
        ];
        let now = store.bot_content(bot, true).await.unwrap();
        assert_eq!(now.components, expected, "{backend:?}");
        let rest = |c: BotContent| (c.folders, c.commands, c.libs, c.panels, c.properties);
        assert_eq!(rest(now), rest(before), "{backend:?}: only components changed");

        // A bot that is gone is refused before anything is written.
        let missing = store.replace_components_of_kind(i64::MAX / 2, ComponentKind::Dialog, &given).await;
        assert_eq!(missing.unwrap_err().code, ErrorCode::NotFound, "{backend:?}");
        assert_eq!(store.components(i64::MAX / 2).await.unwrap(), vec![], "{backend:?}");

        assert_eq!(
            store.bot_content(other, true).await.unwrap(),
            theirs,
            "{backend:?}: other bots untouched"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_component_replacement_is_whole_or_nothing() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "kore").await;
        import(&store, bot, &content("old")).await;
        let before = store.components(bot).await.unwrap();
        // A name with a NUL character: SQLite stores it, PostgreSQL's text cannot hold it (botyard
        // refuses NUL at its edges, see `botyard_domain::text`). Either way the kind is replaced
        // whole or left as it was.
        let given = [component(ComponentKind::Dialog, "fine"), component(ComponentKind::Dialog, "nul\0name")];
        let result = store.replace_components_of_kind(bot, ComponentKind::Dialog, &given).await;
        let now = store.components(bot).await.unwrap();
        match result {
            Ok(()) => {
                let dialogs: Vec<&Component> =
                    now.iter().filter(|c| c.kind == ComponentKind::Dialog).collect();
                assert_eq!(dialogs, given.iter().collect::<Vec<_>>(), "{backend:?}: all of it");
            }
            Err(e) => assert_eq!(now, before, "{backend:?}: none of it ({e:?})"),
        }
        store.close().await;
    }
}

/// Commands as a CSV synchronisation compares them: without ids and timestamps.
fn shapes(commands: &[Command]) -> Vec<(String, String, Vec<String>, bool)> {
    commands
        .iter()
        .map(|c| {
            let aliases = c.aliases.iter().map(|a| a.alias.clone()).collect();
            (c.command.clone(), c.answer.clone(), aliases, c.created_via_csv_import)
        })
        .collect()
}

#[tokio::test]
async fn a_refused_csv_sync_leaves_the_commands() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "sheet").await;
        let other = common::bot(&store, &ws, "bystander").await;
        let hand = store.create_command(bot, &draft("/hand", &["/h"]), T0, false).await.unwrap();
        let gone = store.create_command(bot, &draft("/csv-gone", &["/g"]), T0, true).await.unwrap();
        let kept = store.create_command(bot, &draft("/csv-kept", &["/k"]), T0, true).await.unwrap();
        store.create_command(other, &draft("/csv-gone", &[]), T0, true).await.unwrap();
        let before = store.all_commands(bot).await.unwrap();
        let theirs = store.all_commands(other).await.unwrap();
        assert_eq!(before.iter().map(|c| c.id).collect::<Vec<_>>(), vec![hand.id, gone.id, kept.id]);

        let mut changed = draft("/csv-kept", &["/k2"]);
        changed.answer = "changed".into();
        let update = (
            kept.id,
            CommandContent { draft: changed, folder: Some("sheet".into()), created_via_csv_import: true },
        );
        let new = |name: &str| CommandContent {
            draft: draft(name, &[]),
            folder: None,
            created_via_csv_import: true,
        };
        let plan = CsvPlan {
            create: vec![new("/fresh"), new("/fresh-too")],
            update: vec![update],
            destroy: vec![gone.id],
        };
        let (job, lease) = claimed_job(&store, JobKind::CsvImport, Some(bot), T0).await;

        // A crash between the update and the creation.
        let crash = crashing(&lease, "csv_import.apply");
        assert!(FailPoints::is_crash(&store.apply_csv_import(&crash, bot, &plan, &DONE).await.unwrap_err()));
        assert_eq!(store.all_commands(bot).await.unwrap(), before, "{backend:?}");
        assert!(store.folders(bot).await.unwrap().is_empty(), "{backend:?}: no folder was made");
        assert_eq!(store.job(job.id).await.unwrap().unwrap().status, JobStatus::Processing, "{backend:?}");

        // Another worker took the job over: refused at the very end, when the job is ended.
        let later = T0.plus_secs(61);
        let retaken = store.claim_job("other", later, later.plus_secs(60), &[JobKind::CsvImport]).await;
        let retaken = retaken.unwrap().expect("the lapsed job is claimed again");
        let error = store.apply_csv_import(&lease, bot, &plan, &succeeded()).await.unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::Conflict, LEASE_LOST), "{backend:?}");
        assert_eq!(store.all_commands(bot).await.unwrap(), before, "{backend:?}");
        assert!(store.folders(bot).await.unwrap().is_empty(), "{backend:?}: no folder was made");
        let lease = common::lease_of(&retaken);

        // The whole plan, once it can be applied.
        store.apply_csv_import(&lease, bot, &plan, &succeeded()).await.unwrap();
        let after = store.all_commands(bot).await.unwrap();
        assert_eq!(
            shapes(&after),
            vec![
                ("/hand".into(), "answer of /hand".into(), vec!["/h".into()], false),
                ("/csv-kept".into(), "changed".into(), vec!["/k2".into()], true),
                ("/fresh".into(), "answer of /fresh".into(), vec![], true),
                ("/fresh-too".into(), "answer of /fresh-too".into(), vec![], true),
            ],
            "{backend:?}"
        );
        let folder = store.folders(bot).await.unwrap().pop().unwrap();
        assert_eq!((folder.title.as_str(), after[1].folder_id), ("sheet", Some(folder.id)), "{backend:?}");
        assert_eq!(store.job(job.id).await.unwrap().unwrap().status, JobStatus::Succeeded, "{backend:?}");
        assert_eq!(store.all_commands(other).await.unwrap(), theirs, "{backend:?}: other bots untouched");
        store.close().await;
    }
}

#[tokio::test]
async fn a_refused_bot_creation_creates_nothing() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let (job, lease) = claimed_job(&store, JobKind::ArchiveImport, None, T0).await;
        let record = common::bot_record(&ws, "copied");
        let mut refused = content("copy");
        refused.panels.push(panel("copy-panel"));
        let bots_before = common::rows(&db, "bots").await;

        let result = store
            .create_bot_with_content(&lease, &record, &refused, |n| JobEnd::Succeeded {
                details: json!({}),
                bot: Some(n),
            })
            .await;
        assert_eq!(result.unwrap_err().code, ErrorCode::AlreadyExists, "{backend:?}");
        assert!(store.bot(&BotRef::Id(record.id.clone())).await.unwrap().is_none(), "{backend:?}");
        assert_eq!(common::rows(&db, "bots").await, bots_before, "{backend:?}");
        for table in
            ["commands", "command_folders", "bot_libs", "admin_panels", "bot_components", "properties"]
        {
            assert_eq!(common::rows(&db, table).await, 0, "{backend:?}: {table}");
        }
        assert_eq!(store.job(job.id).await.unwrap().unwrap().status, JobStatus::Processing, "{backend:?}");

        let created = store
            .create_bot_with_content(&lease, &record, &content("copy"), |n| JobEnd::Succeeded {
                details: json!({}),
                bot: Some(n),
            })
            .await
            .unwrap();
        assert_eq!(store.bot_content(created.number, true).await.unwrap(), content("copy"), "{backend:?}");
        let job = store.job(job.id).await.unwrap().unwrap();
        assert_eq!((job.status, job.bot), (JobStatus::Succeeded, Some(created.number)), "{backend:?}");
        store.close().await;
    }
}
