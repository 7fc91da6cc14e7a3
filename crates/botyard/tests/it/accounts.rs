//! Signing up and in, credentials and their revocation (Bots.Business dialect).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn sign_up_sign_in_and_the_user() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let up = s
            .call(
                Method::POST,
                "/v2/auth",
                &[],
                json!({"email": "Ann@Example.com", "password": "correct horse battery"}),
            )
            .await;
        snap!("sign_up", up);
        assert!(up.body["api_key"].as_str().unwrap().starts_with("byk_"));

        let again = s
            .call(
                Method::POST,
                "/v2/auth",
                &[],
                json!({"email": "ann@example.com", "password": "correct horse battery"}),
            )
            .await;
        snap!("sign_up_taken", again);
        let short = s
            .call(Method::POST, "/v2/auth", &[], json!({"email": "bob@example.com", "password": "short"}))
            .await;
        snap!("sign_up_short_password", short);
        let bad_email = s
            .call(Method::POST, "/v2/auth", &[], json!({"email": "bob", "password": "long enough pw"}))
            .await;
        snap!("sign_up_bad_email", bad_email);

        let signed_in = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "correct horse battery"}),
            )
            .await;
        snap!("sign_in", signed_in);
        let token = signed_in.header("access-token").unwrap().to_owned();
        let client = signed_in.header("client").unwrap().to_owned();
        assert_eq!(signed_in.header("uid"), Some("ann@example.com"));
        assert_eq!(signed_in.header("token-type"), Some("Bearer"));

        let key = up.body["api_key"].as_str().unwrap();
        let by_query = s.call(Method::GET, &format!("/v2/user?api_key={key}"), &[], json!(null)).await;
        snap!("user", by_query);
        let by_bearer_key = s
            .call(Method::GET, "/v2/user", &[("authorization", &format!("Bearer {key}"))], json!(null))
            .await;
        let by_bearer_session = s
            .call(Method::GET, "/v2/user", &[("authorization", &format!("Bearer {token}"))], json!(null))
            .await;
        let by_headers = s
            .call(
                Method::GET,
                "/v2/user",
                &[("access-token", &token), ("client", &client), ("uid", "ann@example.com")],
                json!(null),
            )
            .await;
        for reply in [&by_bearer_key, &by_bearer_session, &by_headers] {
            assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {:?}", reply.body);
            assert_eq!(reply.body, by_query.body);
        }
        let wrong_client = s
            .call(
                Method::GET,
                "/v2/user",
                &[("access-token", &token), ("client", "other"), ("uid", "ann@example.com")],
                json!(null),
            )
            .await;
        assert_eq!(wrong_client.status, StatusCode::UNAUTHORIZED);
        snap!("user_unauthenticated", s.call(Method::GET, "/v2/user", &[], json!(null)).await);
        s.stop().await;
    }
}

#[tokio::test]
async fn sign_in_failures_are_alike_and_throttled() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.auth.signin_max_failures = 3).await;
        s.sign_up("ann@example.com").await;
        let wrong = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "wrong password"}),
            )
            .await;
        let unknown = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "nobody@example.com", "password": "wrong password"}),
            )
            .await;
        snap!("sign_in_failed", wrong);
        assert_eq!(wrong.status, unknown.status);
        assert_eq!(wrong.body, unknown.body, "the answer must not tell whether the email exists");
        for _ in 0..2 {
            s.call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "wrong again"}),
            )
            .await;
        }
        let locked = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", locked.body);
        assert!(locked.header("retry-after").is_some());
        s.stop().await;
    }
}

