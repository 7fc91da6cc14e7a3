//! Imported Kore.ai bots converse: the real exports answer their own training utterances and
//! FAQs through Kore.ai's Webhook channel, gibberish gets the unidentified-intent answer, and
//! Vaxie's vaccine scheduling dialog (confirmations, a service node, a script node, an entity)
//! completes in the web chat across a server restart. Hostile definitions fail the task with a
//! clear error in the bot's log.

use std::sync::{Arc, Mutex};

use botyard_koreai_engine::{KoreBot, Limits};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bb_support::error_log;
use crate::harness::{Account, Reply, TestServer, backends};
use crate::jobs_support::{App, quick_jobs};

const KOREAI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai");

fn fixture(export: &str, file: &str) -> Vec<u8> {
    std::fs::read(format!("{KOREAI}/{export}/{file}")).expect("the Kore.ai fixture")
}

/// A started Kore.ai bot: its `/v2` number, its stream id and an app token of its workspace.
struct KoreBotUnderTest {
    number: i64,
    stream: String,
    webhook: String,
    app: App,
}

/// Imports a definition (and `config.json`) through the Kore.ai dialect and starts the bot.
async fn import_and_start(
    s: &TestServer,
    owner: &Account,
    name: &str,
    definition: Vec<u8>,
    config: Option<Vec<u8>>,
) -> KoreBotUnderTest {
    import_with_token(s, owner, name, definition, config, None).await
}

/// [`import_and_start`], with a Telegram token set before the bot starts.
async fn import_with_token(
    s: &TestServer,
    owner: &Account,
    name: &str,
    definition: Vec<u8>,
    config: Option<Vec<u8>>,
    telegram: Option<&str>,
) -> KoreBotUnderTest {
    let app = s.app(owner, &["Bot Import"], false).await;
    let token = app.token();
    let definition = s.upload_id(&token, "botDefinition.json", "json", definition).await;
    let mut body = json!({"botDefinition": definition, "uploadMode": "JSON", "name": name});
    if let Some(config) = config {
        body["configInfo"] = json!(s.upload_id(&token, "config.json", "json", config).await);
    }
    let started = s.kore(&token, Method::POST, "/bot/import", body).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    let done = s.kore_import(&token, started.body["_id"].as_str().unwrap()).await;
    assert_eq!(done.body["status"], "success", "{:?}", done.body);
    let stream = done.body["streamId"].as_str().unwrap().to_owned();
    let bots = s.bb(owner, Method::GET, "/v2/bots", Value::Null).await;
    let bot = bots.body.as_array().unwrap().iter().find(|b| b["name"] == name).expect("the imported bot");
    let number = bot["id"].as_i64().unwrap();
    if let Some(token) = telegram {
        let edited = s.bb(owner, Method::PUT, &format!("/v2/bots/{number}"), json!({"token": token})).await;
        assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    }
    let started = s
        .bb(owner, Method::POST, &format!("/v2/bots/{number}/status"), json!({"status": "start_launch"}))
        .await;
    assert_eq!(started.body["status"], "works", "{:?}", started.body);
    let webhook = bot["web_channel_id"].as_str().unwrap().to_owned();
    KoreBotUnderTest { number, stream, webhook, app }
}

impl KoreBotUnderTest {
    /// One request of Kore.ai's Webhook channel.
    async fn webhook(&self, s: &TestServer, body: Value) -> Reply {
        let token = self.app.token();
        let path = format!("/chatbot/v2/webhook/{}", self.stream);
        s.call(Method::POST, &path, &[("authorization", &format!("bearer {token}"))], body).await
    }

    /// What the bot answers `text` from a user it has never seen: the texts of its messages.
    async fn first_words(&self, s: &TestServer, user: &str, text: &str) -> Vec<String> {
        let reply =
            self.webhook(s, json!({"message": {"type": "text", "val": text}, "from": {"id": user}})).await;
        assert_eq!(reply.status, StatusCode::OK, "{text}: {:?}", reply.body);
        texts(&reply.body)
    }
}

