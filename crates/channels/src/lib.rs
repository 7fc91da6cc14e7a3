//! botyard's channels: where messages for bots come from and where their answers go. The web
//! channel (the Botpress Chat API) lives in the runtime and the API; this crate holds Telegram:
//!
//! - **receiving**: each node takes a lease on the running Telegram bots it receives for (so one
//!   node polls a bot even when several share the database) and long-polls `getUpdates`, or
//!   Telegram posts to botyard's webhook route; every update id is recorded once, so none is
//!   processed twice, across restarts too;
//! - **sending**: runs write their messages and API calls to the outbox in the transaction of
//!   their effects; a sender on each node delivers them, one at a time per chat and in order,
//!   within Telegram's rate limits, retrying 429s after `retry_after` and network errors with
//!   backoff, marking chats whose user blocked the bot.

pub mod telegram;

pub use telegram::Telegram;
