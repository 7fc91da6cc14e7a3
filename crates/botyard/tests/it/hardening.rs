//! Body limits, fallbacks, rate limits, CORS, request ids, health and the API description.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn oversized_bodies_and_unknown_routes_answer_in_each_envelope() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.http.body_limit_bytes = 4096).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "b"})).await;
        let path = format!("/v1/admin/bots/{}", bot.body["bot"]["id"].as_str().unwrap());
        let big = json!({"code": "x".repeat(8000)});
        snap!("bp_body_too_large", s.bp(&ann, Method::PUT, &path, big.clone()).await);
        snap!(
            "bb_body_too_large",
            s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "x".repeat(8000)})).await
        );

        snap!("bp_unknown_route", s.bp(&ann, Method::GET, "/v1/admin/nothing", json!(null)).await);
        snap!("bb_unknown_route", s.bb(&ann, Method::GET, "/v2/nothing", json!(null)).await);
        snap!("root_unknown_route", s.call(Method::GET, "/nothing", &[], json!(null)).await);
        snap!("bp_method_not_allowed", s.bp(&ann, Method::PATCH, "/v1/admin/bots", json!({})).await);
        snap!("bb_method_not_allowed", s.bb(&ann, Method::PATCH, "/v2/bots", json!({})).await);
        snap!(
            "bb_malformed_json",
            s.call_raw(Method::POST, "/v2/auth", &[], "application/json", b"{nope".to_vec()).await
        );
        snap!(
            "bb_wrong_type",
            s.call(Method::POST, "/v2/auth", &[], json!({"email": 5, "password": []})).await
        );
        // Botpress's dialect reads only JSON: other content types, and none, are 415; the
        // Bots.Business dialect reads forms and text as JSON, as Rails does.
        let bearer = format!("Bearer {}", ann.api_key);
        let auth = [("authorization", bearer.as_str()), ("x-workspace-id", ann.workspace.as_str())];
        let body = br#"{"name": "typed"}"#.to_vec();
        snap!(
            "bp_text_plain",
            s.call_raw(Method::POST, "/v1/admin/bots", &auth, "text/plain", body.clone()).await
        );
        let untyped = s
            .http
            .post(s.url("/v1/admin/bots"))
            .header("authorization", &bearer)
            .header("x-workspace-id", &ann.workspace)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(untyped.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let form = s
            .call_raw(
                Method::POST,
                "/v2/bots",
                &[("authorization", bearer.as_str())],
                "application/x-www-form-urlencoded",
                body,
            )
            .await;
        assert_eq!(form.status, StatusCode::CREATED, "{:?}", form.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn requests_are_rate_limited_per_credential() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            c.http.rate_limit_per_second = 1;
            c.http.rate_limit_burst = 3;
        })
        .await;
        let ann = s.server.services.create_account("ann@example.com".into(), "long enough pw").await.unwrap();
        let ann = crate::harness::Account {
            api_key: ann.api_key,
            workspace: ann.workspace.id.to_string(),
            user_id: ann.user.id.0,
        };
        let mut replies = Vec::new();
        for _ in 0..4 {
            replies.push(s.bp(&ann, Method::GET, "/v1/admin/bots", json!(null)).await);
        }
        assert_eq!(replies[0].header("ratelimit-limit"), Some("3"));
        assert_eq!(replies[0].header("ratelimit-remaining"), Some("2"));
        assert!(replies[..3].iter().all(|r| r.status == StatusCode::OK));
        let refused = &replies[3];
        snap!("bp_rate_limited", refused);
        assert_eq!(refused.header("retry-after"), Some("1"));
        assert_eq!(refused.header("ratelimit-remaining"), Some("0"));
        let bb_refused = s.bb(&ann, Method::GET, "/v2/bots", json!(null)).await;
        snap!("bb_rate_limited", bb_refused);
        // Another credential has its own budget.
        let other = s.call(Method::GET, "/v2/bots?api_key=someone-else", &[], json!(null)).await;
        assert_eq!(other.status, StatusCode::UNAUTHORIZED);
        s.stop().await;
    }
}

#[tokio::test]
async fn rate_limits_key_on_proven_identities_only() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            c.http.rate_limit_per_second = 1;
            c.http.rate_limit_burst = 3;
            c.http.trusted_proxies = vec!["127.0.0.1/32".into(), "::1/128".into()];
        })
        .await;
        let ann = s.server.services.create_account("ann@example.com".into(), "long enough pw").await.unwrap();
        // (A bot to chat with, made before the account uses up its budget.)
        let webhook = s
            .bb(
                &crate::harness::Account {
                    api_key: ann.api_key.clone(),
                    workspace: ann.workspace.id.to_string(),
                    user_id: ann.user.id.0,
                },
                Method::POST,
                "/v2/bots",
                json!({"name": "chatty"}),
            )
            .await
            .body["web_channel_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let random = |i: usize| format!("Bearer byk_{:0>40}", i);
        let statuses = async |requests: Vec<(String, Vec<(String, String)>)>| {
            let mut out = Vec::new();
            for (path, headers) in requests {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                out.push(s.call(Method::GET, &path, &h, json!(null)).await.status.as_u16());
            }
            out
        };
        let from = |ip: &str| ("x-forwarded-for".to_owned(), ip.to_owned());
        // A made-up bearer beside a valid key gets no fresh bucket: the key's account is charged.
        let with_key: Vec<_> = (0..4)
            .map(|i| {
                (
                    format!("/v2/bots?api_key={}", ann.api_key),
                    vec![("authorization".to_owned(), random(i)), from("203.0.113.1")],
                )
            })
            .collect();
        assert_eq!(statuses(with_key).await, [200, 200, 429, 429], "one of three went on the bot");
        // Garbage bearers without a key are anonymous: limited by the client's address.
        let garbage: Vec<_> = (0..4)
            .map(|i| {
                (
                    "/v2/bots".to_owned(),
                    vec![("authorization".to_owned(), random(100 + i)), from("203.0.113.2")],
                )
            })
            .collect();
        assert_eq!(statuses(garbage).await, [401, 401, 401, 429]);
        // Behind a trusted proxy, another client address has its own bucket.
        let other = vec![("/v2/bots".to_owned(), vec![from("203.0.113.3")])];
        assert_eq!(statuses(other).await, [401]);

        // A web chat user does not share the bucket of anonymous traffic from its address.
        let user = s
            .call(
                Method::POST,
                &format!("/chat/{webhook}/users"),
                &[("x-forwarded-for", "203.0.113.9")],
                json!({}),
            )
            .await;
        let key = user.body["key"].as_str().unwrap().to_owned();
        let flood: Vec<_> =
            (0..5).map(|_| (format!("/chat/{webhook}/conversations"), vec![from("203.0.113.9")])).collect();
        assert_eq!(statuses(flood).await.last(), Some(&429), "anonymous traffic of the address is limited");
        let chat: Vec<_> = (0..3)
            .map(|_| {
                (
                    format!("/chat/{webhook}/conversations"),
                    vec![("x-user-key".to_owned(), key.clone()), from("203.0.113.9")],
                )
            })
            .collect();
        assert_eq!(statuses(chat).await, [200, 200, 200], "the chat user has a bucket of its own");
        s.stop().await;
    }
}