fn texts(answer: &Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match &m["val"] {
            Value::String(text) => text.clone(),
            other => other["payload"]["text"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn every_export_answers_its_own_utterances_and_faqs() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        for export in ["vaxie", "botpipeline", "weatherbot"] {
            let definition = fixture(export, "botDefinition.json");
            let engine = KoreBot::compile(&serde_json::from_slice(&definition).unwrap(), &Limits::default())
                .expect("the export compiles");
            let bot =
                import_and_start(&s, &ann, export, definition, Some(fixture(export, "config.json"))).await;
            let unidentified = bot.first_words(&s, "gibberish", "blorft zquix wubwub").await;
            assert!(!unidentified.is_empty(), "{export}: gibberish gets an answer");
            // Every dialog with training utterances or patterns starts from its first one: the
            // answer is the dialog's, not the unidentified-intent answer. (Exports without
            // either are trained by their intent names alone, checked in the engine's tests.)
            let mut firsts: Vec<(String, String)> = Vec::new();
            for (dialog, utterance) in engine.utterances("en") {
                if !firsts.iter().any(|(d, _)| *d == dialog) {
                    firsts.push((dialog, utterance));
                }
            }
            for (dialog, _) in engine.dialogs() {
                if let Some(example) = engine.pattern_examples(&dialog, "en").into_iter().next()
                    && !firsts.iter().any(|(d, _)| *d == dialog)
                {
                    firsts.push((dialog, example));
                }
            }
            assert!(
                export == "botpipeline" || !firsts.is_empty(),
                "{export}: no training utterances or patterns"
            );
            let mut missed = Vec::new();
            for (n, (dialog, utterance)) in firsts.iter().enumerate() {
                let answer = bot.first_words(&s, &format!("utterance-{n}"), utterance).await;
                if answer.is_empty() || answer == unidentified {
                    missed.push(format!("{dialog}: {utterance:?} → {answer:?}"));
                }
            }
            assert!(
                missed.len() * 20 <= firsts.len(),
                "{export}: {} of {} missed: {missed:#?}",
                missed.len(),
                firsts.len()
            );
            // Every FAQ's question gets an answer that is not the unidentified-intent one.
            for (n, faq) in engine.faqs("en").iter().enumerate() {
                let answer = bot.first_words(&s, &format!("faq-{n}"), &faq.question).await;
                assert!(
                    !answer.is_empty() && answer != unidentified,
                    "{export}: {:?} → {answer:?}",
                    faq.question
                );
            }
            s.settled(bot.number).await;
        }
        s.stop().await;
    }
}

/// A stand-in for Twilio's API on loopback: records what it is sent, answers as Twilio does.
async fn fake_twilio() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(body);
            (StatusCode::CREATED, axum::Json(json!({"sid": "SM0001", "status": "queued"})))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// A web chat conversation that survives a restart of the server (ids, not a borrowed server).
struct Conversation {
    base: String,
    key: String,
    id: String,
    seen: usize,
    /// Sent with every message, as a Kore.ai SDK sends its custom data.
    metadata: Option<Value>,
}

impl Conversation {
    async fn open(s: &TestServer, webhook: &str) -> Self {
        let base = format!("/chat/{webhook}");
        let user = s.call(Method::POST, &format!("{base}/users"), &[], json!({"name": "Jane"})).await;
        assert_eq!(user.status, StatusCode::CREATED, "{:?}", user.body);
        let key = user.body["key"].as_str().unwrap().to_owned();
        let conversation =
            s.call(Method::POST, &format!("{base}/conversations"), &[("x-user-key", &key)], json!({})).await;
        let id = conversation.body["conversation"]["id"].as_str().unwrap().to_owned();
        Self { base, key, id, seen: 0, metadata: None }
    }

    async fn call(&self, s: &TestServer, method: Method, path: &str, body: Value) -> Reply {
        s.call(method, &format!("{}{path}", self.base), &[("x-user-key", &self.key)], body).await
    }

    /// Sends `payload` (a message, or an event when `event`), waits until the bot is done, and
    /// returns the text of everything it said.
    async fn say(&mut self, s: &TestServer, bot: i64, text: &str) -> String {
        let mut body = json!({"conversationId": self.id, "payload": {"type": "text", "text": text}});
        if let Some(metadata) = &self.metadata {
            body["metadata"] = metadata.clone();
        }
        let sent = self.call(s, Method::POST, "/messages", body).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        self.seen += 1;
        self.heard(s, bot).await
    }

    async fn heard(&mut self, s: &TestServer, bot: i64) -> String {
        s.settled(bot).await;
        let mut all: Vec<Value> = Vec::new();
        let mut token = String::new();
        loop {
            let path = format!("/conversations/{}/messages?nextToken={token}", self.id);
            let page = self.call(s, Method::GET, &path, Value::Null).await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            all.extend(page.body["messages"].as_array().unwrap().iter().cloned());
            match page.body["meta"]["nextToken"].as_str() {
                Some(t) => token = t.to_owned(),
                None => break,
            }
        }
        let new: Vec<String> = all
            .iter()
            .skip(self.seen)
            .map(|m| m["payload"]["text"].as_str().unwrap_or_default().to_owned())
            .collect();
        self.seen = all.len();
        new.join("\n")
    }
}

fn patient() -> Value {
    json!({
        "clientname": "Valley Community Healthcare", "fullName": "Jane Doe", "name": "Jane",
        "appointmentDate": "June 25", "secondDate": "July 16",
        "apiCellPhone": "+15550100", "voiceCellPhone": "555 0100"
    })
}

#[tokio::test]
async fn vaxie_schedules_a_dose_in_the_web_chat_across_a_restart() {
    for backend in backends() {
        let (twilio, sent) = fake_twilio().await;
        let mut s = TestServer::start_with(backend, |c| {
            quick_jobs(c);
            // Twilio's API is stood in for on loopback, as a staging server would configure it.
            c.outbound.rewrite.insert("https://api.twilio.com".into(), twilio.clone());
            c.outbound.deny = Vec::new();
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = import_and_start(
            &s,
            &ann,
            "Vaxie",
            fixture("vaxie", "botDefinition.json"),
            Some(fixture("vaxie", "config.json")),
        )
        .await;
        let mut chat = Conversation::open(&s, &bot.webhook).await;

        // The conversation opens: Vaxie's ON_CONNECT event runs its welcome dialog.
        let opened = chat
            .call(
                &s,
                Method::POST,
                "/events",
                json!({"conversationId": chat.id, "payload": {"type": "conversation_started"}}),
            )
            .await;
        assert_eq!(opened.status, StatusCode::CREATED, "{:?}", opened.body);
        let welcome = chat.heard(&s, bot.number).await;
        assert!(welcome.starts_with("Hello, my name is Vaxie."), "{welcome}");

        // An FAQ, then gibberish.
        let answer = chat.say(&s, bot.number, "What is contact tracing?").await;
        assert!(answer.contains("Contact tracing"), "{answer}");
        let answer = chat.say(&s, bot.number, "blorft zquix wubwub").await;
        assert_eq!(answer, "Sorry, I didn't understand your question.");

        // The patient's data rides with every message, as a Kore.ai SDK's custom data does.
        chat.metadata = Some(patient());
        let answer = chat.say(&s, bot.number, "schedule vhc dose").await;
        assert!(answer.contains("calling on behalf of Valley Community Healthcare for Jane Doe"), "{answer}");
        assert!(answer.ends_with("Am I speaking with  Jane Doe ?"), "{answer}");
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("at least 18 years of age"), "{answer}");
        let answer = chat.say(&s, bot.number, "purple").await;
        assert!(answer.starts_with("Please say or enter Yes or No."), "{answer}");
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("Do you give your consent"), "{answer}");
        // The service node sent the consent text through "Twilio".
        assert_eq!(sent.lock().unwrap().len(), 1);
        assert!(sent.lock().unwrap()[0].contains("15550100"), "{:?}", sent.lock().unwrap());

        // The server restarts in the middle of the dialog: the task resumes where it waited.
        s = s.restart().await;
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("Are you feeling sick today?"), "{answer}");
        let answer = chat.say(&s, bot.number, "no").await;
        assert!(answer.contains("received a dose"), "{answer}");
        let answer = chat.say(&s, bot.number, "no").await;
        assert!(answer.contains("on June 25"), "{answer}");
        // A script node sets the available times; the entity's JavaScript prompt lists them.
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("11:00 am, 12:15 pm, 1:30 pm,  and 2:45 pm."), "{answer}");
        let answer = chat.say(&s, bot.number, "I'd like 4 o'clock").await;
        assert!(answer.starts_with("I did not recognize the time"), "{answer}");
        let answer = chat.say(&s, bot.number, "12:15 pm please").await;
        assert!(answer.contains("at 12:15 pm ?"), "{answer}");
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("repeat our clinic's address"), "{answer}");
        let answer = chat.say(&s, bot.number, "no").await;
        assert!(answer.contains("text you an appointment reminder"), "{answer}");
        let answer = chat.say(&s, bot.number, "yes").await;
        assert!(answer.contains("see you at the clinic"), "{answer}");
        assert!(answer.ends_with("What else would you like to ask me?"), "{answer}");
        let reminder = sent.lock().unwrap().last().cloned().unwrap_or_default();
        assert!(reminder.contains("June+25") || reminder.contains("June 25"), "{reminder}");
        let errors = error_log(&s, &ann, bot.number).await;
        assert!(errors.is_empty(), "{errors:?}");
        s.stop().await;
    }
}

