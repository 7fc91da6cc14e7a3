//! Held-out intent accuracy: each intent's utterances split 80/20 deterministically, the
//! detector trained on the 80 % and asked about the 20 %.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bot::{KoreBot, training_for};
use crate::limits::{CompileError, Limits};
use crate::nlu::{LanguageModel, Recognised, Target, Training};

/// Accuracy on held-out phrases of one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub language: String,
    /// Intents that had at least one held-out utterance.
    pub intents: usize,
    /// Held-out training utterances, and how many found their intent.
    pub tested: usize,
    pub correct: usize,
    /// Held-out FAQ alternate questions, and how many found their FAQ.
    pub faq_tested: usize,
    pub faq_correct: usize,
}

impl Accuracy {
    /// `correct / tested` (1 when nothing was tested).
    pub fn ratio(&self) -> f64 {
        if self.tested == 0 { 1.0 } else { self.correct as f64 / self.tested as f64 }
    }

    /// `faq_correct / faq_tested` (1 when nothing was tested).
    pub fn faq_ratio(&self) -> f64 {
        if self.faq_tested == 0 { 1.0 } else { self.faq_correct as f64 / self.faq_tested as f64 }
    }
}

/// Every fifth utterance of each intent (by position: 5th, 10th, …) is held out.
fn split(training: &Training) -> (Training, Vec<(usize, String)>) {
    let mut kept = Training {
        patterns: training.patterns.clone(),
        negative_patterns: training.negative_patterns.clone(),
        ..Training::default()
    };
    let mut held = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (dialog, text) in &training.utterances {
        let n = seen.entry(*dialog).or_insert(0usize);
        *n += 1;
        if n.is_multiple_of(5) {
            held.push((*dialog, text.clone()));
        } else {
            kept.utterances.push((*dialog, text.clone()));
        }
    }
    (kept, held)
}

/// Removes every fifth FAQ alternate question (rotating with the FAQ's position, the main
/// question always kept) from a copy of the definition; returns it and `(FAQ, question)` held out.
fn split_faqs(definition: &Value, language: &str) -> (Value, Vec<(usize, String)>) {
    let mut copy = definition.clone();
    let mut held = Vec::new();
    let mut faq_number = 0usize;
    let tasks = copy.get_mut("knowledgeTasks").and_then(Value::as_array_mut);
    for task in tasks.into_iter().flatten() {
        if task.get("language").and_then(Value::as_str).is_some_and(|l| l != language) {
            continue;
        }
        let faqs = task.pointer_mut("/faqs/faqs").and_then(Value::as_array_mut);
        for faq in faqs.into_iter().flatten() {
            if faq.get("faqStatus").and_then(Value::as_bool) == Some(false) || faq.get("question").is_none() {
                continue;
            }
            let this = faq_number;
            faq_number += 1;
            let Some(alternates) = faq.get_mut("alternateQuestions").and_then(Value::as_array_mut) else {
                continue;
            };
            let mut k = 0usize;
            alternates.retain(|a| {
                k += 1;
                let out = (this + k) % 5 == 4;
                if out && let Some(q) = a.get("question").and_then(Value::as_str) {
                    held.push((this, q.to_owned()));
                }
                !out
            });
        }
    }
    (copy, held)
}

/// Held-out accuracy of the bot's ML utterances and FAQ questions, for its default language.
pub fn held_out_accuracy(definition: &Value, limits: &Limits) -> Result<Accuracy, CompileError> {
    let bot = KoreBot::compile(definition, limits)?;
    let language = bot.default_language.clone();
    let training = training_for(definition, &bot.dialogs, &language, limits);
    let (kept, held) = split(&training);
    let (reduced, held_faqs) = split_faqs(definition, &language);
    let model = LanguageModel::build(&reduced, &language, &bot.dialogs, &kept, limits.max_input_bytes);
    let mut intents: Vec<usize> = held.iter().map(|(d, _)| *d).collect();
    intents.sort_unstable();
    intents.dedup();
    let correct = held
        .iter()
        .filter(|(dialog, text)| {
            model.detect(&bot.dialogs, text).dialog() == Some(bot.dialogs[*dialog].ref_id.as_str())
        })
        .count();
    let faq_correct = held_faqs
        .iter()
        .filter(|(faq, text)| match model.detect(&bot.dialogs, text).recognised {
            Recognised::Task(c) => match &c.target {
                Target::Faq(i) => i == faq,
                Target::Dialog(d) => model.faqs[*faq].dialog.as_ref() == Some(d),
                Target::SmallTalk(_) => false,
            },
            _ => false,
        })
        .count();
    Ok(Accuracy {
        language,
        intents: intents.len(),
        tested: held.len(),
        correct,
        faq_tested: held_faqs.len(),
        faq_correct,
    })
}
