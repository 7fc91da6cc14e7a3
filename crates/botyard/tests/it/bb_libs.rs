//! Bots.Business's built-in libraries (`Libs.ResourcesLib`, `RefLib`, `Libs.Random`,
//! `Libs.CooldownLib`, `Libs.Webhooks`, `TopBoardLib`, `Libs.MembershipChecker`, `SmartBot`,
//! `SmartTasker`, `RunAllTask`, `BBAdmin`, …) in bots that have none of their own, driven through the web chat (two users where the library keeps
//! something per user) and a fake Telegram; and a bot's own library of the same name winning.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bb_support::{BOTS, error_log, files_of, import_repo, telegram, telegram_bot};
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestServer, backends};
use crate::jobs_support::quick_jobs;
use crate::webchat::{WebChat, cmd};

const TOKEN: &str = "123456:LIBS-token";

/// Asks `text` until the single answer satisfies `done` (15 s at most); returns that answer.
async fn ask_until(chat: &mut WebChat<'_>, text: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = chat.ask(text, 1).await.remove(0);
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{text}: still {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn resources_lib_keeps_balances_per_user_and_transfers_between_them() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Wallet",
                &[
                    cmd("/id", "", "Bot.sendMessage(String(user.telegramid))"),
                    cmd(
                        "/give",
                        "",
                        "let money = Libs.ResourcesLib.userRes('money'); money.add(parseFloat(params));\
                         Bot.sendMessage('money ' + money.value())",
                    ),
                    cmd(
                        "/pay",
                        "",
                        "let to = params.split(' ')[0]; let amount = params.split(' ')[1];\
                         let mine = ResLib.userRes('money'); let theirs = ResLib.anotherUserRes('money', to);\
                         if (!mine.have(amount)) { Bot.sendMessage('not enough'); return }\
                         mine.transferTo(theirs, parseFloat(amount));\
                         Bot.sendMessage('paid, left ' + mine.value() + ', they have ' + theirs.value())",
                    ),
                    cmd(
                        "/balance",
                        "",
                        "Bot.sendMessage('money ' + Libs.ResourcesLib.userRes('money').value() +\
                         ', gold ' + Libs.ResourcesLib.userRes('gold').value() +\
                         ', crystals ' + Libs.ResourcesLib.chatRes('crystals').value())",
                    ),
                    cmd(
                        "/exchange",
                        "",
                        "let money = ResLib.userRes('money'); let gold = ResLib.userRes('gold');\
                         money.exchangeTo(gold, {remove_amount: 1, add_amount: 10});\
                         ResLib.chatRes('crystals').add(3); Bot.runCommand('/balance')",
                    ),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        let alice_id = alice.ask("/id", 1).await.remove(0);
        let bob_id = bob.ask("/id", 1).await.remove(0);
        assert_ne!(alice_id, bob_id);

        assert_eq!(alice.ask("/give 10", 1).await, ["money 10"]);
        assert_eq!(bob.ask("/balance", 1).await, ["money 0, gold 0, crystals 0"]);
        assert_eq!(alice.ask(&format!("/pay {bob_id} 4"), 1).await, ["paid, left 6, they have 4"]);
        assert_eq!(bob.ask("/balance", 1).await, ["money 4, gold 0, crystals 0"]);
        assert_eq!(bob.ask(&format!("/pay {alice_id} 5"), 1).await, ["not enough"]);
        assert_eq!(bob.ask(&format!("/pay {alice_id} 1.5"), 1).await, ["paid, left 2.5, they have 7.5"]);
        assert_eq!(bob.ask("/exchange", 1).await, ["money 1.5, gold 10, crystals 3"]);
        assert_eq!(alice.ask("/balance", 1).await, ["money 7.5, gold 0, crystals 0"], "chats are apart");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn growth_completes_iterations_as_time_passes() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Farm",
                &[
                    cmd(
                        "/plant",
                        "",
                        "let wood = Libs.ResourcesLib.userRes('wood'); wood.set(10);\
                         wood.growth.add({value: 1, interval: 1, max_iterations_count: 3});\
                         let bank = Libs.ResourcesLib.userRes('bank'); bank.set(100);\
                         bank.growth.addCompoundInterest({percent: 10, interval: 1, max_iterations_count: 2});\
                         Bot.sendMessage(wood.growth.title())",
                    ),
                    cmd(
                        "/show",
                        "",
                        "let wood = Libs.ResourcesLib.userRes('wood'); let bank = Libs.ResourcesLib.userRes('bank');\
                         let info = wood.growth.info();\
                         Bot.sendMessage(wood.value() + ' ' + info.completed_iterations_count + ' ' + info.is_completed +\
                           ' ' + Math.round(bank.value() * 100) / 100 + ' ' + wood.baseValue())",
                    ),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        let title = alice.ask("/plant", 1).await.remove(0);
        assert_eq!(title, "add 1 once at 1 secs (iterations: 3)");
        assert_eq!(bob.ask("/show", 1).await, ["0 undefined undefined 0 0"], "Bob planted nothing");
        // The growth is computed from the time passed: no job runs it.
        let grown = ask_until(&mut alice, "/show", |a| a.ends_with(" true 121 10")).await;
        assert_eq!(grown, "13 3 true 121 10");
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn referral_lib_tracks_who_brought_whom() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "RefBot",
                &[
                    cmd(
                        "/start",
                        "",
                        "RefLib.track({\
                           onTouchOwnLink: function () { Bot.sendMessage('your own link') },\
                           onAlreadyAttracted: function () { Bot.sendMessage('already here') },\
                           onAttracted: function (by) { Bot.sendMessage('attracted by ' + by.telegramid);\
                             ResLib.anotherUserRes('bonus', by.telegramid).add(100) }\
                         });\
                         Bot.sendMessage('welcome')",
                    ),
                    cmd("/id", "", "Bot.sendMessage(String(user.telegramid))"),
                    cmd("/link", "", "Bot.sendMessage(RefLib.getLink())"),
                    cmd(
                        "/refs",
                        "",
                        "let list = RefLib.getRefList(); let by = RefLib.getAttractedBy();\
                         Bot.sendMessage(RefLib.getRefCount() + ' [' + list.getUsers().map(function (u) { return u.telegramid }).join(',') +\
                           '] by ' + (by ? by.telegramid : 'nobody') + ', bonus ' + ResLib.userRes('bonus').value())",
                    ),
                    cmd(
                        "/top",
                        "",
                        "Bot.sendMessage(RefLib.getTopList().get().map(function (i) { return i.user.telegramid + ':' + i.value }).join(' '))",
                    ),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        let mut cid = s.chat(&bot).await;

        assert_eq!(alice.ask("/start", 1).await, ["welcome"]);
        let alice_id = alice.ask("/id", 1).await.remove(0);
        let link = alice.ask("/link", 1).await.remove(0);
        assert_eq!(link, format!("https://t.me/RefBot?start=user{alice_id}"));
        let param = link.split("?start=").nth(1).unwrap().to_owned();

        // Bob opens Alice's link; later starts count as nothing new.
        let bob_id = bob.ask("/id", 1).await.remove(0);
        assert_eq!(
            bob.ask(&format!("/start {param}"), 2).await,
            [format!("attracted by {alice_id}"), "welcome".into()]
        );
        assert_eq!(bob.ask(&format!("/start {param}"), 2).await, ["already here", "welcome"]);
        assert_eq!(bob.ask("/refs", 1).await, [format!("0 [] by {alice_id}, bonus 0")]);
        // Cid opens his own link, then Alice's: he had started already.
        let cid_id = cid.ask("/id", 1).await.remove(0);
        assert_eq!(cid.ask(&format!("/start user{cid_id}"), 2).await, ["your own link", "welcome"]);
        assert_eq!(cid.ask("/start", 1).await, ["welcome"]);
        assert_eq!(cid.ask(&format!("/start {param}"), 2).await, ["already here", "welcome"]);

        assert_eq!(alice.ask("/refs", 1).await, [format!("1 [{bob_id}] by nobody, bonus 100")]);
        assert_eq!(alice.ask("/top", 1).await, [format!("{alice_id}:1")]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn random_cooldowns_boards_and_dates() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Games",
                &[
                    cmd(
                        "/dice",
                        "",
                        "let ok = true; let seen = {};\
                         for (let i = 0; i < 500; i++) {\
                           let n = Libs.Random.randomInt(1, 6); seen[n] = 1; ok = ok && n >= 1 && n <= 6 && n % 1 === 0;\
                           let f = Libs.Random.randomFloat(0.5, 1.5); ok = ok && f >= 0.5 && f < 1.5;\
                         }\
                         Bot.sendMessage(ok + ' ' + Object.keys(seen).length + ' ' + Libs.Random.randomString(6).length)",
                    ),
                    cmd(
                        "/bonus",
                        "",
                        "Libs.CooldownLib.user.watch({name: 'bonus', time: 2,\
                           onStarting: function () { Bot.sendMessage('come back later') },\
                           onWaiting: function (left) { Bot.sendMessage('wait ' + left) },\
                           onEnding: function () { Bot.sendMessage('bonus!'); return true }})",
                    ),
                    cmd("/score", "", "Bot.sendMessage(String(TopBoardLib.addScore({value: parseFloat(params)})))"),
                    cmd(
                        "/top",
                        "",
                        "Bot.sendMessage(TopBoardLib.getBoard().map(function (e) { return e.first_name + ' ' + e.value }).join(', '))",
                    ),
                    cmd(
                        "/date",
                        "",
                        "Bot.sendMessage(Libs.DateTimeFormat.format(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), 'UTC:dd.mm.yyyy HH:MM:ss'))",
                    ),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        assert_eq!(alice.ask("/dice", 1).await, ["true 6 6"]);
        assert_eq!(alice.ask("/bonus", 1).await, ["come back later"]);
        assert_eq!(bob.ask("/bonus", 1).await, ["come back later"], "a cooldown per user");
        ask_until(&mut alice, "/bonus", |a| a == "bonus!").await;
        let again = alice.ask("/bonus", 1).await.remove(0);
        assert!(again.starts_with("wait "), "started again: {again}");

        assert_eq!(alice.ask("/score 5", 1).await, ["5"]);
        assert_eq!(bob.ask("/score 7", 1).await, ["7"]);
        assert_eq!(alice.ask("/score 3", 1).await, ["8"]);
        assert_eq!(bob.ask("/top", 1).await, ["Tester 8, Tester 7"]);
        assert_eq!(bob.ask("/date", 1).await, ["02.01.2024 03:04:05"]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn webhook_urls_of_the_built_in_library_run_their_command() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Hooks",
                &[
                    cmd(
                        "/url",
                        "",
                        "Bot.sendMessage(Libs.Webhooks.getUrlFor({command: '/hook', user_id: user.id, content: 'hi'}))",
                    ),
                    cmd(
                        "/hook",
                        "",
                        "Bot.setProperty('hooked', content, 'string'); if (user) { Bot.sendMessage('hook ' + content + ' ' + options.method) }",
                    ),
                    cmd(
                        "/global",
                        "",
                        "Libs.Webhooks.setApiKey(params); Bot.sendMessage(Libs.Webhooks.getGlobalUrl({command: '/hook', content: 'all'}))",
                    ),
                    cmd("/hooked", "", "Bot.sendMessage('hooked ' + Bot.getProperty('hooked'))"),
                    cmd("/me", "", "Bot.sendMessage(String(user.id))"),
                ],
            )
            .await;
        let mut chat = s.chat(&bot).await;
        let me = chat.ask("/me", 1).await.remove(0);

        let url = chat.ask("/url", 1).await.remove(0);
        let host = s.url("").trim_start_matches("http://").to_owned();
        let prefix =
            format!("https://{host}/v1/bots/{}/new-webhook?&command=%2Fhook&public_user_token=", bot.id);
        assert!(url.starts_with(&prefix), "{url}");
        let rest = &url[prefix.len()..];
        let (token, rest) = rest.split_at(32);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{url}");
        assert_eq!(rest, format!("&user_id={me}&content=hi"));
        // The test server speaks plain HTTP.
        let url = url.replacen("https://", "http://", 1);
        let called = s.http.get(&url).send().await.unwrap();
        assert_eq!(called.status(), StatusCode::OK);
        assert_eq!(chat.answers(1).await, ["hook hi GET"]);
        let forged = s.http.get(url.replace("user_id=", "user_id=9")).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

        // A global URL carries the owner's API key and runs without a user.
        let global = chat.ask(&format!("/global {}", ann.api_key), 1).await.remove(0);
        assert!(global.contains("&command=%2Fhook&api_key="), "{global}");
        let called = s.http.post(global.replacen("https://", "http://", 1)).send().await.unwrap();
        assert_eq!(called.status(), StatusCode::OK);
        ask_until(&mut chat, "/hooked", |a| a == "hooked all").await;
        chat.silence().await;
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn a_bot_s_own_library_wins_over_the_built_in_one() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        // DemoResBot as its repository holds it (with its own ResourcesLib), and one more command.
        let mut files = files_of(&Path::new(BOTS).join("DemoResBot"));
        files.push((
            "commands/_which.js".into(),
            b"/*CMD\n  command: /which\nCMD*/\nBot.sendMessage(typeof Libs.ResourcesLib.userRes('money').isNumber + ' ' + Object.keys(Libs).sort().join(','))\n".to_vec(),
        ));
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
        let bot = import_repo(&s, &ann, "DemoResBot", &borrowed, None).await;
        let id = bot.id;
        let mut chat = s.chat(&bot).await;
        // Only the bot's own libraries: its ResourcesLib (it has `isNumber`) and Random.
        assert_eq!(chat.ask("/which", 1).await, ["function Random,ResourcesLib"]);
        let set = chat.ask("/set10", 2).await;
        assert!(set[1].contains("💰 money: 10.0000 USD"), "{set:?}");

        // A bot that names no library gets none.
        let plain = s
            .bot(&ann, "Plain", &[cmd("/libs", "", "Bot.sendMessage(Object.keys(Libs).length + ' libs')")])
            .await;
        let mut other = s.chat(&plain).await;
        assert_eq!(other.ask("/libs", 1).await, ["0 libs"]);
        assert_eq!(error_log(&s, &ann, id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn membership_checker_asks_telegram_and_runs_the_panel_s_commands() {
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let s = TestServer::start_with(backend, telegram(&fake)).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = telegram_bot(&s, &ann, "Join", TOKEN, &[
            cmd(
                "/setup",
                "",
                "Libs.MembershipChecker.setup();\
                 ['chats:@one, @two', 'onJoining:/joined', 'onNeedJoining:/need', 'onAllJoining:/all'].forEach(function (f) {\
                   AdminPanel.setFieldValue({panel_name: 'MembershipChecker', field_name: f.split(':')[0], value: f.split(':')[1]}) });\
                 Bot.sendMessage('set up')",
            ),
            cmd("/check", "", "Libs.MembershipChecker.check({n: 1}); Bot.sendMessage('checking')"),
            cmd("/joined", "", "Bot.sendMessage('joined ' + options.chat_id + ' ' + options.bb_option.n)"),
            cmd("/need", "", "Bot.sendMessage('please join ' + options.chat_id)"),
            cmd("/all", "", "Bot.sendMessage('joined all: ' + options.chats.join(' '))"),
            cmd(
                "/status",
                "",
                "Bot.sendMessage(Libs.MembershipChecker.isMember() + ' [' + Libs.MembershipChecker.getNotJoinedChats() + ']')",
            ),
        ])
        .await;

        fake.message(TOKEN, 501, 501, "/setup");
        fake.wait_calls("sendMessage", 1).await;
        let member = json!({"ok": true, "result": {"status": "member", "user": {"id": 501}}});
        fake.inject("getChatMember", None, 200, member.clone(), 1);
        fake.inject("getChatMember", None, 200, json!({"ok": true, "result": {"status": "left"}}), 1);
        fake.message(TOKEN, 501, 501, "/check");
        let asked = fake.wait_calls("getChatMember", 2).await;
        assert_eq!(asked[0].params["chat_id"], "@one");
        assert_eq!(asked[0].params["user_id"], 501);
        fake.wait_calls("sendMessage", 4).await;
        s.settled(bot).await;
        assert_eq!(fake.texts(501), ["set up", "checking", "joined @one 1", "please join @two"]);
        fake.message(TOKEN, 501, 501, "/status");
        fake.wait_calls("sendMessage", 5).await;
        assert_eq!(fake.texts(501)[4], "false [@two]");

        // Checks are at most every 2 seconds.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        fake.inject("getChatMember", None, 200, member, 2);
        fake.message(TOKEN, 501, 501, "/check");
        fake.wait_calls("sendMessage", 8).await;
        s.settled(bot).await;
        assert_eq!(fake.texts(501)[5..], ["checking", "joined @two 1", "joined all: @one @two"]);
        fake.message(TOKEN, 501, 501, "/status");
        fake.wait_calls("sendMessage", 9).await;
        assert_eq!(fake.texts(501)[8], "true []");
        assert_eq!(error_log(&s, &ann, bot).await, Vec::<Value>::new());
        s.stop().await;
    }
}

/// The lang files of the SmartBot test bot: the same commands in English and Spanish.
const SMART_SETUP: &str = "const commands = {\
       '/menu': {text: '#/texts/menu', inline_buttons: '#/keyboards/main'},\
       '/help': {text: '#/texts/help', aliases: 'Help, Ayuda', edit: true},\
       '/language': {text: '#/texts/language', inline_buttons: [[{text: 'English', command: '/lang en'}, {text: 'Español', command: '/lang es'}]]},\
       '/rewarded': {text: '#/texts/rewarded'},\
       '/already': {text: '#/texts/already'},\
       '/tasks': {text: '#/texts/tasks'},\
       '/withdraw': {text: '#/texts/withdrawn', dialogErrors: {notEnough: 'Only {_curValue} {currency}', invalid: '\"{_amount}\" is not an amount'}}\
     };\
     const keyboards = {main: [[{text: '{helpButton}', command: '/help'}], [{text: '{languageButton}', command: '/language'}]]};\
     smartBot.setupLng('en', {commands: commands, titles: {appTitle: 'Tea shop', helpButton: 'Help', languageButton: 'Language', currency: 'points'},\
       types: {keyboards: keyboards, texts: {menu: '{appTitle}: choose', help: 'Send /menu to go back', language: 'Choose a language',\
         rewarded: 'You got {amount} {currency}, you have {balance}', already: '{title} is done already', tasks: 'Left: {left}', withdrawn: 'Withdrawn {amount}'}}});\
     smartBot.setupLng('es', {commands: commands, titles: {appTitle: 'Tienda', helpButton: 'Ayuda', languageButton: 'Idioma', currency: 'puntos'},\
       types: {keyboards: keyboards, texts: {menu: '{appTitle}: elige', help: 'Envía /menu para volver', language: 'Elige un idioma',\
         rewarded: 'Ganaste {amount} {currency}, tienes {balance}', already: '{title} ya está hecha', tasks: 'Quedan: {left}', withdrawn: 'Retirado {amount}'}}});\
     Bot.sendMessage('saved')";

/// The titles and commands of a message's inline keyboard.
fn buttons(message: &Value) -> Vec<(String, String)> {
    let rows = message["payload"]["botyard"]["keyboard"]["rows"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (b["title"].as_str().unwrap_or_default().into(), b["command"].as_str().unwrap_or_default().into())
        })
        .collect()
}

#[tokio::test]
async fn smart_bot_menus_tasks_and_amounts_in_two_languages() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Smart",
                &[
                    // BeforeAll: the SmartBot and the tasks of every command; AfterAll: the answer.
                    cmd(
                        "@",
                        "",
                        "let balance = user ? (User.getProperty('balance') || 0) : 0;\
                         let smartBot = new SmartBot({params: {balance: balance}});\
                         const tasker = new SmartTasker({name: 'Core', balance: balance, smartBot: smartBot,\
                           tasks: [{id: 'read', title: 'Read', amount: 1}, {id: 'daily', title: 'Daily', amount: 1, manyTimes: true}]});",
                    ),
                    cmd("@@", "", "smartBot.handle()"),
                    cmd("*", "", ""),
                    cmd("/setup", "", SMART_SETUP),
                    cmd("/menu", "", ""),
                    cmd("/help", "", ""),
                    cmd("/language", "", ""),
                    cmd("/lang", "", "smartBot.setUserLang(params); smartBot.run({command: '/menu'})"),
                    cmd(
                        "/task",
                        "",
                        "let done = tasker.completeExecution(params);\
                         if (done) { User.setProperty('balance', tasker.balance, 'float');\
                           smartBot.run({command: '/rewarded', options: {amount: tasker.curTask.amount}}) }\
                         else { smartBot.run({command: '/already', options: {title: tasker.curTask.title}}) }",
                    ),
                    cmd("/rewarded", "", ""),
                    cmd("/already", "", ""),
                    cmd(
                        "/tasks",
                        "",
                        "smartBot.add({left: tasker.getTasksForWork().map(function (t) { return t.title }).join(', ')})",
                    ),
                    cmd(
                        "/withdraw",
                        "",
                        "let dialog = new SmartAmountDialog({min: 1, curValue: balance, smartBot: smartBot,\
                           dialogErrors: smartBot.curCommand.dialogErrors});\
                         if (!dialog.accept(params)) { Bot.sendMessage(dialog.errMsg); return }\
                         User.setProperty('balance', balance - dialog.amount, 'float');\
                         smartBot.add({amount: dialog.amount})",
                    ),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        assert_eq!(alice.ask("/setup", 1).await, ["saved"]);

        // The menu, its buttons from a shared keyboard; a pressed button edits the menu.
        alice.send("/menu").await;
        alice.sent_one();
        let menu = alice.wait_for(1).await.remove(0);
        assert_eq!(menu["payload"]["text"], "Tea shop: choose");
        assert_eq!(
            buttons(&menu),
            [("Help".into(), "/help".into()), ("Language".into(), "/language".into())]
        );
        let menu_id = menu["id"].as_str().unwrap().to_owned();
        alice.press(&menu_id, "/help").await;
        s.settled(bot.id).await;
        let edited = alice.messages().await.into_iter().find(|m| m["id"] == menu_id.as_str()).unwrap();
        assert_eq!(edited["payload"]["text"], "Send /menu to go back");
        // An alias, typed: the master command runs the command it names.
        assert_eq!(alice.ask("Help", 1).await, ["Send /menu to go back"]);

        // Alice switches to Spanish with the language buttons; Bob stays in English.
        alice.send("/language").await;
        alice.sent_one();
        let choose = alice.wait_for(1).await.remove(0);
        assert_eq!(choose["payload"]["text"], "Choose a language");
        assert_eq!(buttons(&choose)[1], ("Español".into(), "/lang es".into()));
        alice.press(choose["id"].as_str().unwrap(), "/lang es").await;
        let menu = alice.wait_for(1).await.remove(0);
        assert_eq!(menu["payload"]["text"], "Tienda: elige");
        assert_eq!(buttons(&menu)[0], ("Ayuda".into(), "/help".into()));
        assert_eq!(bob.ask("/menu", 1).await, ["Tea shop: choose"]);
        assert_eq!(alice.ask("Ayuda", 1).await, ["Envía /menu para volver"]);

        // Tasks: once, or many times; each user's own.
        assert_eq!(bob.ask("/task read", 1).await, ["You got 1 points, you have 1"]);
        assert_eq!(bob.ask("/task read", 1).await, ["Read is done already"]);
        assert_eq!(bob.ask("/task daily", 1).await, ["You got 1 points, you have 2"]);
        assert_eq!(bob.ask("/task daily", 1).await, ["You got 1 points, you have 3"]);
        assert_eq!(bob.ask("/tasks", 1).await, ["Left: Daily"]);
        assert_eq!(alice.ask("/tasks", 1).await, ["Quedan: Read, Daily"]);
        assert_eq!(alice.ask("/task read", 1).await, ["Ganaste 1 puntos, tienes 1"]);

        // Amounts checked with the template's errors.
        assert_eq!(bob.ask("/withdraw 10", 1).await, ["Only 3 points"]);
        assert_eq!(bob.ask("/withdraw ten", 1).await, ["\"ten\" is not an amount"]);
        assert_eq!(bob.ask("/withdraw 2", 1).await, ["Withdrawn 2"]);
        assert_eq!(bob.ask("/withdraw 2", 1).await, ["Only 1 points"]);
        alice.silence().await;
        bob.silence().await;
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());
        s.stop().await;
    }
}

#[tokio::test]
async fn run_all_task_and_bb_admin_fail_with_what_botyard_cannot_do() {
    for backend in backends() {
        let s = TestServer::start_with(backend, quick_jobs).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "Admin",
                &[
                    cmd("/news", "", "Bot.sendMessage('news')"),
                    cmd("/bc", "", "Bot.runAll({command: '/news', on_create: '/created'}); Bot.sendMessage('started')"),
                    cmd(
                        "/created",
                        "",
                        "let task = new RunAllTask({id: options.run_all_task.id}); Bot.setProperty('task', task.id, 'integer');\
                         Bot.sendMessage('task of ' + task.total + ' chats, ' + task.status + ' ' + task.progress + '%')",
                    ),
                    cmd(
                        "/progress",
                        "",
                        "let task = new RunAllTask({id: Bot.getProperty('task')});\
                         if (!task.status) { Bot.sendMessage('not found'); return } Bot.sendMessage(task.status)",
                    ),
                    cmd("/install", "", "BBAdmin.installBot({email: 'friend@example.com', bot_id: bot.id}); Bot.sendMessage('installed')"),
                    cmd("/linked", "", "if (!BBAdmin.curUser.parentAccount) { Bot.sendMessage('no account') }"),
                ],
            )
            .await;
        let mut alice = s.chat(&bot).await;
        let mut bob = s.chat(&bot).await;
        assert_eq!(bob.ask("/news", 1).await, ["news"]);
        assert_eq!(alice.ask("/bc", 3).await, ["started", "task of 2 chats, running 0%", "news"]);
        assert_eq!(bob.answers(1).await, ["news"]);
        assert_eq!(error_log(&s, &ann, bot.id).await, Vec::<Value>::new());

        // What needs botyard to read a task, or Bots.Business's account service, fails clearly.
        for (command, error) in [
            ("/progress", "RunAllTask: botyard cannot read the status of broadcast task"),
            ("/install", "BBAdmin.installBot: botyard has no Bots.Business account service"),
            ("/linked", "BBAdmin.curUser: botyard has no Bots.Business account service"),
        ] {
            let answer = alice.ask(command, 1).await.remove(0);
            assert!(answer.starts_with("Sorry, something went wrong."), "{command}: {answer}");
            s.settled(bot.id).await;
            let logs = error_log(&s, &ann, bot.id).await;
            assert_eq!(logs.len(), 1, "{command}: {logs:?}");
            assert!(logs[0].to_string().contains(error), "{command}: {logs:?}");
            s.bb(&ann, Method::DELETE, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        }
        alice.silence().await;
        s.stop().await;
    }
}
