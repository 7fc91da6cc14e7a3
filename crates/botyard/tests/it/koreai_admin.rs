//! The Kore.ai dialect's admin fidelity: exports hold what `exportOptions`, `subTasks` and
//! `IncludeDependentTasks` choose, incremental imports touch and log only what they choose, files
//! that are not bot definitions fail with the reason, app tokens live at most their app's
//! lifetime and spend their `jti`, and uploads that are not forms get Kore.ai's error envelope.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestServer, backends};
use crate::jobs_support::{App, quick_jobs};
use crate::snap;

/// A file of one of the real Kore.ai exports beside the repository (`vaxie`, `botpipeline`,
/// `weatherbot`).
fn fixture(bot: &str, file: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai");
    std::fs::read(Path::new(dir).join(bot).join(file)).expect("the Kore.ai fixture")
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn as_reply(body: Value) -> Reply {
    Reply { status: StatusCode::OK, headers: Default::default(), body }
}

/// Imports `files` (upload name, extension, content) as `body` names them, into `target` (a
/// new bot when `None`); the finished status.
async fn import(
    s: &TestServer,
    token: &str,
    target: Option<&str>,
    files: &[(&str, &str, &str, Vec<u8>)],
    mut body: Value,
) -> Value {
    for (field, name, extension, content) in files {
        let id = s.upload_id(token, name, extension, content.clone()).await;
        body[*field] = if *field == "botFunctions" {
            let mut list = body[*field].as_array().cloned().unwrap_or_default();
            list.push(json!(id));
            json!(list)
        } else {
            json!(id)
        };
    }
    let path = match target {
        Some(bot) => format!("/bot/{bot}/import"),
        None => "/bot/import".to_owned(),
    };
    let started = s.kore(token, Method::POST, &path, body).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    s.kore_import(token, started.body["_id"].as_str().unwrap()).await.body
}

/// Vaxie's three files, imported as a new bot; its stream id.
async fn import_vaxie(s: &TestServer, token: &str) -> String {
    let files = [
        ("botDefinition", "botDefinition.json", "json", fixture("vaxie", "botDefinition.json")),
        ("configInfo", "config.json", "json", fixture("vaxie", "config.json")),
        ("icon", "icon.png", "png", fixture("vaxie", "icon.png")),
    ];
    let done = import(s, token, None, &files, json!({"uploadMode": "JSON"})).await;
    assert_eq!(done["status"], "success", "{done}");
    done["streamId"].as_str().unwrap().to_owned()
}

/// Starts an export with `body` and waits for it to end; the bot's export status then.
async fn export_status(s: &TestServer, token: &str, bot: &str, body: Value) -> Reply {
    let started = s.kore(token, Method::POST, &format!("/bot/{bot}/export"), body).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    let path = format!("/bot/{bot}/export/status");
    let done = s
        .poll(async || s.kore(token, Method::GET, &path, Value::Null).await, |b| b["status"] != "pending")
        .await;
    assert_eq!(done.body["_id"], started.body["_id"], "the status is this export's");
    done
}

/// An export's files as Info-ZIP reads them: `botDefinition.json`, `config.json`, the names of
/// every entry, and the archive itself.
struct Exported {
    definition: Value,
    config: Value,
    entries: Vec<String>,
    icon: Option<Vec<u8>>,
    archive: Vec<u8>,
}

async fn export(s: &TestServer, token: &str, bot: &str, body: Value) -> Exported {
    let done = export_status(s, token, bot, body).await;
    assert_eq!(done.body["status"], "success", "{:?}", done.body);
    let url = done.body["downloadURL"].as_str().unwrap();
    let archive = s.http.get(url).send().await.unwrap().bytes().await.unwrap().to_vec();
    let entries = crate::harness::unzip(&archive);
    let file = |name: &str| entries.iter().find(|e| e.path == name).map(|e| e.content.clone());
    Exported {
        definition: json_of(&file("botDefinition.json").expect("botDefinition.json")),
        config: json_of(&file("config.json").expect("config.json")),
        icon: file("icon.png"),
        entries: entries.iter().map(|e| e.path.clone()).collect(),
        archive,
    }
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v[field].as_str().unwrap().to_owned()).collect()
}

/// What Vaxie's definition says of a set of its dialogs, worked out here from the fixture:
/// their components in the file's order, the patterns of those components, and the forms their
/// form nodes fill.
struct Expected {
    dialogs: Vec<String>,
    components: Vec<String>,
    patterns: Vec<Value>,
    forms: Vec<String>,
}

