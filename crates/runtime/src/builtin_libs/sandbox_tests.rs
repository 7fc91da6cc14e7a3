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
        if scope == "Api" {
            self.api.push((method.to_owned(), first));
            return Ok(HostAnswer::Undefined);
        }
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
            "sendKeyboard" => {
                let text = args.get(1).and_then(Value::as_str).unwrap_or_default();
                self.sent.push(format!("{text} [{}]", first.as_str().unwrap_or_default()));
                Ok(HostAnswer::Undefined)
            }
            "run" => {
                self.runs.push(first);
                Ok(HostAnswer::Undefined)
            }
            "getPanelValues" => Ok(HostAnswer::Value(Value::Object(self.panel.clone()))),
            "setPanel" => Ok(HostAnswer::Undefined),
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
    command: Value,
    request: Value,
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
            command: json!({"name": "/test"}),
            request: Value::Null,
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
        globals.insert("command".into(), self.command.clone());
        globals.insert("request".into(), self.request.clone());
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

/// The Api calls of the last runs, taken.
fn api_calls(w: &mut World) -> Vec<(String, Value)> {
    std::mem::take(&mut w.memory().api)
}

fn runs(w: &mut World) -> Vec<Value> {
    std::mem::take(&mut w.memory().runs)
}

const LANG_SETUP: &str = "const commands = {\
       '/menu': {text: '#/texts/menu', inline_buttons: '#/keyboards/main'},\
       '/help': {text: '{helpButton}: {appTitle} {balance}', parse_mode: 'HTML', aliases: 'Help, Ayuda', keyboard: 'A, B\\nC'},\
       '/pic': {photo: 'https://x.org/p.png', text: 'a {appTitle} picture', alert: 'shown'},\
       '/go': {run: {command: '/menu', params: {from: 'go'}}},\
       '/empty': {text: 'answers', inline_buttons: [[{text: '{answer1}', command: '/a 1'}], [{text: '{answer2}', command: '/a 2'}]]}\
     };\
     const keyboards = {main: [[{text: '{helpButton}', command: '/help'}, {text: 'Site', url: 'https://x.org'}]]};\
     const smart = new SmartBot();\
     smart.setupLng('en', {commands: commands, titles: {appTitle: 'Tea shop', helpButton: 'Help'},\
       types: {keyboards: keyboards, texts: {menu: '{appTitle}\\nChoose.'}}});\
     smart.setupLng('es', {commands: commands, titles: {appTitle: 'Tienda', helpButton: 'Ayuda'},\
       types: {keyboards: keyboards, texts: {menu: '{appTitle}\\nElige.'}}});\
     Bot.sendMessage(smart.getUserLang() + ' ' + smart.langData.titles.appTitle)";