#[tokio::test]
async fn credentials_can_be_changed_and_revoked() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let sign_in = |password: &'static str| {
            s.call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": password}),
            )
        };
        let session =
            sign_in("correct horse battery").await.body["access_token"].as_str().unwrap().to_owned();
        let as_session = [("authorization", format!("Bearer {session}"))];
        let headers: Vec<(&str, &str)> = as_session.iter().map(|(k, v)| (*k, v.as_str())).collect();

        // Log out all devices: sessions end, the API key keeps working.
        let out = s.bb(&ann, Method::POST, "/v2/user/sign_out_all", json!(null)).await;
        snap!("sign_out_all", out);
        assert_eq!(
            s.call(Method::GET, "/v2/user", &headers, json!(null)).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(s.bb(&ann, Method::GET, "/v2/user", json!(null)).await.status, StatusCode::OK);

        // Reset the API key: the old one stops working at once.
        let reset = s.bb(&ann, Method::POST, "/v2/user/reset_api_key", json!(null)).await;
        snap!("reset_api_key", reset);
        let new_key = reset.body["api_key"].as_str().unwrap().to_owned();
        assert_ne!(new_key, ann.api_key);
        assert_eq!(s.bb(&ann, Method::GET, "/v2/user", json!(null)).await.status, StatusCode::UNAUTHORIZED);
        let ann = crate::harness::Account { api_key: new_key, ..ann };
        assert_eq!(s.bb(&ann, Method::GET, "/v2/user", json!(null)).await.status, StatusCode::OK);

        // Change the password.
        let wrong_current = s
            .bb(
                &ann,
                Method::PUT,
                "/v2/user/password",
                json!({"current_password": "nope nope", "password": "a new password"}),
            )
            .await;
        snap!("password_wrong_current", wrong_current);
        let changed = s
            .bb(
                &ann,
                Method::PUT,
                "/v2/user/password",
                json!({"current_password": "correct horse battery", "password": "a new password"}),
            )
            .await;
        snap!("password_changed", changed);
        assert_eq!(sign_in("correct horse battery").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(sign_in("a new password").await.status, StatusCode::OK);

        // Change the email.
        let email = s
            .bb(
                &ann,
                Method::PUT,
                "/v2/user/email",
                json!({"email": "ann@new.example", "current_password": "a new password"}),
            )
            .await;
        snap!("email_changed", email);
        let by_new = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@new.example", "password": "a new password"}),
            )
            .await;
        assert_eq!(by_new.status, StatusCode::OK);
        s.stop().await;
    }
}

#[tokio::test]
async fn password_reset_with_a_token() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        s.sign_up("ann@example.com").await;
        let known =
            s.call(Method::POST, "/v2/user/reset_password", &[], json!({"email": "ann@example.com"})).await;
        let unknown = s
            .call(Method::POST, "/v2/user/reset_password", &[], json!({"email": "nobody@example.com"}))
            .await;
        snap!("reset_password_requested", known);
        assert_eq!(known.body, unknown.body);
        // The token goes to the operator's log; take one the same way the route makes it.
        let token = s.server.services.request_password_reset("ann@example.com").await.unwrap().unwrap();
        let done = s
            .call(
                Method::PUT,
                "/v2/user/password",
                &[],
                json!({"reset_password_token": token, "password": "brand new pass"}),
            )
            .await;
        snap!("reset_password_done", done);
        let reused = s
            .call(
                Method::PUT,
                "/v2/user/password",
                &[],
                json!({"reset_password_token": token, "password": "another pass"}),
            )
            .await;
        snap!("reset_password_reused", reused);
        let ok = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "brand new pass"}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        s.stop().await;
    }
}

