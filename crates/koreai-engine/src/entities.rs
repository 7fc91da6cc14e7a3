//! Entity values from user input, by Kore.ai entity type.
//!
//! Values as they land in `context.entities`: strings for text types, numbers for `number`,
//! `YYYY-MM-DD` for `date`, `HH:MM` (24 h) for `time`, the list item's `value` for lists of
//! values and lookups, `true`/`false` for `yes_no`, `{"formatted_address": …}` for `location`
//! (Kore.ai's geocoded shape, here without coordinates).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use regex::Regex;
use serde_json::{Value, json};

use crate::text::words;

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").expect("valid regex"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d\s().-]{5,}\d").expect("valid regex"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"-?\d+(?:[.,]\d+)?").expect("valid regex"));
static ZIP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{5}(?:-\d{4})?\b").expect("valid regex"));
static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"https?://\S+|www\.\S+").expect("valid regex"));
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?:\s|$|[^\w])").expect("valid regex")
});
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b").expect("valid regex"));
static SLASH_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?\b").expect("valid regex"));

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];
const YES: [&str; 16] = [
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "correct",
    "right",
    "absolutely",
    "affirmative",
    "si",
    "sí",
    "definitely",
    "certainly",
];
const NO: [&str; 9] = ["no", "n", "nope", "nah", "not", "never", "negative", "don't", "dont"];

/// A list of allowed values (a list-of-values or lookup entity).
#[derive(Debug, Clone, Default)]
pub struct ValueList {
    values: Vec<Value>,
    /// First word → (item, phrase words).
    index: HashMap<String, Vec<(usize, Vec<String>)>>,
}