/// A one-dialog bot trained with "run the test", whose dialog runs `nodes` after its intent.
fn tiny(name: &str, nodes: Value, components: Value) -> Value {
    let mut all_components = vec![
        json!({"_id": "dc-intent", "refId": "ref-intent", "name": "RunTest", "type": "intent", "dialogId": "dg-1"}),
    ];
    all_components.extend(components.as_array().cloned().unwrap_or_default());
    let mut all_nodes = vec![json!({
        "nodeId": "intent0", "type": "intent", "componentId": "dc-intent",
        "transitions": [{"default": nodes[0]["nodeId"]}]
    })];
    all_nodes.extend(nodes.as_array().cloned().unwrap_or_default());
    json!({
        "name": name,
        "defaultLanguage": "en",
        "localeData": {"en": {"name": name}},
        "botEvents": {"TASK_FAILURE_EVENT": {"enabled": true, "action": "showMsg", "msg": [
            {"channel": "default", "localeData": {"en": {"type": "basic", "text": "Task failed."}}}
        ]}},
        "dialogs": [{"_id": "dg-1", "refId": "ref-dialog", "lname": "runtest", "localeData": {"en": {"name": "RunTest"}}, "nodes": all_nodes}],
        "dialogComponents": all_components,
        "sentences": [{"taskId": "dc-intent", "sentence": "run the test", "language": "en"}],
    })
}

