//! Listing order and pages.

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// One page of a listing and the token of the next one, if there is more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// The rows before page `page` (from 1) of `per_page` rows: the `OFFSET` of a page query.
pub fn offset(page: u32, per_page: u32) -> i64 {
    i64::from(page.max(1) - 1) * i64::from(per_page)
}