impl ValueList {
    /// The static list of an entity component in `language`, if it has one.
    pub fn from_component(component: &Value, language: &str) -> Option<ValueList> {
        let items = component
            .pointer(&format!("/localeData/{language}/allowedValues/values"))
            .or_else(|| component.get("lookupValues"))?
            .as_array()?;
        let mut list = ValueList::default();
        for item in items {
            let value = item.get("value").cloned().unwrap_or(Value::Null);
            let mut phrases: Vec<String> = ["title", "value"]
                .iter()
                .filter_map(|k| item.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            for s in
                item.get("synonyms").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
            {
                phrases.extend(s.split(',').map(|p| p.trim().trim_matches('"').to_owned()));
            }
            list.push(value, &phrases);
        }
        Some(list)
    }

    /// A list read from the context at run time (`allowedValues.variable`).
    pub fn from_items(items: &[Value], title_key: &str, value_key: &str, synonyms_key: &str) -> ValueList {
        let mut list = ValueList::default();
        for item in items {
            let field =
                |k: &str| item.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            let value = item.get(value_key).cloned().unwrap_or_else(|| item.clone());
            let mut phrases: Vec<String> = [title_key, value_key].iter().filter_map(|k| field(k)).collect();
            if let Some(s) = field(synonyms_key) {
                phrases.extend(s.split(',').map(|p| p.trim().to_owned()));
            }
            if let Some(s) = item.as_str() {
                phrases.push(s.to_owned());
            }
            list.push(value, &phrases);
        }
        list
    }

    fn push(&mut self, value: Value, phrases: &[String]) {
        let item = self.values.len();
        self.values.push(value);
        for phrase in phrases {
            let w = words(phrase);
            if let Some(first) = w.first() {
                self.index.entry(first.clone()).or_default().push((item, w));
            }
        }
    }

    /// The value whose phrase covers the most words of `text`.
    pub fn find(&self, text: &str) -> Option<Value> {
        let w = words(text);
        let mut best: Option<(usize, usize)> = None;
        for start in 0..w.len() {
            for (item, phrase) in self.index.get(&w[start]).into_iter().flatten() {
                if w.len() - start >= phrase.len()
                    && w[start..start + phrase.len()] == phrase[..]
                    && best.is_none_or(|(_, len)| phrase.len() > len)
                {
                    best = Some((*item, phrase.len()));
                }
            }
        }
        best.map(|(item, _)| self.values[item].clone())
    }

    /// [`ValueList::find`], or else the choice whose words begin with all of `text`'s (a form's
    /// "12:00 pm" for "12:00 pm - 38 Appointments Available").
    pub fn find_or_prefix(&self, text: &str) -> Option<Value> {
        if let Some(found) = self.find(text) {
            return Some(found);
        }
        let w = words(text);
        let first = w.first()?;
        self.index
            .get(first)
            .into_iter()
            .flatten()
            .find(|(_, phrase)| phrase.len() > w.len() && phrase[..w.len()] == w[..])
            .map(|(item, _)| self.values[*item].clone())
    }
}

/// The words an entity pattern's `*` stands for (`i live in *` on "I live in Ohio" → "Ohio").
/// Only patterns of plain words around one `*` capture; others give None.
pub fn capture(pattern: &str, text: &str) -> Option<String> {
    let tokens: Vec<&str> = pattern.split_whitespace().collect();
    let star = tokens.iter().position(|t| *t == "*")?;
    if tokens.iter().enumerate().any(|(i, t)| i != star && t.chars().any(|c| "*~[]{}()<>!\"".contains(c))) {
        return None;
    }
    let prefix = words(&tokens[..star].join(" "));
    let suffix = words(&tokens[star + 1..].join(" "));
    let raw: Vec<&str> = text.split_whitespace().collect();
    let lower: Vec<String> = raw.iter().map(|w| words(w).join(" ")).collect();
    let fits =
        |at: usize, part: &[String]| at + part.len() <= lower.len() && lower[at..at + part.len()] == part[..];
    for start in 0..=lower.len() {
        if !fits(start, &prefix) {
            continue;
        }
        let from = start + prefix.len();
        // Without words after the `*`, it takes the rest of the sentence.
        let first_end = if suffix.is_empty() { lower.len().max(from + 1) } else { from + 1 };
        for end in first_end..=lower.len() {
            if fits(end, &suffix) {
                let captured = raw[from..end].join(" ");
                let captured =
                    captured.trim_matches(|c: char| c.is_ascii_punctuation() && c != '\'' && c != '-');
                return (!captured.is_empty()).then(|| captured.to_owned());
            }
        }
    }
    None
}

/// A yes or a no in `text`.
pub fn yes_no(text: &str) -> Option<bool> {
    let w = words(text);
    let yes = w.iter().any(|x| YES.contains(&x.as_str()));
    let no = w.iter().any(|x| NO.contains(&x.as_str()));
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Extracts a value of `entity_type` from `text`. Lists are handled by the caller.
pub fn extract(entity_type: &str, text: &str, today: NaiveDate) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    match entity_type {
        "number" | "quantity" | "currency" | "percentage" => number(trimmed),
        "date" => date(trimmed, today).map(|d| json!(d.format("%Y-%m-%d").to_string())),
        "time" => time(trimmed).map(Value::String),
        "email" => EMAIL.find(trimmed).map(|m| json!(m.as_str())),
        "phone_number" | "phone" => PHONE
            .find(trimmed)
            .filter(|m| m.as_str().chars().filter(char::is_ascii_digit).count() >= 7)
            .map(|m| json!(m.as_str())),
        "zipcode" => ZIP.find(trimmed).map(|m| json!(m.as_str())),
        "url" => URL.find(trimmed).map(|m| json!(m.as_str())),
        "yes_no" | "boolean" => yes_no(trimmed).map(Value::Bool),
        // Kore.ai geocodes locations; without a geocoder the place is its own address.
        "location" => Some(json!({"formatted_address": strip_place_prefix(trimmed)})),
        "city" | "address" | "country" | "state" => Some(json!(strip_place_prefix(trimmed))),
        // string, label, description and types without a parser take the input as it is.
        _ => Some(json!(trimmed)),
    }
}

fn strip_place_prefix(text: &str) -> &str {
    let lower = text.to_lowercase();
    for prefix in ["i live in ", "i am in ", "i'm in ", "i reside in ", "live in ", "in ", "at "] {
        if lower.starts_with(prefix) {
            return text[prefix.len()..].trim();
        }
    }
    text
}

fn number(text: &str) -> Option<Value> {
    if let Some(m) = NUMBER.find(text) {
        let raw = m.as_str().replace(',', ".");
        return raw
            .parse::<i64>()
            .map(|n| json!(n))
            .ok()
            .or_else(|| raw.parse::<f64>().ok().map(|f| json!(f)));
    }
    words(text).iter().find_map(|w| NUMBER_WORDS.iter().position(|n| n == w)).map(|n| json!(n))
}

fn month(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.');
    (word.len() >= 3).then(|| MONTHS.iter().position(|m| word.starts_with(m)).map(|i| i as u32 + 1)).flatten()
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// Dates: today/tomorrow/yesterday, weekdays (the next one), ISO, `m/d[/y]`, `June 25[th] [2021]`,
/// `25th June [2021]`, `in N days`.
pub fn date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let lower = text.to_lowercase();
    if let Some(c) = ISO_DATE.captures(&lower) {
        return NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    }
    if let Some(c) = SLASH_DATE.captures(&lower) {
        let year = match c.get(3).map(|y| y.as_str().parse::<i32>()) {
            Some(Ok(y)) if y < 100 => 2000 + y,
            Some(Ok(y)) => y,
            _ => today.year(),
        };
        return NaiveDate::from_ymd_opt(year, c[1].parse().ok()?, c[2].parse().ok()?);
    }
    let w = words(&lower);
    if lower.contains("day after tomorrow") {
        return Some(today + Duration::days(2));
    }
    for (i, word) in w.iter().enumerate() {
        match word.as_str() {
            "today" | "now" => return Some(today),
            "tomorrow" => return Some(today + Duration::days(1)),
            "yesterday" => return Some(today - Duration::days(1)),
            "in" => {
                if let (Some(n), Some(unit)) =
                    (w.get(i + 1).and_then(|n| n.parse::<i64>().ok()), w.get(i + 2))
                    && unit.starts_with("day")
                {
                    return Some(today + Duration::days(n));
                }
            }
            _ => {}
        }
        if let Some(day) = weekday(word) {
            let ahead =
                (7 + day.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7;
            return Some(today + Duration::days(if ahead == 0 { 7 } else { ahead }));
        }
        if let Some(m) = month(word) {
            let day_of = |s: &String| {
                s.trim_end_matches(|c: char| c.is_alphabetic())
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=31).contains(d))
            };
            let (day, year_at) =
                match (w.get(i + 1).and_then(day_of), i.checked_sub(1).and_then(|p| day_of(&w[p]))) {
                    (Some(d), _) => (d, i + 2),
                    (None, Some(d)) => (d, i + 1),
                    _ => continue,
                };
            let year = w
                .get(year_at)
                .and_then(|y| y.parse::<i32>().ok())
                .filter(|y| *y > 1900)
                .unwrap_or(today.year());
            return NaiveDate::from_ymd_opt(year, m, day);
        }
    }
    None
}

