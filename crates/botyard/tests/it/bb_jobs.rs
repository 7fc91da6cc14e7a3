//! Bots.Business tasks: CSV import (upload and URL) with its counts and failures, git export and
//! import with local bare repositories in the real format, copies, the demo and library stores,
//! libraries in the sandbox, and admin panels.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, Reply, TestServer, backends};
use crate::jobs_support::{bare_repo, branch_files, commit, quick_jobs, serve_file};
use crate::snap;
use crate::webchat::cmd;

async fn new_bot(s: &TestServer, owner: &Account, name: &str) -> i64 {
    s.bb(owner, Method::POST, "/v2/bots", json!({"name": name})).await.body["id"].as_i64().unwrap()
}

async fn commands(s: &TestServer, owner: &Account, bot: i64) -> Vec<Value> {
    s.bb(owner, Method::GET, &format!("/v2/bots/{bot}/commands"), Value::Null)
        .await
        .body
        .as_array()
        .unwrap()
        .clone()
}

fn names(commands: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = commands.iter().map(|c| c["command"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

async fn upload_csv(s: &TestServer, owner: &Account, bot: i64, csv: &str) -> Reply {
    s.call_raw(
        Method::POST,
        &format!("/v2/bots/{bot}/csv_import_tasks?api_key={}", owner.api_key),
        &[],
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

async fn csv_task(s: &TestServer, owner: &Account, bot: i64, started: &Reply) -> Reply {
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let task = started.body["task_id"].as_i64().unwrap();
    s.bb_task(owner, bot, task).await;
    s.bb(owner, Method::GET, &format!("/v2/bots/{bot}/csv_import_tasks/{task}"), Value::Null).await
}

#[tokio::test]
async fn csv_import_creates_updates_and_destroys() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = new_bot(&s, &ann, "Sheet").await;
        // A hand-made command the sheet never touches.
        s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/commands"), json!({"command": "/manual"})).await;

        let first = "command,answer,aliases,help,keyboard,need_reply,scenarios,folder\n\
                     /start,Welcome!,\"/hello, hi\",Start the bot,\"Help,About\\nContacts\",false,,\n\
                     /help,\"Send /start\nto begin.\",,Help,,false,\"Bot.sendMessage(\"\"more\"\")\",Menu\n\
                     /old,Soon gone,,,,,,\n";
        let started = upload_csv(&s, &ann, bot, first).await;
        snap!("csv_task_started", started);
        let done = csv_task(&s, &ann, bot, &started).await;
        snap!("csv_task_done", done);
        assert_eq!(
            (done.body["new_count"].as_i64(), done.body["updated_count"].as_i64()),
            (Some(3), Some(0))
        );
        let all = commands(&s, &ann, bot).await;
        assert_eq!(names(&all), ["/help", "/manual", "/old", "/start"]);
        let start = all.iter().find(|c| c["command"] == "/start").unwrap();
        assert_eq!(start["keyboard_body"], "Help,About\nContacts");
        assert_eq!(start["created_via_csv_import"], true);
        let help = all.iter().find(|c| c["command"] == "/help").unwrap();
        assert_eq!(help["commands_folder"]["title"], "Menu");

        // Again, from the bot's csv_url: /start changed, /help the same, /old gone, /new added.
        let second = "command,answer,aliases,help,keyboard,need_reply,scenarios,folder\n\
                      /start,Welcome back!,\"/hello, hi\",Start the bot,\"Help,About\\nContacts\",false,,\n\
                      /help,\"Send /start\nto begin.\",,Help,,false,\"Bot.sendMessage(\"\"more\"\")\",Menu\n\
                      /new,Fresh,,,,true,,\n";
        let url = serve_file(second.as_bytes().to_vec()).await;
        s.bb(&ann, Method::PUT, &format!("/v2/bots/{bot}"), json!({"csv_url": url})).await;
        let started = s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/csv_import_tasks"), json!({})).await;
        let done = csv_task(&s, &ann, bot, &started).await;
        snap!("csv_task_counts", done);
        assert_eq!(names(&commands(&s, &ann, bot).await), ["/help", "/manual", "/new", "/start"]);

        // A broken sheet fails with the line at fault and changes nothing.
        let broken = "command,answer\n/start,fine\n/x,\"never closed\n/y,z\n";
        let done = csv_task(&s, &ann, bot, &upload_csv(&s, &ann, bot, broken).await).await;
        snap!("csv_task_bad_quoting", done);
        let twice =
            csv_task(&s, &ann, bot, &upload_csv(&s, &ann, bot, "command,answer\n/a,1\n/b,2\n/a,3\n").await)
                .await;
        snap!("csv_task_duplicate_command", twice);
        let unknown =
            csv_task(&s, &ann, bot, &upload_csv(&s, &ann, bot, "command,colour\n/a,red\n").await).await;
        snap!("csv_task_unknown_column", unknown);
        let clash =
            csv_task(&s, &ann, bot, &upload_csv(&s, &ann, bot, "command,aliases\n/z,/manual\n").await).await;
        snap!("csv_task_alias_of_a_kept_command", clash);
        assert_eq!(names(&commands(&s, &ann, bot).await), ["/help", "/manual", "/new", "/start"]);

        // Without a sheet and without csv_url: refused at once.
        let other = new_bot(&s, &ann, "No sheet").await;
        snap!(
            "csv_no_source",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{other}/csv_import_tasks"), json!({})).await
        );
        snap!(
            "csv_task_unknown",
            s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/csv_import_tasks/999"), Value::Null).await
        );
        s.stop().await;
    }
}

/// A repository in the Bots.Business format, as its public exports write it.
fn repository_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("bot.json", b"{\n  \"bb_sync_version\":\"1.0\",\n  \"name\":\"GitBot\",\n  \"csv_url\":null,\n  \"git_remote\":null\n}"),
        (
            "commands/_start.js",
            b"/*CMD\n  command: /start\n  help: Start\n  need_reply: false\n  auto_retry_time: \n  folder: \n\n  <<ANSWER\nHello!\nPress a button.\n  ANSWER\n  keyboard: Menu,Balance\\nHelp\n  aliases: /begin, hi\n  group: \nCMD*/\n\nBot.sendMessage(Libs.Greeter.greet(user.first_name));\n",
        ),
        (
            "commands/Menu/Balance.js",
            b"/*CMD\n  command: Balance\n  help: \n  need_reply: \n  auto_retry_time: \n  folder: Menu\n  answer: \n  keyboard: \n  aliases: \n  group: \nCMD*/\n\nBot.sendMessage('Your balance: 0');\n",
        ),
        ("commands/_.js", b"/*CMD\n  command: *\n  help: \n  need_reply: \n  auto_retry_time: \n  answer: \n  keyboard: \n  aliases: \nCMD*/\n\nBot.sendMessage('?');\n"),
        ("libs/Greeter.js", b"function greet(name) { return 'Hi, ' + name + '!'; }\npublish({ greet: greet })"),
        ("README.md", b"A bot exported from Bots.Business."),
    ]
}

#[tokio::test]
async fn git_import_and_export_with_local_repositories() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            quick_jobs(c);
            c.jobs.git_file_max_bytes = 16 * 1024;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let repos = tempfile::tempdir().unwrap();
        let source = repos.path().join("source.git");
        bare_repo(&source, &repository_files());

        let bot = new_bot(&s, &ann, "Before").await;
        s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/commands"), json!({"command": "/replaced"})).await;
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/git_import"),
                json!({"git_remote": source.to_str().unwrap()}),
            )
            .await;
        snap!("git_import_started", started);
        let done = s.bb_task(&ann, bot, started.body["task_id"].as_i64().unwrap()).await;
        snap!("git_import_done", done);
        let all = commands(&s, &ann, bot).await;
        assert_eq!(names(&all), ["*", "/start", "Balance"], "import replaces the commands");
        let start = all.iter().find(|c| c["command"] == "/start").unwrap();
        assert_eq!(start["answer"], "Hello!\nPress a button.");
        assert_eq!(start["keyboard_body"], "Menu,Balance\nHelp");
        assert_eq!(start["aliases"].as_array().unwrap().len(), 2);
        let bot_view = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}"), Value::Null).await;
        assert_eq!(bot_view.body["name"], "GitBot");
        let libs = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}/libs"), Value::Null).await;
        assert_eq!(libs.body[0]["name"], "Greeter");

        // The imported bot runs, with its library.
        s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/status"), json!({"status": "start_launch"})).await;
        let webhook = bot_view.body["web_channel_id"].as_str().unwrap().to_owned();
        let mut chat = s.chat(&crate::webchat::TestBot { id: bot, webhook }).await;
        assert_eq!(chat.ask("/start", 2).await, ["Hello!\nPress a button.", "Hi, Tester!"]);

        // Export to a new branch of an empty repository, then import that branch elsewhere.
        let target = repos.path().join("target.git");
        git2::Repository::init_bare(&target).unwrap();
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/git_export"),
                json!({"git_remote": target.to_str().unwrap()}),
            )
            .await;
        let done = s.bb_task(&ann, bot, started.body["task_id"].as_i64().unwrap()).await;
        snap!("git_export_done", done);
        let branch = done.body["details"]["branch"].as_str().unwrap().to_owned();
        assert!(branch.starts_with("BB_Export_"), "{branch}");
        let files = branch_files(&target, &branch);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bot.json",
                "commands/Menu/Balance.js",
                "commands/_.js",
                "commands/_start.js",
                "libs/Greeter.js"
            ]
        );
        let start_file = &files.iter().find(|(p, _)| p == "commands/_start.js").unwrap().1;
        assert!(start_file.starts_with("/*CMD\n  command: /start\n  help: Start\n"), "{start_file}");
        assert!(start_file.contains("\n  <<ANSWER\nHello!\nPress a button.\n  ANSWER\n"), "{start_file}");

        let copy = new_bot(&s, &ann, "Copy").await;
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{copy}/git_import"),
                json!({"git_remote": target.to_str().unwrap(), "branch": branch}),
            )
            .await;
        let done = s.bb_task(&ann, copy, started.body["task_id"].as_i64().unwrap()).await;
        assert_eq!(done.body["status"], "ok", "{:?}", done.body);
        let before = commands(&s, &ann, bot).await;
        let after = commands(&s, &ann, copy).await;
        let strip = |cs: &[Value]| -> Vec<Value> {
            let mut cs: Vec<Value> = cs
                .iter()
                .map(|c| {
                    json!([
                        c["command"],
                        c["answer"],
                        c["keyboard_body"],
                        c["code"],
                        c["need_reply"],
                        c["commands_folder"]["title"],
                        c["aliases"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|a| a["command"].clone())
                            .collect::<Vec<_>>()
                    ])
                })
                .collect();
            cs.sort_by_key(|c| c[0].to_string());
            cs
        };
        assert_eq!(strip(&after), strip(&before), "export then import keeps every command");

        // Unsafe repositories are refused and change nothing.
        let evil = repos.path().join("evil.git");
        let repo = git2::Repository::init_bare(&evil).unwrap();
        commit(
            &repo,
            "refs/heads/master",
            &repository_files(),
            &[("commands/link.js", "../../../etc/passwd")],
        );
        repo.set_head("refs/heads/master").unwrap();
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{copy}/git_import"),
                json!({"git_remote": evil.to_str().unwrap()}),
            )
            .await;
        snap!("git_import_symlink", s.bb_task(&ann, copy, started.body["task_id"].as_i64().unwrap()).await);
        let big = repos.path().join("big.git");
        let mut files = repository_files();
        let huge = vec![b'x'; 20 * 1024];
        files.push(("commands/huge.js", &huge));
        bare_repo(&big, &files);
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{copy}/git_import"),
                json!({"git_remote": big.to_str().unwrap()}),
            )
            .await;
        snap!("git_import_oversized", s.bb_task(&ann, copy, started.body["task_id"].as_i64().unwrap()).await);
        let deep = repos.path().join("deep.git");
        let mut files = repository_files();
        files.push(("commands/a/b/c.js", b"Bot.sendMessage(1)"));
        bare_repo(&deep, &files);
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{copy}/git_import"),
                json!({"git_remote": deep.to_str().unwrap()}),
            )
            .await;
        snap!("git_import_too_deep", s.bb_task(&ann, copy, started.body["task_id"].as_i64().unwrap()).await);
        assert_eq!(strip(&commands(&s, &ann, copy).await), strip(&before));

        snap!(
            "git_no_remote",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{bot}/git_import"), json!({})).await
        );
        snap!(
            "git_ssh_remote",
            s.bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/git_import"),
                json!({"git_remote": "git@github.com:x/y.git"})
            )
            .await
        );
        let missing = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/git_import"),
                json!({"git_remote": repos.path().join("none.git").to_str().unwrap()}),
            )
            .await;
        let failed = s.bb_task(&ann, bot, missing.body["task_id"].as_i64().unwrap()).await;
        assert_eq!(failed.body["status"], "error");
        s.stop().await;
    }
}