fn expected(original: &Value, dialogs: &BTreeSet<String>) -> Expected {
    let kept: Vec<&Value> = original["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| dialogs.contains(d["_id"].as_str().unwrap()))
        .collect();
    let used: BTreeSet<&str> = kept
        .iter()
        .flat_map(|d| d["nodes"].as_array().unwrap().iter().filter_map(|n| n["componentId"].as_str()))
        .collect();
    let components: Vec<&Value> = original["dialogComponents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| used.contains(c["_id"].as_str().unwrap()))
        .collect();
    let refs: BTreeSet<&str> = components.iter().map(|c| c["refId"].as_str().unwrap()).collect();
    let fills: BTreeSet<&str> = components
        .iter()
        .filter(|c| c["type"] == "form")
        .map(|c| c["resourceId"].as_str().unwrap())
        .collect();
    Expected {
        dialogs: kept.iter().map(|d| d["lname"].as_str().unwrap().to_owned()).collect(),
        components: components.iter().map(|c| c["_id"].as_str().unwrap().to_owned()).collect(),
        patterns: original["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| refs.contains(p["refId"].as_str().unwrap()))
            .cloned()
            .collect(),
        forms: original["forms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| fills.contains(f["refId"].as_str().unwrap()))
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect(),
    }
}

/// The dialogs a dialog of Vaxie leads to through its nodes' components (`dialogId`), itself
/// included, until no more are added.
fn closure(original: &Value, start: &str) -> BTreeSet<String> {
    let components: HashMap<&str, &Value> = original["dialogComponents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["_id"].as_str().unwrap(), c))
        .collect();
    let mut found = BTreeSet::from([start.to_owned()]);
    loop {
        let more: BTreeSet<String> = original["dialogs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| found.contains(d["_id"].as_str().unwrap()))
            .flat_map(|d| d["nodes"].as_array().unwrap().iter())
            .filter_map(|n| components.get(n["componentId"].as_str()?)?["dialogId"].as_str())
            .map(str::to_owned)
            .collect();
        let before = found.len();
        found.extend(more);
        if found.len() == before {
            return found;
        }
    }
}

#[tokio::test]
async fn exports_hold_what_their_options_and_sub_tasks_choose() {
    let original = json_of(&fixture("vaxie", "botDefinition.json"));
    let dialog_id = |lname: &str| {
        let dialogs = original["dialogs"].as_array().unwrap();
        dialogs.iter().find(|d| d["lname"] == lname).unwrap()["_id"].as_str().unwrap().to_owned()
    };
    // A dialog whose nodes lead to other dialogs, and one that fills a form.
    let curfew = dialog_id("curfew");
    assert!(closure(&original, &curfew).len() > 1, "the fixture's curfew dialog leads elsewhere");
    let form_dialog = original["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            !expected(&original, &BTreeSet::from([d["_id"].as_str().unwrap().to_owned()])).forms.is_empty()
        })
        .unwrap();
    let form_dialog_id = form_dialog["_id"].as_str().unwrap().to_owned();

    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let bot = import_vaxie(&s, &token).await;

        // Only the knowledge graph and small talk: no other list, no settings; the bot's
        // identity, its config.json and its icon are always there.
        let options = json!({"tasks": ["knowledgeGraph", "smallTalk"], "nlpData": [], "settings": []});
        let kg = export(&s, &token, &bot, json!({"exportType": "latest", "exportOptions": options})).await;
        let d = &kg.definition;
        assert_eq!(d["knowledgeTasks"], original["knowledgeTasks"]);
        assert_eq!(d["smallTalk"], original["smallTalk"]);
        for key in [
            "dialogs",
            "dialogComponents",
            "forms",
            "widgets",
            "panels",
            "patterns",
            "sentences",
            "contentVariables",
            "botEvents",
            "koraResponses",
            "mlParams",
            "ivrSettings",
            "color",
            "alerts",
        ] {
            assert!(d.get(key).is_none(), "{key} is not chosen");
        }
        for key in ["_id", "refId", "defaultLanguage", "supportedLanguages", "localeData", "purpose"] {
            assert_eq!(d[key], original[key], "{key} is the bot's identity");
        }
        assert_eq!(
            d["exportOptions"],
            json!({"tasks": ["knowledgeGraph", "smallTalk"], "nlpData": [], "settings": [], "IncludeDependentTasks": false})
        );
        assert_eq!(kg.config, json_of(&fixture("vaxie", "config.json")));
        assert_eq!(kg.icon, Some(fixture("vaxie", "icon.png")));
        assert_eq!(kg.entries, ["botDefinition.json", "config.json", "icon.png"]);

        // One dialog by its name: its components and patterns come with it; bot settings are
        // chosen, forms and IVR settings are not.
        let body = json!({
            "exportType": "latest",
            "exportOptions": {"tasks": ["botTask"], "nlpData": ["patterns"], "settings": ["botSettings"]},
            "subTasks": {"dialogs": ["Curfew"], "alerts": [], "actions": []}
        });
        let one = export(&s, &token, &bot, body).await;
        let d = &one.definition;
        let want = expected(&original, &BTreeSet::from([curfew.clone()]));
        assert_eq!(strings(&d["dialogs"], "lname"), ["curfew"]);
        assert_eq!(strings(&d["dialogComponents"], "_id"), want.components);
        assert_eq!(d["patterns"], json!(want.patterns));
        assert!(
            !want.patterns.is_empty() && want.patterns.len() < original["patterns"].as_array().unwrap().len()
        );
        assert_eq!(d["widgets"], original["widgets"], "widgets and panels are bot tasks");
        assert_eq!(d["color"], original["color"]);
        assert_eq!(d["botEvents"], original["botEvents"], "bot events are bot settings");
        for key in ["forms", "ivrSettings", "contentVariables", "knowledgeTasks", "sentences", "mlParams"] {
            assert!(d.get(key).is_none(), "{key} is not chosen");
        }
        assert_eq!(
            d["exportOptions"]["subTasks"],
            json!({"dialogs": [curfew], "forms": [], "alerts": [], "actions": []})
        );
        // A partial export is a bot definition: it imports as a bot of that one dialog.
        let zip = ("zipInfo", "partial.zip", "zip", one.archive.clone());
        let again =
            import(&s, &token, None, &[zip], json!({"uploadMode": "ZIP", "name": "Curfew only"})).await;
        assert_eq!(again["status"], "success", "{again}");
        let dialogs: Vec<&Value> =
            again["statusLogs"].as_array().unwrap().iter().filter(|l| l["taskType"] == "Dialog").collect();
        assert_eq!(dialogs.len(), 1, "{again}");

        // With its dependent tasks: every dialog it leads to, transitively.
        let body = json!({
            "exportType": "latest",
            "exportOptions": {"tasks": ["botTask"], "nlpData": ["patterns"], "settings": []},
            "subTasks": {"dialogs": ["curfew"]},
            "IncludeDependentTasks": true
        });
        let d = export(&s, &token, &bot, body).await.definition;
        let want = expected(&original, &closure(&original, &curfew));
        assert_eq!(strings(&d["dialogs"], "lname"), want.dialogs);
        assert_eq!(strings(&d["dialogComponents"], "_id"), want.components);
        assert_eq!(d["patterns"], json!(want.patterns));
        assert_eq!(d["exportOptions"]["IncludeDependentTasks"], true);

        // By id, with forms chosen: without dependent tasks no form is named, so none is
        // exported; with them, the forms the dialog fills.
        let by_id = |dependent: bool| {
            json!({
                "exportType": "published",
                "exportOptions": {"tasks": ["botTask", "forms"], "nlpData": [], "settings": []},
                "subTasks": {"dialogs": [form_dialog_id]},
                "IncludeDependentTasks": dependent
            })
        };
        let d = export(&s, &token, &bot, by_id(false)).await.definition;
        assert_eq!(strings(&d["dialogs"], "_id"), [form_dialog_id.as_str()]);
        assert_eq!(d["forms"], json!([]));
        let d = export(&s, &token, &bot, by_id(true)).await.definition;
        let want = expected(&original, &closure(&original, &form_dialog_id));
        assert_eq!(strings(&d["dialogs"], "lname"), want.dialogs);
        assert_eq!(strings(&d["forms"], "name"), want.forms);
        assert!(!want.forms.is_empty());

        // Names the bot does not have, items Kore.ai does not know, and tasks of a kind the
        // options leave out are refused at once; no export is started.
        let last = s.kore(&token, Method::GET, &format!("/bot/{bot}/export/status"), Value::Null).await;
        let refuse = async |label: &str, body: Value| {
            let reply = s.kore(&token, Method::POST, &format!("/bot/{bot}/export"), body).await;
            snap!(label, reply);
        };
        refuse(
            "export_unknown_dialog",
            json!({"exportType": "latest", "subTasks": {"dialogs": ["curfew", "No such dialog"]}}),
        )
        .await;
        refuse(
            "export_unknown_item",
            json!({"exportType": "latest", "exportOptions": {"tasks": ["botTasks"]}}),
        )
        .await;
        refuse(
            "export_forms_not_chosen",
            json!({"exportType": "latest", "exportOptions": {"tasks": ["botTask"]}, "subTasks": {"forms": ["x"]}}),
        )
        .await;
        refuse("export_options_not_an_object", json!({"exportType": "latest", "exportOptions": ["botTask"]}))
            .await;
        let still = s.kore(&token, Method::GET, &format!("/bot/{bot}/export/status"), Value::Null).await;
        assert_eq!(still.body["_id"], last.body["_id"]);

        // Without options the export is the whole bot, as it was imported.
        let full = export(&s, &token, &bot, json!({"exportType": "latest", "allTasks": true})).await;
        assert_eq!(full.definition, original);
        s.stop().await;
    }
}

/// A small bot definition whose every part differs between imports by `version`.
fn demo(version: &str, dialogs: Value, patterns: Value) -> Value {
    json!({
        "_id": format!("st-{version}"), "refId": format!("r-{version}"), "defaultLanguage": "en",
        "localeData": {"en": {"name": format!("Demo {version}")}},
        "color": format!("#{version}"), "ivrSettings": {"version": version}, "mlParams": [{"version": version}],
        "botEvents": {"WELCOME_MESSAGE_EVENT": {"enabled": true, "msg": [version]}},
        "dialogComponents": [{"_id": "dc-1", "refId": "r-dc-1", "name": "Intent", "type": "intent"}],
        "dialogs": dialogs, "patterns": patterns,
        "contentVariables": [{"key": "greeting", "variableType": "env", "localeData": {"en": {"value": version}}}]
    })
}

fn dialog(refid: &str, name: &str) -> Value {
    json!({"_id": format!("dg-{refid}"), "refId": refid, "lname": name, "localeData": {"en": {"name": name}},
           "nodes": [{"nodeId": "intent0", "componentId": "dc-1"}]})
}

#[tokio::test]
async fn incremental_imports_touch_and_log_only_what_they_choose() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let bot =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "target"})).await.body["bot"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let icon = fixture("vaxie", "icon.png");
        let files = |definition: Value, config: Value, icon: Vec<u8>| {
            vec![
                ("botDefinition", "botDefinition.json", "json", definition.to_string().into_bytes()),
                ("configInfo", "config.json", "json", config.to_string().into_bytes()),
                ("icon", "icon.png", "png", icon),
            ]
        };
        let first = demo("111111", json!([dialog("r1", "one")]), json!([{"refId": "r-dc-1", "value": "hi"}]));
        let first_config = json!({"name": "Demo", "envVariables": [{"key": "greeting"}]});
        let full = import(
            &s,
            &token,
            Some(&bot),
            &files(first.clone(), first_config.clone(), icon.clone()),
            json!({}),
        )
        .await;
        assert_eq!(full["status"], "success", "{full}");
        let before = export(&s, &token, &bot, json!({"exportType": "latest"})).await;

        // A file that differs in every part, with an icon that is not even a PNG: an import of
        // its dialogs and patterns takes those, logs those, and leaves every setting alone.
        let second = demo(
            "222222",
            json!([dialog("r1", "one-v2"), dialog("r2", "two")]),
            json!([{"refId": "r-dc-1", "value": "hello"}]),
        );
        let second_files = files(second, json!({"name": "Other", "envVariables": []}), b"GIF89a".to_vec());
        let options =
            json!({"tasks": ["botTask"], "nlpData": ["patterns"], "options": {"patterns": {"append": true}}});
        let tasks = import(&s, &token, Some(&bot), &second_files, json!({"importOptions": options})).await;
        assert_eq!(tasks["status"], "success", "{tasks}");
        snap!("incremental_tasks_only", as_reply(tasks));
        let after = export(&s, &token, &bot, json!({"exportType": "latest"})).await;
        let d = &after.definition;
        assert_eq!(strings(&d["dialogs"], "lname"), ["one-v2", "two"]);
        assert_eq!(strings(&d["patterns"], "value"), ["hi", "hello"]);
        for key in [
            "_id",
            "refId",
            "localeData",
            "color",
            "ivrSettings",
            "mlParams",
            "botEvents",
            "contentVariables",
        ] {
            assert_eq!(d[key], before.definition[key], "{key} is untouched");
        }
        assert_eq!(after.config, first_config, "config.json is untouched");
        assert_eq!(after.icon, Some(icon.clone()), "the icon is untouched");

        // Only the IVR and NLP settings: those keys change, nothing else does.
        let options = json!({"settings": ["ivrSettings"], "nlpData": ["nlpSettings"]});
        let ivr = import(&s, &token, Some(&bot), &second_files, json!({"importOptions": options})).await;
        assert_eq!(ivr["status"], "success", "{ivr}");
        snap!("incremental_settings_only", as_reply(ivr));
        let last = export(&s, &token, &bot, json!({"exportType": "latest"})).await.definition;
        assert_eq!(last["ivrSettings"], json!({"version": "222222"}));
        assert_eq!(last["mlParams"], json!([{"version": "222222"}]));
        for key in ["_id", "color", "botEvents", "contentVariables", "dialogs", "patterns"] {
            assert_eq!(last[key], d[key], "{key} is untouched");
        }

        // An item Kore.ai does not know is refused before anything starts.
        snap!(
            "incremental_unknown_item",
            s.kore(
                &token,
                Method::POST,
                &format!("/bot/{bot}/import"),
                json!({"botDefinition": "0123456789abcdef01234567", "importOptions": {"tasks": ["dialogs"]}})
            )
            .await
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn files_that_are_not_bot_definitions_fail_the_import_with_the_reason() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let definition = |content: Vec<u8>| vec![("botDefinition", "botDefinition.json", "json", content)];

        let foo =
            import(&s, &token, None, &definition(br#"{"foo":1}"#.to_vec()), json!({"name": "Foo"})).await;
        assert_eq!(foo["status"], "failed");
        snap!("import_not_a_bot", as_reply(foo));
        let config = import(&s, &token, None, &definition(fixture("vaxie", "config.json")), json!({})).await;
        assert_eq!(config["status"], "failed");
        snap!("import_config_as_definition", as_reply(config));
        let bots = s.bp(&ann, Method::GET, "/v1/admin/bots", Value::Null).await;
        assert_eq!(bots.body["bots"], json!([]), "no bot is created");

        // Into a bot, incrementally or not, the same.
        let bot =
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "target"})).await.body["bot"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let before = export(&s, &token, &bot, json!({"exportType": "latest"})).await.definition;
        for options in [Value::Null, json!({"tasks": ["botTask"]})] {
            let mut body = json!({});
            if !options.is_null() {
                body["importOptions"] = options;
            }
            let files = definition(json!({"name": "x", "envVariables": []}).to_string().into_bytes());
            let failed = import(&s, &token, Some(&bot), &files, body).await;
            assert_eq!(failed["status"], "failed");
            assert_eq!(
                failed["message"],
                "botDefinition is not a Kore.ai bot definition: it has no defaultLanguage with its localeData \
                 entry (this is a config.json: give it as configInfo)"
            );
        }
        assert_eq!(export(&s, &token, &bot, json!({"exportType": "latest"})).await.definition, before);

        // The real exports are bot definitions: each imports (JSON mode with its config, icon
        // and bot functions; ZIP mode with the archive Kore.ai wrote).
        let weatherbot = [
            ("botDefinition", "botDefinition.json", "json", fixture("weatherbot", "botDefinition.json")),
            ("configInfo", "config.json", "json", fixture("weatherbot", "config.json")),
            ("icon", "icon.png", "png", fixture("weatherbot", "icon.png")),
            (
                "botFunctions",
                "locationInputMethod.js",
                "js",
                fixture("weatherbot", "js/locationInputMethod.js"),
            ),
            ("botFunctions", "responseExtract.js", "js", fixture("weatherbot", "js/responseExtract.js")),
        ];
        let done = import(&s, &token, None, &weatherbot, json!({})).await;
        assert_eq!(done["status"], "success", "{done}");
        let botpipeline = [
            ("botDefinition", "botDefinition.json", "json", fixture("botpipeline", "botDefinition.json")),
            ("configInfo", "config.json", "json", fixture("botpipeline", "config.json")),
            ("icon", "icon.png", "png", fixture("botpipeline", "icon.png")),
        ];
        let done = import(&s, &token, None, &botpipeline, json!({})).await;
        assert_eq!(done["status"], "success", "{done}");
        let zip = [("zipInfo", "fullexport.zip", "zip", fixture("botpipeline", "fullexport.zip"))];
        let done = import(&s, &token, None, &zip, json!({"uploadMode": "ZIP"})).await;
        assert_eq!(done["status"], "success", "{done}");
        s.stop().await;
    }
}

#[tokio::test]
async fn app_tokens_live_at_most_the_apps_lifetime_and_spend_their_jti() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/workspaces/{}/apps", ann.workspace),
                json!({"name": "short", "scopes": ["Bot Definition"], "require_jti": true, "token_lifetime_secs": 120}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let app = App {
            client_id: created.body["client_id"].as_str().unwrap().into(),
            secret: created.body["client_secret"].as_str().unwrap().into(),
        };
        let status = async |token: &str| {
            s.kore(
                token,
                Method::GET,
                "/bot/import/status/bir-00000000-0000-0000-0000-000000000000",
                Value::Null,
            )
            .await
        };
        // Past the route's checks, an unknown request id is a 400: the token was accepted.
        let accepted = |reply: &Reply| reply.status == StatusCode::BAD_REQUEST;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

        let long = app.token_with(Algorithm::HS256, json!({"exp": now + 600, "jti": "long"}));
        snap!("token_longer_than_the_app_allows", status(&long).await);
        let stale = app.token_with(Algorithm::HS256, json!({"iat": now - 300, "jti": "stale"}));
        snap!("token_older_than_the_app_allows", status(&stale).await);
        let fits = app.token_with(Algorithm::HS256, json!({"exp": now + 100, "jti": "j-1"}));
        assert!(accepted(&status(&fits).await));
        snap!("token_replayed", status(&fits).await);
        let same_jti = app.token_with(Algorithm::HS256, json!({"exp": now + 90, "jti": "j-1"}));
        assert_eq!(
            status(&same_jti).await.status,
            StatusCode::UNAUTHORIZED,
            "the jti is spent, not the token"
        );
        let refused = app.token_with(Algorithm::HS256, json!({"exp": now + 600, "jti": "j-2"}));
        assert_eq!(status(&refused).await.status, StatusCode::UNAUTHORIZED);
        let later = app.token_with(Algorithm::HS256, json!({"exp": now + 100, "jti": "j-2"}));
        assert!(accepted(&status(&later).await), "a refused token does not spend its jti");

        // A jti is spent for its own app only; apps that do not require one accept replays.
        let other = s.app(&ann, &["Bot Definition"], true).await;
        assert!(accepted(&status(&other.token_with(Algorithm::HS256, json!({"jti": "j-1"}))).await));
        let lax = s.app(&ann, &["Bot Definition"], false).await;
        let token = lax.token_with(Algorithm::HS256, json!({"jti": "j-1"}));
        assert!(accepted(&status(&token).await));
        assert!(accepted(&status(&token).await));
        s.stop().await;
    }
}

