//! The built-in libraries run in the real sandbox against a host that keeps properties in memory,
//! with a clock the test moves (`Date.now`), so growth and cooldowns are checked without waiting.

use std::collections::HashMap;
use std::time::Duration;

use botyard_sandbox::{Body, Host, HostAnswer, Outcome, Program, Sandbox, SandboxConfig, Tenant};
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use super::compose;

/// Properties by `(scope, owner, name)`; what the scripts sent and started.
#[derive(Default)]
struct Memory {
    properties: HashMap<(String, String, String), Value>,
    user: i64,
    chat: i64,
    sent: Vec<String>,
    runs: Vec<Value>,
    api: Vec<(String, Value)>,
    panel: Map<String, Value>,
}

impl Memory {
    fn key(&self, scope: &str, spec_user: Option<i64>, name: &str) -> (String, String, String) {
        let owner = match scope {
            "Bot" => String::new(),
            "User" => spec_user.unwrap_or(self.user).to_string(),
            _ => self.chat.to_string(),
        };
        (scope.to_owned(), owner, name.to_owned())
    }
}

impl Host for Memory {
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<HostAnswer, String> {
        let (scope, method) = name.split_once('.').unwrap();
        let first = args.first().cloned().unwrap_or(Value::Null);
        let (prop, spec_user) = match &first {
            Value::Object(o) => (
                o.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
                o.get("user_id").and_then(Value::as_i64),
            ),
            other => (other.as_str().unwrap_or("").to_owned(), None),
        };
        match method {
            "getProperty" | "getProp" => {
                let key = self.key(scope, spec_user, &prop);
                Ok(self.properties.get(&key).cloned().map_or(HostAnswer::Undefined, HostAnswer::Value))
            }
            "setProperty" | "setProp" => {
                let value = match &first {
                    Value::Object(o) => o.get("value").cloned().unwrap_or(Value::Null),
                    _ => args.get(1).cloned().unwrap_or(Value::Null),
                };
                let key = self.key(scope, spec_user, &prop);
                let size = value.to_string().len();
                if size > 10 * 1024 {
                    return Err(format!("Property \"{prop}\" is too large ({size} bytes)"));
                }
                if value.is_null() {
                    self.properties.remove(&key);
                } else {
                    self.properties.insert(key, value);
                }
                Ok(HostAnswer::Undefined)
            }
            "deleteProperty" | "deleteProp" => {
                let key = self.key(scope, spec_user, &prop);
                self.properties.remove(&key);
                Ok(HostAnswer::Undefined)
            }
            "sendMessage" => {
                self.sent.push(match first {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
                Ok(HostAnswer::Undefined)
            }
            "run" => {
                self.runs.push(first);
                Ok(HostAnswer::Undefined)
            }
            "getPanelValues" => Ok(HostAnswer::Value(Value::Object(self.panel.clone()))),
            "setPanel" => Ok(HostAnswer::Undefined),
            _ if scope == "Api" => {
                self.api.push((method.to_owned(), first));
                Ok(HostAnswer::Undefined)
            }
            _ => Err(format!("{name} is not a function")),
        }
    }
}

struct World {
    sandbox: Sandbox,
    memory: Option<Memory>,
    now: i64,
    user: Value,
    chat: Value,
    bot: Value,
    options: Value,
    params: String,
    message: String,
    /// More code of the bot, for which libraries it uses.
    uses: String,
}

impl World {
    fn new() -> Self {
        Self {
            sandbox: Sandbox::new(SandboxConfig { executors: 1, ..SandboxConfig::default() }),
            memory: Some(Memory { user: 1, chat: 10, ..Memory::default() }),
            now: 1_700_000_000_000,
            user: user(1, "Ann"),
            chat: json!({"id": 10, "chatid": 10, "chat_type": "private", "channel": "telegram"}),
            bot: json!({"id": 7, "name": "DemoBot", "token": "123:abc"}),
            options: Value::Null,
            params: String::new(),
            message: String::new(),
            uses: String::new(),
        }
    }

    fn as_user(&mut self, id: i64, name: &str) {
        self.user = user(id, name);
        self.memory.as_mut().unwrap().user = id;
    }

    fn memory(&mut self) -> &mut Memory {
        self.memory.as_mut().unwrap()
    }

    /// Runs `code` as a command; the messages it sent, or its error.
    async fn run(&mut self, code: &str) -> Result<Vec<String>, String> {
        let mut globals = Map::new();
        globals.insert("user".into(), self.user.clone());
        globals.insert("chat".into(), self.chat.clone());
        globals.insert("bot".into(), self.bot.clone());
        globals.insert("options".into(), self.options.clone());
        globals.insert("params".into(), json!(self.params));
        globals.insert("message".into(), json!(self.message));
        globals.insert("command".into(), json!({"name": "/test"}));
        globals.insert("BB_API_URL".into(), json!("api.example.com"));
        globals.insert("__now".into(), json!(self.now));
        let mut libs = vec![("clock".to_owned(), "Date.now = function () { return __now; };".to_owned())];
        libs.extend(compose(&format!("{code}\n{}", self.uses), &[], &[]));
        let program = Program {
            globals,
            libs,
            bot_code: None,
            event: None,
            body: Body::Command { code: code.to_owned() },
            time_limit: Duration::from_secs(5),
        };
        let mut memory = self.memory.take().unwrap();
        let before = memory.sent.len();
        let tenant = Tenant { workspace: "w".into(), bot: 7 };
        let (outcome, memory) = self.sandbox.run(tenant, program, std::mem::take(&mut memory)).await.unwrap();
        let sent = memory.sent[before..].to_vec();
        self.memory = Some(memory);
        match outcome {
            Outcome::Completed { .. } => Ok(sent),
            Outcome::Failed(e) => Err(e.message),
        }
    }

    async fn say(&mut self, code: &str) -> String {
        match self.run(code).await {
            Ok(sent) => sent.join("\n"),
            Err(e) => panic!("{code}: {e}"),
        }
    }

    fn later(&mut self, secs: f64) {
        self.now += (secs * 1000.0) as i64;
    }
}

fn user(id: i64, name: &str) -> Value {
    json!({"id": id, "telegramid": 1000 + id, "first_name": name, "username": name.to_lowercase()})
}

#[tokio::test]
async fn resources_add_remove_transfer_and_exchange() {
    let mut w = World::new();
    let code = "let m = Libs.ResourcesLib.userRes('money'); m.set(10); m.add(5.5); m.remove(3);\
                Bot.sendMessage(m.value() + ' ' + m.have(12.5) + ' ' + m.have(13) + ' ' + m.name + ' ' + m.propName())";
    assert_eq!(w.say(code).await, "12.5 true false money ResourcesLib_user1001_money");
    let err = w.run("Libs.ResourcesLib.userRes('money').remove(100)").await.unwrap_err();
    assert!(err.contains("not enough"), "{err}");
    // To Bob by his Telegram id (a string, as params give it), then Bob sees it.
    let code = "let m = ResLib.userRes('money'); let b = ResLib.anotherUserRes('money', '1002');\
                Bot.sendMessage(String(m.transferTo(b, 2.5)) + ' ' + m.value() + ' ' + b.value())";
    assert_eq!(w.say(code).await, "true 10 2.5");
    let err = w
        .run("ResLib.userRes('money').transferTo(ResLib.anotherUserRes('gold', 1002), 1)")
        .await
        .unwrap_err();
    assert!(err.contains("different resources"), "{err}");
    w.as_user(2, "Bob");
    assert_eq!(w.say("Bot.sendMessage(Libs.ResourcesLib.userRes('money').value())").await, "2.5");
    let code = "let m = ResLib.userRes('money'); let g = ResLib.userRes('gold');\
                m.exchangeTo(g, {remove_amount: 2, add_amount: 20}); Bot.sendMessage(m.value() + ' ' + g.value())";
    assert_eq!(w.say(code).await, "0.5 20");
    let code = "let c = ResLib.chatRes('crystals'); c.add(3); let o = ResLib.anotherChatRes('crystals', 10);\
                Bot.sendMessage(c.value() + ' ' + o.value() + ' ' + c.propName())";
    assert_eq!(w.say(code).await, "3 3 ResourcesLib_chat10_crystals");
    let err = w.run("Libs.ResourcesLib.userRes('money').add('lots')").await.unwrap_err();
    assert!(err.contains("must be a number"), "{err}");
}

#[tokio::test]
async fn growth_is_computed_from_the_time_passed() {
    let mut w = World::new();
    w.say("let h = Libs.ResourcesLib.userRes('health'); h.set(1); h.growth.add({value: 5, interval: 10, max: 30})").await;
    w.later(25.0);
    let show = "let h = Libs.ResourcesLib.userRes('health'); let i = h.growth.info();\
                Bot.sendMessage([h.value(), i.completed_iterations_count, h.growth.progress(), h.growth.willCompletedAfter(), h.baseValue(), h.growth.title()].join('|'))";
    assert_eq!(w.say(show).await, "11|2|50|5|1|add 5 once at 10 secs (max: 30)");
    // A change folds the growth in and keeps the interval in progress.
    w.say("Libs.ResourcesLib.userRes('health').add(1)").await;
    assert_eq!(w.say(show).await, "12|2|50|5|12|add 5 once at 10 secs (max: 30)");
    w.later(5.0);
    assert!(w.say(show).await.starts_with("17|3|0|10|"));
    w.later(100.0);
    assert!(w.say(show).await.starts_with("30|13|"), "the max stops the growth");
    w.say("Libs.ResourcesLib.userRes('health').growth.stop()").await;
    w.later(100.0);
    let stopped = "let h = ResLib.userRes('health'); Bot.sendMessage(h.value() + ' ' + h.growth.isEnabled())";
    assert_eq!(w.say(stopped).await, "30 false");
    w.say("ResLib.userRes('health').set(0); ResLib.userRes('health').growth.resume()").await;
    w.later(20.0);
    assert_eq!(w.say(stopped).await, "10 true");
    w.say("ResLib.userRes('health').resetGrowth()").await;
    w.later(20.0);
    assert_eq!(w.say(stopped).await, "10 false");

    // Percent of the base, compound interest (`percent` as DemoResBot passes it), iteration limits,
    // negative growth with a minimum.
    w.say("let u = ResLib.userRes('usd'); u.set(100); u.growth.addPercent({value: 10, interval: 60})").await;
    w.say("let b = ResLib.userRes('btc'); b.set(100); b.growth.addCompoundInterest({percent: 10, interval: 60, max_iterations_count: 2})").await;
    w.say("let c = ResLib.userRes('cold'); c.set(3); c.growth.add({value: -1, interval: 1, min: 0})").await;
    w.later(180.0);
    let all = "Bot.sendMessage(['usd', 'btc', 'cold'].map(function (n) { return Math.round(ResLib.userRes(n).value() * 100) / 100; }).join(' '))";
    assert_eq!(w.say(all).await, "130 121 0");
    let done = "let i = ResLib.userRes('btc').growth.info(); Bot.sendMessage(i.completed_iterations_count + ' ' + i.is_completed + ' ' + ResLib.userRes('btc').growth.willCompletedAfter())";
    assert_eq!(w.say(done).await, "2 true 0");
}

#[tokio::test]
async fn cooldowns_start_wait_end_and_restart() {
    let mut w = World::new();
    let watch = "Libs.CooldownLib.user.watch({name: 'bonus', time: 60,\
                   onStarting: function () { Bot.sendMessage('started') },\
                   onWaiting: function (left) { Bot.sendMessage('wait ' + left) },\
                   onEnding: function () { Bot.sendMessage('bonus'); return true } })";
    assert_eq!(w.say(watch).await, "started");
    w.later(20.5);
    assert_eq!(w.say(watch).await, "wait 40");
    w.later(40.0);
    assert_eq!(w.say(watch).await, "bonus");
    assert_eq!(w.say(watch).await, "wait 60");
    let bust = "let c = Libs.CooldownLib.user.getCooldown('bonus'); c.set(c.value() - 59); Bot.sendMessage(c.value())";
    assert_eq!(w.say(bust).await, "1");
    w.later(1.0);
    assert_eq!(w.say(watch).await, "bonus");
    // A chat's and the bot's cooldowns are others.
    let chat = watch.replace("user.watch", "chat.watch");
    assert_eq!(w.say(&chat).await, "started");
    let err = w.run("Libs.CooldownLib.user.watch({name: 'x', time: 5})").await.unwrap_err();
    assert!(err.contains("onEnding"), "{err}");
}

#[tokio::test]
async fn random_values_stay_in_their_ranges() {
    let mut w = World::new();
    let code = "var r = Libs.Random; var ok = true; var seen = {};\
                for (var i = 0; i < 2000; i++) {\
                  var n = r.randomInt(1, 3); seen[n] = true; ok = ok && n >= 1 && n <= 3 && n === Math.floor(n);\
                  var f = r.randomFloat(200, 400); ok = ok && f >= 200 && f < 400;\
                }\
                var s = r.randomString(12); var t = r.randomString(5, 'ab');\
                Bot.sendMessage([ok, Object.keys(seen).sort().join(','), s.length, /^[ab]{5}$/.test(t),\
                  [1, 2].indexOf(r.randomArrayItem([1, 2])) >= 0, r.shuffle([1, 2, 3]).sort().join('')].join(' '))";
    assert_eq!(w.say(code).await, "true 1,2,3 12 true true 123");
    assert_eq!(w.say("Libs.Random.sendMessage(['only'])").await, "only");
    assert!(w.run("Libs.Random.randomInt(5, 1)").await.unwrap_err().contains("greater"));
}

#[tokio::test]
async fn referrals_are_tracked_counted_and_listed() {
    let mut w = World::new();
    let track = "RefLib.track({\
                   onTouchOwnLink: function () { Bot.sendMessage('own') },\
                   onAlreadyAttracted: function () { Bot.sendMessage('already') },\
                   onAttracted: function (by) { Bot.sendMessage('by ' + by.first_name + ' ' + by.telegramid) } })";
    w.message = "/start".into();
    assert_eq!(w.say(track).await, "");
    let link = w.say("Bot.sendMessage(RefLib.getLink())").await;
    assert_eq!(link, "https://t.me/DemoBot?start=user1001");
    assert_eq!(
        w.say("Bot.sendMessage(Libs.ReferralLib.getLink('Other', 'r'))").await,
        "https://t.me/Other?start=r1001"
    );
    assert_eq!(
        w.say("Bot.sendMessage(RefLib.getLink())").await,
        "https://t.me/DemoBot?start=r1001",
        "the prefix is kept"
    );
    // Ann's own link, then Bob and Cid come by it.
    w.message = "/start r1001".into();
    w.params = "r1001".into();
    assert_eq!(w.say(track).await, "already", "Ann started before");
    for (id, name) in [(2, "Bob"), (3, "Cid")] {
        w.as_user(id, name);
        assert_eq!(w.say(track).await, "by Ann 1001");
        assert_eq!(w.say(track).await, "already");
        let by = w.say("Bot.sendMessage(RefLib.getAttractedBy().telegramid)").await;
        assert_eq!(by, "1001");
    }
    w.as_user(4, "Dan");
    w.params = "r1004".into();
    w.message = "/start r1004".into();
    assert_eq!(w.say(track).await, "own");
    w.as_user(1, "Ann");
    let list = "let l = RefLib.getRefList(); Bot.sendMessage(l.exist + ' ' + RefLib.getRefCount() + ' ' +\
                l.getUsers().map(function (u) { return CommonLib.getLinkFor(u) }).join(', '))";
    assert_eq!(w.say(list).await, "true 2 [Bob](tg://user?id=1002), [Cid](tg://user?id=1003)");
    assert_eq!(
        w.say("Bot.sendMessage(RefLib.getRefCount(1002) + ' ' + RefLib.getRefList(1002).exist)").await,
        "0 false"
    );
    let top = "let items = RefLib.getTopList().get(); Bot.sendMessage(items.map(function (i) { return i.user.first_name + ':' + i.value }).join(' '))";
    assert_eq!(w.say(top).await, "Ann:2");
    let old = "Bot.sendMessage(Libs.ReferralLib.currentUser.refList.get().length)";
    assert_eq!(w.say(old).await, "2");
}

#[tokio::test]
async fn top_boards_keep_the_best_scores() {
    let mut w = World::new();
    for (id, name, score) in [(1, "Ann", 5), (2, "Bob", 9), (3, "Cid", 1)] {
        w.as_user(id, name);
        w.say(&format!("TopBoardLib.addScore({{value: {score}}}); TopBoardLib.addScore({{value: 1, boardName: 'b', maxCount: 2}})")).await;
    }
    w.as_user(1, "Ann");
    w.say("TopBoardLib.addScore({value: 5})").await;
    let board = "Bot.sendMessage(TopBoardLib.getBoard().map(function (e) { return e.first_name + ':' + e.value }).join(' ')\
                 + ' | ' + Libs.TopBoardLib.getBoard('b').length + ' ' + User.getProperty(TopBoardLib.getUserPropName()))";
    assert_eq!(w.say(board).await, "Ann:10 Bob:9 Cid:1 | 2 10");
    w.say("TopBoardLib.addScore({id: 2, telegramid: 1002, first_name: 'Bob', value: 3})").await;
    assert!(w.say(board).await.starts_with("Bob:12 Ann:10"));
    w.say("TopBoardLib.resetBoard()").await;
    assert!(w.say(board).await.starts_with(" | 2"));
}

#[tokio::test]
async fn webhook_urls_are_signed_as_botyard_checks_them() {
    let mut w = World::new();
    let url = w.say("Bot.sendMessage(Libs.Webhooks.getUrlFor({command: '/on 💵', content: {a: 1}, redirect_to: 'https://x.org/'}))").await;
    let token = hex::encode(Md5::digest("123:abc-1-/on 💵 Salt is very salty!".as_bytes()));
    assert_eq!(
        url,
        format!(
            "https://api.example.com/v1/bots/7/new-webhook?&command=%2Fon%20%F0%9F%92%B5&public_user_token={token}\
             &user_id=1&content=%7B%22a%22%3A1%7D&redirect_to=https%3A%2F%2Fx.org%2F"
        )
    );
    let err = w.run("Libs.Webhooks.getGlobalUrl({command: '/g'})").await.unwrap_err();
    assert!(err.contains("setApiKey"), "{err}");
    let global = w
        .say("Libs.Webhooks.setApiKey('k-1'); Bot.sendMessage(Libs.Webhooks.getGlobalUrl({command: '/g'}))")
        .await;
    assert_eq!(global, "https://api.example.com/v1/bots/7/new-webhook?&command=%2Fg&api_key=k-1");
}

#[tokio::test]
async fn dates_lists_and_common_names() {
    let mut w = World::new();
    let code = "Bot.sendMessage(Libs.DateTimeFormat.format(new Date(Date.UTC(2024, 1, 3, 15, 4, 5)), 'UTC:dddd, mmmm dS yyyy h:MM TT'))";
    assert_eq!(w.say(code).await, "Saturday, February 3rd 2024 3:04 PM");
    let code = "let l = new List({name: 'fans'}); Bot.sendMessage(String(l.exist)); l.create();\
                for (var i = 1; i <= 45; i++) { l.addUser({id: i, telegramid: 100 + i, first_name: 'U' + i}) }\
                l.addUser({id: 3}); l.rejectUser({id: 2}); l.per_page = 10; l.page = 5;\
                let last = l.getUsers(); l.order_ascending = false; l.page = 1; let newest = l.getUsers();\
                Bot.sendMessage([l.count, l.total_pages, last.length, last[0].id, newest[0].id, l.haveUser({id: 2}), l.getUser({id: 40}).first_name].join(' '))";
    assert_eq!(w.say(code).await, "false\n44 5 4 42 45 false U40");
    let names = "Bot.sendMessage([CommonLib.getNameFor({last_name: 'L'}), CommonLib.getLinkFor({telegramid: 5}), Libs.commonLib.getNameFor(user)].join(' '))";
    assert_eq!(w.say(names).await, "L [5](tg://user?id=5) Ann");
}

#[tokio::test]
async fn membership_is_checked_with_telegram_and_callbacks_run() {
    let mut w = World::new();
    w.uses = "Libs.MembershipChecker.handle()".into();
    let panel = json!({"chats": "@one, @two", "checkTime": 20, "onJoining": "/joined", "onAllJoining": "/all",
                       "onNeedJoining": "/need", "onStillJoined": "/still"});
    w.memory().panel = panel.as_object().unwrap().clone();
    w.say("Libs.MembershipChecker.check({from: 'start'})").await;
    let asked = std::mem::take(&mut w.memory().api);
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].0, "getChatMember");
    assert_eq!(asked[0].1["user_id"], 1001);
    assert_eq!(asked[0].1["on_result"], "/test");
    // The answers come back as runs of the asking command; its code does not run.
    for (i, status) in ["member", "left"].iter().enumerate() {
        let mut options = asked[i].1["bb_options"].clone();
        options["ok"] = json!(true);
        options["result"] = json!({"status": status});
        w.options = options;
        assert_eq!(w.say("Libs.MembershipChecker.isMember(); Bot.sendMessage('the command ran')").await, "");
    }
    w.options = Value::Null;
    let runs: Vec<(String, Value)> = std::mem::take(&mut w.memory().runs)
        .into_iter()
        .map(|r| (r["command"].as_str().unwrap().to_owned(), r["options"].clone()))
        .collect();
    assert_eq!(runs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["/joined", "/need"]);
    assert_eq!(runs[0].1["chat_id"], "@one");
    assert_eq!(runs[0].1["bb_option"]["from"], "start");
    let state = "let m = Libs.MembershipChecker; Bot.sendMessage([m.isMember(), m.isMember('@one'), m.getNotJoinedChats(), m.getChats()].join('|'))";
    assert_eq!(w.say(state).await, "false|true|@two|@one, @two");
    // handle() waits for the delay; check() not (beyond 2 seconds).
    w.later(60.0);
    w.say("Libs.MembershipChecker.handle()").await;
    assert!(w.memory().api.is_empty());
    w.say("Libs.MembershipChecker.check()").await;
    let asked = std::mem::take(&mut w.memory().api);
    assert_eq!(asked.len(), 2);
    for ask in &asked {
        let mut options = ask.1["bb_options"].clone();
        options["ok"] = json!(true);
        options["result"] = json!({"status": "member"});
        w.options = options;
        w.say("").await;
    }
    let runs: Vec<String> = std::mem::take(&mut w.memory().runs)
        .into_iter()
        .map(|r| r["command"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(runs, ["/joined", "/all"]);
    w.options = Value::Null;
    assert!(w.say(state).await.starts_with("true|true||"));
}
