//! Several botyard nodes sharing one PostgreSQL database see each other's changes at once, even
//! though each caches credentials, roles and bots.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestServer;
use botyard_store::Backend;

#[tokio::test]
async fn nodes_sharing_postgres_see_each_others_changes() {
    if !crate::harness::backends().contains(&Backend::Postgres) {
        return;
    }
    let a = TestServer::start(Backend::Postgres).await;
    let b = TestServer::join(&a).await;
    let ann = a.sign_up("ann@example.com").await;
    let created = a.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "shared"})).await;
    let path = format!("/v1/admin/bots/{}", created.body["bot"]["id"].as_str().unwrap());
    // Node B reads (and caches) the bot, the credential and the role.
    assert_eq!(b.bp(&ann, Method::GET, &path, json!(null)).await.body["bot"]["name"], "shared");

    a.bp(&ann, Method::PUT, &path, json!({"name": "renamed on a"})).await;
    let seen = wait_until(|| async {
        b.bp(&ann, Method::GET, &path, json!(null)).await.body["bot"]["name"] == "renamed on a"
    })
    .await;
    assert!(seen, "node B serves the change made on node A");

    a.bb(&ann, Method::POST, "/v2/user/reset_api_key", json!(null)).await;
    let revoked = wait_until(|| async {
        b.bp(&ann, Method::GET, &path, json!(null)).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(revoked, "a key reset on node A is refused by node B");
    b.stop().await;
    a.stop().await;
}

/// Polls for up to two seconds (notifications take milliseconds; the caches' TTL is a minute).
async fn wait_until<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..40 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
