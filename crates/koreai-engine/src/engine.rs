//! One turn: what the user said is matched against what the conversation waits for, then
//! against intents; dialogs run node by node until they wait for input or end.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::bot::KoreBot;
use crate::entities::yes_no;
use crate::host::DialogHost;
use crate::knowledge::Answer;
use crate::messages::{Chosen, Message, choose, render};
use crate::nlu::{Candidate, Detection, Recognised, Target};
use crate::pattern::{Pattern, PatternMatch, Sentence};
use crate::session::{Session, Task, Waiting};
use crate::text::{truncate, words};

/// What the user did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "text", rename_all = "snake_case")]
pub enum Input {
    /// The user opened the conversation (Kore.ai's ON_CONNECT / welcome).
    ConversationStart,
    Text(String),
}

/// What one turn produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub messages: Vec<Message>,
    /// Bot events raised, in order (`WELCOME_MESSAGE_EVENT`, `INTENT_UNIDENTIFIED`, …).
    pub events: Vec<String>,
    /// Lines for the bot's error log.
    pub log: Vec<String>,
    /// The last task ended with nothing on hold (Kore.ai's CONVERSATION_END).
    pub conversation_ended: bool,
    /// Intent detection of the input, when it was run.
    pub detection: Option<Detection>,
    /// Names of the dialogs started and ended during the turn.
    pub started_dialogs: Vec<String>,
    pub ended_dialogs: Vec<String>,
}

impl Turn {
    /// All messages as plain text, one per line.
    pub fn text(&self) -> String {
        self.messages.iter().map(Message::text).collect::<Vec<_>>().join("\n")
    }
}

/// Answers one input, updating `session`.
pub fn respond(bot: &KoreBot, session: &mut Session, input: Input, host: &mut dyn DialogHost) -> Turn {
    let mut run = Run { bot, session, host, turn: Turn::default(), visited: 0, input: None };
    match input {
        Input::ConversationStart => run.start_conversation(),
        Input::Text(text) => run.text(truncate(&text, bot.limits.max_input_bytes).to_owned()),
    }
    run.turn
}

pub(crate) struct Run<'a> {
    pub bot: &'a KoreBot,
    pub session: &'a mut Session,
    pub host: &'a mut dyn DialogHost,
    pub turn: Turn,
    /// Nodes executed this turn.
    pub visited: usize,
    /// This turn's text.
    pub input: Option<String>,
}

