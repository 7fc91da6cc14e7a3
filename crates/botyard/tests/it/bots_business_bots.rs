//! The bot resource in the Bots.Business dialect: `/v2/bots`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn create_list_edit_start_stop_delete() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s
            .bb(
                &ann,
                Method::POST,
                "/v2/bots",
                json!({"name": "EchoBot", "token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"}),
            )
            .await;
        snap!("bb_create", created);
        let id = created.body["id"].as_i64().unwrap();

        snap!("bb_list", s.bb(&ann, Method::GET, "/v2/bots", json!(null)).await);
        snap!("bb_get", s.bb(&ann, Method::GET, &format!("/v2/bots/{id}"), json!(null)).await);
        let edited = s
            .bb(
                &ann,
                Method::PUT,
                &format!("/v2/bots/{id}"),
                json!({"name": "Echo", "csv_url": "https://example.com/sheet.csv", "token": ""}),
            )
            .await;
        snap!("bb_edit", edited);
        assert!(edited.body["token"].is_null(), "an empty token removes it");

        let started = s
            .bb(&ann, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_launch"}))
            .await;
        snap!("bb_status_started", started);
        assert_eq!(started.body["status"], "works");
        let stopped = s
            .bb(&ann, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_stopping"}))
            .await;
        assert_eq!(stopped.body["status"], "stopped");
        snap!(
            "bb_status_invalid",
            s.bb(&ann, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "fly"})).await
        );

        snap!("bb_create_without_name", s.bb(&ann, Method::POST, "/v2/bots", json!({"token": "x:y"})).await);
        snap!("bb_create_blank_name", s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "  "})).await);

        snap!("bb_delete", s.bb(&ann, Method::DELETE, &format!("/v2/bots/{id}"), json!(null)).await);
        snap!("bb_get_deleted", s.bb(&ann, Method::GET, &format!("/v2/bots/{id}"), json!(null)).await);
        snap!("bb_get_garbage_id", s.bb(&ann, Method::GET, "/v2/bots/not-a-bot", json!(null)).await);
        snap!("bb_unauthenticated", s.call(Method::GET, "/v2/bots", &[], json!(null)).await);
        snap!("bb_bad_api_key", s.call(Method::GET, "/v2/bots?api_key=nope", &[], json!(null)).await);
        s.stop().await;
    }
}

