//! Intent detection for one language: patterns, then similarity to training utterances and
//! intent names, then FAQs, then small talk; close results are offered as a choice.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dialogs::Dialog;
use crate::index::Index;
use crate::knowledge::{Faq, SmallTalk, faqs, small_talk};
use crate::pattern::{Concepts, Pattern, PatternMatch, Sentence};
use crate::text::{Analyzer, truncate};

/// Similarity at which an utterance match is taken without hesitation.
const ML_DEFINITIVE: f32 = 0.8;
/// The best a phrase that is not word for word a training phrase can score.
const NEAR_EXACT: f32 = 0.995;
/// Below this, an utterance match is not taken.
const ML_MINIMUM: f32 = 0.5;
/// Score of a pattern matching a small part of the sentence (more as it covers more).
const PATTERN_PARTIAL: f32 = 0.5;
/// Candidates this close to the best are offered as a choice (Kore.ai's task match tolerance).
const AMBIGUITY_MARGIN: f32 = 0.02;
/// A small-talk pattern matching part of a sentence this short still counts.
const SMALL_TALK_PARTIAL_WORDS: usize = 4;

/// What a candidate would answer with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// A dialog task, by `refId`.
    Dialog(String),
    /// An FAQ, by position in the language's FAQ list.
    Faq(usize),
    /// A small-talk node, by position.
    SmallTalk(usize),
}

/// Which engine found a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Pattern,
    Utterance,
    Faq,
    SmallTalk,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub target: Target,
    /// The dialog's name, the FAQ's question or the small-talk group.
    pub name: String,
    pub score: f32,
    pub engine: Engine,
}

/// The outcome of intent detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", content = "candidates", rename_all = "snake_case")]
pub enum Recognised {
    Task(Box<Candidate>),
    /// Several candidates are too close to choose: the user is asked.
    Ambiguous(Vec<Candidate>),
    Unidentified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub recognised: Recognised,
    /// Every candidate found, best first (for logs and tests).
    pub candidates: Vec<Candidate>,
}

