//! Telegram's rate limits as `governor` buckets: per bot (messages per second across chats), per
//! chat (about one per second, short bursts tolerated) and per group (twenty per minute). Sending
//! waits for a token of each bucket that applies, in that order.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Buckets = RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>;

/// Keys are dropped once their buckets are full again and there are more than this many.
const KEYS_KEPT: usize = 100_000;

/// How long a chat may burst before its steady rate applies.
const CHAT_BURST: u32 = 3;

pub struct Limits {
    bots: Buckets,
    chats: Buckets,
    groups: Buckets,
}

/// `count` sends per `period` on average, with bursts of `burst`.
fn buckets(count: f64, period: Duration, burst: u32) -> Buckets {
    let every = period.div_f64(count.max(f64::MIN_POSITIVE)).max(Duration::from_millis(1));
    let quota = Quota::with_period(every)
        .unwrap_or(Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::keyed(quota)
}

impl Limits {
    pub fn new(per_bot_per_second: u32, per_chat_per_second: f64, per_group_per_minute: u32) -> Self {
        let second = Duration::from_secs(1);
        Self {
            bots: buckets(f64::from(per_bot_per_second), second, per_bot_per_second),
            chats: buckets(per_chat_per_second, second, CHAT_BURST),
            groups: buckets(f64::from(per_group_per_minute), Duration::from_secs(60), per_group_per_minute),
        }
    }

    /// Waits until the bot may send to the chat, and takes the tokens.
    pub async fn wait(&self, bot: i64, chat: i64, group: bool) {
        for buckets in [&self.chats, &self.bots, &self.groups] {
            if buckets.len() > KEYS_KEPT {
                buckets.retain_recent();
            }
        }
        self.chats.until_key_ready(&chat).await;
        self.bots.until_key_ready(&bot).await;
        if group {
            self.groups.until_key_ready(&chat).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_chat_bursts_then_must_wait_while_other_chats_go_on() {
        let limits = Limits::new(30, 1.0, 20);
        for _ in 0..CHAT_BURST {
            limits.wait(1, 7, false).await;
        }
        assert!(limits.chats.check_key(&7).is_err(), "the chat's burst is spent");
        assert!(limits.chats.check_key(&8).is_ok(), "another chat has its own bucket");
        assert!(limits.bots.check_key(&1).is_ok(), "the bot's bucket is larger");
    }

    #[tokio::test]
    async fn groups_have_a_bucket_of_their_own() {
        let limits = Limits::new(1000, 1000.0, 2);
        limits.wait(1, -100, true).await;
        limits.wait(1, -100, true).await;
        assert!(limits.groups.check_key(&-100).is_err());
        assert!(limits.groups.check_key(&-200).is_ok());
    }
}