fn message_component(id: &str, text: &str) -> Value {
    json!({"_id": id, "name": id, "type": "message", "message": [{"channel": "default", "localeData": {"en": {"text": text, "type": "basic"}}}]})
}

#[tokio::test]
async fn hostile_definitions_fail_the_task_with_a_clear_error() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            quick_jobs(c);
            c.sandbox.default_time_limit_secs = 1;
            // Loopback is denied, as on a production server.
            c.outbound.deny = botyard_core::config::OutboundSettings::default().deny;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let end = |id: &str| json!({"nodeId": id, "type": "script", "componentId": format!("dc-{id}"), "transitions": [{"default": "end"}]});
        let spin = json!({"_id": "dc-spin", "name": "spin", "type": "script", "script": "while(true){}"});
        let service = json!({
            "_id": "dc-call", "name": "callInside", "type": "service",
            "endPoint": {"host": "127.0.0.1", "port": "9", "path": "/admin", "protocol": "http", "method": "get"}
        });
        let mut exponential = tiny(
            "Backtracker",
            json!([{"nodeId": "m1", "type": "message", "componentId": "dc-m1", "transitions": [{"default": "end"}]}]),
            json!([message_component("dc-m1", "matched")]),
        );
        exponential["patterns"] = json!([{"refId": "ref-intent", "taskType": "intent",
            "localeData": {"en": {"patterns": [{"value": format!("{}x", "* a ".repeat(60))}]}}}]);
        let mut huge = tiny("Huge", json!([end("spin")]), json!([spin.clone()]));
        huge["sentences"] = Value::Array(
            (0..250_000)
                .map(|i| json!({"taskId": "dc-intent", "sentence": format!("utterance number {i} of a huge list"), "language": "en"}))
                .collect(),
        );
        assert!(huge.to_string().len() > 10 * 1024 * 1024);
        let cases = [
            (tiny("Spinner", json!([end("spin")]), json!([spin])), "run the test", "timed out"),
            (
                tiny(
                    "Prober",
                    json!([{"nodeId": "call", "type": "service", "componentId": "dc-call", "transitions": [{"default": "end"}]}]),
                    json!([service]),
                ),
                "run the test",
                "denied",
            ),
            (huge, "run the test", "training phrases"),
        ];
        for (definition, text, why) in cases {
            let name = definition["name"].as_str().unwrap().to_owned();
            let bot = import_and_start(&s, &ann, &name, definition.to_string().into_bytes(), None).await;
            let answer = bot.first_words(&s, "mallory", text).await;
            assert!(
                answer
                    .last()
                    .is_some_and(|a| a == "Task failed." || a.contains("unable to process your request")),
                "{name}: {answer:?}"
            );
            let errors = error_log(&s, &ann, bot.number).await;
            let logged = errors.iter().any(|e| e.to_string().contains(why));
            assert!(logged, "{name}: {errors:?}");
        }
        // A pattern that would backtrack exponentially is matched in linear time: a long input
        // is answered (unidentified) instead of hanging the bot.
        let bot = import_and_start(&s, &ann, "Backtracker", exponential.to_string().into_bytes(), None).await;
        let answer = bot.first_words(&s, "mallory", &"a ".repeat(1000)).await;
        assert!(!answer.is_empty());
        let answer = bot.first_words(&s, "alice", "run the test").await;
        assert_eq!(answer.last().map(String::as_str), Some("matched"));
        s.stop().await;
    }
}

#[tokio::test]
async fn an_imported_bot_converses_on_telegram() {
    const TOKEN: &str = "123456:kore-on-telegram";
    for backend in backends() {
        let fake = crate::fake_telegram::FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, crate::bb_support::telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let definition = fixture("vaxie", "botDefinition.json");
        let bot = import_with_token(
            &s,
            &ann,
            "Vaxie",
            definition,
            Some(fixture("vaxie", "config.json")),
            Some(TOKEN),
        )
        .await;
        // Telegram's /start opens the conversation: Vaxie's welcome dialog answers.
        fake.message(TOKEN, 701, 701, "/start");
        fake.wait_calls("sendMessage", 1).await;
        s.settled(bot.number).await;
        let welcome = fake.texts(701);
        assert!(welcome[0].starts_with("Hello, my name is Vaxie."), "{welcome:?}");
        fake.message(TOKEN, 701, 701, "What is contact tracing?");
        fake.wait_calls("sendMessage", welcome.len() + 1).await;
        s.settled(bot.number).await;
        let answers = fake.texts(701)[welcome.len()..].to_vec();
        assert!(answers.iter().any(|a| a.contains("Contact tracing")), "{answers:?}");
        s.stop().await;
    }
}
