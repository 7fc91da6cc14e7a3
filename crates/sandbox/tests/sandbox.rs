//! The sandbox runs BJS-style scripts and contains scripts that misbehave.

use std::time::{Duration, Instant};

fn tenant() -> botyard_sandbox::Tenant {
    botyard_sandbox::Tenant { workspace: "tests".into(), bot: 1 }
}

use botyard_sandbox::*;
use serde_json::{Map, Value, json};

/// A host that records calls and answers a few.
#[derive(Default)]
struct Recorder {
    calls: Vec<(String, Vec<Value>)>,
}

impl Host for Recorder {
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<HostAnswer, String> {
        self.calls.push((name.to_owned(), args.clone()));
        match name {
            "Bot.getProperty" => Ok(HostAnswer::Value(json!(41))),
            "Bot.fail" => Err("the host refused".into()),
            "Bot.runCommand" => Ok(HostAnswer::Run {
                code: "Bot.sendMessage('nested ' + params); return 7;".into(),
                globals: [("params".to_owned(), json!("p2"))].into_iter().collect(),
            }),
            _ => Ok(HostAnswer::Undefined),
        }
    }
}

fn program(code: &str) -> Program {
    let mut globals = Map::new();
    globals.insert("message".into(), json!("/start ref"));
    globals.insert("params".into(), json!("ref"));
    Program {
        globals,
        libs: Vec::new(),
        bot_code: None,
        event: None,
        body: Body::Command { code: code.into() },
        time_limit: Duration::from_millis(500),
    }
}

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig {
        executors: 2,
        memory_bytes: 16 * 1024 * 1024,
        stack_bytes: 256 * 1024,
        ..SandboxConfig::default()
    })
}

fn sent(host: &Recorder) -> Vec<Value> {
    host.calls.iter().filter(|(n, _)| n == "Bot.sendMessage").map(|(_, a)| a[0].clone()).collect()
}

#[tokio::test]
async fn runs_sloppy_scripts_against_the_host() {
    let sb = sandbox();
    let code = "undeclared = 1; var n = Bot.getProperty('n') + undeclared; Bot.sendMessage('n=' + n + ' ' + params);\n\
                if (n > 0) { return; }\nBot.sendMessage('not reached');";
    let (outcome, host) = sb.run(tenant(), program(code), Recorder::default()).await.unwrap();
    assert_eq!(outcome, Outcome::Completed { step: "command".into() });
    assert_eq!(sent(&host), [json!("n=42 ref")]);

    let (outcome, host) = sb
        .run(
            tenant(),
            program("var r = Bot.runCommand('/other'); Bot.sendMessage('back ' + r + ' ' + params);"),
            Recorder::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Completed { step: "command".into() });
    assert_eq!(
        sent(&host),
        [json!("nested p2"), json!("back 7 ref")],
        "globals are restored after a nested run"
    );

    let (outcome, host) = sb
        .run(
            tenant(),
            program("try { Bot.fail() } catch (e) { Bot.sendMessage('caught: ' + e.message) } Bot.fail()"),
            Recorder::default(),
        )
        .await
        .unwrap();
    assert_eq!(sent(&host), [json!("caught: the host refused")]);
    let Outcome::Failed(error) = outcome else { panic!("{outcome:?}") };
    assert_eq!((error.kind, error.message.as_str()), (FailureKind::Exception, "the host refused"));

    let (outcome, _) =
        sb.run(tenant(), program("throw new TypeError('bad type')"), Recorder::default()).await.unwrap();
    let Outcome::Failed(error) = outcome else { panic!() };
    assert_eq!(error.message, "TypeError: bad type");
}