#[tokio::test]
async fn smart_bot_answers_commands_from_the_user_s_lang_file() {
    let mut w = World::new();
    assert_eq!(w.say(LANG_SETUP).await, "en Tea shop", "the first language is the default");
    w.command = json!({"name": "/menu"});
    assert_eq!(w.say("new SmartBot().handle()").await, "");
    let calls = api_calls(&mut w);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "sendMessage");
    assert_eq!(
        calls[0].1,
        json!({"text": "Tea shop\nChoose.", "parse_mode": "Markdown", "reply_markup": {"inline_keyboard": [[
            {"text": "Help", "callback_data": "/help"}, {"text": "Site", "url": "https://x.org"}]]}})
    );
    // Params of the options, of the constructor and of `add`; a reply keyboard.
    w.command = json!({"name": "/help"});
    w.options = json!({"balance": 7});
    assert_eq!(w.say("new SmartBot({params: {balance: 1}}).handle()").await, "Help: Tea shop 7 [A, B\nC]");
    w.options = Value::Null;
    let fill = "let s = new SmartBot({params: {n: 2, deep: {x: 'y'}, none: null}});\
                Bot.sendMessage(s.fill('{n} {deep.x} {none}{missing} {appTitle}'))";
    assert_eq!(w.say(fill).await, "2 y {missing} Tea shop");
    let strict = w.run("new SmartBot({strict_params: true}).fill('{missing}')").await.unwrap_err();
    assert!(strict.contains("param \"missing\" is not found"), "{strict}");

    // Another language for this user only.
    w.as_user(2, "Bob");
    let err = w.run("new SmartBot().setUserLang('fr')").await.unwrap_err();
    assert!(err.contains("\"fr\" is not set up"), "{err}");
    w.say("new SmartBot().setUserLang('es')").await;
    w.command = json!({"name": "/menu"});
    w.say("let s = new SmartBot(); Bot.sendMessage(s.getUserLang()); s.handle()").await;
    assert_eq!(api_calls(&mut w)[0].1["text"], "Tienda\nElige.");
    w.as_user(1, "Ann");
    w.say("new SmartBot().handle()").await;
    assert_eq!(api_calls(&mut w)[0].1["text"], "Tea shop\nChoose.");

    // Aliases: the master command runs the command an alias names; exact texts only.
    w.command = json!({"name": "*"});
    w.message = "Ayuda".into();
    assert_eq!(w.say("Bot.sendMessage(String(new SmartBot().handle()))").await, "true");
    let ran = runs(&mut w);
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["command"], "/help");
    w.message = "ayuda please".into();
    assert_eq!(w.say("Bot.sendMessage(String(new SmartBot().handle()))").await, "false");
    let alias = "let s = new SmartBot(); Bot.sendMessage([s.isAlias('Help'), s.isAlias(' Ayuda '), s.isAlias('Go')].join(' '))";
    assert_eq!(w.say(alias).await, "true true false");

    // A photo; an alert for the pressed button; an edit of the pressed message.
    w.command = json!({"name": "/pic"});
    w.request = json!({"id": "q1", "data": "/pic", "message": {"message_id": 55}});
    w.say("new SmartBot().handle()").await;
    let calls = api_calls(&mut w);
    assert_eq!(
        calls[0],
        (
            "answerCallbackQuery".into(),
            json!({"callback_query_id": "q1", "text": "shown", "show_alert": true})
        )
    );
    assert_eq!(calls[1].0, "sendPhoto");
    assert_eq!(calls[1].1["caption"], "a Tea shop picture");
    w.command = json!({"name": "/menu"});
    w.params = "edit".into();
    w.say("new SmartBot().handle()").await;
    let calls = api_calls(&mut w);
    assert_eq!(calls[0].0, "editMessageText");
    assert_eq!(calls[0].1["message_id"], 55);
    // run() passes the options on, and the pressed message's id.
    w.params = String::new();
    w.options = json!({"keep": 1});
    w.command = json!({"name": "/go"});
    w.say("new SmartBot().handle()").await;
    let ran = runs(&mut w);
    assert_eq!(ran[0], json!({"command": "/menu", "options": {"keep": 1, "message_id": 55, "from": "go"}}));
    w.request = Value::Null;
    w.options = Value::Null;

    // Buttons whose text came out empty are left out; skipped folders and unknown commands.
    w.command = json!({"name": "/empty"});
    w.say("let s = new SmartBot(); s.add({answer1: 'Yes', answer2: ''}); s.handle()").await;
    assert_eq!(
        api_calls(&mut w)[0].1["reply_markup"],
        json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "/a 1"}]]})
    );
    w.command = json!({"name": "/menu", "folder": "Setup"});
    assert_eq!(
        w.say("Bot.sendMessage(String(new SmartBot({skip_cmd_folders: ['Setup']}).handle()))").await,
        "false"
    );
    w.command = json!({"name": "/nothing"});
    w.message = "/nothing".into();
    assert_eq!(w.say("Bot.sendMessage(String(new SmartBot().handle()))").await, "false");
    assert!(api_calls(&mut w).is_empty());
    let err = w.run("new SmartBot().fill(new SmartBot()._types('#/texts/none', 0))").await.unwrap_err();
    assert!(err.contains("\"#/texts/none\" is not in the types"), "{err}");
}

