//! The OpenAPI document (`GET /openapi.json`) as its users see it: the Python tools they run on
//! it must accept it. `openapi-spec-validator` validates it as OpenAPI 3.1; `openapi-python-client`
//! generates a client package from it (with `tests/python/openapi-python-client.yaml`, failing on
//! any warning, so that every operation is in the client); that client then signs up, signs in and
//! manages a bot on the running server (`tests/python/client_check.py`), parsing every answer into
//! its models. The tools are installed in `tests/python/.venv` by `scripts/test`, pinned by
//! `tests/python/requirements.txt`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestServer, backends};

fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python")
}

fn venv_bin() -> PathBuf {
    python_dir().join(".venv/bin")
}

/// A program of the tests' venv; a missing one fails the test and says how to install it.
fn venv_program(name: &str) -> PathBuf {
    let path = venv_bin().join(name);
    assert!(
        path.exists(),
        "{} is missing: the Python tools of the tests are not installed. Run scripts/test (it \
         creates tests/python/.venv from tests/python/requirements.txt)",
        path.display()
    );
    path
}

/// Runs a program of the venv (with the venv first on `PATH`, where the generator finds `ruff`)
/// and returns its stdout; fails the test with its output when it fails.
async fn run<I, S>(program: &str, args: I, cwd: &Path, envs: &[(&str, &OsStr)]) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(venv_bin()).chain(std::env::split_paths(&path)))
        .expect("PATH joins");
    let output = tokio::process::Command::new(venv_program(program))
        .args(args)
        .current_dir(cwd)
        .env("PATH", path)
        .envs(envs.iter().copied())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{program} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn python_tools_accept_the_openapi_document_and_its_client_works() {
    // Every tool is looked up first: a missing install fails at once, saying how to install it.
    for program in ["openapi-spec-validator", "openapi-python-client", "python"] {
        venv_program(program);
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let document = dir.path().join("openapi.json");
    let package = dir.path().join("botyard_client");
    for (n, backend) in backends().into_iter().enumerate() {
        let s = TestServer::start(backend).await;
        if n == 0 {
            // The document does not depend on the database: it is checked and generated once.
            let reply = s.call(Method::GET, "/openapi.json", &[], Value::Null).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert!(
                reply.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")),
                "{}",
                reply.body["openapi"]
            );
            std::fs::write(&document, serde_json::to_vec_pretty(&reply.body).unwrap()).unwrap();

            let said = run(
                "openapi-spec-validator",
                [
                    OsStr::new("--schema"),
                    OsStr::new("3.1"),
                    OsStr::new("--validation-errors"),
                    OsStr::new("all"),
                    document.as_os_str(),
                ],
                dir.path(),
                &[],
            )
            .await;
            assert_eq!(
                said.trim(),
                format!("{}: OK", document.display()),
                "openapi-spec-validator said: {said}"
            );

            let config = python_dir().join("openapi-python-client.yaml");
            run(
                "openapi-python-client",
                [
                    OsStr::new("generate"),
                    OsStr::new("--path"),
                    document.as_os_str(),
                    OsStr::new("--config"),
                    config.as_os_str(),
                    OsStr::new("--output-path"),
                    package.as_os_str(),
                    OsStr::new("--meta"),
                    OsStr::new("none"),
                    // A warning means an operation or a response left out of the client.
                    OsStr::new("--fail-on-warning"),
                ],
                dir.path(),
                &[],
            )
            .await;
            for file in [
                "__init__.py",
                "client.py",
                "api/botpress_bots/botpress_create_bot.py",
                "models/botpress_bot_view.py",
            ] {
                assert!(package.join(file).exists(), "the generated client has no {file}");
            }
        }

        // The generated client signs up, signs in, and manages a bot with the API key it got
        // (tests/python/client_check.py); the server then shows that bot to the same key.
        let script = python_dir().join("client_check.py");
        let url = s.server.url();
        let stdout = run(
            "python",
            [
                script.as_os_str(),
                OsStr::new(&url),
                OsStr::new("py@example.com"),
                OsStr::new("correct horse battery"),
            ],
            dir.path(),
            &[("PYTHONPATH", dir.path().as_os_str())],
        )
        .await;
        let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("client_check.py printed {stdout}: {e}"));
        let account = Account {
            api_key: seen["api_key"].as_str().expect("an API key").into(),
            workspace: seen["workspace"].as_str().expect("a workspace id").into(),
            user_id: seen["user_id"].as_i64().expect("a user id"),
        };
        let bot = seen["bot"].as_str().expect("a bot id");
        assert_eq!(
            seen,
            json!({
                "api_key": account.api_key,
                "workspace": account.workspace,
                "user_id": account.user_id,
                "signed_in": {"email": "py@example.com", "workspaces": [account.workspace]},
                "workspaces": [account.workspace],
                "bot": bot,
                "read": {"id": bot, "name": "from-python"},
                "listed": ["from-python"],
            })
        );
        let user = s.bb(&account, Method::GET, "/v2/user", Value::Null).await;
        assert_eq!((user.status, &user.body["email"]), (StatusCode::OK, &json!("py@example.com")));
        let got = s.bp(&account, Method::GET, &format!("/v1/admin/bots/{bot}"), Value::Null).await;
        assert_eq!((got.status, &got.body["bot"]["name"]), (StatusCode::OK, &json!("from-python")));
        s.stop().await;
    }
}