#[tokio::test]
async fn workspaces_members_and_roles() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let team = s.bb(&ann, Method::POST, "/v2/workspaces", json!({"name": "Team"})).await;
        snap!("bb_workspace_created", team);
        let team_id = team.body["id"].as_str().unwrap().to_owned();
        let invited = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/workspaces/{team_id}/members"),
                json!({"email": "bob@example.com", "role": "viewer"}),
            )
            .await;
        snap!("bb_member_added", invited);
        snap!(
            "bb_members",
            s.bb(&ann, Method::GET, &format!("/v2/workspaces/{team_id}/members"), json!(null)).await
        );
        snap!("bb_workspaces", s.bb(&ann, Method::GET, "/v2/workspaces", json!(null)).await);
        snap!(
            "bb_workspace",
            s.bb(&ann, Method::GET, &format!("/v2/workspaces/{team_id}"), json!(null)).await
        );
        snap!(
            "bb_workspace_foreign",
            s.bb(&bob, Method::GET, &format!("/v2/workspaces/{}", ann.workspace), json!(null)).await
        );
        let members = format!("/v2/workspaces/{team_id}/members");
        let pending =
            s.bb(&ann, Method::POST, &members, json!({"email": "later@example.com", "role": "admin"})).await;
        snap!("bb_invitation_created", pending);
        let invitation = format!("/v2/workspaces/{team_id}/invitations/later@example.com");
        snap!("bb_invitation_cancelled", s.bb(&ann, Method::DELETE, &invitation, json!(null)).await);
        snap!("bb_invitation_cancel_unknown", s.bb(&ann, Method::DELETE, &invitation, json!(null)).await);

        let bot =
            s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "TeamBot", "workspace_id": team_id})).await;
        assert_eq!(bot.status, StatusCode::CREATED);
        let bot_id = bot.body["id"].as_i64().unwrap();
        // A viewer sees the bot but cannot change it.
        assert_eq!(
            s.bb(&bob, Method::GET, &format!("/v2/bots/{bot_id}"), json!(null)).await.status,
            StatusCode::OK
        );
        snap!(
            "bb_viewer_cannot_edit",
            s.bb(&bob, Method::PUT, &format!("/v2/bots/{bot_id}"), json!({"name": "Mine"})).await
        );
        snap!(
            "bb_viewer_cannot_create",
            s.bb(&bob, Method::POST, "/v2/bots", json!({"name": "Mine", "workspace_id": team_id})).await
        );
        snap!(
            "bb_viewer_cannot_invite",
            s.bb(
                &bob,
                Method::POST,
                &format!("/v2/workspaces/{team_id}/members"),
                json!({"email": "eve@example.com", "role": "admin"})
            )
            .await
        );
        snap!(
            "bb_bad_role",
            s.bb(
                &ann,
                Method::POST,
                &format!("/v2/workspaces/{team_id}/members"),
                json!({"email": "eve@example.com", "role": "boss"})
            )
            .await
        );
        let ann_id = ann.user_id;
        snap!(
            "bb_last_owner",
            s.bb(&ann, Method::DELETE, &format!("/v2/workspaces/{team_id}/members/{ann_id}"), json!(null))
                .await
        );
        let removed = s
            .bb(
                &ann,
                Method::DELETE,
                &format!("/v2/workspaces/{team_id}/members/{}", bob.user_id),
                json!(null),
            )
            .await;
        snap!("bb_member_removed", removed);
        assert_eq!(
            s.bb(&bob, Method::GET, &format!("/v2/bots/{bot_id}"), json!(null)).await.status,
            StatusCode::NOT_FOUND
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn botpress_workspace_routes() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let auth = format!("Bearer {}", ann.api_key);
        let h = [("authorization", auth.as_str())];
        let created = s.call(Method::POST, "/v1/admin/workspaces", &h, json!({"name": "Ops"})).await;
        snap!("bp_workspace_created", created);
        let id = created.body["id"].as_str().unwrap().to_owned();
        snap!(
            "bp_workspace",
            s.call(Method::GET, &format!("/v1/admin/workspaces/{id}"), &h, json!(null)).await
        );
        let added = s
            .call(
                Method::POST,
                &format!("/v1/admin/workspaces/{id}/members"),
                &h,
                json!({"email": "bob@example.com", "role": "developer"}),
            )
            .await;
        snap!("bp_member_added", added);
        let invited = s
            .call(
                Method::POST,
                &format!("/v1/admin/workspaces/{id}/members"),
                &h,
                json!({"email": "new@example.com", "role": "viewer"}),
            )
            .await;
        snap!("bp_member_invited", invited);
        snap!(
            "bp_members",
            s.call(Method::GET, &format!("/v1/admin/workspaces/{id}/members"), &h, json!(null)).await
        );
        let bob_auth = format!("Bearer {}", bob.api_key);
        let as_bob = [("authorization", bob_auth.as_str()), ("x-workspace-id", id.as_str())];
        let bot = s.call(Method::POST, "/v1/admin/bots", &as_bob, json!({"name": "by a developer"})).await;
        assert_eq!(bot.status, StatusCode::OK, "developers may create bots");
        snap!(
            "bp_member_removed",
            s.call(
                Method::DELETE,
                &format!("/v1/admin/workspaces/{id}/members/{}", bob.user_id),
                &h,
                json!({})
            )
            .await
        );
        snap!(
            "bp_invitation_removed",
            s.call(
                Method::DELETE,
                &format!("/v1/admin/workspaces/{id}/members/new@example.com"),
                &h,
                json!({})
            )
            .await
        );
        assert_eq!(
            s.call(Method::GET, "/v1/admin/bots", &as_bob, json!(null)).await.status,
            StatusCode::FORBIDDEN
        );
        snap!(
            "bp_workspace_bad_role",
            s.call(
                Method::POST,
                &format!("/v1/admin/workspaces/{id}/members"),
                &h,
                json!({"email": "x@example.com", "role": "god"})
            )
            .await
        );
        s.stop().await;
    }
}
