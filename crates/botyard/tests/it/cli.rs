//! The `botyard` binary: start-up checks, the first account from the environment, and a graceful
//! stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use botyard_store::Backend;
use botyard_store::testing::TestDatabase;
use serde_json::json;

use crate::harness::backends;

const BIN: &str = env!("CARGO_BIN_EXE_botyard");

fn botyard(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).env_remove("BOTYARD_DATABASE_URL").output().expect("botyard runs")
}

#[test]
fn help_explains_each_command() {
    let top = String::from_utf8(botyard(&["--help"]).stdout).unwrap();
    assert!(top.contains("serve") && top.contains("Run the server"), "{top}");
    let serve = String::from_utf8(botyard(&["serve", "--help"]).stdout).unwrap();
    for needle in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--config",
        "BOTYARD_LISTEN",
        "BOTYARD_DATA_DIR",
        "BOTYARD_DATABASE_URL",
        "BOTYARD_CONFIG",
    ] {
        assert!(serve.contains(needle), "serve --help lacks {needle}:\n{serve}");
    }
}

#[test]
fn start_up_problems_are_explained() {
    let bad_port = botyard(&["serve", "--listen", "127.0.0.1:70000"]);
    assert_eq!(bad_port.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_port.stderr).contains("port"), "{bad_port:?}");

    let file = tempfile::NamedTempFile::new().unwrap();
    let under_a_file = file.path().join("data");
    let unwritable =
        botyard(&["serve", "--listen", "127.0.0.1:0", "--data-dir", under_a_file.to_str().unwrap()]);
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("data directory"), "{unwritable:?}");

    let unreachable = botyard(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/none",
    ]);
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("Cannot open the database"),
        "{unreachable:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("botyard.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nlisten_port = 3\n").unwrap();
    let unknown_key = botyard(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(unknown_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown_key.stderr).contains("listen_port"), "{unknown_key:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn first_account_from_the_environment_and_graceful_stop() {
    for backend in backends() {
        let db = TestDatabase::create(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                dir.path().to_str().unwrap(),
            ])
            .args(if backend == Backend::Postgres { vec!["--database-url", db.url.as_str()] } else { vec![] })
            .env("BOTYARD_ADMIN_EMAIL", "admin@example.com")
            .env("BOTYARD_ADMIN_PASSWORD", "an admin password")
            .env("BOTYARD_AUTH__SIGNUP", "false")
            .env_remove("BOTYARD_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "botyard did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let signed_in = http
            .post(format!("{base}/v2/auth/sign_in"))
            .json(&json!({"email": "admin@example.com", "password": "an admin password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200, "{backend:?}");
        let sign_up = http
            .post(format!("{base}/v2/auth"))
            .json(&json!({"email": "x@example.com", "password": "long enough pw"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sign_up.status(), 403, "sign-up disabled through BOTYARD_AUTH__SIGNUP");

        let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(term.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "botyard did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "graceful stop exits 0: {status:?}");
        let mut log = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut log).unwrap();
        let log = String::from_utf8(strip_ansi(log.as_bytes())).unwrap();
        assert!(log.contains("created the first account"), "{log}");
        assert!(log.contains("shutting down"), "{log}");
    }
}

fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b {
            while i < bytes.len() && !bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    out
}

#[tokio::test]
async fn botyard_chat_talks_to_a_bot_in_the_terminal() {
    use crate::harness::TestServer;
    use crate::webchat::cmd;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Terminal", &[
                serde_json::json!({"command": "/start", "answer": "Welcome!", "keyboard_body": "Help, About", "bjs_code": "Bot.sendInlineKeyboard([{title: 'Press me', command: '/pressed'}], 'Buttons:')"}),
                cmd("/pressed", "", "Bot.sendMessage('You pressed it')"),
            ])
            .await;
        let mut child = tokio::process::Command::new(BIN)
            .args(["chat", &bot.id.to_string(), "--server", &s.server.url(), "--api-key", &ann.api_key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut expect = async |needle: &str| {
            let mut seen = Vec::new();
            loop {
                let line = tokio::time::timeout(Duration::from_secs(15), out.next_line())
                    .await
                    .expect("output arrives")
                    .unwrap();
                let line = line.unwrap_or_else(|| panic!("output ended before {needle:?}: {seen:?}"));
                if line.contains(needle) {
                    return;
                }
                seen.push(line);
            }
        };
        expect("Connected").await;
        stdin.write_all(b"/start\n").await.unwrap();
        expect("bot> Welcome!").await;
        expect("[Help] [About]").await;
        expect("(1) Press me").await;
        stdin.write_all(b":1\n").await.unwrap();
        expect("bot> You pressed it").await;
        stdin.write_all(b"/quit\n").await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
        assert!(status.success());
        s.stop().await;
    }
}
