//! What a definition and a turn may cost, and why a definition is refused.

use serde::{Deserialize, Serialize};

/// Bounds on what one bot and one turn may use. [`Limits::default`] suits a shared server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// The serialised definition may not be larger than this (bytes).
    pub max_definition_bytes: usize,
    /// Training utterances, FAQ questions and patterns together.
    pub max_training_phrases: usize,
    /// One training phrase, pattern or FAQ question may not be longer than this (bytes).
    pub max_phrase_bytes: usize,
    /// User input beyond this many bytes is cut before analysis.
    pub max_input_bytes: usize,
    /// Dialog nodes visited in one turn (a cycle between nodes stops here).
    pub max_nodes_per_turn: usize,
    /// Times an entity or confirmation prompt is repeated after an invalid answer.
    pub max_prompt_retries: u32,
    /// A message longer than this (bytes) is cut.
    pub max_message_bytes: usize,
    /// Tasks kept on hold under the current one.
    pub max_held_tasks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_definition_bytes: 32 * 1024 * 1024,
            max_training_phrases: 50_000,
            max_phrase_bytes: 2_000,
            max_input_bytes: 4_000,
            max_nodes_per_turn: 200,
            max_prompt_retries: 3,
            max_message_bytes: 64 * 1024,
            max_held_tasks: 5,
        }
    }
}

/// Why a definition cannot be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("the bot definition is not a JSON object")]
    NotAnObject,
    #[error("the bot definition is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the bot has {count} training phrases (utterances, patterns and FAQ questions), more than the limit of {limit}"
    )]
    TooManyPhrases { count: usize, limit: usize },
    #[error("dialog {dialog}: {reason}")]
    InvalidDialog { dialog: String, reason: String },
}
