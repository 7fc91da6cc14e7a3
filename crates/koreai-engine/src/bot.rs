//! [`KoreBot`]: a definition compiled once (dialogs, NLU per language, events, variables) and
//! shared by every conversation.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Map, Value};

use crate::dialogs::{Dialog, compile_dialogs};
use crate::entities::ValueList;
use crate::limits::{CompileError, Limits};
use crate::nlu::{Detection, LanguageModel, Training};
use crate::session::Session;
use crate::text::truncate;

/// An FAQ as [`KoreBot::faqs`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqSummary {
    pub question: String,
    pub alternates: Vec<String>,
    /// The dialog (`refId`) the FAQ starts instead of answering.
    pub dialog: Option<String>,
}

/// A compiled Kore.ai bot. Immutable, `Send + Sync`: share it behind an `Arc`.
pub struct KoreBot {
    pub(crate) name: String,
    pub(crate) default_language: String,
    pub(crate) dialogs: Vec<Dialog>,
    dialog_by_ref: HashMap<String, usize>,
    dialog_by_id: HashMap<String, usize>,
    pub(crate) components: HashMap<String, Value>,
    /// Entity components' allowed values, precompiled (lookups can hold thousands of items).
    pub(crate) value_lists: HashMap<(String, String), ValueList>,
    nlu: HashMap<String, LanguageModel>,
    /// (entity component id, language) → its entity patterns.
    pub(crate) entity_patterns: HashMap<(String, String), Vec<String>>,
    /// language → (dialog refId, training utterance).
    utterances: HashMap<String, Vec<(String, String)>>,
    pub(crate) events: Map<String, Value>,
    /// language → content variables.
    content: HashMap<String, Map<String, Value>>,
    pub(crate) env: Map<String, Value>,
    pub(crate) interrupt_options: Value,
    /// `defaultDialogId`: the dialog run when no intent is found and no event says otherwise.
    pub(crate) default_dialog: Option<String>,
    /// Forms by `refId`.
    pub(crate) forms: HashMap<String, Value>,
    /// Bot functions files, run before each script so their functions can be called.
    pub(crate) functions: String,
    pub(crate) limits: Limits,
}