impl Detection {
    /// The dialog chosen, if a dialog was.
    pub fn dialog(&self) -> Option<&str> {
        match &self.recognised {
            Recognised::Task(c) => match &c.target {
                Target::Dialog(d) => Some(d),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Training data for one language.
#[derive(Debug, Default, Clone)]
pub struct Training {
    /// (dialog index, utterance)
    pub utterances: Vec<(usize, String)>,
    /// (dialog index, pattern)
    pub patterns: Vec<(usize, String)>,
    pub negative_patterns: Vec<(usize, String)>,
}

/// Everything intent detection needs for one language.
pub struct LanguageModel {
    analyzer: Analyzer,
    concepts: Concepts,
    patterns: Vec<(usize, Pattern)>,
    negative_patterns: Vec<(usize, Pattern)>,
    utterances: Index,
    /// Lower-cased words of each utterance and intent name → dialogs (exact matches).
    utterance_texts: HashMap<String, Vec<usize>>,
    pub faqs: Vec<Faq>,
    faq_index: Index,
    /// Lower-cased words of each FAQ question → FAQs.
    faq_texts: HashMap<String, Vec<usize>>,
    pub small_talk: Vec<SmallTalk>,
    small_talk_patterns: Vec<(usize, Pattern)>,
    max_input_bytes: usize,
}

/// `(key, phrases)` pairs: synonyms or concepts.
type PhraseLists = Vec<(String, Vec<String>)>;

/// `localeData.<lang>.synonyms`, split into concepts (`~x`) and plain synonyms.
fn bot_synonyms(definition: &Value, language: &str) -> (PhraseLists, PhraseLists) {
    let mut concepts = Vec::new();
    let mut synonyms = Vec::new();
    let map = definition.pointer(&format!("/localeData/{language}/synonyms")).and_then(Value::as_object);
    for (key, list) in map.into_iter().flatten() {
        let phrases: Vec<String> =
            list.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        if key.starts_with('~') {
            concepts.push((key.clone(), phrases));
        } else {
            synonyms.push((key.clone(), phrases));
        }
    }
    (concepts, synonyms)
}

impl LanguageModel {
    pub fn build(
        definition: &Value,
        language: &str,
        dialogs: &[Dialog],
        training: &Training,
        max_input_bytes: usize,
    ) -> Self {
        let mut analyzer = Analyzer::new(language);
        let (concept_list, synonyms) = bot_synonyms(definition, language);
        let concepts = Concepts::build(&concept_list, &analyzer);
        let (faq_list, kg_synonyms) = faqs(definition, language);
        for (key, phrases) in synonyms.iter().chain(&kg_synonyms) {
            analyzer.add_synonyms(key, phrases);
        }
        let compile = |list: &[(usize, String)]| -> Vec<(usize, Pattern)> {
            list.iter().filter_map(|(d, p)| Some((*d, Pattern::parse(p, &analyzer, &concepts)?))).collect()
        };
        let patterns = compile(&training.patterns);
        let negative_patterns = compile(&training.negative_patterns);

        let mut utterances = Index::default();
        let mut utterance_texts: HashMap<String, Vec<usize>> = HashMap::new();
        let labelled = training.utterances.iter().map(|(d, t)| (*d, t.as_str()));
        for (dialog, text) in labelled.chain(dialogs.iter().enumerate().map(|(i, d)| (i, d.label.as_str()))) {
            utterances.add(dialog, &analyzer.terms(text));
            utterance_texts.entry(exact_key(text)).or_default().push(dialog);
        }
        utterances.finish();

        let mut faq_index = Index::default();
        let mut faq_texts: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, faq) in faq_list.iter().enumerate() {
            for q in std::iter::once(&faq.question).chain(&faq.alternates) {
                faq_index.add(i, &analyzer.terms(q));
                faq_texts.entry(exact_key(q)).or_default().push(i);
            }
        }
        faq_index.finish();

        let small_talk = small_talk(definition, language);
        let mut small_talk_patterns = Vec::new();
        for (i, node) in small_talk.iter().enumerate() {
            for u in &node.utterances {
                if let Some(p) = Pattern::parse(u, &analyzer, &concepts) {
                    small_talk_patterns.push((i, p));
                }
            }
        }
        Self {
            analyzer,
            concepts,
            patterns,
            negative_patterns,
            utterances,
            utterance_texts,
            faqs: faq_list,
            faq_index,
            faq_texts,
            small_talk,
            small_talk_patterns,
            max_input_bytes,
        }
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    pub fn concepts(&self) -> &Concepts {
        &self.concepts
    }

    /// A sentence matching each of the dialog's patterns.
    pub fn pattern_examples(&self, dialog: usize) -> Vec<String> {
        self.patterns.iter().filter(|(d, _)| *d == dialog).map(|(_, p)| p.example(&self.concepts)).collect()
    }

    /// Detects what `text` asks for.
    pub fn detect(&self, dialogs: &[Dialog], text: &str) -> Detection {
        let text = truncate(text, self.max_input_bytes);
        let sentence = Sentence::new(text, &self.analyzer);
        let terms = self.analyzer.terms(text);

        // Dialogs: the best of pattern and utterance similarity, negative patterns excluding.
        let mut excluded = vec![false; dialogs.len()];
        for (d, p) in &self.negative_patterns {
            if !excluded[*d] && p.matches(&sentence, &self.concepts) != PatternMatch::None {
                excluded[*d] = true;
            }
        }
        // Only the very words of a training phrase score 1: similar ones stay just below.
        let key = exact_key(text);
        let exact_dialogs = self.utterance_texts.get(&key).cloned().unwrap_or_default();
        let mut scores: HashMap<usize, (f32, Engine)> = HashMap::new();
        for (d, score) in self.utterances.search(&terms) {
            let score = if exact_dialogs.contains(&d) { 1.0 } else { score.min(NEAR_EXACT) };
            scores.insert(d, (score, Engine::Utterance));
        }
        for (d, p) in &self.patterns {
            let score = match p.matches(&sentence, &self.concepts) {
                PatternMatch::Full => 1.0,
                PatternMatch::Partial(share) => PATTERN_PARTIAL + 0.45 * share,
                PatternMatch::None => continue,
            };
            let slot = scores.entry(*d).or_insert((0.0, Engine::Pattern));
            if score > slot.0 {
                *slot = (score, Engine::Pattern);
            }
        }
        let excluded_refs: Vec<&String> =
            dialogs.iter().zip(&excluded).filter(|(_, e)| **e).map(|(d, _)| &d.ref_id).collect();
        let mut tasks: Vec<Candidate> = scores
            .into_iter()
            .filter(|(d, _)| !excluded[*d])
            .map(|(d, (score, engine))| Candidate {
                target: Target::Dialog(dialogs[d].ref_id.clone()),
                name: dialogs[d].name.clone(),
                score,
                engine,
            })
            .collect();
        tasks.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));

        // The same question written under several FAQs: the first one answers.
        let exact_faq = self.faq_texts.get(&key).and_then(|f| f.first().copied());
        let mut found: Vec<(usize, f32)> = self
            .faq_index
            .search(&terms)
            .into_iter()
            .map(|(i, score)| (i, if exact_faq == Some(i) { 1.0 } else { score.min(NEAR_EXACT) }))
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let faqs: Vec<Candidate> = found
            .into_iter()
            .filter(|(i, _)| self.faqs[*i].dialog.as_ref().is_none_or(|d| !excluded_refs.contains(&d)))
            .take(5)
            .map(|(i, score)| Candidate {
                target: match &self.faqs[i].dialog {
                    Some(dialog) => Target::Dialog(dialog.clone()),
                    None => Target::Faq(i),
                },
                name: self.faqs[i].question.clone(),
                score,
                engine: Engine::Faq,
            })
            .collect();

        let mut small_talk: Option<Candidate> = None;
        for (i, p) in &self.small_talk_patterns {
            let score = match p.matches(&sentence, &self.concepts) {
                PatternMatch::Full => 1.0,
                PatternMatch::Partial(share) if sentence.raw.len() <= SMALL_TALK_PARTIAL_WORDS => {
                    PATTERN_PARTIAL + 0.45 * share
                }
                _ => continue,
            };
            if small_talk.as_ref().is_none_or(|c| c.score < score) {
                small_talk = Some(Candidate {
                    target: Target::SmallTalk(*i),
                    name: self.small_talk[*i].group.clone(),
                    score,
                    engine: Engine::SmallTalk,
                });
            }
        }

        let recognised = decide(&tasks, &faqs, small_talk.as_ref());
        let mut candidates: Vec<Candidate> = tasks.into_iter().chain(faqs).chain(small_talk).collect();
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        candidates.truncate(10);
        Detection { recognised, candidates }
    }
}

/// The words of `text`, lower-cased, for exact matches.
fn exact_key(text: &str) -> String {
    crate::text::words(text).join(" ")
}

/// Kore.ai's order: a definitive task > a good utterance match > an FAQ > small talk.
fn decide(tasks: &[Candidate], faqs: &[Candidate], small_talk: Option<&Candidate>) -> Recognised {
    let task = tasks.first();
    let faq = faqs.first().filter(|f| f.score >= ML_MINIMUM + 0.05);
    let task_score = task.map_or(0.0, |t| t.score);
    let faq_score = faq.map_or(0.0, |f| f.score);
    let choose = |best: &Candidate, definitive: bool| -> Recognised {
        let mut close: Vec<Candidate> = tasks
            .iter()
            .chain(faqs.iter())
            .filter(|c| c.target != best.target && c.score >= best.score - AMBIGUITY_MARGIN)
            .filter(|c| c.score >= ML_MINIMUM && (!definitive || c.score >= 0.999))
            .cloned()
            .collect();
        if close.is_empty() {
            return Recognised::Task(Box::new(best.clone()));
        }
        close.insert(0, best.clone());
        close.truncate(4);
        Recognised::Ambiguous(close)
    };
    if let Some(t) = task.filter(|t| t.score >= 0.999) {
        return choose(t, true);
    }
    if let Some(f) = faq.filter(|f| f.score >= 0.999) {
        return choose(f, true);
    }
    if let Some(t) = task.filter(|t| t.score >= ML_DEFINITIVE && t.score >= faq_score) {
        return choose(t, false);
    }
    if let Some(f) = faq.filter(|f| f.score > task_score) {
        return choose(f, false);
    }
    if let Some(s) = small_talk.filter(|s| s.score >= 0.999) {
        return Recognised::Task(Box::new(s.clone()));
    }
    if let Some(t) = task.filter(|t| t.score >= ML_MINIMUM) {
        return choose(t, false);
    }
    if let Some(s) = small_talk {
        return Recognised::Task(Box::new(s.clone()));
    }
    Recognised::Unidentified
}
