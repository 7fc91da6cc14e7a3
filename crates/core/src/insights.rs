//! What the admin APIs tell about how a bot is doing: activity figures by day (Botpress's
//! analytics) and its error log grouped into issues.

use botyard_domain::access::Permission;
use botyard_domain::effects::ErrorLog;
use botyard_domain::{Error, ErrorCode, Result, Timestamp};
use botyard_store::{ConversationStore, ErrorLogStore};

use crate::{BotAccess, Services};

const DAY_MS: i64 = 86_400_000;

/// The longest period analytics are asked for at once, in days.
pub const MAX_ANALYTICS_DAYS: i64 = 366;

/// A bot's activity in one period (a UTC day, cut to the period asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub start: Timestamp,
    /// The period's last millisecond (included).
    pub end: Timestamp,
    /// Users first seen in the period.
    pub new_users: i64,
    /// Users seen before the period who wrote in it.
    pub returning_users: i64,
    /// Chats a user wrote in during the period.
    pub sessions: i64,
    pub user_messages: i64,
    pub bot_messages: i64,
}

/// Error log entries of one command with one title.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The group's first entry: its id is the issue's.
    pub first: ErrorLog,
    pub events: i64,
    pub last_seen: Timestamp,
}

impl Services {
    /// The bot's activity from `since` to `until` (both included), one record per UTC day, days
    /// without activity included.
    pub async fn bot_activity(
        &self,
        access: &BotAccess,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Activity>> {
        if until < since {
            return Err(Error::new(ErrorCode::InvalidQuery, "endDate must not be before startDate"));
        }
        let first_day = since.millis().div_euclid(DAY_MS);
        let last_day = until.millis().div_euclid(DAY_MS);
        if last_day - first_day >= MAX_ANALYTICS_DAYS {
            return Err(Error::new(
                ErrorCode::InvalidQuery,
                format!("The period may span at most {MAX_ANALYTICS_DAYS} days"),
            ));
        }
        let mut counted =
            self.store.activity_by_day(access.bot.number, since, until).await?.into_iter().peekable();
        let mut records = Vec::new();
        for day in first_day..=last_day {
            let counts = match counted.peek() {
                Some((d, counts)) if *d == day => {
                    let counts = *counts;
                    counted.next();
                    counts
                }
                _ => [0; 5],
            };
            let [new_users, returning_users, sessions, user_messages, bot_messages] = counts;
            records.push(Activity {
                start: Timestamp((day * DAY_MS).max(since.millis())),
                end: Timestamp((day * DAY_MS + DAY_MS - 1).min(until.millis())),
                new_users,
                returning_users,
                sessions,
                user_messages,
                bot_messages,
            });
        }
        Ok(records)
    }

    /// The bot's issues, the one seen last first, one page (from 1).
    pub async fn bot_issues(&self, access: &BotAccess, page: u32, per_page: u32) -> Result<Vec<Issue>> {
        let groups = self.store.error_groups(access.bot.number, page.max(1), per_page).await?;
        Ok(groups.into_iter().map(|(first, events, last_seen)| Issue { first, events, last_seen }).collect())
    }

    /// The issue `id` (the id of its first entry).
    pub async fn bot_issue(&self, access: &BotAccess, id: i64) -> Result<Issue> {
        let (first, events, last_seen) =
            self.store.error_group(access.bot.number, id).await?.ok_or_else(|| Error::not_found("Issue"))?;
        Ok(Issue { first, events, last_seen })
    }

    /// The entries of the issue `id`, newest first, at most `limit`.
    pub async fn bot_issue_events(&self, access: &BotAccess, id: i64, limit: u32) -> Result<Vec<ErrorLog>> {
        self.bot_issue(access, id).await?;
        self.store.error_group_entries(access.bot.number, id, limit).await
    }

    /// Deletes the entries of the issue `id`.
    pub async fn delete_bot_issue(&self, access: &BotAccess, id: i64) -> Result<()> {
        access.role.require(Permission::ChangeBots)?;
        self.bot_issue(access, id).await?;
        self.store.delete_error_group(access.bot.number, id).await?;
        Ok(())
    }
}