impl Run<'_> {
    pub fn language(&self) -> String {
        self.bot.language(self.session).to_owned()
    }

    pub fn channel(&self) -> String {
        self.session.channel.clone().unwrap_or_else(|| "default".into())
    }

    pub fn say(&mut self, text: impl Into<String>) {
        let text: String = text.into();
        let text = truncate(&text, self.bot.limits.max_message_bytes).to_owned();
        if !text.trim().is_empty() {
            self.turn.messages.push(Message::Text { text });
        }
    }

    fn start_conversation(&mut self) {
        self.session.started = true;
        if !self.fire_event("ON_CONNECT_EVENT") {
            self.fire_event("WELCOME_MESSAGE_EVENT");
        }
        self.run();
    }

    fn text(&mut self, text: String) {
        self.session.turns += 1;
        self.input = Some(text.clone());
        if !self.session.started {
            self.session.started = true;
            if self.fire_event("WELCOME_MESSAGE_EVENT") {
                self.run();
            }
        }
        if !self.session.pending_choice.is_empty() {
            let offered = std::mem::take(&mut self.session.pending_choice);
            let utterance = self.session.pending_utterance.take().unwrap_or_else(|| text.clone());
            if let Some(chosen) = pick(&offered, &text) {
                self.take(&chosen, &utterance);
                self.run();
                return;
            }
        }
        if self.session.stack.last().is_some_and(|t| t.waiting.is_some()) {
            self.answer_waiting(&text);
            self.run();
            return;
        }
        let detection = self.detection();
        match detection.recognised {
            Recognised::Task(c) => self.take(&c, &text),
            Recognised::Ambiguous(candidates) => self.offer(candidates),
            Recognised::Unidentified => self.unidentified(),
        }
        self.run();
    }

    /// Detection of this turn's input (computed once).
    pub fn detection(&mut self) -> Detection {
        if let Some(d) = &self.turn.detection {
            return d.clone();
        }
        let text = self.input.clone().unwrap_or_default();
        let d = self.bot.detect(&text, self.session);
        self.turn.detection = Some(d.clone());
        d
    }

    fn unidentified(&mut self) {
        if self.fire_event("INTENT_UNIDENTIFIED") {
            return;
        }
        let fallback = self.bot.default_dialog.clone().filter(|d| self.bot.dialog(d).is_some());
        if !fallback.is_some_and(|d| self.start_dialog(&d, None, true, false)) {
            self.say("I am afraid I do not understand. Please rephrase.");
        }
    }

    /// Acts on a recognised candidate: starts its dialog or answers it.
    fn take(&mut self, candidate: &Candidate, text: &str) {
        let language = self.language();
        let model = self.bot.language_model(self.session);
        match &candidate.target {
            Target::Dialog(dialog) => {
                self.start_dialog(dialog, Some(text), false, false);
            }
            Target::Faq(i) => match model.faqs.get(*i) {
                Some(faq) if faq.dialog.is_some() => {
                    let dialog = faq.dialog.clone().unwrap_or_default();
                    self.start_dialog(&dialog, Some(text), false, false);
                }
                Some(faq) => {
                    let answers = faq.answers.clone();
                    self.answer(&answers, &language);
                }
                None => {}
            },
            Target::SmallTalk(i) => {
                let answers = model.small_talk.get(*i).map(|s| s.answers.clone()).unwrap_or_default();
                self.answer(&answers, &language);
            }
        }
    }

    /// Shows one FAQ or small-talk answer for the channel.
    fn answer(&mut self, answers: &[Answer], language: &str) {
        let channel = self.channel();
        let pool: Vec<&Answer> = answers.iter().filter(|a| a.channel == channel).collect();
        let pool =
            if pool.is_empty() { answers.iter().filter(|a| a.channel == "default").collect() } else { pool };
        let Some(answer) = pool.get((self.session.turns % pool.len().max(1) as u64) as usize) else { return };
        let chosen = Chosen { text: answer.text.clone(), kind: answer.kind.clone() };
        let _ = language;
        self.show(&chosen);
    }

    /// Asks the user to choose among close candidates.
    fn offer(&mut self, candidates: Vec<Candidate>) {
        let titles: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
        let text = format!(
            "Did you mean:\n{}",
            titles.iter().enumerate().map(|(i, t)| format!("{}. {t}", i + 1)).collect::<Vec<_>>().join("\n")
        );
        let buttons: Vec<Value> =
            titles.iter().map(|t| json!({"type": "postback", "title": t, "payload": t})).collect();
        self.turn.messages.push(Message::Template {
            text: text.clone(),
            payload: json!({"type": "template", "payload": {"template_type": "button", "text": "Did you mean:", "buttons": buttons}}),
        });
        self.session.pending_choice = candidates;
        self.session.pending_utterance = self.input.clone();
    }

    /// Raises a bot event; false when the bot does not handle it.
    pub fn fire_event(&mut self, name: &str) -> bool {
        let Some(event) = self.bot.events.get(name).cloned() else { return false };
        if event.get("enabled").and_then(Value::as_bool) == Some(false) {
            return false;
        }
        self.turn.events.push(name.to_owned());
        match event.get("action").and_then(Value::as_str) {
            Some("triggerDialog") => {
                let Some(dialog) = event.get("task").and_then(Value::as_str) else { return false };
                if self.bot.dialog(dialog).is_none() {
                    self.turn.log.push(format!("{name}: the dialog {dialog} does not exist"));
                    return false;
                }
                self.start_dialog(dialog, None, true, false)
            }
            _ => {
                let (channel, language) = (self.channel(), self.language());
                let chosen = choose(
                    event.get("msg"),
                    &channel,
                    &language,
                    &self.bot.default_language,
                    self.session.turns,
                );
                match chosen {
                    Some(c) => {
                        self.show(&c);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Pushes a dialog task; [`Run::run`] executes it.
    pub fn start_dialog(
        &mut self,
        ref_id: &str,
        utterance: Option<&str>,
        from_event: bool,
        is_subtask: bool,
    ) -> bool {
        let Some(dialog) = self.bot.dialog(ref_id) else {
            self.turn.log.push(format!("the dialog {ref_id} does not exist"));
            return false;
        };
        let Some(root) = dialog.root.or(if dialog.nodes.is_empty() { None } else { Some(0) }) else {
            self.turn.log.push(format!("the dialog {} has no nodes", dialog.name));
            return false;
        };
        let limit = self.bot.limits.max_held_tasks + 1;
        while self.session.stack.len() >= limit {
            let dropped = self.session.stack.remove(0);
            self.turn.log.push(format!("too many tasks on hold: {} was discarded", dropped.dialog));
        }
        let language = self.language();
        let mut context = Map::new();
        let intent = self
            .bot
            .components
            .get(&dialog.intent_component)
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(&dialog.name)
            .to_owned();
        context.insert("intent".into(), json!(intent));
        context.insert("intentName".into(), json!(intent));
        context.insert("dialogName".into(), json!(dialog.name));
        context.insert("entities".into(), json!({}));
        context.insert(
            "userInputs".into(),
            json!({"originalInput": {"sentence": utterance.or(self.input.as_deref()).unwrap_or("")}}),
        );
        context.insert("currentLanguage".into(), json!(language));
        context.insert("channel".into(), json!(self.channel()));
        self.turn.started_dialogs.push(dialog.name.clone());
        self.session.stack.push(Task {
            dialog: ref_id.to_owned(),
            node: dialog.nodes[root].id.clone(),
            context,
            waiting: None,
            is_subtask,
            from_event,
            utterance: utterance.map(str::to_owned),
        });
        true
    }

    /// Ends the current task; resumes a parent or a task on hold.
    pub fn end_task(&mut self) {
        let Some(task) = self.session.stack.pop() else { return };
        let name = self.bot.dialog(&task.dialog).map(|d| d.name.clone()).unwrap_or(task.dialog.clone());
        self.turn.ended_dialogs.push(name);
        if task.is_subtask && !self.session.stack.is_empty() {
            // The parent continues after its dialog node.
            self.follow(None);
            return;
        }
        if let Some(top) = self.session.stack.last() {
            if top.waiting.is_some() {
                let option =
                    self.bot.interrupt_options.pointer("/resumeUxOptions/option").and_then(Value::as_str);
                if option == Some("notifyUser") || option == Some("confirmWithUser") {
                    let message = self
                        .bot
                        .interrupt_options
                        .pointer("/resumeUxOptions/message")
                        .and_then(Value::as_str)
                        .filter(|m| !m.is_empty())
                        .unwrap_or("Resuming the task you were working on.")
                        .to_owned();
                    self.say(message);
                }
                self.prompt_waiting();
            }
            return;
        }
        if !task.from_event {
            self.turn.conversation_ended = true;
            self.fire_event("CONVERSATION_END");
        }
    }

    /// Ends the current task (and the parents of a sub-task) after a failure.
    pub fn fail_task(&mut self, reason: &str) {
        let Some(task) = self.session.stack.last() else { return };
        let name = self.bot.dialog(&task.dialog).map(|d| d.name.clone()).unwrap_or(task.dialog.clone());
        self.turn.log.push(format!("task {name} failed at node {}: {reason}", task.node));
        while let Some(task) = self.session.stack.pop() {
            self.turn.ended_dialogs.push(task.dialog.clone());
            if !task.is_subtask {
                break;
            }
        }
        if !self.fire_event("TASK_FAILURE_EVENT") {
            self.say("I am sorry, something went wrong and I had to discard your task. Please retry.");
        }
        if self.session.stack.last().is_some_and(|t| t.waiting.is_some()) {
            self.prompt_waiting();
        }
    }

    /// Handles input while the current task waits for it.
    fn answer_waiting(&mut self, text: &str) {
        let Some(waiting) = self.session.stack.last().and_then(|t| t.waiting.clone()) else { return };
        match waiting {
            Waiting::Entity { node, retries } => {
                // Free text would swallow anything: an intent comes first unless the node
                // prefers the entity (`precedence: entityOverIntent`).
                if self.free_text_prefers_intent(&node) && self.interrupt(text) {
                    return;
                }
                if let Some(value) = self.entity_value(&node, text) {
                    self.set_entity(&node, value);
                    self.clear_waiting();
                    self.follow(None);
                } else if !self.interrupt(text) {
                    self.retry(&node, retries);
                }
            }
            Waiting::Confirmation { node, retries } => {
                if let Some(answer) = self.confirmation(text) {
                    self.clear_waiting();
                    self.follow(Some(answer));
                } else if !self.interrupt(text) {
                    // Neither yes nor no: the node's default path, if it has one.
                    if self.has_default(&node) {
                        self.clear_waiting();
                        self.follow(None);
                    } else {
                        self.retry(&node, retries);
                    }
                }
            }
            Waiting::FormField { node, field, retries } => self.form_answer(&node, field, retries, text),
        }
    }

    fn free_text_prefers_intent(&self, node: &str) -> bool {
        let Some(task) = self.session.stack.last() else { return false };
        let Some(n) = self.bot.dialog(&task.dialog).and_then(|d| d.node(node)) else { return false };
        let entity_type =
            self.bot.components.get(&n.component).and_then(|c| c.get("entityType")).and_then(Value::as_str);
        matches!(entity_type, Some("string" | "label" | "description") | None)
            && n.options.get("precedence").and_then(Value::as_str) != Some("entityOverIntent")
    }

    fn has_default(&self, node: &str) -> bool {
        let Some(task) = self.session.stack.last() else { return false };
        self.bot
            .dialog(&task.dialog)
            .and_then(|d| d.node(node))
            .is_some_and(|n| n.transitions.iter().any(|t| t.condition.is_none()))
    }

    pub fn clear_waiting(&mut self) {
        if let Some(task) = self.session.stack.last_mut() {
            task.waiting = None;
        }
    }

    /// Yes or no, by the bot's `~yes` / `~no` concepts first, then common words.
    fn confirmation(&self, text: &str) -> Option<bool> {
        let model = self.bot.language_model(self.session);
        let sentence = Sentence::new(text, model.analyzer());
        let has = |concept: &str| {
            Pattern::parse(concept, model.analyzer(), model.concepts())
                .is_some_and(|p| p.matches(&sentence, model.concepts()) != PatternMatch::None)
        };
        match (has("~yes"), has("~no")) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => yes_no(text),
        }
    }

    /// An invalid answer: the error prompt again, or the task fails after too many.
    fn retry(&mut self, node: &str, retries: u32) {
        // The node's own limit (`eventOptions.defaultMaxRetry`), within the engine's.
        let options = self
            .session
            .stack
            .last()
            .and_then(|t| self.bot.dialog(&t.dialog))
            .and_then(|d| d.node(node))
            .and_then(|n| n.options.pointer("/eventOptions/defaultMaxRetry").cloned());
        let limit = options
            .as_ref()
            .and_then(|o| o.get("retry_limit"))
            .and_then(Value::as_u64)
            .map_or(self.bot.limits.max_prompt_retries, |l| {
                (l as u32).min(self.bot.limits.max_prompt_retries)
            });
        if retries + 1 > limit {
            if options.as_ref().and_then(|o| o.get("action")).and_then(Value::as_str) == Some("endOfDialog") {
                self.turn.log.push(format!("node {node}: too many invalid answers, the dialog ends"));
                self.clear_waiting();
                self.end_task();
            } else {
                self.fail_task("the user's answers were invalid too many times");
            }
            return;
        }
        if let Some(task) = self.session.stack.last_mut()
            && let Some(w) = task.waiting.as_mut()
        {
            match w {
                Waiting::Entity { retries: r, .. }
                | Waiting::Confirmation { retries: r, .. }
                | Waiting::FormField { retries: r, .. } => *r = retries + 1,
            }
        }
        if !self.node_message(node, "errorMessage") {
            self.prompt_waiting();
        }
    }

    /// Another intent while a task waits: hold or discard the task (interruptOptions), or
    /// answer an FAQ / small talk and resume. True when the input was taken that way.
    fn interrupt(&mut self, text: &str) -> bool {
        let detection = self.detection();
        let Recognised::Task(candidate) = &detection.recognised else { return false };
        if candidate.score < 0.8 {
            return false;
        }
        let options = self.interruption_options();
        match &candidate.target {
            Target::Dialog(dialog) => {
                let current = self.session.stack.last().map(|t| t.dialog.clone()).unwrap_or_default();
                if *dialog == current
                    || options.get("interruptsEnabled").and_then(Value::as_bool) == Some(false)
                {
                    return false;
                }
                let hold = options
                    .pointer("/holdUxOptions/option")
                    .and_then(Value::as_str)
                    .unwrap_or("holdCurrTask");
                let held = self.session.stack.len();
                let max_hold = options
                    .get("numTasksToHold")
                    .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64().map(|n| n as usize)))
                    .unwrap_or(1)
                    .min(self.bot.limits.max_held_tasks);
                if hold.starts_with("discard") || held > max_hold {
                    let task = self.session.stack.pop();
                    if let Some(task) = task
                        && !hold.ends_with("NoNotify")
                    {
                        let name = self.bot.dialog(&task.dialog).map(|d| d.name.clone()).unwrap_or_default();
                        self.say(format!("The task {name} was discarded."));
                    }
                }
                self.take(candidate, text);
                true
            }
            Target::Faq(_) | Target::SmallTalk(_) => {
                let key = if matches!(candidate.target, Target::Faq(_)) {
                    "faqBehaviour"
                } else {
                    "smallTalkBehaviour"
                };
                let behaviour = options.get(key).and_then(Value::as_str).unwrap_or("respondAndResume");
                if behaviour != "respondAndResume" {
                    return false;
                }
                self.take(candidate, text);
                if self.session.stack.last().is_some_and(|t| t.waiting.is_some()) {
                    self.prompt_waiting();
                }
                true
            }
        }
    }

    /// The interruption settings in force: the node's, the dialog's or the bot's.
    fn interruption_options(&self) -> Value {
        let bot = self.bot.interrupt_options.clone();
        let Some(task) = self.session.stack.last() else { return bot };
        let Some(dialog) = self.bot.dialog(&task.dialog) else { return bot };
        if let Some(node) = dialog.node(&task.node)
            && node.options.pointer("/interruptOptions/priority").and_then(Value::as_str) == Some("node")
        {
            return node.options["interruptOptions"].clone();
        }
        bot
    }
}

/// The offered candidate the user picked: by number or by name.
fn pick(offered: &[Candidate], text: &str) -> Option<Candidate> {
    let trimmed = text.trim();
    if let Ok(n) = trimmed.parse::<usize>() {
        return offered.get(n.checked_sub(1)?).cloned();
    }
    let said = words(trimmed).join(" ");
    offered.iter().find(|c| words(&c.name).join(" ") == said).cloned()
}

pub(crate) fn show_script_result(printed: &[String], limit: usize) -> Option<Message> {
    let text = printed.join("");
    if text.trim().is_empty() {
        return None;
    }
    if let Ok(payload) = serde_json::from_str::<Value>(text.trim())
        && payload.get("type").and_then(Value::as_str) == Some("template")
    {
        let plain = payload.pointer("/payload/text").and_then(Value::as_str).unwrap_or_default().to_owned();
        return Some(Message::Template { text: plain, payload });
    }
    Some(Message::Text { text: truncate(&text, limit).to_owned() })
}

/// Renders `{{…}}` against a template root.
pub(crate) fn render_text(text: &str, root: &Value) -> String {
    render(text, root)
}
