//! Held-out intent accuracy: each intent's utterances split 80/20 deterministically, the
//! detector trained on the 80 % and asked about the 20 %.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bot::{KoreBot, training_for};
use crate::limits::{CompileError, Limits};
use crate::nlu::{LanguageModel, Training};

/// Accuracy on held-out utterances of one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub language: String,
    /// Intents that had at least one held-out utterance.
    pub intents: usize,
    pub tested: usize,
    pub correct: usize,
}

impl Accuracy {
    /// `correct / tested` (1 when nothing was tested).
    pub fn ratio(&self) -> f64 {
        if self.tested == 0 { 1.0 } else { self.correct as f64 / self.tested as f64 }
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

/// Held-out accuracy of the bot's ML utterances, for its default language.
pub fn held_out_accuracy(definition: &Value, limits: &Limits) -> Result<Accuracy, CompileError> {
    let bot = KoreBot::compile(definition, limits)?;
    let language = bot.default_language.clone();
    let training = training_for(definition, &bot.dialogs, &language, limits);
    let (kept, held) = split(&training);
    let model = LanguageModel::build(definition, &language, &bot.dialogs, &kept, limits.max_input_bytes);
    let mut intents: Vec<usize> = held.iter().map(|(d, _)| *d).collect();
    intents.sort_unstable();
    intents.dedup();
    let correct = held
        .iter()
        .filter(|(dialog, text)| {
            model.detect(&bot.dialogs, text).dialog() == Some(bot.dialogs[*dialog].ref_id.as_str())
        })
        .count();
    Ok(Accuracy { language, intents: intents.len(), tested: held.len(), correct })
}
