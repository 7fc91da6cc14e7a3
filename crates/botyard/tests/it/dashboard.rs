//! The dashboard at `/`, walked in headless Chromium as a new user (tests/node/dashboard.mjs):
//! sign up, a bot, a folder and a command, the try-it panel, a syntax error marked in the editor,
//! a failing run's error beside its command, chats and properties, a broadcast paused and resumed,
//! an export downloaded, a Kore.ai export imported, a Kore.ai app's secret shown once, a Botpress
//! configuration form, a keyboard-only sign-in, and a phone-sized screen. With
//! `BOTYARD_DASHBOARD_SCREENSHOTS=docs/dashboard` the pages' screenshots are written there.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, backends};
use crate::node_clients::node;

const VAXIE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai/vaxie/vaxie-export.zip");

fn text(seen: &Value, key: &str) -> String {
    seen[key].as_str().unwrap_or_else(|| panic!("{key} missing: {seen}")).to_owned()
}

#[tokio::test]
async fn a_new_user_walks_the_dashboard() {
    for (i, backend) in backends().into_iter().enumerate() {
        let s = TestServer::start_with(backend, |c| {
            c.jobs.poll_interval_ms = 50;
            // Slow enough to pause the broadcast before it reaches its 13 chats.
            c.telegram.broadcast_per_second = 1;
        })
        .await;
        let shots = match std::env::var("BOTYARD_DASHBOARD_SCREENSHOTS") {
            Ok(dir) if i == 0 => concat!(env!("CARGO_MANIFEST_DIR"), "/../../").to_owned() + &dir,
            _ => std::env::temp_dir()
                .join(format!("botyard-dashboard-{}", std::process::id()))
                .display()
                .to_string(),
        };
        let seen = node("dashboard.mjs", &[&s.url(""), VAXIE, &shots]).await;

        assert_eq!(seen["scriptErrors"], Value::Null, "the page threw: {seen}");
        for (page, checks) in seen["pages"].as_object().unwrap() {
            assert_eq!(checks["unlabelled"], json!([]), "{page}: controls without a name");
            assert_eq!(checks["fits"], true, "{page} is wider than the screen");
        }
        assert_eq!(seen["tree"], json!(["Greetings: /start"]), "the command sits in its folder");
        assert_eq!(seen["syntax"]["line"], "2", "{seen}");
        assert!(text(&seen["syntax"], "problem").starts_with("SyntaxError"), "{seen}");
        let run_error = text(&seen, "runError");
        assert!(run_error.contains("notDefinedAnywhere is not defined"), "{run_error}");
        assert!(run_error.contains("(/start:1:17)"), "the stack names the command's own line: {run_error}");
        assert_eq!(text(&seen, "keptDraft"), "Bot.sendMessage('draft')", "unsaved code is not dropped");
        assert!(text(&seen, "userProperties").contains("visits\t1\t2"), "{seen}");
        assert!(text(&seen, "broadcast").contains("paused"), "{seen}");
        assert_eq!(text(&seen, "download"), "Greeter.botyard.zip");
        let jobs = text(&seen, "jobs");
        assert!(jobs.contains("Kore.ai import\tVaxie\tsucceeded"), "{jobs}");
        assert!(jobs.contains("Export\tGreeter\tsucceeded"), "{jobs}");
        let bots = text(&seen, "bots");
        assert!(bots.contains("Greeter\tBots.Business\tworks"), "{bots}");
        assert!(bots.contains("Vaxie\tKore.ai\tunpublished"), "{bots}");
        assert_eq!(text(&seen, "appSecret").len(), 40, "the secret is shown on creation");
        assert_eq!(seen["secretAfterReload"], 0, "and never again");
        assert_eq!(
            seen["configuration"],
            json!({"greeting": "Welcome!", "retries": 5, "tone": "casual", "escalate": true})
        );
        assert_eq!(seen["status"]["botpress"], "active", "a Botpress bot's status in Botpress's words");
        assert_eq!(seen["workspaces"], json!(["ann's workspace (owner)", "Team (owner)"]), "{seen}");
        assert_eq!(seen["keyboardSignIn"], true);

        // What the browser did, seen through the API: the imported bot answers as Kore.ai's.
        let signed = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "a long password"}),
            )
            .await;
        let bearer = format!("Bearer {}", signed.body["access_token"].as_str().unwrap());
        let listed = s.call(Method::GET, "/v2/bots", &[("authorization", &bearer)], Value::Null).await;
        let vaxie = listed.body.as_array().unwrap().iter().find(|b| b["name"] == "Vaxie").unwrap();
        assert_eq!(vaxie["origin"], "koreai");
        let first = &seen["firstLoad"];
        println!(
            "dashboard first load: {} bytes compressed ({} uncompressed), bots listed after {} ms",
            first["compressedBytes"], first["assetBytesUncompressed"], first["untilBotsListedMs"]
        );
        s.stop().await;
    }
}

