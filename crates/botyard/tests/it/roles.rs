//! Workspace roles, enforced the same way through the three dialects: who may change members
//! (owners stay, admins cannot touch them, the last owner cannot go — also under concurrent
//! requests), who may take bots out (viewers cannot copy or export), and that a removed member's
//! Kore.ai app stops working.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::App;
use crate::snap;

struct Team {
    id: String,
    ann: Account,
    carl: Account,
    dave: Account,
    bob: Account,
}

/// Ann owns a team workspace with Carl (admin), Dave (developer) and Bob (viewer).
async fn team(s: &TestServer) -> Team {
    let ann = s.sign_up("ann@example.com").await;
    let carl = s.sign_up("carl@example.com").await;
    let dave = s.sign_up("dave@example.com").await;
    let bob = s.sign_up("bob@example.com").await;
    let created = s.bb(&ann, Method::POST, "/v2/workspaces", json!({"name": "Team"})).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    for (email, role) in
        [("carl@example.com", "admin"), ("dave@example.com", "developer"), ("bob@example.com", "viewer")]
    {
        let added = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/workspaces/{id}/members"),
                json!({"email": email, "role": role}),
            )
            .await;
        assert!(added.status.is_success(), "{:?}", added.body);
    }
    Team { id, ann, carl, dave, bob }
}

async fn owners(s: &TestServer, by: &Account, team: &str) -> usize {
    let members = s.bb(by, Method::GET, &format!("/v2/workspaces/{team}/members"), Value::Null).await;
    let list = members.body["members"].as_array().cloned().unwrap_or_default();
    list.iter().filter(|m| m["role"] == "owner").count()
}

