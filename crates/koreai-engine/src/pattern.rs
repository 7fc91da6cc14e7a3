//! Kore.ai patterns (`[ i we ] ~reside [ in of by ]`, `<< ~where ~covidvaccine >>`).
//!
//! Syntax: words (matched by stem), `'word` (exact), `"a phrase"`, `*` (any number of words),
//! `*N` (exactly N), `*~N` (up to N), `[ a b ]` (one of), `{ a b }` (optional), `( a b )`
//! (a sequence), `<< a b >>` (all present, in any order), `~concept` (a phrase of the bot's
//! concept), `!x` (x absent from the sentence), `<` / `>` (start / end of the sentence).
//!
//! Matching never backtracks: each element maps the set of positions where it may start to the
//! set where it may end, so one pattern costs at most O(elements × words²) whatever its shape.

use std::collections::HashMap;

use crate::text::{Analyzer, decode_html, words};

/// Nesting deeper than this makes the pattern invalid (it is then ignored).
const MAX_DEPTH: usize = 16;

/// The bot's concepts (`~name` → phrases), as stem sequences.
#[derive(Debug, Default)]
pub struct Concepts {
    index: HashMap<String, usize>,
    phrases: Vec<Vec<Vec<String>>>,
}

impl Concepts {
    /// Builds concepts from the bot's synonyms whose key starts with `~`; a phrase that names
    /// another concept (`~yes`) includes that concept's phrases.
    pub fn build(raw: &[(String, Vec<String>)], analyzer: &Analyzer) -> Self {
        let mut concepts = Concepts::default();
        let by_name: HashMap<String, &Vec<String>> =
            raw.iter().map(|(k, v)| (k.trim_start_matches('~').to_lowercase(), v)).collect();
        for (name, _) in raw {
            let name = name.trim_start_matches('~').to_lowercase();
            let mut out = Vec::new();
            let mut stack = vec![(name.clone(), 0usize)];
            let mut seen = vec![name.clone()];
            while let Some((current, depth)) = stack.pop() {
                let Some(list) = by_name.get(&current) else { continue };
                for phrase in list.iter() {
                    let phrase = phrase.trim();
                    if let Some(inner) = phrase.strip_prefix('~') {
                        let inner = inner.to_lowercase();
                        if depth < 4 && !seen.contains(&inner) {
                            seen.push(inner.clone());
                            stack.push((inner, depth + 1));
                        }
                        continue;
                    }
                    let stems = analyzer.stems(phrase);
                    if !stems.is_empty() {
                        out.push(stems);
                    }
                }
            }
            let id = concepts.phrases.len();
            concepts.phrases.push(out);
            concepts.index.insert(name, id);
        }
        concepts
    }

    fn id(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_lowercase()).copied()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Element {
    Word(String),
    Exact(String),
    Concept(usize),
    /// A concept the bot does not define: it never matches.
    Unknown,
    Wild {
        min: usize,
        max: usize,
    },
    Choice(Vec<Element>),
    Optional(Vec<Element>),
    Seq(Vec<Element>),
    AnyOrder(Vec<Element>),
    Not(Box<Element>),
    Start,
    End,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    elements: Vec<Element>,
    /// The pattern as written (for logs and tests).
    pub source: String,
}

/// How well a pattern matched a sentence.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum PatternMatch {
    None,
    /// Somewhere inside the sentence; the share of the sentence's words the pattern's words
    /// account for.
    Partial(f32),
    /// The whole sentence.
    Full,
}

/// A sentence prepared for matching.
pub struct Sentence {
    pub raw: Vec<String>,
    pub stems: Vec<String>,
}

impl Sentence {
    pub fn new(text: &str, analyzer: &Analyzer) -> Self {
        let raw = words(text);
        let stems = raw.iter().map(|w| analyzer.stem(w)).collect();
        Self { raw, stems }
    }

