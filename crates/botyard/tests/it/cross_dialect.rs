//! One bot, seen and changed through both dialects, under either of its ids.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};

#[tokio::test]
async fn a_bot_is_shared_by_the_dialects() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;

        let bb = s
            .bb(
                &ann,
                Method::POST,
                "/v2/bots",
                json!({"name": "FromBB", "token": "1:tokentokentokentokentoken"}),
            )
            .await;
        let (number, uid) = (bb.body["id"].as_i64().unwrap(), bb.body["uid"].as_str().unwrap().to_owned());
        let seen = s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{uid}"), json!(null)).await;
        assert_eq!(seen.body["bot"]["name"], "FromBB");
        assert_eq!(seen.body["bot"]["webChannelId"], bb.body["web_channel_id"]);
        let by_number = s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{number}"), json!(null)).await;
        assert_eq!(by_number.body, seen.body, "the Botpress dialect accepts the number too");
        let renamed =
            s.bp(&ann, Method::PUT, &format!("/v1/admin/bots/{uid}"), json!({"name": "RenamedInBP"})).await;
        assert_eq!(renamed.status, StatusCode::OK);
        assert_eq!(
            s.bb(&ann, Method::GET, &format!("/v2/bots/{number}"), json!(null)).await.body["name"],
            "RenamedInBP"
        );

        let bp = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "FromBP"})).await;
        let bp_id = bp.body["bot"]["id"].as_str().unwrap().to_owned();
        let via_bb = s.bb(&ann, Method::GET, &format!("/v2/bots/{bp_id}"), json!(null)).await;
        assert_eq!(via_bb.status, StatusCode::OK);
        assert_eq!(via_bb.body["uid"], bp_id.as_str());
        let edited =
            s.bb(&ann, Method::PUT, &format!("/v2/bots/{bp_id}"), json!({"name": "EditedInBB"})).await;
        assert_eq!(edited.status, StatusCode::OK);
        assert_eq!(
            s.bp(&ann, Method::GET, &format!("/v1/admin/bots/{bp_id}"), json!(null)).await.body["bot"]["name"],
            "EditedInBB"
        );
        let kore_style = s.bb(&ann, Method::GET, &format!("/v2/bots/st-{bp_id}"), json!(null)).await;
        assert_eq!(kore_style.status, StatusCode::OK, "Kore.ai's st- prefix is accepted");

        let listed = s.bb(&ann, Method::GET, "/v2/bots", json!(null)).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 2);
        let bp_list = s.bp(&ann, Method::GET, "/v1/admin/bots", json!(null)).await;
        assert_eq!(bp_list.body["bots"].as_array().unwrap().len(), 2);
        s.stop().await;
    }
}
