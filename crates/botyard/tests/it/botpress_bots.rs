//! The bot resource in the Botpress dialect: `/v1/admin/bots`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn create_get_list_update_delete() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s
            .bp(&ann, Method::POST, "/v1/admin/bots", json!({
                "name": "support",
                "tags": {"team": "care"},
                "configuration": {"schema": {"type": "object", "properties": {"greeting": {"type": "string"}}}, "data": {"greeting": "hi"}},
                "events": {"orderPlaced": {"schema": {"type": "object"}, "title": "Order placed"}},
                "states": {"cart": {"type": "user", "schema": {"type": "object"}, "expiry": 60000}},
                "recurringEvents": {"daily": {"schedule": {"cron": "0 9 * * *"}, "type": "report", "payload": {"to": "ops"}}},
                "user": {"tags": {"plan": {"title": "Plan"}}},
                "secrets": {"API_TOKEN": "s3cret"},
                "integrations": {"telegram": {"enabled": true, "configuration": {"botToken": "x"}}},
                "maxExecutionTime": 10
            }))
            .await;
        snap!("bp_create", created);
        assert!(created.body["bot"]["signingSecret"].as_str().unwrap().len() > 20);
        let id = created.body["bot"]["id"].as_str().unwrap().to_owned();

        let got = s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{id}"), json!(null)).await;
        snap!("bp_get", got);
        // The client's Bot type requires it: owners, administrators and developers see it.
        assert!(got.body["bot"]["signingSecret"].as_str().is_some_and(|s| s.len() > 20), "{:?}", got.body);

        let list = s.bp(&ann, Method::GET, "/v1/admin/bots", json!(null)).await;
        snap!("bp_list", list);

        let unnamed = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({})).await;
        assert_eq!(unnamed.status, StatusCode::OK);
        assert!(!unnamed.body["bot"]["name"].as_str().unwrap().is_empty(), "a name is generated");

        let rotated =
            s.bp(&ann, Method::POST, &format!("/v1/admin/bots/{id}/signing-secrets/rotate"), json!({})).await;
        snap!("bp_rotate", rotated);

        let deleted = s.bp(&ann, Method::DELETE, &format!("/v1/admin/bots/{id}"), json!({})).await;
        snap!("bp_delete", deleted);
        let gone = s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{id}"), json!(null)).await;
        snap!("bp_get_deleted", gone);
        s.stop().await;
    }
}

#[tokio::test]
async fn update_is_partial_and_null_deletes() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s
            .bp(
                &ann,
                Method::POST,
                "/v1/admin/bots",
                json!({
                    "name": "partial",
                    "tags": {"a": "1", "b": "2"},
                    "events": {"e1": {"schema": {}}, "e2": {"schema": {}}},
                    "states": {"s1": {"type": "bot", "schema": {}}},
                    "secrets": {"ONE": "1", "TWO": "2"},
                    "subscriptions": {"events": {"x": {}}}
                }),
            )
            .await;
        let path = format!("/v1/admin/bots/{}", created.body["bot"]["id"].as_str().unwrap());
        let updated = s
            .bp(
                &ann,
                Method::PUT,
                &path,
                json!({
                    "events": {"e1": null, "e3": {"schema": {"type": "object"}}},
                    "tags": {"b": null, "c": "3"},
                    "secrets": {"ONE": null},
                    "description": "now described"
                }),
            )
            .await;
        snap!("bp_update_partial", updated);
        let bot = &updated.body["bot"];
        assert_eq!(bot["events"].as_object().unwrap().keys().collect::<Vec<_>>(), ["e2", "e3"]);
        assert_eq!(bot["tags"], json!({"a": "1", "c": "3"}));
        assert_eq!(bot["states"]["s1"]["type"], "bot", "absent keys are kept");
        assert_eq!(bot["secrets"], json!(["TWO"]));
        assert_eq!(bot["name"], "partial");
        let all = s.bp(&ann, Method::PUT, &path, json!({"subscriptions": {"events": null}})).await;
        assert_eq!(all.body["bot"]["subscriptions"], json!({"events": null}));
        s.stop().await;
    }
}