#[tokio::test]
async fn uploads_that_are_not_forms_get_kore_ai_errors() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let token = s.app(&ann, &["Bot Definition"], false).await.token();
        let headers = [("auth", token.as_str())];
        let json_body = s
            .call(Method::POST, "/api/public/uploadfile", &headers, json!({"file": "botDefinition.json"}))
            .await;
        snap!("upload_json_body", json_body);
        let response = s
            .http
            .post(s.url("/api/public/uploadfile"))
            .header("auth", &token)
            .body(b"{}".to_vec())
            .send()
            .await
            .unwrap();
        let bare = Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.json().await.unwrap(),
        };
        snap!("upload_no_content_type", bare);
        let no_boundary = s
            .call_raw(Method::POST, "/api/public/uploadfile", &headers, "multipart/form-data", b"x".to_vec())
            .await;
        assert_eq!(no_boundary.status, StatusCode::PRECONDITION_FAILED, "{:?}", no_boundary.body);
        assert!(no_boundary.body["errors"][0]["msg"].as_str().unwrap().starts_with("Cannot read the form"));
        // Credentials are checked first, in the same envelope.
        let anonymous = s.call(Method::POST, "/api/public/uploadfile", &[], json!({})).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.body["errors"][0]["code"], 4002);
        // A form still uploads.
        s.upload_id(&token, "config.json", "json", b"{}".to_vec()).await;
        s.stop().await;
    }
}