    fn len(&self) -> usize {
        self.raw.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open(char),
    Close(char),
    AnyOpen,
    AnyClose,
    Start,
    End,
    Wild { min: usize, max: usize },
    Not,
    Text(String),
    Quoted(String),
}

fn lex(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '<' if next == Some('<') => {
                out.push(Token::AnyOpen);
                i += 2;
            }
            '>' if next == Some('>') => {
                out.push(Token::AnyClose);
                i += 2;
            }
            '<' => {
                out.push(Token::Start);
                i += 1;
            }
            '>' => {
                out.push(Token::End);
                i += 1;
            }
            '[' | '{' | '(' => {
                out.push(Token::Open(c));
                i += 1;
            }
            ']' | '}' | ')' => {
                out.push(Token::Close(c));
                i += 1;
            }
            '!' => {
                out.push(Token::Not);
                i += 1;
            }
            '"' => {
                let end = chars[i + 1..].iter().position(|&c| c == '"').map_or(chars.len(), |p| i + 1 + p);
                out.push(Token::Quoted(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '*' => {
                let mut j = i + 1;
                let upto = chars.get(j) == Some(&'~');
                if upto {
                    j += 1;
                }
                let digits: String = chars[j..].iter().take_while(|c| c.is_ascii_digit()).collect();
                let n = digits.parse::<usize>().ok();
                out.push(match (upto, n) {
                    (true, Some(n)) => Token::Wild { min: 0, max: n },
                    (false, Some(n)) => Token::Wild { min: n, max: n },
                    _ => Token::Wild { min: 0, max: usize::MAX },
                });
                i = j + digits.len();
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"[]{}()<>*\"!".contains(chars[i]) {
                    i += 1;
                }
                out.push(Token::Text(chars[start..i].iter().collect()));
            }
        }
    }
    out
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    analyzer: &'a Analyzer,
    concepts: &'a Concepts,
}

impl Parser<'_> {
    /// Parses elements until `close` (or the end when `close` is None).
    fn sequence(&mut self, close: Option<&Token>, depth: usize) -> Option<Vec<Element>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut out = Vec::new();
        while self.at < self.tokens.len() {
            if close.is_some_and(|c| &self.tokens[self.at] == c) {
                self.at += 1;
                return Some(out);
            }
            out.extend(self.element(depth)?);
        }
        if close.is_some() { None } else { Some(out) }
    }

    fn element(&mut self, depth: usize) -> Option<Vec<Element>> {
        let token = self.tokens.get(self.at)?.clone();
        self.at += 1;
        Some(match token {
            Token::Open('[') => vec![Element::Choice(self.sequence(Some(&Token::Close(']')), depth + 1)?)],
            Token::Open('{') => vec![Element::Optional(self.sequence(Some(&Token::Close('}')), depth + 1)?)],
            Token::Open(_) => vec![Element::Seq(self.sequence(Some(&Token::Close(')')), depth + 1)?)],
            Token::AnyOpen => vec![Element::AnyOrder(self.sequence(Some(&Token::AnyClose), depth + 1)?)],
            Token::Close(_) | Token::AnyClose => return None,
            Token::Start => vec![Element::Start],
            Token::End => vec![Element::End],
            Token::Wild { min, max } => vec![Element::Wild { min, max }],
            Token::Not => {
                let inner = self.element(depth + 1)?;
                inner.into_iter().map(|e| Element::Not(Box::new(e))).collect()
            }
            Token::Quoted(text) => {
                vec![Element::Seq(
                    words(&text).into_iter().map(|w| Element::Word(self.analyzer.stem(&w))).collect(),
                )]
            }
            Token::Text(text) => self.text(&text),
        })
    }

    fn text(&self, text: &str) -> Vec<Element> {
        if let Some(name) = text.strip_prefix('~') {
            return vec![self.concepts.id(name).map_or(Element::Unknown, Element::Concept)];
        }
        if let Some(exact) = text.strip_prefix('\'') {
            return words(exact).into_iter().map(Element::Exact).collect();
        }
        words(text).into_iter().map(|w| Element::Word(self.analyzer.stem(&w))).collect()
    }
}

impl Pattern {
    /// Compiles a pattern; `None` when it is malformed or empty.
    pub fn parse(source: &str, analyzer: &Analyzer, concepts: &Concepts) -> Option<Pattern> {
        let source = decode_html(source).trim().to_owned();
        let mut parser = Parser { tokens: lex(&source), at: 0, analyzer, concepts };
        let elements = parser.sequence(None, 0)?;
        if elements.is_empty() {
            return None;
        }
        Some(Pattern { elements, source })
    }

    /// Matches the pattern against a sentence.
    pub fn matches(&self, sentence: &Sentence, concepts: &Concepts) -> PatternMatch {
        let n = sentence.len();
        let mut m = Matcher { sentence, concepts, cache: HashMap::new() };
        let mut anchored = vec![false; n + 1];
        anchored[0] = true;
        let full = m.sequence(&self.elements, anchored);
        if full[n] {
            return PatternMatch::Full;
        }
        let anywhere = m.sequence(&self.elements, vec![true; n + 1]);
        if !anywhere.iter().any(|&b| b) {
            return PatternMatch::None;
        }
        let mut covered = vec![false; n];
        m.cover(&self.elements, &mut covered);
        let share = covered.iter().filter(|&&c| c).count() as f32 / n.max(1) as f32;
        if share >= 0.999 { PatternMatch::Full } else { PatternMatch::Partial(share) }
    }