#[tokio::test]
async fn concurrent_updates_are_all_kept() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "busy"})).await;
        let path = format!("/v1/admin/bots/{}", created.body["bot"]["id"].as_str().unwrap());
        let updates =
            (0..20).map(|i| s.bp(&ann, Method::PUT, &path, json!({"tags": {format!("t{i}"): "x"}})));
        for reply in futures::future::join_all(updates).await {
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        }
        let bot = s.bp(&ann, Method::GET, &path, json!(null)).await;
        assert_eq!(
            bot.body["bot"]["tags"].as_object().unwrap().len(),
            20,
            "{backend:?}: every update is kept"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn configuration_schema_and_data_are_validated_both_ways() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
        let created = s
            .bp(
                &ann,
                Method::POST,
                "/v1/admin/bots",
                json!({"configuration": {"schema": schema, "data": {"n": 1}}}),
            )
            .await;
        let path = format!("/v1/admin/bots/{}", created.body["bot"]["id"].as_str().unwrap());

        let bad_data = s.bp(&ann, Method::PUT, &path, json!({"configuration": {"data": {"n": "one"}}})).await;
        snap!("bp_config_bad_data", bad_data);
        let stricter_schema = s
            .bp(&ann, Method::PUT, &path, json!({"configuration": {"schema": {"type": "object", "properties": {"n": {"type": "string"}}}}}))
            .await;
        snap!("bp_config_schema_rejects_existing_data", stricter_schema);
        let invalid_schema =
            s.bp(&ann, Method::PUT, &path, json!({"configuration": {"schema": {"type": "nonsense"}}})).await;
        snap!("bp_config_invalid_schema", invalid_schema);
        let both = s
            .bp(&ann, Method::PUT, &path, json!({"configuration": {"schema": {"type": "object", "properties": {"n": {"type": "string"}}}, "data": {"n": "one"}}}))
            .await;
        assert_eq!(both.status, StatusCode::OK, "{:?}", both.body);
        let unchanged = s.bp(&ann, Method::GET, &path, json!(null)).await;
        assert_eq!(unchanged.body["bot"]["configuration"]["data"], json!({"n": "one"}));
        s.stop().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "strict"})).await;
        let path = format!("/v1/admin/bots/{}", created.body["bot"]["id"].as_str().unwrap());
        let before = s.bp(&ann, Method::GET, &path, json!(null)).await.body;

        snap!(
            "bp_unknown_field",
            s.bp(&ann, Method::PUT, &path, json!({"name": "x", "colour": "red"})).await
        );
        snap!("bp_wrong_type", s.bp(&ann, Method::PUT, &path, json!({"name": 12})).await);
        snap!(
            "bp_bad_cron",
            s.bp(&ann, Method::PUT, &path, json!({"recurringEvents": {"r": {"schedule": {"cron": "every day"}, "type": "t", "payload": {}}}})).await
        );
        let too_many: Value = (0..6)
            .map(|i| {
                (format!("r{i}"), json!({"schedule": {"cron": "* * * * *"}, "type": "t", "payload": {}}))
            })
            .collect::<serde_json::Map<_, _>>()
            .into();
        snap!(
            "bp_limit_recurring",
            s.bp(&ann, Method::PUT, &path, json!({"recurringEvents": too_many})).await
        );
        let big = "x".repeat(21 * 1024);
        snap!(
            "bp_limit_configuration",
            s.bp(&ann, Method::PUT, &path, json!({"configuration": {"data": {"big": big}}})).await
        );
        snap!("bp_bad_secret_name", s.bp(&ann, Method::PUT, &path, json!({"secrets": {"lower": "x"}})).await);
        snap!("bp_dev_on_update", s.bp(&ann, Method::PUT, &path, json!({"dev": true})).await);

        let auth = format!("Bearer {}", ann.api_key);
        let malformed = s
            .call_raw(
                Method::PUT,
                &path,
                &[("authorization", &auth), ("x-workspace-id", &ann.workspace)],
                "application/json",
                b"{\"name\": ".to_vec(),
            )
            .await;
        snap!("bp_malformed_json", malformed);
        let xml = s
            .call_raw(
                Method::PUT,
                &path,
                &[("authorization", &auth), ("x-workspace-id", &ann.workspace)],
                "application/xml",
                b"<bot/>".to_vec(),
            )
            .await;
        snap!("bp_unsupported_media_type", xml);

        let after = s.bp(&ann, Method::GET, &path, json!(null)).await.body;
        assert_eq!(before, after, "refused updates must leave the bot as it was");
        s.stop().await;
    }
}