#[tokio::test]
async fn smart_bot_keeps_big_lang_files_in_parts() {
    let mut w = World::new();
    // About 40 KB of text with emoji and quotes, in properties of at most 10 KB.
    let setup = "let texts = {}; for (let i = 0; i < 400; i++) { texts['t' + i] = '🍵 \"tea\" number ' + i + ' ' + 'é'.repeat(50) }\
                 new SmartBot().setupLng('en', {commands: {'/test': {text: '#/texts/t399'}}, types: {texts: texts}, titles: {}})";
    w.say(setup).await;
    let parts =
        w.memory().properties.keys().filter(|(_, _, name)| name.starts_with("SmartBot_lng_en_")).count();
    assert!(parts >= 5, "{parts}");
    w.command = json!({"name": "/test"});
    w.say("new SmartBot().handle()").await;
    assert_eq!(api_calls(&mut w)[0].1["text"], format!("🍵 \"tea\" number 399 {}", "é".repeat(50)));
    // Saved again smaller: the parts left over go.
    w.say("new SmartBot().setupLng('en', {commands: {'/test': {text: 'short'}}})").await;
    let parts =
        w.memory().properties.keys().filter(|(_, _, name)| name.starts_with("SmartBot_lng_en_")).count();
    assert_eq!(parts, 1);
    w.say("new SmartBot().handle()").await;
    assert_eq!(api_calls(&mut w)[0].1["text"], "short");
}

#[tokio::test]
async fn smart_amount_dialog_checks_amounts() {
    let mut w = World::new();
    let code = "let d = new SmartAmountDialog({min: 10, max: 100, curValue: 50, onlyInteger: true,\
                  dialogErrors: {invalid: 'bad {_amount}', notInteger: 'whole', zero: 'zero', notEnough: 'max {_curValue}', small: 'min {_min}', big: 'big'}});\
                Bot.sendMessage(['30', 'abc', '-5', '1,5', '12.5', '60', '5'].map(function (v) { return d.accept(v) }).join('|') + ' ' + d.amount)";
    assert_eq!(w.say(code).await, "true|bad abc|bad -5|bad 1,5|whole|max 50|min 10 5");
    let code = "let s = new SmartBot({params: {currency: 'USD'}});\
                let d = new SmartAmountDialog({curValue: 0, smartBot: s, dialogErrors: {zero: 'no {currency} ({_curValue})'}});\
                let z = new SmartAmountDialog({curValue: 0, skipZero: true});\
                Bot.sendMessage([d.accept('0'), d.errMsg, d.error, z.accept('0'), z.accept('4')].join('|'))";
    assert_eq!(w.say(code).await, "false|no USD (0)|zero|true|Not enough: at most 0");
}

const TASKS: &str = "const tasks = [\
       {id: 'read', title: 'Read', amount: 1},\
       {id: 'join', title: 'Join', amount: 2.5},\
       {id: 'daily', title: 'Daily', amount: 1, manyTimes: true},\
       {id: 'quiz', title: 'Quiz', amount: 3, question: 'Which lib?', answers: ['MCL', 'JoinLib'], correctAnswer: 'MCL'}\
     ];\
     const smart = new SmartBot();\
     const tasker = new SmartTasker({name: 'Core', tasks: tasks, balance: User.getProperty('balance') || 0, smartBot: smart});\
     function left() { return tasker.getTasksForWork().map(function (t) { return t.id }).join(',') }\n";

