//! Commands and folders in the Bots.Business dialect: `/v2/bots/{id}/commands…`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, backends};
use crate::snap;

#[tokio::test]
async fn commands_and_folders_round_trip() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot =
            s.bb(&ann, Method::POST, "/v2/bots", json!({"name": "Shop"})).await.body["id"].as_i64().unwrap();
        let base = format!("/v2/bots/{bot}");

        let folder =
            s.bb(&ann, Method::POST, &format!("{base}/commands_folders"), json!({"title": "Menu"})).await;
        snap!("folder_created", folder);
        let folder_id = folder.body["id"].as_i64().unwrap();
        snap!("folders", s.bb(&ann, Method::GET, &format!("{base}/commands_folders"), json!(null)).await);

        let created = s
            .bb(&ann, Method::POST, &format!("{base}/commands"), json!({
                "command": "/help", "aliases": "madat, help", "answer": "How can I help?", "group": "",
                "help": null, "keyboard_body": "A,B\nC", "commands_folder_id": folder_id, "auto_retry_time": "",
                "bjs_code": "Bot.sendMessage('hi')", "need_reply": false
            }))
            .await;
        snap!("command_created", created);
        let id = created.body["id"].as_i64().unwrap();
        snap!("command_get", s.bb(&ann, Method::GET, &format!("{base}/commands/{id}"), json!(null)).await);

        let edited = s
            .bb(&ann, Method::PUT, &format!("{base}/commands/{id}"), json!({
                "aliases": ["assist"], "group": "vip", "need_reply": "true", "auto_retry_time": 60, "commands_folder_id": null
            }))
            .await;
        snap!("command_edited", edited);

        for i in 0..55 {
            let reply = s
                .bb(&ann, Method::POST, &format!("{base}/commands"), json!({"command": format!("/c{i:02}")}))
                .await;
            assert_eq!(reply.status, StatusCode::CREATED);
        }
        let page1 = s.bb(&ann, Method::GET, &format!("{base}/commands"), json!(null)).await;
        let page2 = s.bb(&ann, Method::GET, &format!("{base}/commands?page=2"), json!(null)).await;
        let page3 = s.bb(&ann, Method::GET, &format!("{base}/commands?page=3"), json!(null)).await;
        assert_eq!(page1.body.as_array().unwrap().len(), 50);
        assert_eq!(page2.body.as_array().unwrap().len(), 6);
        assert_eq!(page3.body, json!([]), "past the end: an empty array");

        snap!(
            "command_name_taken",
            s.bb(&ann, Method::POST, &format!("{base}/commands"), json!({"command": "/help"})).await
        );
        snap!(
            "command_alias_taken",
            s.bb(&ann, Method::POST, &format!("{base}/commands"), json!({"command": "assist"})).await
        );
        snap!(
            "command_alias_is_command",
            s.bb(
                &ann,
                Method::POST,
                &format!("{base}/commands"),
                json!({"command": "/x", "aliases": "/help"})
            )
            .await
        );
        snap!(
            "command_blank",
            s.bb(&ann, Method::POST, &format!("{base}/commands"), json!({"answer": "no name"})).await
        );
        snap!(
            "command_code_too_long",
            s.bb(
                &ann,
                Method::POST,
                &format!("{base}/commands"),
                json!({"command": "/big", "bjs_code": "x".repeat(300 * 1024)})
            )
            .await
        );
        snap!(
            "command_bad_folder",
            s.bb(
                &ann,
                Method::POST,
                &format!("{base}/commands"),
                json!({"command": "/f", "commands_folder_id": 999})
            )
            .await
        );
        snap!(
            "command_bad_retry",
            s.bb(
                &ann,
                Method::POST,
                &format!("{base}/commands"),
                json!({"command": "/r", "auto_retry_time": "soon"})
            )
            .await
        );
        snap!(
            "command_bad_page",
            s.bb(&ann, Method::GET, &format!("{base}/commands?page=x"), json!(null)).await
        );

        let moved = s
            .bb(&ann, Method::PUT, &format!("{base}/commands/{id}"), json!({"commands_folder_id": folder_id}))
            .await;
        assert_eq!(moved.body["commands_folder"]["title"], "Menu");
        snap!(
            "folder_deleted",
            s.bb(&ann, Method::DELETE, &format!("{base}/commands_folders/{folder_id}"), json!(null)).await
        );
        let after = s.bb(&ann, Method::GET, &format!("{base}/commands/{id}"), json!(null)).await;
        assert!(after.body["commands_folder_id"].is_null(), "commands of a deleted folder move to the root");
        snap!(
            "command_deleted",
            s.bb(&ann, Method::DELETE, &format!("{base}/commands/{id}"), json!(null)).await
        );
        snap!("command_gone", s.bb(&ann, Method::GET, &format!("{base}/commands/{id}"), json!(null)).await);
        snap!(
            "folder_gone",
            s.bb(&ann, Method::DELETE, &format!("{base}/commands_folders/{folder_id}"), json!(null)).await
        );
        s.stop().await;
    }
}