#[tokio::test]
async fn members_are_changed_by_the_rules_in_every_dialect() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let t = team(&s).await;
        let members = format!("/v2/workspaces/{}/members", t.id);
        // An admin cannot demote an owner (Bots.Business), nor remove one (Botpress).
        snap!(
            "roles_admin_demotes_owner",
            s.bb(&t.carl, Method::POST, &members, json!({"email": "ann@example.com", "role": "viewer"}))
                .await
        );
        let carl_bearer = format!("Bearer {}", t.carl.api_key);
        snap!(
            "roles_admin_removes_owner",
            s.call(
                Method::DELETE,
                &format!("/v1/admin/workspaces/{}/members/{}", t.id, t.ann.user_id),
                &[("authorization", carl_bearer.as_str())],
                Value::Null
            )
            .await
        );
        // An admin cannot make an owner; a developer cannot manage anyone.
        let promoted = s
            .bb(&t.carl, Method::POST, &members, json!({"email": "dave@example.com", "role": "owner"}))
            .await;
        assert_eq!(promoted.status, StatusCode::FORBIDDEN);
        snap!(
            "roles_developer_invites",
            s.bb(&t.dave, Method::POST, &members, json!({"email": "eve@example.com", "role": "viewer"}))
                .await
        );
        // But an admin manages developers and viewers.
        let demoted = s
            .bb(&t.carl, Method::POST, &members, json!({"email": "dave@example.com", "role": "viewer"}))
            .await;
        assert!(demoted.status.is_success(), "{:?}", demoted.body);
        // The last owner can neither be demoted nor leave.
        snap!(
            "roles_last_owner_demoted",
            s.bb(&t.ann, Method::POST, &members, json!({"email": "ann@example.com", "role": "admin"})).await
        );
        assert_eq!(owners(&s, &t.ann, &t.id).await, 1);
        // With two owners, each removing the other at the same time: one owner stays.
        let made =
            s.bb(&t.ann, Method::POST, &members, json!({"email": "dave@example.com", "role": "owner"})).await;
        assert!(made.status.is_success());
        for _ in 0..5 {
            let (of_dave, of_ann) =
                (format!("{members}/{}", t.dave.user_id), format!("{members}/{}", t.ann.user_id));
            let (a, b) = tokio::join!(
                s.bb(&t.ann, Method::DELETE, &of_dave, Value::Null),
                s.bb(&t.dave, Method::DELETE, &of_ann, Value::Null),
            );
            let removed = [a.status, b.status].iter().filter(|s| s.is_success()).count();
            assert_eq!(removed, 1, "exactly one removal wins: {:?} {:?}", a.body, b.body);
            let survivor = if a.status.is_success() { &t.ann } else { &t.dave };
            assert_eq!(owners(&s, survivor, &t.id).await, 1);
            let gone = if a.status.is_success() { "dave@example.com" } else { "ann@example.com" };
            let back = s.bb(survivor, Method::POST, &members, json!({"email": gone, "role": "owner"})).await;
            assert!(back.status.is_success(), "{:?}", back.body);
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn viewers_cannot_take_bots_out() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let t = team(&s).await;
        let bot =
            s.bb(&t.ann, Method::POST, "/v2/bots", json!({"name": "Secret", "workspace_id": t.id})).await;
        let bot_id = bot.body["id"].as_i64().unwrap();
        // Bob can see it...
        assert_eq!(
            s.bb(&t.bob, Method::GET, &format!("/v2/bots/{bot_id}"), Value::Null).await.status,
            StatusCode::OK
        );
        // ...but not copy it into his own workspace with its properties,
        snap!(
            "roles_viewer_copies",
            s.bb(
                &t.bob,
                Method::POST,
                &format!("/v2/bots/{bot_id}/copy"),
                json!({"workspace_id": t.bob.workspace, "with_properties": true})
            )
            .await
        );
        // nor export it (Botpress dialect),
        let bob_bearer = format!("Bearer {}", t.bob.api_key);
        let exported = s
            .call(
                Method::POST,
                &format!("/v1/admin/bots/{bot_id}/export"),
                &[("authorization", bob_bearer.as_str()), ("x-workspace-id", t.id.as_str())],
                json!({"properties": true}),
            )
            .await;
        assert_eq!(exported.status, StatusCode::FORBIDDEN, "{:?}", exported.body);
        // nor push it to a git remote.
        let pushed = s
            .bb(
                &t.bob,
                Method::POST,
                &format!("/v2/bots/{bot_id}/git_export"),
                json!({"git_remote": "https://example.com/x.git"}),
            )
            .await;
        assert_eq!(pushed.status, StatusCode::FORBIDDEN, "{:?}", pushed.body);
        // A developer may copy it.
        let copied = s
            .bb(
                &t.dave,
                Method::POST,
                &format!("/v2/bots/{bot_id}/copy"),
                json!({"workspace_id": t.dave.workspace}),
            )
            .await;
        assert_eq!(copied.status, StatusCode::CREATED, "{:?}", copied.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_removed_members_app_stops_working() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let t = team(&s).await;
        let apps = format!("/v2/workspaces/{}/apps", t.id);
        // Developers cannot create apps; admins can.
        let refused =
            s.bb(&t.dave, Method::POST, &apps, json!({"name": "ci", "scopes": ["Bot Definition"]})).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
        let created =
            s.bb(&t.carl, Method::POST, &apps, json!({"name": "ci", "scopes": ["Bot Definition"]})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let app = App {
            client_id: created.body["client_id"].as_str().unwrap().into(),
            secret: created.body["client_secret"].as_str().unwrap().into(),
        };
        let status = "/bot/import/status/bir-00000000-0000-0000-0000-000000000000";
        assert_eq!(
            s.kore(&app.token(), Method::GET, status, Value::Null).await.status,
            StatusCode::BAD_REQUEST
        );
        let removed = s
            .bb(
                &t.ann,
                Method::DELETE,
                &format!("/v2/workspaces/{}/members/{}", t.id, t.carl.user_id),
                Value::Null,
            )
            .await;
        assert!(removed.status.is_success(), "{:?}", removed.body);
        snap!("roles_removed_members_app", s.kore(&app.token(), Method::GET, status, Value::Null).await);
        s.stop().await;
    }
}