#[tokio::test]
async fn smart_tasker_keeps_each_user_s_progress() {
    let mut w = World::new();
    let say = |code: &str| format!("{TASKS}{code}");
    assert_eq!(w.say(&say("Bot.sendMessage(left())")).await, "read,join,daily,quiz");
    let complete = "let done = tasker.completeExecution(params); User.setProperty('balance', tasker.balance, 'float');\
                    Bot.sendMessage((done ? 'done ' + done.count : 'already') + ' ' + tasker.curTask.title + ' ' + tasker.balance + ' ' + left())";
    for (task, answer) in [
        ("read", "done 1 Read 1 join,daily,quiz"),
        ("read", "already Read 1 join,daily,quiz"),
        ("daily", "done 1 Daily 2 join,daily,quiz"),
        ("daily", "done 2 Daily 3 join,daily,quiz"),
    ] {
        w.params = task.into();
        assert_eq!(w.say(&say(complete)).await, answer);
    }
    let stored = w
        .memory()
        .properties
        .get(&("User".into(), "1".into(), "SmartTasker.Core:completedTasks".into()))
        .cloned();
    let stored = stored.unwrap();
    assert_eq!(stored["totalReward"], 3.0);
    assert_eq!(stored["tasks"]["daily"]["count"], 2);
    // Skipping; another user starts afresh.
    assert_eq!(w.say(&say("Bot.sendMessage(tasker.skipTask() + ' ' + left())")).await, "true daily,quiz");
    w.as_user(2, "Bob");
    assert_eq!(w.say(&say("Bot.sendMessage(left())")).await, "read,join,daily,quiz");
    // A question: params for the template, answers read back from the button's command.
    let ask = "let p = tasker.prepareTaskQuestion({taskID: 'quiz', onAnswer: '/answer'});\
               Bot.sendMessage(smart.fill('{question} {answer1}={isValidAnswer1} {answer2}={answerCommand2} [{answer3}] {title}'))";
    assert_eq!(w.say(&say(ask)).await, "Which lib? MCL=quiz:1 JoinLib=/answer quiz:0 [] Quiz");
    w.params = "quiz:0".into();
    let accept = "let a = tasker.acceptAnswer(); Bot.sendMessage(a.taskID + ' ' + a.isCorrect + ' ' + tasker.curTask.id + ' ' + JSON.stringify(tasker.acceptAnswer('nonsense')))";
    assert_eq!(w.say(&say(accept)).await, "quiz false quiz null");
    let work = "let e = tasker.defineWork('read'); Bot.sendMessage(String(e) + ' ' + smart.fill('{title} {amount}'))";
    assert_eq!(w.say(&say(work)).await, "null Read 1");
    // The balance never goes below zero; task ids are checked.
    let err = w.run(&say("tasker.addBalance(-5)")).await.unwrap_err();
    assert!(err.contains("below zero"), "{err}");
    let err = w.run("new SmartTasker({name: 'x', tasks: [{id: 'a b', amount: 1}]})").await.unwrap_err();
    assert!(err.contains("without spaces or colons"), "{err}");
    let err = w.run("new SmartTasker({tasks: [{id: 'a'}]})").await.unwrap_err();
    assert!(err.contains("numeric amount"), "{err}");
    w.as_user(1, "Ann");
    w.say(&say("tasker.clearUserProgress()")).await;
    assert_eq!(w.say(&say("Bot.sendMessage(left())")).await, "read,join,daily,quiz");
}

#[tokio::test]
async fn run_all_task_and_bb_admin_say_what_botyard_cannot_do() {
    let mut w = World::new();
    w.options = json!({"run_all_task": {"id": 12, "total": 30, "status": "running"}});
    let created = "let t = new RunAllTask({id: 12}); Bot.sendMessage([t.id, t.status, t.total, t.progress, t.cur_position, t.errors_count].join(' ') + ' ' + JSON.stringify(t))";
    assert_eq!(
        w.say(created).await,
        "12 running 30 0 0 0 {\"id\":12,\"status\":\"running\",\"progress\":0,\"cur_position\":0,\"total\":30,\"errors_count\":0}"
    );
    w.options = Value::Null;
    assert_eq!(
        w.say("let t = new RunAllTask({id: '12'}); Bot.sendMessage(JSON.stringify(t))").await,
        "{\"id\":12}"
    );
    let err =
        w.run("if (!new RunAllTask({id: 12}).status) { Bot.sendMessage('not found') }").await.unwrap_err();
    assert!(err.contains("botyard cannot read the status of broadcast task 12"), "{err}");
    assert!(err.contains("/v2/bots/7/broadcast_tasks"), "{err}");
    assert!(w.run("new RunAllTask({})").await.unwrap_err().contains("need {id}"));

    for (code, what) in [
        (
            "BBAdmin.installBot({email: 'a@b.c', bot_id: 1})",
            "BBAdmin.installBot: botyard has no Bots.Business account service, so it cannot install a bot",
        ),
        ("BBAdmin.cloneBot({bot_id: 1})", "BBAdmin.cloneBot: botyard has no Bots.Business account service"),
        (
            "BBAdmin.attractUser({email: 'a@b.c'})",
            "BBAdmin.attractUser: botyard has no Bots.Business account service",
        ),
        ("BBAdmin.addExtraPointsToIterationQuota({extra_points: 5})", "cannot change the iteration quota"),
        (
            "if (!BBAdmin.curUser.parentAccount) {}",
            "BBAdmin.curUser: botyard has no Bots.Business account service",
        ),
        ("BBAdmin.someday()", "BBAdmin.someday: botyard has no Bots.Business account service"),
    ] {
        let err = w.run(code).await.unwrap_err();
        assert!(err.contains(what), "{code}: {err}");
    }
    assert_eq!(w.say("Bot.sendMessage(typeof BBAdmin + ' ' + typeof BBAdmin.installBot + ' ' + JSON.stringify(BBAdmin))").await, "object function {}");
}