#[tokio::test]
async fn health_description_cors_and_request_ids() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| c.http.cors_origins = vec!["https://app.example".into()])
            .await;
        let health = s.call(Method::GET, "/healthz", &[], json!(null)).await;
        assert_eq!(health.body, json!({"status": "ok"}));
        assert!(health.header("x-request-id").is_some_and(|id| id.len() >= 32));
        let traced = s.call(Method::GET, "/healthz", &[("x-request-id", "trace-me")], json!(null)).await;
        assert_eq!(traced.header("x-request-id"), Some("trace-me"));
        let ready = s.call(Method::GET, "/readyz", &[], json!(null)).await;
        assert_eq!(ready.body["status"], "ok");
        assert_eq!(ready.body["database"], s.backend.name());

        let doc = s.call(Method::GET, "/openapi.json", &[], json!(null)).await;
        let paths = doc.body["paths"].as_object().unwrap();
        for path in [
            "/v1/admin/bots",
            "/v1/admin/bots/{id}",
            "/v1/admin/bots/{id}/signing-secrets/rotate",
            "/v1/admin/workspaces",
            "/v2/auth",
            "/v2/auth/sign_in",
            "/v2/user",
            "/v2/user/reset_api_key",
            "/v2/bots",
            "/v2/bots/{id}",
            "/v2/bots/{id}/status",
            "/v2/workspaces/{id}/members",
        ] {
            assert!(paths.contains_key(path), "openapi.json lacks {path}");
        }

        let preflight = s
            .http
            .request(Method::OPTIONS, s.url("/v2/bots"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.headers().get("access-control-allow-origin").unwrap(), "https://app.example");
        let foreign =
            s.call(Method::GET, "/healthz", &[("origin", "https://evil.example")], json!(null)).await;
        assert!(foreign.header("access-control-allow-origin").is_none());
        s.stop().await;
    }
}

#[tokio::test]
async fn nul_characters_are_refused_alike_on_both_backends() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot =
            s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "Plain"})).await.body["id"].as_i64().unwrap();
        snap!(
            "nul_bp_bot_name",
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "a\u{0}b"})).await
        );
        snap!("nul_bb_bot_name", s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "a\u{0}b"})).await);
        let refused = [
            s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"tags": {"team": "x\u{0}"}})).await,
            s.bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/commands"),
                json!({"command": "/a", "bjs_code": "// \u{0}"}),
            )
            .await,
            s.bb(&ann, Method::POST, "/v2/workspaces", json!({"name": "W\u{0}"})).await,
            s.call(Method::GET, &format!("/v2/bots?api_key={}&q=%00", ann.api_key), &[], json!(null)).await,
        ];
        for reply in &refused {
            assert!(reply.status.is_client_error(), "{:?} {:?}", reply.status, reply.body);
            assert!(reply.body.to_string().contains("NUL"), "{:?}", reply.body);
        }
        let webhook =
            s.bb(&ann, Method::GET, &format!("/v2/bots/{bot}"), json!(null)).await.body["web_channel_id"]
                .as_str()
                .unwrap()
                .to_owned();
        let user =
            s.call(Method::POST, &format!("/chat/{webhook}/users"), &[], json!({"name": "N\u{0}"})).await;
        assert_eq!(user.status, StatusCode::BAD_REQUEST, "{:?}", user.body);
        // A CSV with a NUL fails with its line, at once, not as a retried fault.
        let csv = s
            .call_raw(
                Method::POST,
                &format!("/v2/bots/{bot}/csv_import_tasks?api_key={}", ann.api_key),
                &[],
                "text/csv",
                b"command,answer\n/a,x\n/b,y\0z\n".to_vec(),
            )
            .await;
        let task = s.bb_task(&ann, bot, csv.body["task_id"].as_i64().unwrap()).await;
        assert_eq!(task.body["status"], "error", "{:?}", task.body);
        assert!(task.body["error"].as_str().unwrap().starts_with("Line 3"), "{:?}", task.body);
        // Escaped backslashes are text, not NUL.
        let fine = s
            .bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/commands"),
                json!({"command": "/b", "bjs_code": "var s = '\\u0000';"}),
            )
            .await;
        assert!(fine.status.is_success(), "{:?}", fine.body);
        s.stop().await;
    }
}