const PIPELINE_DEFINITION: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai/botpipeline/botDefinition.json");

/// The routes the dashboard added to the APIs: a command's code checked without running it, the
/// workspace's jobs, an upload that is a Kore.ai export, and a bot's origin.
#[tokio::test]
async fn the_dashboards_routes() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.jobs.poll_interval_ms = 50).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Checked", &[]).await;
        let check = format!("/v2/bots/{}/commands/check", bot.id);
        let valid = s
            .bb(&ann, Method::POST, &check, json!({"bjs_code": "if (!params) { return }\nwhile (true) {}"}))
            .await;
        crate::snap!("dashboard_check_valid", valid);
        let broken =
            s.bb(&ann, Method::POST, &check, json!({"bjs_code": "let a = 1\n\nBot.sendMessage(a +)"})).await;
        crate::snap!("dashboard_check_syntax_error", broken);
        let huge = s.bb(&ann, Method::POST, &check, json!({"bjs_code": "x".repeat(300 * 1024)})).await;
        assert_eq!(huge.status.as_u16(), 413, "{:?}", huge.body);

        // A viewer may not spend an executor on checks.
        let bob = s.sign_up("bob@example.com").await;
        let members = format!("/v2/workspaces/{}/members", ann.workspace);
        s.bb(&ann, Method::POST, &members, json!({"email": "bob@example.com", "role": "viewer"})).await;
        let as_viewer = s.bb(&bob, Method::POST, &check, json!({"bjs_code": "1"})).await;
        assert_eq!(as_viewer.status.as_u16(), 403, "{:?}", as_viewer.body);

        // A Kore.ai export (its definition JSON, and its ZIP) uploaded to the import route runs as
        // a Kore.ai import; the jobs list shows both, newest first.
        let headers =
            [("authorization", format!("Bearer {}", ann.api_key)), ("x-workspace-id", ann.workspace.clone())];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let definition = std::fs::read(PIPELINE_DEFINITION).unwrap();
        let from_json = s
            .call_raw(
                Method::POST,
                "/v1/admin/bots/import?name=Pipeline",
                &headers,
                "application/json",
                definition,
            )
            .await;
        assert_eq!(from_json.status.as_u16(), 202, "{:?}", from_json.body);
        let zip = std::fs::read(VAXIE).unwrap();
        let from_zip =
            s.call_raw(Method::POST, "/v1/admin/bots/import", &headers, "application/zip", zip).await;
        assert_eq!(from_zip.body["job"]["kind"], "kore_import");
        let done = s
            .poll(
                async || s.call(Method::GET, "/v1/admin/jobs", &headers, Value::Null).await,
                |b| b["jobs"].as_array().is_some_and(|j| j.iter().all(|j| j["status"] == "succeeded")),
            )
            .await;
        let kinds: Vec<&str> =
            done.body["jobs"].as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["kore_import", "kore_import"]);
        let listed = s.bb(&ann, Method::GET, "/v2/bots", Value::Null).await;
        let origins: Vec<(&str, &str, &str)> = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["name"].as_str().unwrap(),
                    b["origin"].as_str().unwrap(),
                    b["origin_status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            origins,
            [
                ("Checked", "bots_business", "works"),
                ("Pipeline", "koreai", "unpublished"),
                ("Vaxie", "koreai", "unpublished")
            ]
        );
        // Another workspace's member sees none of them.
        let other = s
            .call(
                Method::GET,
                "/v1/admin/jobs",
                &[("authorization", &format!("Bearer {}", bob.api_key)), ("x-workspace-id", &bob.workspace)],
                Value::Null,
            )
            .await;
        assert_eq!(other.body["jobs"], json!([]));
        s.stop().await;
    }
}