#[tokio::test]
async fn handlers_libraries_and_unmatched_messages() {
    let sb = sandbox();
    let mut p = program("Bot.sendMessage('command')");
    p.libs = vec![("Greeter".into(), "publish({ hello: function (n) { return 'hello ' + n } }); on('hi', function () { Bot.sendMessage('hooked') });".into())];
    p.bot_code = Some("function shout(s) { return s.toUpperCase() }\non('message', function (m) { Bot.sendMessage(shout(Libs.Greeter.hello(m))); return m !== 'stop'; });".into());
    p.event = Some(("message".into(), json!("you")));
    let (outcome, host) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
    assert_eq!(outcome, Outcome::Completed { step: "command".into() });
    assert_eq!(sent(&host), [json!("HELLO YOU"), json!("command")]);

    p.event = Some(("message".into(), json!("stop")));
    let (outcome, host) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
    assert_eq!(outcome, Outcome::Completed { step: "stopped".into() });
    assert_eq!(sent(&host).len(), 1);

    p.event = None;
    p.body = Body::Unmatched { word: "hi".into(), code: Some("Bot.sendMessage('master')".into()) };
    let (_, host) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
    assert_eq!(sent(&host), [json!("hooked")]);
    p.body = Body::Unmatched { word: "other".into(), code: Some("Bot.sendMessage('master')".into()) };
    let (outcome, host) = sb.run(tenant(), p, Recorder::default()).await.unwrap();
    assert_eq!(outcome, Outcome::Completed { step: "master".into() });
    assert_eq!(sent(&host), [json!("master")]);
}

