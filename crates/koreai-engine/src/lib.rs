//! A Kore.ai XO dialog engine: imported bots converse as they do on Kore.ai.
//!
//! The crate is pure: no IO, no clock it cannot be given, no JavaScript engine. The runtime
//! gives it a [`DialogHost`] that runs scripts and performs HTTP calls, and stores the
//! [`Session`] (plain serde data) between turns.
//!
//! ## How it works
//! - [`KoreBot::compile`] reads a whole `botDefinition.json` once, within [`Limits`] (size and
//!   training phrases are checked before anything is analysed): dialogs joined with their
//!   components (`dialogs[].nodes[].componentId` → `dialogComponents[]._id`), transitions parsed
//!   into conditions, list-of-values entities indexed, bot events, content and environment
//!   variables, forms, and one NLU model per language.
//! - **NLU** ([`KoreBot::detect`]), per language: the bot's synonyms (`localeData.<lang>.synonyms`)
//!   map phrases onto one word, keys written `~x` are concepts for patterns. Words are split on
//!   Unicode boundaries and stemmed (Snowball). Candidates come from
//!   1. patterns (`patterns[]`, Kore.ai syntax, matched without backtracking; a pattern covering the
//!      whole sentence is definitive, one inside it is a strong candidate; negative patterns exclude),
//!   2. TF-IDF cosine similarity to training utterances (`sentences[]`) and to each intent's name
//!      (Kore.ai's label match, the only training of exports without utterances),
//!   3. FAQs (`knowledgeTasks[].faqs`: questions and alternate questions, with the knowledge
//!      graph's synonyms); an FAQ may answer or start a dialog,
//!   4. small talk (`smallTalk[]`, user utterances are patterns).
//!
//!   Only the very words of a training phrase score 1. Definitive matches win in that order;
//!   otherwise a good utterance match beats an FAQ only if it scores at least as well.
//!   Candidates within 2 % of the best are offered as a choice ("Did you mean"), as Kore.ai
//!   does; nothing good enough raises INTENT_UNIDENTIFIED, else runs `defaultDialogId`.
//! - **Dialogs** ([`respond`]): the current task's node runs and its transitions are followed
//!   (first true condition, else the default; an empty or `end` target ends the dialog) until a
//!   node waits for the user (entity, confirmation, form field) or the task ends. Intent nodes
//!   of another dialog run it as a sub-task and continue after it. Entity values are taken from
//!   the utterance that started the task when the type is selective (number, date, list, …) or
//!   an entity pattern (`live in *`) captures them, otherwise the node prompts, shows its error
//!   prompt on invalid input and gives up after the node's retry limit (within
//!   [`Limits::max_prompt_retries`]). While a task waits, another intent interrupts it as the
//!   bot's `interruptOptions` say (hold and resume, or discard; free-text entities yield to an
//!   intent unless the node says `entityOverIntent`); FAQs and small talk are answered and the
//!   prompt repeated. Form nodes ask their form's fields one by one into `context.forms`. A script or service failure, or more than
//!   [`Limits::max_nodes_per_turn`] nodes in a turn (a loop), ends the task with
//!   TASK_FAILURE_EVENT and a log line.
//! - **Events**: ON_CONNECT_EVENT (else WELCOME_MESSAGE_EVENT) on [`Input::ConversationStart`],
//!   WELCOME_MESSAGE_EVENT before the first text of a conversation that was not started,
//!   INTENT_UNIDENTIFIED, TASK_FAILURE_EVENT, and CONVERSATION_END when the last task ends
//!   (not after tasks that events started). `showMsg` shows the event's message,
//!   `triggerDialog` starts its dialog.
//! - **Messages**: the node's variant for the session's channel, else `default`, in the
//!   session's language, else the default one; `basic` text is a `{{context.…}}` /
//!   `{{content.X}}` / `{{env.X}}` template, `uxmap` text is JavaScript whose `print()`ed output
//!   is the message (a printed Kore.ai template object becomes [`Message::Template`]).
//!
//! The JSON context scripts see, and [`SCRIPT_PRELUDE`] that gives them
//! `BotUserSession.put/get` and friends, are documented in [`host`].

mod accuracy;
mod bot;
mod dialogs;
mod engine;
mod entities;
pub mod host;
mod index;
mod knowledge;
mod limits;
mod messages;
mod nlu;
mod nodes;
mod pattern;
mod session;
mod text;

pub use accuracy::{Accuracy, held_out_accuracy};
pub use bot::{FaqSummary, KoreBot};
pub use engine::{Input, Turn, respond};
pub use host::{
    DialogHost, SCRIPT_PRELUDE, ScriptOutcome, ServiceRequest, ServiceResponse, parse_script_result,
    script_program,
};
pub use limits::{CompileError, Limits};
pub use messages::Message;
pub use nlu::{Candidate, Detection, Engine, Recognised, Target};
pub use session::{Session, Task, Waiting};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<KoreBot>();
        shared::<Session>();
    }
}
