//! Text as the NLU sees it: decoding what exports store (URL-encoded text, HTML entities),
//! splitting into words, stemming, and the bot's synonyms.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

/// Kore.ai stores message text, scripts and payloads URL-encoded (`%20`); plain text passes
/// through unchanged (an invalid escape such as `50%` is kept as written).
pub fn decode_stored(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Patterns are stored HTML-escaped (`&lt;&lt; a b &gt;&gt;`).
pub fn decode_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Lower-cased words (Unicode word boundaries; punctuation dropped, `_` joins words as
/// Kore.ai's small talk writes phrases: `get_it`).
pub fn words(text: &str) -> Vec<String> {
    let text = text.replace(['\u{2019}', '\u{2018}'], "'");
    text.unicode_words().flat_map(|w| w.split('_')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Splits an intent name into words: `ScheduleVHCDose` → `schedule vhc dose`.
pub fn split_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' {
            out.push(' ');
            continue;
        }
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(' ');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The language-specific part of analysis: stems, and the bot's synonyms mapped onto one word.
pub struct Analyzer {
    stemmer: Stemmer,
    /// Stemmed phrase (words joined by spaces) → the stem of its canonical word.
    synonyms: HashMap<String, String>,
    /// The longest synonym phrase, in words.
    longest: usize,
}

impl Analyzer {
    pub fn new(language: &str) -> Self {
        let algorithm = match language {
            "es" => Algorithm::Spanish,
            "de" => Algorithm::German,
            "fr" => Algorithm::French,
            "it" => Algorithm::Italian,
            "pt" => Algorithm::Portuguese,
            "nl" => Algorithm::Dutch,
            _ => Algorithm::English,
        };
        Self { stemmer: Stemmer::create(algorithm), synonyms: HashMap::new(), longest: 1 }
    }

    pub fn stem(&self, word: &str) -> String {
        let word = word.trim_matches('\'');
        let word = word.strip_suffix("'s").unwrap_or(word);
        self.stemmer.stem(word).into_owned()
    }

    /// Stemmed words of `text`.
    pub fn stems(&self, text: &str) -> Vec<String> {
        words(text).iter().map(|w| self.stem(w)).collect()
    }

    /// Adds synonyms: every phrase of `phrases` stands for `canonical`.
    pub fn add_synonyms(&mut self, canonical: &str, phrases: &[String]) {
        let target = self.stems(canonical).join(" ");
        if target.is_empty() {
            return;
        }
        for phrase in phrases {
            let stems = self.stems(phrase);
            if stems.is_empty() {
                continue;
            }
            self.longest = self.longest.max(stems.len());
            self.synonyms.entry(stems.join(" ")).or_insert_with(|| target.clone());
        }
    }

    /// Stems of `text` with synonym phrases replaced by their canonical word (longest first).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let stems = self.stems(text);
        if self.synonyms.is_empty() {
            return stems;
        }
        let mut out = Vec::with_capacity(stems.len());
        let mut i = 0;
        while i < stems.len() {
            let mut matched = false;
            for len in (1..=self.longest.min(stems.len() - i)).rev() {
                let phrase = stems[i..i + len].join(" ");
                if let Some(canonical) = self.synonyms.get(&phrase) {
                    out.extend(canonical.split(' ').map(str::to_owned));
                    i += len;
                    matched = true;
                    break;
                }
            }
            if !matched {
                out.push(stems[i].clone());
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        assert_eq!(split_name("ScheduleVHCDose"), "schedule vhc dose");
        assert_eq!(split_name("GetWeatherForecast"), "get weather forecast");
        assert_eq!(split_name("Fallback Task"), "fallback task");
        assert_eq!(split_name("user info"), "user info");
    }

    #[test]
    fn stored_text_is_decoded() {
        assert_eq!(decode_stored("I%20am%20Agent"), "I am Agent");
        assert_eq!(decode_stored("50% off"), "50% off");
        assert_eq!(decode_html("&lt;&lt; a b &gt;&gt;"), "<< a b >>");
    }

    #[test]
    fn synonyms_become_one_term() {
        let mut analyzer = Analyzer::new("en");
        analyzer.add_synonyms("vaccine", &["covid shot".into(), "jab".into()]);
        assert_eq!(
            analyzer.terms("Where can I get a COVID shot?"),
            ["where", "can", "i", "get", "a", "vaccin"]
        );
        assert_eq!(words("get_it now"), ["get", "it", "now"]);
    }
}
