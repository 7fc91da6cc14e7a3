//! A user of one workspace cannot see or touch the bots of another, in either dialect.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn other_workspaces_are_out_of_reach() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let mallory = s.sign_up("mallory@example.com").await;
        let bot = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "private"})).await;
        let uid = bot.body["bot"]["id"].as_str().unwrap().to_owned();
        let number = s.bb(&ann, Method::GET, &format!("/v2/bots/{uid}"), json!(null)).await.body["id"]
            .as_i64()
            .unwrap();

        // Botpress dialect, in Mallory's own workspace: the bot is not there.
        for (method, path, body) in [
            (Method::GET, format!("/v1/admin/bots/{uid}"), json!(null)),
            (Method::PUT, format!("/v1/admin/bots/{uid}"), json!({"name": "pwned"})),
            (Method::DELETE, format!("/v1/admin/bots/{uid}"), json!({})),
            (Method::POST, format!("/v1/admin/bots/{uid}/signing-secrets/rotate"), json!({})),
            (Method::GET, format!("/v1/admin/bots/{number}"), json!(null)),
        ] {
            let reply = s.bp(&mallory, method.clone(), &path, body).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{backend:?} {method} {path}: {:?}", reply.body);
        }
        // Botpress dialect, naming Ann's workspace: forbidden.
        let auth = format!("Bearer {}", mallory.api_key);
        let headers = [("authorization", auth.as_str()), ("x-workspace-id", ann.workspace.as_str())];
        for (method, path) in [
            (Method::GET, "/v1/admin/bots".to_owned()),
            (Method::POST, "/v1/admin/bots".to_owned()),
            (Method::GET, format!("/v1/admin/bots/{uid}")),
            (Method::PUT, format!("/v1/admin/bots/{uid}")),
            (Method::DELETE, format!("/v1/admin/bots/{uid}")),
            (Method::POST, format!("/v1/admin/bots/{uid}/signing-secrets/rotate")),
            (Method::GET, format!("/v1/admin/workspaces/{}/members", ann.workspace)),
        ] {
            let reply = s.call(method.clone(), &path, &headers, json!({})).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{backend:?} {method} {path}: {:?}", reply.body);
        }
        snap!("bp_foreign_workspace", s.call(Method::GET, "/v1/admin/bots", &headers, json!(null)).await);

        // Bots.Business dialect: the bot does not exist for Mallory.
        for id in [number.to_string(), uid.clone()] {
            for (method, path, body) in [
                (Method::GET, format!("/v2/bots/{id}"), json!(null)),
                (Method::PUT, format!("/v2/bots/{id}"), json!({"name": "pwned"})),
                (Method::DELETE, format!("/v2/bots/{id}"), json!(null)),
                (Method::POST, format!("/v2/bots/{id}/status"), json!({"status": "start_launch"})),
            ] {
                let reply = s.bb(&mallory, method.clone(), &path, body).await;
                assert_eq!(
                    reply.status,
                    StatusCode::NOT_FOUND,
                    "{backend:?} {method} {path}: {:?}",
                    reply.body
                );
            }
        }
        let created_elsewhere = s
            .bb(&mallory, Method::POST, "/v2/bots", json!({"name": "x", "workspace_id": ann.workspace}))
            .await;
        assert_eq!(created_elsewhere.status, StatusCode::FORBIDDEN);
        assert!(
            s.bb(&mallory, Method::GET, "/v2/bots", json!(null)).await.body.as_array().unwrap().is_empty()
        );
        assert_eq!(
            s.bb(&ann, Method::GET, &format!("/v2/bots/{number}"), json!(null)).await.body["name"],
            "private"
        );
        s.stop().await;
    }
}