/// Counts bytes and stops past a limit, so measuring a huge definition costs no memory.
struct Counter {
    bytes: usize,
    limit: usize,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len();
        if self.bytes > self.limit {
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Training phrases of every kind, counted before anything is analysed.
fn count_phrases(definition: &Value) -> usize {
    let patterns: usize = array(definition, "patterns")
        .flat_map(|p| p.get("localeData").and_then(Value::as_object).into_iter().flat_map(|m| m.values()))
        .map(|l| {
            l.get("patterns").and_then(Value::as_array).map_or(0, Vec::len)
                + l.get("negativePatterns").and_then(Value::as_array).map_or(0, Vec::len)
        })
        .sum();
    let faqs: usize = array(definition, "knowledgeTasks")
        .flat_map(|t| t.pointer("/faqs/faqs").and_then(Value::as_array).into_iter().flatten())
        .map(|f| 1 + f.get("alternateQuestions").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    array(definition, "sentences").count() + patterns + faqs
}

/// The training of `language`: utterances and patterns mapped to dialogs by their intent.
pub(crate) fn training_for(
    definition: &Value,
    dialogs: &[Dialog],
    language: &str,
    limits: &Limits,
) -> Training {
    let by_component: HashMap<&str, usize> =
        dialogs.iter().enumerate().map(|(i, d)| (d.intent_component.as_str(), i)).collect();
    let by_component_ref: HashMap<String, usize> = dialogs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let component =
                array(definition, "dialogComponents").find(|c| str_of(c, "_id") == d.intent_component)?;
            Some((str_of(component, "refId").to_owned(), i))
        })
        .collect();
    let mut training = Training::default();
    let clip = |s: &str| truncate(s, limits.max_phrase_bytes).to_owned();
    for s in array(definition, "sentences") {
        if s.get("language").and_then(Value::as_str).is_some_and(|l| l != language) {
            continue;
        }
        if let Some(&d) = by_component.get(str_of(s, "taskId")) {
            training.utterances.push((d, clip(str_of(s, "sentence"))));
        }
    }
    for p in array(definition, "patterns") {
        if str_of(p, "taskType") != "intent" {
            continue;
        }
        let Some(&d) = by_component_ref.get(str_of(p, "refId")) else { continue };
        let Some(locale) = p.pointer(&format!("/localeData/{language}")) else { continue };
        for (key, list) in
            [("patterns", &mut training.patterns), ("negativePatterns", &mut training.negative_patterns)]
        {
            for v in array(locale, key) {
                list.push((d, clip(str_of(v, "value"))));
            }
        }
    }
    training
}

impl KoreBot {
    /// Compiles a whole `botDefinition.json`.
    pub fn compile(definition: &Value, limits: &Limits) -> Result<KoreBot, CompileError> {
        let Some(top) = definition.as_object() else { return Err(CompileError::NotAnObject) };
        let mut counter = Counter { bytes: 0, limit: limits.max_definition_bytes };
        if serde_json::to_writer(&mut counter, definition).is_err() {
            return Err(CompileError::TooLarge { size: counter.bytes, limit: limits.max_definition_bytes });
        }
        let phrases = count_phrases(definition);
        if phrases > limits.max_training_phrases {
            return Err(CompileError::TooManyPhrases { count: phrases, limit: limits.max_training_phrases });
        }
        let default_language = top.get("defaultLanguage").and_then(Value::as_str).unwrap_or("en").to_owned();
        let mut languages = vec![default_language.clone()];
        for l in array(definition, "supportedLanguages").filter_map(Value::as_str) {
            if !languages.iter().any(|x| x == l) {
                languages.push(l.to_owned());
            }
        }
        let components: HashMap<String, Value> =
            array(definition, "dialogComponents").map(|c| (str_of(c, "_id").to_owned(), c.clone())).collect();
        let dialogs = compile_dialogs(definition, &components, &default_language);
        for d in &dialogs {
            if d.nodes.is_empty() {
                continue;
            }
            if let Some(bad) =
                d.nodes.iter().flat_map(|n| &n.transitions).find_map(|t| {
                    t.target.as_ref().filter(|target| !d.node_index.contains_key(target.as_str()))
                })
            {
                return Err(CompileError::InvalidDialog {
                    dialog: d.name.clone(),
                    reason: format!("a transition leads to the unknown node {bad}"),
                });
            }
        }
        let mut value_lists = HashMap::new();
        for (id, c) in &components {
            for language in &languages {
                if let Some(list) = ValueList::from_component(c, language) {
                    value_lists.insert((id.clone(), language.clone()), list);
                }
            }
        }
        let by_ref: HashMap<&str, &str> =
            components.values().map(|c| (str_of(c, "refId"), str_of(c, "_id"))).collect();
        let mut entity_patterns: HashMap<(String, String), Vec<String>> = HashMap::new();
        for p in array(definition, "patterns").filter(|p| str_of(p, "taskType") == "entity") {
            let Some(id) = by_ref.get(str_of(p, "refId")) else { continue };
            for (language, locale) in p.get("localeData").and_then(Value::as_object).into_iter().flatten() {
                for v in array(locale, "patterns") {
                    let pattern = crate::text::decode_html(str_of(v, "value"));
                    entity_patterns.entry(((*id).to_owned(), language.clone())).or_default().push(pattern);
                }
            }
        }
        let mut nlu = HashMap::new();
        let mut utterances = HashMap::new();
        for language in &languages {
            let training = training_for(definition, &dialogs, language, limits);
            utterances.insert(
                language.clone(),
                training.utterances.iter().map(|(d, u)| (dialogs[*d].ref_id.clone(), u.clone())).collect(),
            );
            nlu.insert(
                language.clone(),
                LanguageModel::build(definition, language, &dialogs, &training, limits.max_input_bytes),
            );
        }
        let mut content: HashMap<String, Map<String, Value>> = HashMap::new();
        let mut env = Map::new();
        for v in array(definition, "contentVariables") {
            let key = str_of(v, "key").to_owned();
            let locales = v.get("localeData").and_then(Value::as_object);
            if str_of(v, "variableType") == "env" {
                let value = v.get("value").cloned().or_else(|| {
                    locales.and_then(|l| l.get(&default_language)).and_then(|l| l.get("value")).cloned()
                });
                env.insert(key, value.unwrap_or(Value::Null));
                continue;
            }
            for (language, l) in locales.into_iter().flatten() {
                content
                    .entry(language.clone())
                    .or_default()
                    .insert(key.clone(), l.get("value").cloned().unwrap_or(Value::Null));
            }
        }
        let forms = array(definition, "forms").map(|f| (str_of(f, "refId").to_owned(), f.clone())).collect();
        Ok(KoreBot {
            name: top
                .get("localeData")
                .and_then(|l| l.get(&default_language))
                .map(|l| str_of(l, "name").to_owned())
                .unwrap_or_default(),
            dialog_by_ref: dialogs.iter().enumerate().map(|(i, d)| (d.ref_id.clone(), i)).collect(),
            dialog_by_id: dialogs.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect(),
            default_language,
            dialogs,
            components,
            value_lists,
            nlu,
            utterances,
            entity_patterns,
            events: top.get("botEvents").and_then(Value::as_object).cloned().unwrap_or_default(),
            content,
            env,
            interrupt_options: top.get("interruptOptions").cloned().unwrap_or(Value::Null),
            default_dialog: top.get("defaultDialogId").and_then(Value::as_str).map(str::to_owned),
            forms,
            functions: String::new(),
            limits: limits.clone(),
        })
    }

