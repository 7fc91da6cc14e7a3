//! botyard's own archive: a bot with everything (Botpress definition, folders, commands, aliases,
//! libraries, an admin panel, Kore.ai components, properties) exported with `botyard export` and
//! imported with `botyard import` comes back the same; bad archives are refused whole.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::quick_jobs;
use crate::snap;
use crate::webchat::cmd;

const BIN: &str = env!("CARGO_BIN_EXE_botyard");

async fn botyard(s: &TestServer, account: &Account, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(BIN)
        .args(args)
        .args(["--server", &s.server.url(), "--api-key", &account.api_key, "--quiet"])
        .output()
        .await
        .expect("botyard runs")
}

/// Everything of a bot an archive should carry, without ids and times.
async fn everything(s: &TestServer, account: &Account, bot: i64) -> Value {
    let get = async |path: String| s.bb(account, Method::GET, &path, Value::Null).await.body;
    let mut commands: Vec<Value> = get(format!("/v2/bots/{bot}/commands"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!({
                "command": c["command"], "answer": c["answer"], "help": c["help"], "keyboard": c["keyboard_body"],
                "code": c["code"], "need_reply": c["need_reply"], "auto_retry_time": c["auto_retry_time"],
                "folder": c["commands_folder"]["title"], "csv": c["created_via_csv_import"],
                "aliases": c["aliases"].as_array().unwrap().iter().map(|a| a["command"].clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    commands.sort_by_key(|c| c["command"].to_string());
    let folders: Vec<Value> = get(format!("/v2/bots/{bot}/commands_folders"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].clone())
        .collect();
    let libs = get(format!("/v2/bots/{bot}/libs")).await;
    let panels = get(format!("/v2/bots/{bot}/active_options")).await;
    let mut properties: Vec<Value> = get(format!("/v2/bots/{bot}/properties"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["scope"] == "bot")
        .map(|p| json!([p["name"], p["type"], p["value"]]))
        .collect();
    properties.sort_by_key(|p| p.to_string());
    let uid = get(format!("/v2/bots/{bot}")).await["uid"].as_str().unwrap().to_owned();
    let mut definition =
        s.bp(account, Method::GET, &format!("/v1/admin/bots/{uid}"), Value::Null).await.body["bot"].clone();
    for volatile in
        ["id", "createdAt", "updatedAt", "deployedAt", "name", "webChannelId", "createdBy", "signingSecret"]
    {
        definition.as_object_mut().unwrap().remove(volatile);
    }
    json!({"commands": commands, "folders": folders, "libs": libs, "panels": panels, "properties": properties, "definition": definition})
}

#[tokio::test]
async fn archives_round_trip_through_the_cli() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Everything", &[
                json!({"command": "/start", "answer": "Hi!\nTwo lines", "aliases": "hello, /begin", "keyboard_body": "A,B\nC",
                       "bjs_code": "Bot.setProperty('visits', (Bot.getProperty('visits') || 0) + 1, 'integer')"}),
                cmd("/setup", "", "AdminPanel.setPanel({panel_name: 'Prices', data: {title: 'Prices', fields: [{name: 'tea', type: 'float', value: 2.5}]}})"),
                json!({"command": "/ask", "need_reply": true, "answer": "Your name?", "bjs_code": "User.setProperty('name', message)"}),
            ])
            .await;
        let folder = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{}/commands_folders", bot.id),
                json!({"title": "Menu"}),
            )
            .await;
        s.bb(
            &ann,
            Method::POST,
            &format!("/v2/bots/{}/commands", bot.id),
            json!({"command": "Menu item", "commands_folder_id": folder.body["id"]}),
        )
        .await;
        s.bb(&ann, Method::POST, &format!("/v2/bots/{}/libs", bot.id), json!({"lib_id": "points"})).await;
        let uid = s.bb(&ann, Method::GET, &format!("/v2/bots/{}", bot.id), Value::Null).await.body["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        let changed = s
            .bp(&ann, Method::PUT, &format!("/v1/admin/bots/{uid}"), json!({
                "tags": {"team": "support"},
                "configuration": {"schema": {"type": "object", "properties": {"greeting": {"type": "string"}}}, "data": {"greeting": "Hey"}},
                "events": {"ping": {"schema": {"type": "object"}}},
                "code": "on('message', function () {});",
            }))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        // Kore.ai components, through the Kore.ai dialect.
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let definition = json!({"_id": "st-x", "refId": "r", "defaultLanguage": "en", "localeData": {"en": {"name": "K"}},
            "forms": [{"refId": "f1", "name": "Survey"}], "botEvents": {"WELCOME_MESSAGE_EVENT": {"enabled": true}}});
        let file =
            s.upload_id(&token, "botDefinition.json", "json", definition.to_string().into_bytes()).await;
        let started =
            s.kore(&token, Method::POST, &format!("/bot/{uid}/import"), json!({"botDefinition": file})).await;
        assert_eq!(
            s.kore_import(&token, started.body["_id"].as_str().unwrap()).await.body["status"],
            "success"
        );
        let mut chat = s.chat(&bot).await;
        chat.ask("/start", 1).await;
        chat.ask("/setup", 0).await;
        s.poll(
            async || {
                s.bb(&ann, Method::GET, &format!("/v2/bots/{}/active_options", bot.id), Value::Null).await
            },
            |b| b.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
        s.poll(
            async || s.bb(&ann, Method::GET, &format!("/v2/bots/{}/properties", bot.id), Value::Null).await,
            |b| b.as_array().is_some_and(|a| a.iter().any(|p| p["name"] == "visits")),
        )
        .await;
        let before = everything(&s, &ann, bot.id).await;
        assert_eq!(before["commands"].as_array().unwrap().len(), 4);
        assert_eq!(
            (before["libs"].as_array().unwrap().len(), before["panels"].as_array().unwrap().len()),
            (1, 1)
        );
        assert_eq!(before["properties"], json!([["visits", "integer", 1]]));
        assert_eq!(before["definition"]["tags"]["team"], "support");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("everything.botyard.zip");
        let exported =
            botyard(&s, &ann, &["export", &bot.id.to_string(), "-o", file.to_str().unwrap(), "--properties"])
                .await;
        assert!(exported.status.success(), "{exported:?}");
        let imported =
            botyard(&s, &ann, &["import", file.to_str().unwrap(), "--name", "Everything again"]).await;
        assert!(imported.status.success(), "{imported:?}");
        let new_uid = String::from_utf8(imported.stdout).unwrap().trim().to_owned();
        let copy = s.bb(&ann, Method::GET, &format!("/v2/bots/{new_uid}"), Value::Null).await;
        assert_eq!(copy.body["name"], "Everything again");
        let after = everything(&s, &ann, copy.body["id"].as_i64().unwrap()).await;
        assert_eq!(after, before, "the round trip is lossless");
        // The Kore.ai components came along.
        let export = s
            .kore(&token, Method::POST, &format!("/bot/{new_uid}/export"), json!({"exportType": "latest"}))
            .await;
        assert_eq!(export.status, StatusCode::OK);
        let path = format!("/bot/{new_uid}/export/status");
        let done = s
            .poll(
                async || s.kore(&token, Method::GET, &path, Value::Null).await,
                |b| b["status"] != "pending",
            )
            .await;
        let zip = s
            .http
            .get(done.body["downloadURL"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let entries = crate::harness::unzip(&zip);
        let back: Value =
            serde_json::from_slice(&entries.iter().find(|e| e.path == "botDefinition.json").unwrap().content)
                .unwrap();
        assert_eq!(back["forms"], definition["forms"]);
        assert_eq!(back["botEvents"], definition["botEvents"]);
        s.stop().await;
    }
}

#[tokio::test]
async fn archive_jobs_and_bad_archives() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let bot =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "small"})).await.body["bot"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let started = s.bp(&ann, Method::POST, &format!("/v1/admin/bots/{bot}/export"), json!({})).await;
        snap!("export_job_started", started);
        let job = started.body["job"]["id"].as_str().unwrap().to_owned();
        let done = s
            .poll(
                async || s.bp(&ann, Method::GET, &format!("/v1/admin/jobs/{job}"), Value::Null).await,
                |b| b["job"]["status"] == "succeeded",
            )
            .await;
        snap!("export_job_done", done);
        snap!(
            "job_of_another_workspace",
            s.bp(&bob, Method::GET, &format!("/v1/admin/jobs/{job}"), Value::Null).await
        );
        snap!("job_unknown", s.bp(&ann, Method::GET, "/v1/admin/jobs/nope", Value::Null).await);
        snap!(
            "job_cancel_finished",
            s.bp(&ann, Method::POST, &format!("/v1/admin/jobs/{job}/cancel"), Value::Null).await
        );

        let import = async |bytes: Vec<u8>| {
            let auth = format!("Bearer {}", ann.api_key);
            let started = s
                .call_raw(
                    Method::POST,
                    "/v1/admin/bots/import",
                    &[("authorization", &auth), ("x-workspace-id", &ann.workspace)],
                    "application/zip",
                    bytes,
                )
                .await;
            assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
            let job = started.body["job"]["id"].as_str().unwrap().to_owned();
            s.poll(
                async || s.bp(&ann, Method::GET, &format!("/v1/admin/jobs/{job}"), Value::Null).await,
                |b| matches!(b["job"]["status"].as_str(), Some("succeeded" | "failed")),
            )
            .await
        };
        use botyard_jobs::files::{Entry, write_zip};
        snap!("import_not_an_archive", import(b"just text".to_vec()).await);
        let manifest = br#"{"format":"botyard","version":1,"bot":{"name":"x"}}"#.to_vec();
        let traversal = write_zip(&[
            Entry { path: "botyard.json".into(), content: manifest.clone() },
            Entry { path: "../../evil.js".into(), content: b"x".to_vec() },
        ])
        .unwrap();
        snap!("import_path_traversal", import(traversal).await);
        let bomb = write_zip(&[
            Entry { path: "botyard.json".into(), content: manifest.clone() },
            Entry { path: "zeros".into(), content: vec![0; 64 << 20] },
        ])
        .unwrap();
        snap!("import_zip_bomb", import(bomb).await);
        let bad_command = write_zip(&[
            Entry { path: "botyard.json".into(), content: manifest.clone() },
            Entry { path: "commands.json".into(), content: br#"[{"command": ""}]"#.to_vec() },
        ])
        .unwrap();
        snap!("import_bad_command", import(bad_command).await);
        let bots = s.bp(&ann, Method::GET, "/v1/admin/bots", Value::Null).await;
        assert_eq!(bots.body["bots"].as_array().unwrap().len(), 1, "no bad archive created a bot");
        let minimal =
            import(write_zip(&[Entry { path: "botyard.json".into(), content: manifest }]).unwrap()).await;
        assert_eq!(minimal.body["job"]["status"], "succeeded", "{:?}", minimal.body);

        let dir = tempfile::tempdir().unwrap();
        let wrong_key = tokio::process::Command::new(BIN)
            .args([
                "export",
                &bot,
                "-o",
                dir.path().join("x.zip").to_str().unwrap(),
                "--server",
                &s.server.url(),
                "--api-key",
                "nope",
                "--quiet",
            ])
            .output()
            .await
            .unwrap();
        assert!(!wrong_key.status.success());
        assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("401"), "{wrong_key:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn jobs_that_have_not_started_can_be_canceled() {
    for backend in backends() {
        // No workers: jobs wait in the queue.
        let s = TestServer::start_with(backend, |c| c.jobs.workers = 0).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "idle"})).await.body["bot"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let started = s.bp(&ann, Method::POST, &format!("/v1/admin/bots/{bot}/export"), json!({})).await;
        let job = started.body["job"]["id"].as_str().unwrap().to_owned();
        snap!(
            "job_canceled",
            s.bp(&ann, Method::POST, &format!("/v1/admin/jobs/{job}/cancel"), Value::Null).await
        );
        assert_eq!(
            s.bp(&ann, Method::GET, &format!("/v1/admin/jobs/{job}"), Value::Null).await.body["job"]["status"],
            "canceled"
        );
        s.stop().await;
    }
}
