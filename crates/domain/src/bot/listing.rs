//! How bots are listed: which, in which order, from where.

use crate::WorkspaceId;
use crate::page::SortDirection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BotSortField {
    #[default]
    CreatedAt,
    UpdatedAt,
}

/// Which bots to list, in which order, from where.
#[derive(Debug, Clone, Default)]
pub struct BotListQuery {
    pub workspaces: Vec<WorkspaceId>,
    /// `Some(d)`: only bots whose `dev` flag is `d`.
    pub dev: Option<bool>,
    /// Every pair must be among the bot's tags.
    pub tags: Vec<(String, String)>,
    pub sort: BotSortField,
    pub direction: SortDirection,
    /// The `next_token` of the previous page.
    pub page_token: Option<String>,
    pub limit: u32,
}
