//! The Kore.ai dialect: apps and their JWTs, uploads, importing the real Vaxie export in JSON and
//! ZIP modes, exports and downloads, imports into existing bots, bot functions, rate limits, and a
//! worker that dies in the middle of an import.

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::{App, quick_jobs, vaxie};
use crate::snap;

/// The status logs Kore.ai writes for the Vaxie export: every component, in its order.
fn vaxie_logs() -> Vec<(String, String)> {
    let definition: Value = serde_json::from_slice(&vaxie("botDefinition.json")).unwrap();
    let mut logs: Vec<(&str, String)> = vec![
        ("importRequest", "Vaxie".into()),
        ("Bot Definition", "Vaxie".into()),
        ("IdpConfigurations", "IdpConfigurations".into()),
        ("CustomTemplates", "CustomTemplates".into()),
        ("BotFunctions", "Bot Functions".into()),
    ];
    logs.extend(
        definition["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| ("Widget", w["name"].as_str().unwrap().into())),
    );
    logs.extend(
        definition["dialogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| ("Dialog", d["localeData"]["en"]["name"].as_str().unwrap().into())),
    );
    logs.extend(
        definition["forms"].as_array().unwrap().iter().map(|f| ("Form", f["name"].as_str().unwrap().into())),
    );
    logs.extend(definition["botEvents"].as_object().unwrap().keys().map(|k| ("Event", k.clone())));
    for task in ["KnowledgeTasks", "Utterences", "Patterns", "BotVariables", "SmallTalk"] {
        logs.push((task, task.into()));
    }
    logs.push(("importBot", "Vaxie".into()));
    logs.into_iter().map(|(t, n)| (t.to_owned(), n)).collect()
}

fn logs_of(status: &Value) -> Vec<(String, String)> {
    status["statusLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["status"], "success", "{l}");
            (l["taskType"].as_str().unwrap().to_owned(), l["taskName"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Uploads Vaxie's three files and imports them as a new bot; returns the finished status.
async fn import_vaxie_json(s: &TestServer, token: &str, label: &str) -> Value {
    let definition = s.upload_id(token, "botDefinition.json", "json", vaxie("botDefinition.json")).await;
    let config = s.upload_id(token, "config.json", "json", vaxie("config.json")).await;
    let icon = s.upload_id(token, "icon.png", "png", vaxie("icon.png")).await;
    let started = s
        .kore(
            token,
            Method::POST,
            "/bot/import",
            json!({
                "botDefinition": definition, "configInfo": config, "icon": icon, "uploadMode": "JSON"
            }),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert_eq!(started.body["status"], "pending");
    snap!(format!("vaxie_import_accepted_{label}"), started);
    s.kore_import(token, started.body["_id"].as_str().unwrap()).await.body
}

/// The definition inside a Kore.ai export archive.
fn definition_in(archive: &[u8]) -> Value {
    let entries = crate::harness::unzip(archive);
    let definition = entries.iter().find(|e| e.path == "botDefinition.json").expect("botDefinition.json");
    serde_json::from_slice(&definition.content).unwrap()
}

/// Exports the bot and downloads the archive; the answers are pinned under `label`, if given.
async fn export(s: &TestServer, token: &str, bot: &str, label: Option<&str>) -> Vec<u8> {
    let started =
        s.kore(token, Method::POST, &format!("/bot/{bot}/export"), json!({"exportType": "latest"})).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    if let Some(label) = label {
        snap!(format!("export_accepted_{label}"), started);
    }
    let path = format!("/bot/{bot}/export/status");
    let done = s
        .poll(async || s.kore(token, Method::GET, &path, Value::Null).await, |b| b["status"] != "pending")
        .await;
    if let Some(label) = label {
        snap!(format!("export_status_{label}"), done);
    }
    assert_eq!(done.body["status"], "success", "{:?}", done.body);
    let url = done.body["downloadURL"].as_str().unwrap();
    // The link works on its own (signed), as Kore.ai's download links do.
    let response = s.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(done.body["fileSize"], bytes.len().to_string());
    // And with the app's token instead of the link's.
    let file = done.body["fileId"].as_str().unwrap();
    let with_header =
        s.http.get(s.url(&format!("/api/public/files/{file}"))).header("auth", token).send().await.unwrap();
    assert_eq!(with_header.status(), StatusCode::OK);
    let forged = s.http.get(s.url(&format!("/api/public/files/{file}?token=x"))).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // The link's token opens its file and nothing else: not another file, not any other route.
    let link_token = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let elsewhere = s
        .http
        .get(s.url(&format!("/api/public/files/0123456789abcdef01234567?token={link_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED, "another file");
    let as_header = s
        .http
        .get(s.url(&format!("/api/public/files/{file}")))
        .header("auth", &link_token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_header.status(), StatusCode::UNAUTHORIZED, "a download token is not an app token");
    snap!(
        "download_token_as_credential",
        s.kore(&link_token, Method::POST, &format!("/bot/{bot}/export"), json!({"exportType": "latest"}))
            .await
    );
    bytes
}

#[tokio::test]
async fn vaxie_imports_in_both_modes_and_round_trips() {
    let original: Value = serde_json::from_slice(&vaxie("botDefinition.json")).unwrap();
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let app = s.app(&ann, &["Bot Definition"], false).await;
        let token = app.token();

        // JSON mode.
        let done = import_vaxie_json(&s, &token, "1").await;
        assert_eq!(done["status"], "success", "{done}");
        assert_eq!(logs_of(&done), vaxie_logs());
        snap!(
            "vaxie_import_done",
            crate::harness::Reply { status: StatusCode::OK, headers: Default::default(), body: done.clone() }
        );
        let bot = done["streamId"].as_str().unwrap().to_owned();
        let shown = s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}"), Value::Null).await;
        assert_eq!(shown.body["name"], "Vaxie", "the new bot is visible in every dialect");

        // Export and compare: the same components with the same content.
        let archive = export(&s, &token, &bot, Some("1")).await;
        assert_eq!(definition_in(&archive), original, "exporting an imported bot gives back its definition");

        // ZIP mode, with the real export archive.
        let zip = s.upload_id(&token, "vaxie-export.zip", "zip", vaxie("vaxie-export.zip")).await;
        let started = s
            .kore(
                &token,
                Method::POST,
                "/bot/import",
                json!({"uploadMode": "ZIP", "zipInfo": zip, "name": "Vaxie"}),
            )
            .await;
        let zipped = s.kore_import(&token, started.body["_id"].as_str().unwrap()).await.body;
        assert_eq!(zipped["status"], "success", "{zipped}");
        assert_eq!(logs_of(&zipped), vaxie_logs());

        // Our own export archive imports again, and exports the same definition.
        let ours = s.upload_id(&token, "export.zip", "zip", archive).await;
        let started =
            s.kore(&token, Method::POST, "/bot/import", json!({"uploadMode": "ZIP", "zipInfo": ours})).await;
        let again = s.kore_import(&token, started.body["_id"].as_str().unwrap()).await.body;
        assert_eq!(again["status"], "success", "{again}");
        let second = export(&s, &token, again["streamId"].as_str().unwrap(), Some("2")).await;
        assert_eq!(definition_in(&second), original);
        s.stop().await;
    }
}

#[tokio::test]
async fn imports_into_existing_bots_full_and_incremental() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Import", "Bot Export"], false).await.token();
        let bot =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "target"})).await.body["bot"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let definition = |dialogs: Value, patterns: Value| {
            json!({"_id": "st-x", "refId": "r-bot", "defaultLanguage": "en", "localeData": {"en": {"name": "Demo"}},
                   "dialogComponents": [{"_id": "dc-1", "refId": "r-dc-1", "name": "Intent", "type": "intent"}],
                   "dialogs": dialogs, "patterns": patterns, "botEvents": {}})
        };
        let dialog = |refid: &str, name: &str| {
            json!({"_id": "dg", "refId": refid, "lname": name, "localeData": {"en": {"name": name}},
                   "nodes": [{"nodeId": "intent0", "componentId": "dc-1"}]})
        };
        let import = async |definition: Value, options: Option<Value>| {
            let file =
                s.upload_id(&token, "botDefinition.json", "json", definition.to_string().into_bytes()).await;
            let config = s.upload_id(&token, "config.json", "json", br#"{"name":"Demo"}"#.to_vec()).await;
            let mut body = json!({"botDefinition": file, "configInfo": config});
            if let Some(options) = options {
                body["importOptions"] = options;
            }
            let started = s.kore(&token, Method::POST, &format!("/bot/{bot}/import"), body).await;
            assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
            s.kore_import(&token, started.body["_id"].as_str().unwrap()).await.body
        };
        let names = async || {
            let archive = export(&s, &token, &bot, None).await;
            let d = definition_in(&archive);
            let dialogs: Vec<String> = d["dialogs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["lname"].as_str().unwrap().to_owned())
                .collect();
            let patterns: Vec<String> = d["patterns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["value"].as_str().unwrap().to_owned())
                .collect();
            (dialogs, patterns)
        };

        let full = import(
            definition(json!([dialog("r1", "one"), dialog("r2", "two")]), json!([{"value": "hi"}])),
            None,
        )
        .await;
        assert_eq!(full["status"], "success", "{full}");
        assert_eq!(names().await, (vec!["one".into(), "two".into()], vec!["hi".into()]));

        // Incremental: r2 replaced, r3 added, r1 kept; patterns appended.
        let incremental = import(
            definition(json!([dialog("r2", "two-v2"), dialog("r3", "three")]), json!([{"value": "hello"}])),
            Some(json!({"tasks": ["botTask"], "nlpData": ["patterns"], "options": {"patterns": {"append": true}}})),
        )
        .await;
        assert_eq!(incremental["status"], "success", "{incremental}");
        assert_eq!(
            names().await,
            (vec!["one".into(), "two-v2".into(), "three".into()], vec!["hi".into(), "hello".into()])
        );

        // Patterns replaced.
        import(
            definition(json!([]), json!([{"value": "only"}])),
            Some(json!({"tasks": [], "nlpData": ["patterns"], "options": {"patterns": {"replace": true}}})),
        )
        .await;
        assert_eq!(names().await.1, vec!["only".to_owned()]);

        // A full import deletes what the file does not have.
        import(definition(json!([dialog("r9", "nine")]), json!([])), None).await;
        assert_eq!(names().await, (vec!["nine".into()], vec![]));

        // A broken component fails the import, says why, and changes nothing.
        let broken = json!([{"_id": "dg", "refId": "rb", "lname": "bad", "nodes": [{"nodeId": "n1", "componentId": "dc-missing"}]}]);
        let failed = import(definition(broken, json!([])), None).await;
        assert_eq!(failed["status"], "failed");
        snap!(
            "import_with_a_broken_dialog",
            crate::harness::Reply { status: StatusCode::OK, headers: Default::default(), body: failed }
        );
        assert_eq!(names().await, (vec!["nine".into()], vec![]));

        // Bot functions, synchronously.
        let js =
            s.upload_id(&token, "BotFunctions.js", "js", b"function greet() { return 'hi'; }".to_vec()).await;
        let imported = s
            .kore(
                &token,
                Method::POST,
                &format!("/bot/{bot}/import/botfunctions"),
                json!([{"fileName": "BotFunctions.js", "fileId": js}]),
            )
            .await;
        snap!("bot_functions_imported", imported);
        let archive = export(&s, &token, &bot, Some("4")).await;
        let entries = crate::harness::unzip(&archive);
        let script =
            entries.iter().find(|e| e.path == "BotFunctions.js").expect("the functions file is exported");
        assert_eq!(script.content, b"function greet() { return 'hi'; }");
        snap!(
            "bot_functions_bad_file",
            s.kore(
                &token,
                Method::POST,
                &format!("/bot/{bot}/import/botfunctions"),
                json!([{"fileName": "F.js", "fileId": "nope"}])
            )
            .await
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn tokens_are_checked_like_kore_ai_does() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let app = s.app(&ann, &["Bot Definition"], false).await;
        let status = |token: &str| {
            let token = token.to_owned();
            let s = &s;
            async move {
                s.kore(
                    &token,
                    Method::GET,
                    "/bot/import/status/bir-00000000-0000-0000-0000-000000000000",
                    Value::Null,
                )
                .await
            }
        };
        // A valid token reaches the route (an unknown request id).
        snap!("unknown_request_id", status(&app.token()).await);
        assert_eq!(
            status(&app.token_with(Algorithm::HS512, json!({}))).await.status,
            StatusCode::BAD_REQUEST,
            "HS512 is accepted"
        );

        snap!("no_token", s.call(Method::GET, "/api/public/bot/import/status/bir-x", &[], Value::Null).await);
        snap!("not_a_jwt", status("JWTToken").await);
        let unsigned = {
            use base64::Engine;
            let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(json!({"appId": app.client_id})))
        };
        assert_eq!(status(&unsigned).await.status, StatusCode::UNAUTHORIZED, "alg none is refused");
        let wrong = App { client_id: app.client_id.clone(), secret: "not the secret".into() };
        snap!("wrong_secret", status(&wrong.token()).await);
        let unknown = App { client_id: "cs-unknown".into(), secret: app.secret.clone() };
        assert_eq!(status(&unknown.token()).await.status, StatusCode::UNAUTHORIZED);
        let expired = app.token_with(Algorithm::HS256, json!({"exp": 1_600_000_000}));
        snap!("expired", status(&expired).await);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let fresh = app.token_with(Algorithm::HS256, json!({"exp": now + 600}));
        assert_eq!(status(&fresh).await.status, StatusCode::BAD_REQUEST);
        // Tokens live at most the app's lifetime for tokens (an hour by default).
        let forever = app.token_with(Algorithm::HS256, json!({"exp": 4_000_000_000_u64}));
        snap!("lives_too_long", status(&forever).await);
        let stale = app.token_with(Algorithm::HS256, json!({"iat": now - 7200}));
        snap!("no_exp_past_lifetime", status(&stale).await);
        let timeless = {
            let claims = json!({"appId": app.client_id});
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::HS256),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(app.secret.as_bytes()),
            )
            .unwrap()
        };
        snap!("no_exp_or_iat", status(&timeless).await);
        let early = app.token_with(Algorithm::HS256, json!({"nbf": now + 3600}));
        assert_eq!(status(&early).await.status, StatusCode::UNAUTHORIZED, "nbf is checked");
        let hs384 = app.token_with(Algorithm::HS384, json!({}));
        assert_eq!(status(&hs384).await.status, StatusCode::UNAUTHORIZED, "only HS256 and HS512");

        let strict = s.app(&ann, &["Bot Definition"], true).await;
        snap!("jti_required", status(&strict.token()).await);
        let once = strict.token_with(Algorithm::HS256, json!({"jti": "j-1"}));
        assert_eq!(status(&once).await.status, StatusCode::BAD_REQUEST);
        snap!("jti_replayed", status(&once).await);
        let other = strict.token_with(Algorithm::HS256, json!({"jti": "j-2"}));
        assert_eq!(status(&other).await.status, StatusCode::BAD_REQUEST, "a new jti passes");

        let exporter = s.app(&ann, &["Bot Export"], false).await;
        snap!("missing_scope", status(&exporter.token()).await);

        // Apps are listed without secrets and can be deleted.
        let listed =
            s.bb(&ann, Method::GET, &format!("/v2/workspaces/{}/apps", ann.workspace), Value::Null).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 3);
        assert!(listed.body[0].get("client_secret").is_none());
        let deleted = s
            .bb(
                &ann,
                Method::DELETE,
                &format!("/v2/workspaces/{}/apps/{}", ann.workspace, app.client_id),
                Value::Null,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::OK);
        assert_eq!(
            status(&app.token()).await.status,
            StatusCode::UNAUTHORIZED,
            "a deleted app's tokens stop working"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn bad_requests_and_other_workspaces() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let bobs_token = s.app(&bob, &["Bot Definition"], false).await.token();
        let bot = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "mine"})).await.body["bot"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        snap!(
            "import_missing_definition",
            s.kore(&token, Method::POST, "/bot/import", json!({"uploadMode": "JSON"})).await
        );
        snap!(
            "import_unknown_file",
            s.kore(
                &token,
                Method::POST,
                "/bot/import",
                json!({"botDefinition": "0123456789abcdef01234567", "configInfo": "x"})
            )
            .await
        );
        snap!("upload_without_file", {
            let form = reqwest::multipart::Form::new().text("fileContext", "bulkImport");
            let r = s
                .http
                .post(s.url("/api/public/uploadfile"))
                .header("auth", &token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            crate::harness::Reply {
                status: r.status(),
                headers: r.headers().clone(),
                body: r.json().await.unwrap(),
            }
        });
        snap!("upload_wrong_extension", s.upload(&token, "x.exe", "exe", b"MZ".to_vec()).await);
        snap!(
            "export_bad_type",
            s.kore(&token, Method::POST, &format!("/bot/{bot}/export"), json!({"exportType": "old"})).await
        );
        snap!(
            "export_no_component",
            s.kore(
                &token,
                Method::POST,
                &format!("/bot/{bot}/export"),
                json!({"exportType": "latest", "exportOptions": {"tasks": []}})
            )
            .await
        );
        snap!(
            "export_status_never_exported",
            s.kore(&token, Method::GET, &format!("/bot/{bot}/export/status"), Value::Null).await
        );
        snap!("method_not_allowed", s.kore(&token, Method::GET, "/bot/import", Value::Null).await);

        // Another workspace's app sees neither the bot nor the files.
        snap!(
            "other_workspace_bot",
            s.kore(&bobs_token, Method::POST, &format!("/bot/{bot}/export"), json!({"exportType": "latest"}))
                .await
        );
        let file = s.upload_id(&token, "botDefinition.json", "json", b"{}".to_vec()).await;
        let bobs_import = s
            .kore(
                &bobs_token,
                Method::POST,
                "/bot/import",
                json!({"botDefinition": file, "configInfo": file}),
            )
            .await;
        assert_eq!(bobs_import.status, StatusCode::BAD_REQUEST);
        assert_eq!(bobs_import.body["errors"][0]["msg"], "Invalid file id");

        // A definition that is not even JSON fails at "Bot Definition".
        let junk = s.upload_id(&token, "botDefinition.json", "json", b"not json".to_vec()).await;
        let started =
            s.kore(&token, Method::POST, "/bot/import", json!({"botDefinition": junk, "name": "Junk"})).await;
        let failed = s.kore_import(&token, started.body["_id"].as_str().unwrap()).await;
        snap!("import_not_json", failed);
        s.stop().await;
    }
}

#[tokio::test]
async fn rate_limits_per_bot() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann: Account = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let bot = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "busy"})).await.body["bot"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let other =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "quiet"})).await.body["bot"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        // 60 at once pass; then one comes back per second (the test may take more than a second).
        let mut passed = 0;
        let refused = loop {
            let reply = s
                .kore(&token, Method::POST, &format!("/bot/{bot}/export"), json!({"exportType": "latest"}))
                .await;
            if reply.status != StatusCode::OK {
                break reply;
            }
            passed += 1;
            assert!(passed < 200, "never refused");
        };
        assert!(passed >= 60, "{passed}");
        assert!(refused.header("retry-after").is_some());
        snap!("rate_limited", refused);
        let elsewhere = s
            .kore(&token, Method::POST, &format!("/bot/{other}/export"), json!({"exportType": "latest"}))
            .await;
        assert_eq!(elsewhere.status, StatusCode::OK, "the limit is per bot");
        // Uploads: 60 a minute per app, as Kore.ai documents.
        let mut passed = 0;
        let refused = loop {
            let reply = s.upload(&token, "config.json", "json", b"{}".to_vec()).await;
            if reply.status != StatusCode::OK {
                break reply;
            }
            passed += 1;
            assert!(passed < 200, "never refused");
        };
        assert!(passed >= 60, "{passed}");
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", refused.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_worker_dying_mid_import_leaves_the_bot_untouched() {
    for backend in backends() {
        // The first attempt dies inside the import's transaction; the job is taken up again when
        // its lease runs out, and the second attempt succeeds.
        let s = TestServer::start_with(backend, |c| {
            quick_jobs(c);
            c.jobs.lease_secs = 1;
            c.jobs.failpoints = vec!["import.apply".into()];
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let done = import_vaxie_json(&s, &token, "2").await;
        assert_eq!(done["status"], "success", "{done}");
        let bots = s.bp(&ann, Method::GET, "/v1/admin/bots", Value::Null).await;
        assert_eq!(bots.body["bots"].as_array().unwrap().len(), 1, "applied once");
        s.stop().await;

        // With one attempt allowed, the job fails with the reason, and no bot is created.
        let s = TestServer::start_with(backend, |c| {
            quick_jobs(c);
            c.jobs.lease_secs = 1;
            c.jobs.max_attempts = 1;
            c.jobs.failpoints = vec!["import.apply".into()];
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let done = import_vaxie_json(&s, &token, "3").await;
        assert_eq!(done["status"], "failed", "{done}");
        assert!(done["message"].as_str().unwrap().contains("interrupted"), "{done}");
        let bots = s.bp(&ann, Method::GET, "/v1/admin/bots", Value::Null).await;
        assert_eq!(bots.body["bots"], json!([]), "nothing half-imported");
        s.stop().await;
    }
}