/// Times: `1:30 pm`, `13:30`, `3pm`, `noon`, `midnight` → `HH:MM`.
pub fn time(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if lower.contains("noon") {
        return Some("12:00".into());
    }
    if lower.contains("midnight") {
        return Some("00:00".into());
    }
    let padded = format!("{lower} ");
    for c in TIME.captures_iter(&padded) {
        let minutes = c.get(2).map(|m| m.as_str().parse::<u32>().unwrap_or(0));
        let meridiem = c.get(3).map(|m| m.as_str().starts_with('p'));
        if minutes.is_none() && meridiem.is_none() {
            continue;
        }
        let mut hour: u32 = c[1].parse().ok()?;
        match meridiem {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        let minutes = minutes.unwrap_or(0);
        if hour < 24 && minutes < 60 {
            return Some(format!("{hour:02}:{minutes:02}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn dates_and_times() {
        let today = day(2026, 11, 28); // a Saturday
        assert_eq!(date("tomorrow please", today), Some(day(2026, 11, 29)));
        assert_eq!(date("on monday", today), Some(day(2026, 11, 30)));
        assert_eq!(date("25th June", today), Some(day(2026, 6, 25)));
        assert_eq!(date("June 25 2021", today), Some(day(2021, 6, 25)));
        assert_eq!(date("12/24/2026", today), Some(day(2026, 12, 24)));
        assert_eq!(date("2021-02-03", today), Some(day(2021, 2, 3)));
        assert_eq!(date("blue", today), None);
        assert_eq!(time("around 1:30pm"), Some("13:30".into()));
        assert_eq!(time("at 9 am"), Some("09:00".into()));
        assert_eq!(time("14:05"), Some("14:05".into()));
        assert_eq!(time("3 apples"), None);
    }

    #[test]
    fn simple_types() {
        let today = day(2026, 11, 28);
        assert_eq!(extract("number", "I want 3 tickets", today), Some(json!(3)));
        assert_eq!(extract("number", "two please", today), Some(json!(2)));
        assert_eq!(extract("email", "mail me at a.b@c.org thanks", today), Some(json!("a.b@c.org")));
        assert_eq!(extract("phone_number", "call (818) 763-8836", today), Some(json!("(818) 763-8836")));
        assert_eq!(extract("phone_number", "call 12", today), None);
        assert_eq!(
            extract("location", "I live in Raleigh", today),
            Some(json!({"formatted_address": "Raleigh"}))
        );
        assert_eq!(extract("city", "in Raleigh", today), Some(json!("Raleigh")));
        assert_eq!(yes_no("yes please"), Some(true));
        assert_eq!(yes_no("nope"), Some(false));
        assert_eq!(yes_no("maybe"), None);
    }

    #[test]
    fn entity_patterns_capture_their_star() {
        assert_eq!(capture("i live in *", "Well, I live in New Mexico."), Some("New Mexico".into()));
        assert_eq!(capture("* is my state.", "Ohio is my state"), Some("Ohio".into()));
        assert_eq!(capture("state of *", "the state"), None);
        assert_eq!(capture("~reside [ in by ] *", "I live in Ohio"), None);
    }

    #[test]
    fn lists_take_the_longest_phrase() {
        let component = json!({"localeData": {"en": {"allowedValues": {"values": [
            {"title": "Orange County Florida", "value": "OCF", "synonyms": ["\"Orange County\""]},
            {"title": "Orange", "value": "O", "synonyms": []}
        ]}}}});
        let list = ValueList::from_component(&component, "en").expect("a list");
        assert_eq!(list.find("I live in orange county florida"), Some(json!("OCF")));
        assert_eq!(list.find("orange"), Some(json!("O")));
        assert_eq!(list.find("apple"), None);
    }
}