#[tokio::test]
async fn misbehaving_scripts_end_with_an_error_and_the_sandbox_goes_on() {
    let sb = sandbox();
    let started = Instant::now();
    let (outcome, _) = sb
        .run(tenant(), program("try { while (true) {} } catch (e) { while (true) {} }"), Recorder::default())
        .await
        .unwrap();
    let Outcome::Failed(error) = outcome else { panic!() };
    assert_eq!(error.kind, FailureKind::Timeout, "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let (outcome, _) = sb
        .run(
            tenant(),
            program("var a = []; while (true) { a.push(new Array(100000).fill(1)) }"),
            Recorder::default(),
        )
        .await
        .unwrap();
    let Outcome::Failed(error) = outcome else { panic!() };
    assert_eq!(error.kind, FailureKind::OutOfMemory, "{error:?}");
    for bomb in [
        "var s = []; while (true) { s.push('x'.repeat(100000) + s.length); }",
        "var o = {}; var i = 0; while (true) { o['k' + i] = [i++, {a: i}]; }",
        "var a = []; while (true) { a.push({}); }",
    ] {
        let (outcome, _) = sb.run(tenant(), program(bomb), Recorder::default()).await.unwrap();
        let Outcome::Failed(error) = outcome else { panic!("{bomb}") };
        assert_eq!(error.kind, FailureKind::OutOfMemory, "{bomb}: {error:?}");
        assert!(error.message.contains("memory") && error.message != "null", "{bomb}: {error:?}");
    }

    let (outcome, _) = sb
        .run(tenant(), program("function f(n) { return f(n + 1) + 1 } f(0)"), Recorder::default())
        .await
        .unwrap();
    let Outcome::Failed(error) = outcome else { panic!() };
    assert_eq!(error.kind, FailureKind::StackOverflow, "{error:?}");

    for _ in 0..4 {
        let (outcome, host) =
            sb.run(tenant(), program("Bot.sendMessage('still fine')"), Recorder::default()).await.unwrap();
        assert_eq!(outcome, Outcome::Completed { step: "command".into() });
        assert_eq!(sent(&host), [json!("still fine")]);
    }
    assert!(sb.bare_context_call(3).await > Duration::ZERO);
}

/// Libraries and bot code are compiled once per executor and read from bytecode afterwards:
/// every run still starts from a fresh context (nothing a run leaves behind is seen by the next),
/// a library that does not compile fails every run the same way, and different code is never
/// taken for other code.
#[tokio::test]
async fn compiled_libraries_behave_as_parsed_ones_run_after_run() {
    for compiled_bytes in [0, SandboxConfig::default().compiled_bytes] {
        let sb = Sandbox::new(SandboxConfig { executors: 1, compiled_bytes, ..SandboxConfig::default() });
        let mut p = program("Bot.sendMessage(Libs.Counter.runs + ' ' + shared + ' ' + Libs.Counter.at(3))");
        p.libs = vec![(
            "Counter".into(),
            "var runs = (typeof runs === 'number' ? runs : 0) + 1;\nfunction at(n) { return 'line ' + n; }\npublish({ runs: runs, at: at });".into(),
        )];
        p.bot_code = Some("var shared = (typeof shared === 'number' ? shared : 10) + 1;".into());
        for _ in 0..3 {
            let (outcome, host) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
            assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
            assert_eq!(sent(&host), [json!("1 11 line 3")], "compiled_bytes {compiled_bytes}");
        }
        // The same library name with other code runs the other code.
        p.libs[0].1 = "publish({ runs: 'other', at: function () { return 'x'; } });".into();
        let (_, host) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
        assert_eq!(sent(&host), [json!("other 11 x")]);
        // A library that does not compile fails each run with its syntax error.
        p.libs[0].1 = "publish({ runs: ".into();
        for _ in 0..2 {
            let (outcome, _) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
            let Outcome::Failed(error) = outcome else { panic!("{outcome:?}") };
            assert_eq!(error.kind, FailureKind::Exception);
            assert!(error.message.starts_with("SyntaxError"), "{}", error.message);
        }
        // An error thrown from compiled code keeps its line in the stack.
        p.libs.clear();
        p.bot_code = Some("var a = 1;\nfunction boom() { throw new Error('boom'); }\nboom();".into());
        let (outcome, _) = sb.run(tenant(), p.clone(), Recorder::default()).await.unwrap();
        let Outcome::Failed(error) = outcome else { panic!("{outcome:?}") };
        assert!(error.stack.contains(":2"), "{}", error.stack);
        let (outcome_again, _) = sb.run(tenant(), p, Recorder::default()).await.unwrap();
        assert_eq!(Outcome::Failed(error), outcome_again);
        // The later runs read the library, the bot code and the command from bytecode (none
        // when nothing is kept).
        assert_eq!(sb.bytecode_reads() > 0, compiled_bytes > 0, "{} reads", sb.bytecode_reads());
    }
}

/// A command read from bytecode fails and answers exactly as one compiled from source each run:
/// the same stack positions (which the error log maps to the command's lines), the same syntax
/// errors, the same results.
#[tokio::test]
async fn compiled_commands_behave_as_parsed_ones() {
    let mut seen = Vec::new();
    for compiled_bytes in [0, SandboxConfig::default().compiled_bytes] {
        let sb = Sandbox::new(SandboxConfig { executors: 1, compiled_bytes, ..SandboxConfig::default() });
        let mut outcomes = Vec::new();
        for code in [
            "var n = (typeof n === 'number' ? n : 0) + 1;\nBot.sendMessage('n=' + n + ' ' + params);",
            "var x = 1;\nthrow new Error('on line two');",
            "Bot.sendMessage('before');\nif (",
        ] {
            for _ in 0..2 {
                let (outcome, host) = sb.run(tenant(), program(code), Recorder::default()).await.unwrap();
                outcomes.push((outcome, sent(&host)));
            }
        }
        let mut master = program("");
        master.body =
            Body::Unmatched { word: "hi".into(), code: Some("Bot.sendMessage('master ' + message)".into()) };
        for _ in 0..2 {
            let (outcome, host) = sb.run(tenant(), master.clone(), Recorder::default()).await.unwrap();
            outcomes.push((outcome, sent(&host)));
        }
        assert_eq!(outcomes[0], outcomes[1]);
        assert_eq!(outcomes[0].1, [json!("n=1 ref")]);
        let Outcome::Failed(error) = &outcomes[2].0 else { panic!("{:?}", outcomes[2]) };
        assert!(error.stack.contains("<input>:3"), "{}", error.stack);
        assert_eq!(outcomes[2], outcomes[3]);
        let Outcome::Failed(error) = &outcomes[4].0 else { panic!("{:?}", outcomes[4]) };
        assert!(error.message.starts_with("SyntaxError"), "{}", error.message);
        assert_eq!(outcomes[4], outcomes[5]);
        assert_eq!(outcomes[6].1, [json!("master /start ref")]);
        // The second run of each command that compiles read it from bytecode (none when nothing
        // is kept): the first command, the one that throws, the master command.
        assert_eq!(sb.bytecode_reads(), if compiled_bytes > 0 { 3 } else { 0 });
        seen.push(outcomes);
    }
    assert_eq!(seen[0], seen[1], "compiled and parsed runs differ");
}