    /// Adds `config.json`'s `envVariables` (`[{key, value}]`) to `{{env.X}}`.
    pub fn set_environment(&mut self, config: &Value) {
        for v in array(config, "envVariables") {
            let key = str_of(v, "key");
            if !key.is_empty() {
                self.env.insert(key.to_owned(), v.get("value").cloned().unwrap_or(Value::Null));
            }
        }
    }

    /// Adds the bot functions files (Kore.ai's `botFunctions`): scripts and message templates can
    /// call the functions they define.
    pub fn set_bot_functions<S: AsRef<str>>(&mut self, files: &[S]) {
        self.functions = files.iter().map(|f| f.as_ref()).collect::<Vec<_>>().join("\n");
    }

    /// The bot's name in its default language.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Intent detection alone, in the session's language.
    pub fn detect(&self, text: &str, session: &Session) -> Detection {
        self.language_model(session).detect(&self.dialogs, text)
    }

    /// `(dialog refId, dialog name)` of every dialog.
    pub fn dialogs(&self) -> Vec<(String, String)> {
        self.dialogs.iter().map(|d| (d.ref_id.clone(), d.name.clone())).collect()
    }

    /// `(dialog refId, utterance)` of every training utterance in `language`.
    pub fn utterances(&self, language: &str) -> Vec<(String, String)> {
        self.utterances.get(language).cloned().unwrap_or_default()
    }

    /// A sentence for each pattern of the dialog (by `refId`), in `language`.
    pub fn pattern_examples(&self, dialog: &str, language: &str) -> Vec<String> {
        match (self.dialog_by_ref.get(dialog), self.nlu.get(language)) {
            (Some(&d), Some(model)) => model.pattern_examples(d),
            _ => Vec::new(),
        }
    }

    /// Every FAQ in `language`, in the order [`crate::Target::Faq`] numbers them.
    pub fn faqs(&self, language: &str) -> Vec<FaqSummary> {
        self.nlu
            .get(language)
            .map(|m| {
                m.faqs
                    .iter()
                    .map(|f| FaqSummary {
                        question: f.question.clone(),
                        alternates: f.alternates.clone(),
                        dialog: f.dialog.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn language<'a>(&'a self, session: &'a Session) -> &'a str {
        session.language.as_deref().filter(|l| self.nlu.contains_key(*l)).unwrap_or(&self.default_language)
    }

    pub(crate) fn language_model(&self, session: &Session) -> &LanguageModel {
        &self.nlu[self.language(session)]
    }

    pub(crate) fn dialog(&self, ref_id: &str) -> Option<&Dialog> {
        self.dialog_by_ref.get(ref_id).map(|&i| &self.dialogs[i])
    }

    /// The dialog an intent component belongs to (by its `dialogId`).
    pub(crate) fn dialog_of_component(&self, component: &str) -> Option<&Dialog> {
        let id = self.components.get(component)?.get("dialogId")?.as_str()?;
        self.dialog_by_id.get(id).map(|&i| &self.dialogs[i])
    }

    pub(crate) fn content(&self, language: &str) -> Map<String, Value> {
        self.content
            .get(language)
            .or_else(|| self.content.get(&self.default_language))
            .cloned()
            .unwrap_or_default()
    }
}
