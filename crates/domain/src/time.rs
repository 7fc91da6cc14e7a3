//! Timestamps: milliseconds since the Unix epoch, rendered as RFC 3339 with milliseconds and `Z`
//! (`2025-10-25T11:18:49.958Z`), the form all three platforms use.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        self.plus_millis(secs.saturating_mul(1000))
    }

    /// The first instant of this timestamp's month (UTC) and the first of the next.
    pub fn month_bounds(self) -> (Timestamp, Timestamp) {
        let dt = self.to_datetime();
        let first = |year: i32, month: time::Month| {
            time::Date::from_calendar_date(year, month, 1)
                .map(|d| Timestamp((d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64))
                .unwrap_or(self)
        };
        let next = match dt.month() {
            time::Month::December => first(dt.year() + 1, time::Month::January),
            month => first(dt.year(), month.next()),
        };
        (first(dt.year(), dt.month()), next)
    }

    /// `YYYY-MM`, the key of monthly counters.
    pub fn month_key(self) -> String {
        let dt = self.to_datetime();
        format!("{:04}-{:02}", dt.year(), u8::from(dt.month()))
    }

    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    pub fn parse_rfc3339(raw: &str) -> Option<Self> {
        let dt = OffsetDateTime::parse(raw, &Rfc3339).ok()?;
        Some(Self((dt.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_rfc3339_with_millis() {
        let t = Timestamp(1_761_391_129_958);
        assert_eq!(t.to_rfc3339(), "2025-10-25T11:18:49.958Z");
        assert_eq!(Timestamp::parse_rfc3339("2025-10-25T11:18:49.958Z"), Some(t));
        assert_eq!(t.month_key(), "2025-10");
    }
}