#[tokio::test]
async fn sign_up_can_be_disabled_except_for_invitations() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.auth.signup = false).await;
        let refused = s
            .call(
                Method::POST,
                "/v2/auth",
                &[],
                json!({"email": "eve@example.com", "password": "long enough pw"}),
            )
            .await;
        snap!("sign_up_disabled", refused);
        let owner =
            s.server.services.create_account("owner@example.com".into(), "long enough pw").await.unwrap();
        let owner = crate::harness::Account {
            api_key: owner.api_key,
            workspace: owner.workspace.id.to_string(),
            user_id: owner.user.id.0,
        };
        let invite = s
            .bb(
                &owner,
                Method::POST,
                &format!("/v2/workspaces/{}/members", owner.workspace),
                json!({"email": "dev@example.com", "role": "developer"}),
            )
            .await;
        snap!("invitation_pending", invite);
        let invited = s.sign_up("dev@example.com").await;
        let user = s.bb(&invited, Method::GET, "/v2/user", json!(null)).await;
        let mut roles: Vec<&str> =
            user.body["workspaces"].as_array().unwrap().iter().map(|w| w["role"].as_str().unwrap()).collect();
        roles.sort();
        assert_eq!(roles, ["developer", "owner"], "{backend:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn parallel_guesses_do_not_beat_the_throttle() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.auth.signin_max_failures = 5).await;
        s.sign_up("ann@example.com").await;
        // 30 guesses at once, the right password among the last: it must not get through.
        let guesses = (0..30).map(|i| {
            let password =
                if i >= 25 { "correct horse battery".to_owned() } else { format!("guess number {i}") };
            let s = &s;
            async move {
                s.call(
                    Method::POST,
                    "/v2/auth/sign_in",
                    &[],
                    json!({"email": "ann@example.com", "password": password}),
                )
                .await
                .status
            }
        });
        let answers = futures::future::join_all(guesses).await;
        let checked = answers.iter().filter(|a| **a != StatusCode::TOO_MANY_REQUESTS).count();
        assert!(checked <= 5, "at most 5 attempts are checked: {answers:?}");
        let ok = answers.iter().filter(|a| **a == StatusCode::OK).count();
        assert!(ok <= 1, "{answers:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn password_changes_and_resets_end_other_sessions_and_tokens() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        s.sign_up("ann@example.com").await;
        let sign_in = async |password: &str| {
            s.call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": password}),
            )
            .await
        };
        let here = sign_in("correct horse battery").await;
        let there = sign_in("correct horse battery").await;
        let token = |reply: &crate::harness::Reply| reply.body["access_token"].as_str().unwrap().to_owned();
        let (here, there) = (token(&here), token(&there));
        let me = async |token: &str| {
            s.call(Method::GET, "/v2/user", &[("authorization", &format!("Bearer {token}"))], Value::Null)
                .await
                .status
        };
        assert_eq!(me(&there).await, StatusCode::OK, "the other session works (and is cached)");
        let changed = s
            .call(
                Method::PUT,
                "/v2/user/password",
                &[("authorization", &format!("Bearer {here}"))],
                json!({"current_password": "correct horse battery", "password": "a new password"}),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        assert_eq!(me(&here).await, StatusCode::OK, "the session that changed it stays");
        assert_eq!(me(&there).await, StatusCode::UNAUTHORIZED, "every other session ends");

        // Two reset tokens: using the newer one voids the older.
        let older = s.server.services.request_password_reset("ann@example.com").await.unwrap().unwrap();
        let newer = s.server.services.request_password_reset("ann@example.com").await.unwrap().unwrap();
        let reset = async |token: &str, password: &str| {
            s.call(
                Method::PUT,
                "/v2/user/password",
                &[],
                json!({"reset_password_token": token, "password": password}),
            )
            .await
            .status
        };
        assert_eq!(reset(&newer, "third password").await, StatusCode::OK);
        assert_eq!(reset(&older, "fourth password").await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(me(&here).await, StatusCode::UNAUTHORIZED, "a reset ends every session");
        assert_eq!(sign_in("third password").await.status, StatusCode::OK);
        s.stop().await;
    }
}

#[tokio::test]
async fn cached_sessions_end_at_their_expiry() {
    for backend in backends() {
        // A cache that would keep credentials a minute.
        let s = TestServer::start_with(backend, |c| c.cache.ttl_secs = 60).await;
        s.sign_up("ann@example.com").await;
        let signed = s
            .call(
                Method::POST,
                "/v2/auth/sign_in",
                &[],
                json!({"email": "ann@example.com", "password": "correct horse battery"}),
            )
            .await;
        let token = signed.body["access_token"].as_str().unwrap().to_owned();
        // The session is about to expire (in one second); it is read (and cached) once before.
        let soon =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 1_000;
        s.sql(&format!("UPDATE sessions SET expires_at = {soon}")).await;
        let me = async || {
            s.call(Method::GET, "/v2/user", &[("authorization", &format!("Bearer {token}"))], Value::Null)
                .await
                .status
        };
        assert_eq!(me().await, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        assert_eq!(me().await, StatusCode::UNAUTHORIZED, "the cached entry ended with the session");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_storm_of_sign_ins_is_refused_beyond_the_hashing_queue() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.auth.password_queue = 2).await;
        let attempts = (0..24).map(|i| {
            let s = &s;
            async move {
                s.call(
                    Method::POST,
                    "/v2/auth/sign_in",
                    &[],
                    json!({"email": format!("u{i}@example.com"), "password": "a wrong one"}),
                )
                .await
            }
        });
        let answers = futures::future::join_all(attempts).await;
        let busy: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE).collect();
        assert!(!busy.is_empty(), "some are refused unchecked");
        assert!(busy.iter().all(|r| r.header("retry-after").is_some()));
        assert!(answers.iter().all(|r| matches!(r.status.as_u16(), 401 | 503)));
        s.stop().await;
    }
}