    /// A sentence the pattern matches (the first choice of each group, concepts by their
    /// first phrase), for tests that need an utterance per pattern.
    pub fn example(&self, concepts: &Concepts) -> String {
        fn walk(elements: &[Element], concepts: &Concepts, out: &mut Vec<String>) {
            for e in elements {
                match e {
                    Element::Word(w) | Element::Exact(w) => out.push(w.clone()),
                    Element::Concept(id) => {
                        if let Some(first) = concepts.phrases[*id].first() {
                            out.extend(first.iter().cloned());
                        }
                    }
                    Element::Wild { min, .. } => out.extend((0..*min).map(|_| "something".to_owned())),
                    Element::Choice(c) => walk(&c[..c.len().min(1)], concepts, out),
                    Element::Seq(c) | Element::AnyOrder(c) => walk(c, concepts, out),
                    Element::Optional(_)
                    | Element::Not(_)
                    | Element::Start
                    | Element::End
                    | Element::Unknown => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.elements, concepts, &mut out);
        out.join(" ")
    }
}

type Positions = Vec<bool>;

struct Matcher<'a> {
    sentence: &'a Sentence,
    concepts: &'a Concepts,
    /// Concept id → for each start position, the end positions of its phrases there.
    cache: HashMap<usize, std::rc::Rc<Vec<Vec<usize>>>>,
}

impl Matcher<'_> {
    fn sequence(&mut self, elements: &[Element], mut from: Positions) -> Positions {
        for e in elements {
            if !from.iter().any(|&b| b) {
                break;
            }
            from = self.element(e, &from);
        }
        from
    }

    fn element(&mut self, element: &Element, from: &Positions) -> Positions {
        let n = self.sentence.len();
        let mut to = vec![false; n + 1];
        match element {
            Element::Word(stem) => {
                for p in (0..n).filter(|&p| from[p]) {
                    if self.sentence.stems[p] == *stem || self.sentence.raw[p] == *stem {
                        to[p + 1] = true;
                    }
                }
            }
            Element::Exact(word) => {
                for p in (0..n).filter(|&p| from[p]) {
                    if self.sentence.raw[p] == *word {
                        to[p + 1] = true;
                    }
                }
            }
            Element::Concept(id) => {
                let ends = self.concept_ends(*id);
                for p in (0..=n).filter(|&p| from[p]) {
                    for &e in &ends[p] {
                        to[e] = true;
                    }
                }
            }
            Element::Unknown => {}
            Element::Wild { min, max } => {
                // One sweep: a position is reachable when some start lies min..=max before it.
                let mut last_start: Option<usize> = None;
                for q in 0..=n {
                    if q >= *min && from[q - min] {
                        last_start = Some(q - min);
                    }
                    if let Some(s) = last_start
                        && q - s >= *min
                        && q - s <= *max
                    {
                        to[q] = true;
                    }
                }
            }
            Element::Choice(options) => {
                for option in options {
                    let reached = self.element(option, from);
                    or_into(&mut to, &reached);
                }
            }
            Element::Optional(inner) => {
                to.clone_from(from);
                let reached = self.sequence(inner, from.clone());
                or_into(&mut to, &reached);
            }
            Element::Seq(inner) => to = self.sequence(inner, from.clone()),
            Element::AnyOrder(inner) => {
                let all = inner.iter().all(|e| self.anywhere(e));
                if all {
                    to.clone_from(from);
                }
            }
            Element::Not(inner) => {
                if !self.anywhere(inner) {
                    to.clone_from(from);
                }
            }
            Element::Start => to[0] = from[0],
            Element::End => to[n] = from[n],
        }
        to
    }

    /// Marks the words that the pattern's words and concepts match anywhere (one pass over the
    /// sentence per element: long inputs stay linear).
    fn cover(&mut self, elements: &[Element], covered: &mut [bool]) {
        let n = self.sentence.len();
        for e in elements {
            match e {
                Element::Word(stem) => {
                    let words = self.sentence.stems.iter().zip(&self.sentence.raw);
                    for (c, (s, r)) in covered.iter_mut().zip(words) {
                        *c |= s == stem || r == stem;
                    }
                }
                Element::Exact(word) => {
                    for (c, r) in covered.iter_mut().zip(&self.sentence.raw) {
                        *c |= r == word;
                    }
                }
                Element::Concept(id) => {
                    let ends = self.concept_ends(*id);
                    for (p, ends) in ends.iter().enumerate().take(n) {
                        for &end in ends {
                            covered[p..end].iter_mut().for_each(|c| *c = true);
                        }
                    }
                }
                Element::Choice(inner)
                | Element::Optional(inner)
                | Element::Seq(inner)
                | Element::AnyOrder(inner) => self.cover(inner, covered),
                _ => {}
            }
        }
    }

    /// Whether `element` matches somewhere in the sentence.
    fn anywhere(&mut self, element: &Element) -> bool {
        let n = self.sentence.len();
        self.element(element, &vec![true; n + 1]).iter().any(|&b| b)
    }