#[tokio::test]
async fn listing_pages_filters_and_sorts() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let mut created = Vec::new();
        for i in 0..25 {
            let env = if i % 5 == 0 { "prod" } else { "test" };
            let body = json!({"name": format!("bot-{i:02}"), "tags": {"env": env}, "dev": i == 24});
            created.push(
                s.bp(&ann, Method::POST, "/v1/admin/bots", body).await.body["bot"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let mut seen = Vec::new();
        let mut path = "/v1/admin/bots".to_owned();
        let mut pages = 0;
        loop {
            let page = s.bp(&ann, Method::GET, &path, json!(null)).await;
            assert_eq!(page.status, StatusCode::OK);
            pages += 1;
            seen.extend(
                page.body["bots"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap().to_owned()),
            );
            match page.body["meta"]["nextToken"].as_str() {
                Some(token) => path = format!("/v1/admin/bots?nextToken={token}"),
                None => break,
            }
        }
        assert_eq!(pages, 2);
        assert_eq!(seen, created[..24].to_vec(), "production bots, oldest first");

        let dev = s.bp(&ann, Method::GET, "/v1/admin/bots?dev=true", json!(null)).await;
        assert_eq!(dev.body["bots"].as_array().unwrap().len(), 1);
        let dotted = s.bp(&ann, Method::GET, "/v1/admin/bots?tags.env=prod", json!(null)).await;
        let bracketed = s.bp(&ann, Method::GET, "/v1/admin/bots?tags%5Benv%5D=prod", json!(null)).await;
        assert_eq!(dotted.body["bots"].as_array().unwrap().len(), 5);
        assert_eq!(dotted.body, bracketed.body);
        let desc = s
            .bp(
                &ann,
                Method::GET,
                "/v1/admin/bots?sortField=createdAt&sortDirection=desc&tags.env=prod",
                json!(null),
            )
            .await;
        let names: Vec<&str> =
            desc.body["bots"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["bot-20", "bot-15", "bot-10", "bot-05", "bot-00"]);
        snap!(
            "bp_list_bad_sort",
            s.bp(&ann, Method::GET, "/v1/admin/bots?sortField=name", json!(null)).await
        );
        snap!(
            "bp_list_bad_token",
            s.bp(&ann, Method::GET, "/v1/admin/bots?nextToken=garbage", json!(null)).await
        );
        snap!("bp_list_bad_dev", s.bp(&ann, Method::GET, "/v1/admin/bots?dev=maybe", json!(null)).await);
        s.stop().await;
    }
}

#[tokio::test]
async fn headers_are_required() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let auth = format!("Bearer {}", ann.api_key);
        snap!(
            "bp_no_token",
            s.call(Method::GET, "/v1/admin/bots", &[("x-workspace-id", &ann.workspace)], json!(null)).await
        );
        snap!(
            "bp_bad_token",
            s.call(
                Method::GET,
                "/v1/admin/bots",
                &[("authorization", "Bearer nope"), ("x-workspace-id", &ann.workspace)],
                json!(null)
            )
            .await
        );
        snap!(
            "bp_no_workspace",
            s.call(Method::GET, "/v1/admin/bots", &[("authorization", &auth)], json!(null)).await
        );
        let workspaces =
            s.call(Method::GET, "/v1/admin/workspaces", &[("authorization", &auth)], json!(null)).await;
        snap!("bp_workspaces", workspaces);
        s.stop().await;
    }
}
