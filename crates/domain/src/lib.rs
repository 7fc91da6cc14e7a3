//! botyard's domain: the ids, entities and business rules shared by every API dialect, the
//! runtime and the job system, and the one [`Error`] type they all return. Nothing here does IO;
//! storage, HTTP and the sandbox live in other crates and depend on this one.

pub mod access;
pub mod account;
pub mod app;
pub mod arrival;
pub mod bot;
pub mod command;
pub mod content;
pub mod conversation;
pub mod effects;
pub mod error;
pub mod file;
pub mod ids;
pub mod job;
pub mod keyboard;
pub mod koreai;
pub mod matching;
pub mod net;
pub mod page;
pub mod plan;
pub mod property;
pub mod text;
pub mod time;

pub use error::{Error, ErrorCode, Result};
pub use ids::{BotId, BotRef, UserId, WorkspaceId};
pub use time::Timestamp;
