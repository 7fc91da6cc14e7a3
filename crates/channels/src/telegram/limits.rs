//! Telegram's rate limits as token buckets: per bot (messages per second across chats), per chat
//! (about one per second, short bursts tolerated) and per group (twenty per minute).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets of one kind, by key.
struct Buckets {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl Buckets {
    fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst: burst.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token now if there is one; otherwise how long until there is.
    fn take(&self, key: i64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| b.at.elapsed() < Duration::from_secs(60));
        }
        let now = Instant::now();
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: self.burst, at: now });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

pub struct Limits {
    bots: Buckets,
    chats: Buckets,
    groups: Buckets,
}

impl Limits {
    pub fn new(per_bot_per_second: u32, per_chat_per_second: f64, per_group_per_minute: u32) -> Self {
        Self {
            bots: Buckets::new(f64::from(per_bot_per_second), f64::from(per_bot_per_second)),
            chats: Buckets::new(per_chat_per_second, 3.0),
            groups: Buckets::new(f64::from(per_group_per_minute) / 60.0, f64::from(per_group_per_minute)),
        }
    }

    /// Waits until the bot may send to the chat, and takes the tokens.
    pub async fn wait(&self, bot: i64, chat: i64, group: bool) {
        for (buckets, key) in [(&self.chats, chat), (&self.bots, bot)] {
            while let Err(wait) = buckets.take(key) {
                tokio::time::sleep(wait).await;
            }
        }
        if group {
            while let Err(wait) = self.groups.take(chat) {
                tokio::time::sleep(wait).await;
            }
        }
    }
}