    /// For each start position, the end positions of the concept's phrases there (computed
    /// once per sentence and shared).
    fn concept_ends(&mut self, id: usize) -> std::rc::Rc<Vec<Vec<usize>>> {
        if let Some(ends) = self.cache.get(&id) {
            return ends.clone();
        }
        let n = self.sentence.len();
        let mut ends = vec![Vec::new(); n + 1];
        for phrase in &self.concepts.phrases[id] {
            for (p, slot) in ends.iter_mut().enumerate().take(n) {
                if p + phrase.len() <= n
                    && phrase
                        .iter()
                        .enumerate()
                        .all(|(k, w)| self.sentence.stems[p + k] == *w || self.sentence.raw[p + k] == *w)
                {
                    slot.push(p + phrase.len());
                }
            }
        }
        let ends = std::rc::Rc::new(ends);
        self.cache.insert(id, ends.clone());
        ends
    }
}

fn or_into(into: &mut Positions, from: &Positions) {
    for (a, b) in into.iter_mut().zip(from) {
        *a |= *b;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn setup() -> (Analyzer, Concepts) {
        let analyzer = Analyzer::new("en");
        let raw = vec![
            ("~reside".to_owned(), vec!["live".to_owned(), "reside".to_owned(), "stay".to_owned()]),
            (
                "~covidvaccine".to_owned(),
                vec!["covid vaccine".to_owned(), "vaccine".to_owned(), "~shot".to_owned()],
            ),
            ("~shot".to_owned(), vec!["jab".to_owned()]),
        ];
        let concepts = Concepts::build(&raw, &analyzer);
        (analyzer, concepts)
    }

    fn check(pattern: &str, text: &str) -> PatternMatch {
        let (analyzer, concepts) = setup();
        let p = Pattern::parse(pattern, &analyzer, &concepts).expect("pattern parses");
        p.matches(&Sentence::new(text, &analyzer), &concepts)
    }

    #[test]
    fn words_groups_and_concepts() {
        assert!(matches!(check("[ i we ] ~reside [ in of by ]", "I live in Ohio"), PatternMatch::Partial(_)));
        assert_eq!(check("[ i we ] ~reside [ in of by ]", "we reside by"), PatternMatch::Full);
        assert_eq!(check("help me", "help me"), PatternMatch::Full);
        assert_eq!(check("help me", "please help me now"), PatternMatch::Partial(0.5));
        assert_eq!(check("help me", "me help"), PatternMatch::None);
        assert_eq!(check("pay * bill", "pay my electricity bill"), PatternMatch::Full);
        assert_eq!(check("pay *1 bill", "pay my electricity bill"), PatternMatch::None);
        assert_eq!(check("pay *~2 bill", "pay my electricity bill"), PatternMatch::Full);
        assert_eq!(check("book {a} flight", "book flight"), PatternMatch::Full);
        assert_eq!(check("<< transfer call >>", "please call and transfer me"), PatternMatch::Partial(0.4));
        assert_eq!(check("<< transfer call >>", "call transfer"), PatternMatch::Full);
        assert_eq!(
            check("&lt;&lt; ( wash dc) vaccine &gt;&gt;", "vaccines in wash dc"),
            PatternMatch::Partial(0.75)
        );
        assert_eq!(check("<< ~covidvaccine where >>", "where is the jab"), PatternMatch::Partial(0.5));
        assert_eq!(check("!pregnant << ~covidvaccine >>", "vaccine when pregnant"), PatternMatch::None);
        assert_eq!(check("< help", "help me"), PatternMatch::Partial(0.5));
        assert_eq!(check("< help", "i need help"), PatternMatch::None);
        assert_eq!(check("~unknownconcept", "anything"), PatternMatch::None);
    }

    #[test]
    fn malformed_patterns_are_refused() {
        let (analyzer, concepts) = setup();
        assert!(Pattern::parse("[ a b", &analyzer, &concepts).is_none());
        assert!(Pattern::parse(&"[".repeat(100), &analyzer, &concepts).is_none());
        assert!(Pattern::parse("", &analyzer, &concepts).is_none());
    }

    #[test]
    fn an_exponential_pattern_is_fast() {
        // A backtracking matcher needs ~words^stars steps for this one.
        let (analyzer, concepts) = setup();
        let pattern = format!("{} x", "* a ".repeat(40));
        let p = Pattern::parse(&pattern, &analyzer, &concepts).expect("pattern parses");
        let text = "a ".repeat(300);
        let sentence = Sentence::new(&text, &analyzer);
        let started = Instant::now();
        assert_eq!(p.matches(&sentence, &concepts), PatternMatch::None);
        let nested = format!("{}a{}", "[ * ( ".repeat(7), " ) ]".repeat(7));
        let p = Pattern::parse(&nested, &analyzer, &concepts).expect("nested pattern parses");
        assert_eq!(p.matches(&sentence, &concepts), PatternMatch::Full);
        assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    }
}
