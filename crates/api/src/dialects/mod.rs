//! One module tree per API dialect; each renders botyard's errors in its platform's envelope.

pub mod botpress;
pub mod bots_business;
pub mod bp_runtime;
pub mod chat;
pub mod koreai;