#[tokio::test]
async fn local_git_remotes_are_off_by_default() {
    let s = TestServer::start(botyard_store::Backend::Sqlite).await;
    let ann = s.sign_up("ann@example.com").await;
    let bot = new_bot(&s, &ann, "Local").await;
    snap!(
        "git_local_refused",
        s.bb(
            &ann,
            Method::POST,
            &format!("/v2/bots/{bot}/git_import"),
            json!({"git_remote": "/srv/repo.git"})
        )
        .await
    );
    s.stop().await;
}

#[tokio::test]
async fn copies_stores_libraries_and_admin_panels() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;

        snap!("store_libs", s.bb(&ann, Method::GET, "/v2/store/libs", Value::Null).await);
        snap!("store_bots", s.bb(&ann, Method::GET, "/v2/store/bots", Value::Null).await);

        // Install the tap game demo: a copy with its libraries, that plays.
        let started = s.bb(&ann, Method::POST, "/v2/store/bots/tapgame/install", json!({})).await;
        snap!("demo_install_started", started);
        let task = started.body["task_id"].as_i64().unwrap();
        let done = s
            .poll(
                async || s.bb(&ann, Method::GET, "/v2/bots", Value::Null).await,
                |b| b.as_array().is_some_and(|a| !a.is_empty()),
            )
            .await;
        let game = done.body[0]["id"].as_i64().unwrap();
        let finished = s.bb_task(&ann, game, task).await;
        assert_eq!(finished.body["status"], "ok", "{:?}", finished.body);
        let libs = s.bb(&ann, Method::GET, &format!("/v2/bots/{game}/libs"), Value::Null).await;
        snap!("demo_libs", libs);
        s.bb(&ann, Method::POST, &format!("/v2/bots/{game}/status"), json!({"status": "start_launch"})).await;
        let webhook =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{game}"), Value::Null).await.body["web_channel_id"]
                .as_str()
                .unwrap()
                .to_owned();
        let mut chat = s.chat(&crate::webchat::TestBot { id: game, webhook }).await;
        let tapped = chat.ask("Tap", 1).await;
        assert!(tapped[0].starts_with("💰 ") && tapped[0].ends_with(" coins"), "{tapped:?}");
        let balance = chat.ask("/balance", 1).await;
        assert_eq!(
            balance[0],
            format!("Your balance: {} coins", tapped[0].trim_start_matches("💰 ").trim_end_matches(" coins"))
        );

        // Libraries: install, use, uninstall.
        let bot = s
            .bot(&ann, "Libs", &[cmd("/roll", "", "Bot.sendMessage('rolled ' + (Libs.Random.int(3, 3)))")])
            .await;
        let rolled_without = {
            let mut chat = s.chat(&bot).await;
            chat.ask("/roll", 1).await
        };
        assert!(rolled_without[0].contains("Sorry"), "{rolled_without:?}");
        snap!(
            "lib_installed",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{}/libs", bot.id), json!({"lib_id": "random"})).await
        );
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/roll", 1).await, ["rolled 3"]);
        snap!(
            "lib_unknown",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{}/libs", bot.id), json!({"lib_id": "nope"})).await
        );
        snap!(
            "lib_uninstalled",
            s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/libs/random", bot.id), Value::Null).await
        );
        assert_eq!(
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/libs", bot.id), Value::Null).await.body,
            json!([])
        );

        // Copy a bot with its properties into the same workspace.
        s.bb(
            &ann,
            Method::POST,
            &format!("/v2/bots/{game}/commands"),
            json!({"command": "/set", "bjs_code": "Bot.setProperty('jackpot', 7, 'integer')"}),
        )
        .await;
        let mut chat =
            s.chat(&crate::webchat::TestBot { id: game, webhook: chat_webhook(&s, &ann, game).await }).await;
        chat.ask("/set", 0).await;
        s.poll(
            async || s.bb(&ann, Method::GET, &format!("/v2/bots/{game}/properties"), Value::Null).await,
            |b| b.as_array().is_some_and(|a| a.iter().any(|p| p["name"] == "jackpot")),
        )
        .await;
        let started = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{game}/copy"),
                json!({"name": "Game 2", "with_properties": true}),
            )
            .await;
        snap!("copy_started", started);
        let done = s.bb_task(&ann, game, started.body["task_id"].as_i64().unwrap()).await;
        snap!("copy_done", done);
        let copy = done.body["details"]["new_bot_id"].as_i64().unwrap();
        assert_eq!(names(&commands(&s, &ann, copy).await), names(&commands(&s, &ann, game).await));
        let props = s.bb(&ann, Method::GET, &format!("/v2/bots/{copy}/properties"), Value::Null).await;
        assert!(props.body.as_array().unwrap().iter().any(|p| p["name"] == "jackpot"), "{:?}", props.body);

        // Admin panels: the bot defines one, the owner fills it in, on_saving runs.
        let panel_bot = s
            .bot(&ann, "Panels", &[
                cmd("/setup", "", "AdminPanel.setPanel({panel_name: 'Settings', data: {title: 'Settings', on_saving: '/saved', \
                     fields: [{name: 'price', title: 'Price', type: 'integer', value: 10}, {name: 'greeting', type: 'string', value: 'Hi'}, \
                     {name: 'open', type: 'checkbox', value: true}]}}); Bot.sendMessage('ready')"),
                cmd("/price", "", "Bot.sendMessage('price ' + AdminPanel.getFieldValue({panel_name: 'Settings', field_name: 'price'}))"),
                cmd("/bump", "", "AdminPanel.setFieldValue({panel_name: 'Settings', field_name: 'price', value: 11}); throw new Error('no')"),
                cmd("/saved", "", "Bot.setProperty('saved_price', options.values.price, 'integer')"),
            ])
            .await;
        let mut chat = s.chat(&panel_bot).await;
        assert_eq!(chat.ask("/setup", 1).await, ["ready"]);
        let panels =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{}/active_options", panel_bot.id), Value::Null).await;
        snap!("panels", panels);
        // A failed run changes no panel.
        chat.ask("/bump", 1).await;
        assert_eq!(chat.ask("/price", 1).await, ["price 10"]);
        let saved = s
            .bb(
                &ann,
                Method::PUT,
                &format!("/v2/bots/{}/active_options/Settings", panel_bot.id),
                json!({"values": {"price": "25", "open": false}}),
            )
            .await;
        snap!("panel_saved", saved);
        assert_eq!(chat.ask("/price", 1).await, ["price 25"]);
        let saved_price = s
            .poll(
                async || {
                    s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", panel_bot.id), Value::Null)
                        .await
                },
                |b| b.as_array().is_some_and(|a| a.iter().any(|p| p["name"] == "saved_price")),
            )
            .await;
        let property =
            saved_price.body.as_array().unwrap().iter().find(|p| p["name"] == "saved_price").unwrap().clone();
        assert_eq!(property["value"], 25, "on_saving ran with the saved values");
        snap!(
            "panel_wrong_type",
            s.bb(
                &ann,
                Method::PUT,
                &format!("/v2/bots/{}/active_options/1", panel_bot.id),
                json!({"values": {"price": "ten"}})
            )
            .await
        );
        snap!(
            "panel_unknown_field",
            s.bb(
                &ann,
                Method::PUT,
                &format!("/v2/bots/{}/active_options/1", panel_bot.id),
                json!({"values": {"colour": "red"}})
            )
            .await
        );
        snap!(
            "panel_unknown",
            s.bb(
                &ann,
                Method::PUT,
                &format!("/v2/bots/{}/active_options/Nope", panel_bot.id),
                json!({"values": {"price": 1}})
            )
            .await
        );
        s.stop().await;
    }
}

async fn chat_webhook(s: &TestServer, owner: &Account, bot: i64) -> String {
    s.bb(owner, Method::GET, &format!("/v2/bots/{bot}"), Value::Null).await.body["web_channel_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
