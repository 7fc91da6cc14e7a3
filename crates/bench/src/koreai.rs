//! The Kore.ai dialog engine (`botyard-koreai-engine`) on the real exports in the shared fixtures
//! (vaxie, botpipeline, weatherbot), each figure next to a baseline measured in the same run:
//!
//! - **Accuracy**: the engine's held-out figures (`held_out_accuracy`: every fifth training
//!   utterance of each intent and every fifth FAQ alternate question held out, the detector
//!   trained on the rest), next to a naive nearest-phrase baseline trained and asked on the very
//!   same split (lower-cased words, best word-set overlap with any training phrase).
//! - **Latency**: `KoreBot::detect` on every message of a realistic set (training utterances, FAQ
//!   questions and alternates, a sentence for each pattern, dialog names, everyday chat such as
//!   "hi" or "thanks", and gibberish), after a warm-up, timed one message at a time; interleaved
//!   with the same message through the naive scan over the bot's phrases and through an exact
//!   lookup (a `HashMap` of lower-cased phrases). Apart, the longest input the engine reads
//!   (`Limits::max_input_bytes`, 4,000 bytes of the bot's own phrases).
//! - **Memory**: the growth of a child process's resident memory (`VmRSS`) while it holds N
//!   compiled copies of the bot, per copy; next to the same figure for the definition parsed as
//!   JSON (what the compiled bot is made from). A fresh child per export, so that memory freed by
//!   earlier measurements cannot be reused and hide part of the growth. Beside it, the time to
//!   parse and to compile the definition (in this process, memory reused: median of 7).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use botyard_koreai_engine::{Accuracy, KoreBot, Limits, Session, held_out_accuracy};
use serde_json::Value;

/// The exports measured, from the shared fixtures beside the repository.
const EXPORTS: [&str; 3] = ["vaxie", "botpipeline", "weatherbot"];

/// What users say to any bot: greetings, thanks, yes and no (small talk, when the bot has it).
const EVERYDAY: [&str; 16] = [
    "hi",
    "hello",
    "Hello there!",
    "good morning",
    "how are you?",
    "thanks",
    "thank you so much",
    "ok got it",
    "yes",
    "no",
    "nope",
    "bye",
    "what is your name",
    "who are you?",
    "tell me about yourself",
    "I need help",
];

#[derive(clap::Args)]
pub struct Args {
    /// Passes over the message set that are measured (after the warm-up).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Passes over the message set before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Copies of each bot (and of its parsed definition) held at once to measure memory.
    #[arg(long, default_value_t = 20)]
    copies: usize,
    /// Gibberish messages added to the message set (half random letters, half word salad).
    #[arg(long, default_value_t = 200)]
    gibberish: usize,
    /// Internal: measure the memory of one export in this process and print it on one line.
    #[arg(long, hide = true)]
    memory_of: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(export) = &args.memory_of {
        let (json_kib, bot_kib) = memory_here(export, args.copies.max(2))?;
        println!("{json_kib} {bot_kib}");
        return Ok(());
    }
    println!(
        "{} cores; {} measured passes after {} warm-up passes; {} copies for memory",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        args.rounds,
        args.warmup,
        args.copies
    );
    let mut accuracy = Vec::new();
    let mut latency = Vec::new();
    let mut memory = Vec::new();
    for export in EXPORTS {
        let text = std::fs::read_to_string(definition_path(export))
            .with_context(|| format!("{}", definition_path(export).display()))?;
        let definition: Value = serde_json::from_str(&text)?;
        let limits = Limits::default();
        let engine = held_out_accuracy(&definition, &limits)?;
        let bot = KoreBot::compile(&definition, &limits)?;
        latency.push((export, latency_of(&bot, &engine.language, &args)));
        accuracy.push((export, naive_accuracy(&bot, &engine)?, engine));
        let times = load_times(&text, &limits)?;
        memory.push((export, text.len(), times, memory_in_child(export, args.copies)?));
    }

    println!();
    println!(
        "| export | intents tested | held-out utterances: engine | naive nearest phrase | held-out FAQ alternates: engine | naive nearest phrase |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (export, naive, engine) in &accuracy {
        println!(
            "| {export} | {} | {} | {} | {} | {} |",
            engine.intents,
            share(engine.correct, engine.tested),
            share(naive.correct, naive.tested),
            share(engine.faq_correct, engine.faq_tested),
            share(naive.faq_correct, naive.faq_tested),
        );
    }

    println!();
    println!(
        "| export | messages × passes | engine p50 µs | engine p99 µs | engine max µs | naive scan p50 µs | naive scan p99 µs | exact lookup p50 µs | engine / naive scan, p99 | engine, one 4,000-byte message, µs |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (export, l) in &latency {
        println!(
            "| {export} | {} × {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0} |",
            l.messages,
            args.rounds,
            micros(&l.engine, 0.5),
            micros(&l.engine, 0.99),
            micros(&l.engine, 1.0),
            micros(&l.naive, 0.5),
            micros(&l.naive, 0.99),
            micros(&l.exact, 0.5),
            micros(&l.engine, 0.99) / micros(&l.naive, 0.99).max(0.001),
            micros(&l.longest, 0.5),
        );
    }
    if let Some((export, l)) = latency.first() {
        let p99 = micros(&l.engine, 0.99) / 1000.0;
        let verdict = if p99 <= 5.0 { "reached" } else { "not reached" };
        println!();
        println!("Goal: {export} p99 ≤ 5 ms per message — {verdict}: {p99:.3} ms");
    }

    println!();
    println!(
        "| export | botDefinition.json KB | parse JSON ms | compile ms | parsed definition MiB per copy | compiled bot MiB per copy | bot / parsed definition |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (export, bytes, (parse, compile), (json_kib, bot_kib)) in &memory {
        println!(
            "| {export} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            *bytes as f64 / 1000.0,
            parse.as_secs_f64() * 1e3,
            compile.as_secs_f64() * 1e3,
            *json_kib as f64 / 1024.0,
            *bot_kib as f64 / 1024.0,
            *bot_kib as f64 / (*json_kib as f64).max(1.0),
        );
    }
    Ok(())
}

/// The shared fixtures folder: `BOTYARD_SHARED_DIR`, else `../shared` beside the repository.
fn definition_path(export: &str) -> PathBuf {
    let shared = match std::env::var_os("BOTYARD_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    shared.join("fixtures/koreai").join(export).join("botDefinition.json")
}

/// `correct/tested (x %)`, or a dash when the export has nothing of the kind.
fn share(correct: usize, tested: usize) -> String {
    if tested == 0 {
        return "— (none)".into();
    }
    format!("{correct}/{tested} ({:.1} %)", correct as f64 * 100.0 / tested as f64)
}

/// The `p` quantile of sorted times in µs (`p = 1` is the maximum).
fn micros(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// What a phrase of the naive baseline answers.
#[derive(Debug, Clone, PartialEq)]
enum Label {
    /// A dialog, by `refId`.
    Dialog(String),
    /// An FAQ, by position in `KoreBot::faqs`.
    Faq(usize),
}

/// The baseline: phrases as sets of lower-cased words; a message gets the label of the phrase
/// sharing the largest part of its words (Jaccard), scanning every phrase. No stemming,
/// synonyms, patterns, index or thresholds.
#[derive(Default)]
struct Naive {
    phrases: Vec<(Vec<String>, Label)>,
    /// Lower-cased phrase → its label: the exact lookup.
    exact: HashMap<String, Label>,
}

impl Naive {
    fn add(&mut self, phrase: &str, label: Label) {
        let words = word_set(phrase);
        if words.is_empty() {
            return;
        }
        self.exact.entry(phrase.to_lowercase()).or_insert_with(|| label.clone());
        self.phrases.push((words, label));
    }

    fn nearest(&self, text: &str) -> Option<&Label> {
        let query = word_set(text);
        let mut best: Option<(f64, &Label)> = None;
        for (words, label) in &self.phrases {
            let (mut i, mut j, mut shared) = (0, 0, 0usize);
            while i < query.len() && j < words.len() {
                match query[i].cmp(&words[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        shared += 1;
                        i += 1;
                        j += 1;
                    }
                }
            }
            if shared == 0 {
                continue;
            }
            let score = shared as f64 / (query.len() + words.len() - shared) as f64;
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, label));
            }
        }
        best.map(|(_, label)| label)
    }

    fn exact(&self, text: &str) -> Option<&Label> {
        self.exact.get(&text.to_lowercase())
    }
}

/// Sorted, distinct lower-cased words.
fn word_set(text: &str) -> Vec<String> {
    let mut words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The naive baseline trained and asked on the split `held_out_accuracy` makes: every fifth
/// utterance of each intent, and alternate `k` (from 1) of FAQ `n` when `(n + k) % 5 == 4`.
fn naive_accuracy(bot: &KoreBot, engine: &Accuracy) -> anyhow::Result<Accuracy> {
    let language = engine.language.as_str();
    let faqs = bot.faqs(language);
    let label_of_faq = |i: usize| match &faqs[i].dialog {
        Some(dialog) => Label::Dialog(dialog.clone()),
        None => Label::Faq(i),
    };
    let mut naive = Naive::default();
    for (ref_id, name) in bot.dialogs() {
        naive.add(&name, Label::Dialog(ref_id));
    }
    let mut held = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (ref_id, utterance) in bot.utterances(language) {
        let n = seen.entry(ref_id.clone()).or_default();
        *n += 1;
        if n.is_multiple_of(5) {
            held.push((ref_id, utterance));
        } else {
            naive.add(&utterance, Label::Dialog(ref_id));
        }
    }
    let mut held_faqs = Vec::new();
    for (i, faq) in faqs.iter().enumerate() {
        naive.add(&faq.question, label_of_faq(i));
        for (k, alternate) in faq.alternates.iter().enumerate() {
            if (i + k + 1) % 5 == 4 {
                held_faqs.push((i, alternate.as_str()));
            } else {
                naive.add(alternate, label_of_faq(i));
            }
        }
    }
    if held.len() != engine.tested || held_faqs.len() != engine.faq_tested {
        bail!(
            "the baseline's split ({} utterances, {} FAQ alternates) is not the engine's ({}, {})",
            held.len(),
            held_faqs.len(),
            engine.tested,
            engine.faq_tested
        );
    }
    let correct = held
        .iter()
        .filter(|(ref_id, text)| naive.nearest(text) == Some(&Label::Dialog(ref_id.clone())))
        .count();
    let faq_correct =
        held_faqs.iter().filter(|(i, text)| naive.nearest(text) == Some(&label_of_faq(*i))).count();
    Ok(Accuracy {
        language: engine.language.clone(),
        intents: engine.intents,
        tested: held.len(),
        correct,
        faq_tested: held_faqs.len(),
        faq_correct,
    })
}

/// Sorted per-message times of the engine and of the two baselines over the same messages.
struct Latency {
    messages: usize,
    engine: Vec<Duration>,
    naive: Vec<Duration>,
    exact: Vec<Duration>,
    /// The engine on the longest input it reads, once per pass.
    longest: Vec<Duration>,
}

/// Every phrase the bot was trained on (utterances, FAQ questions and alternates, a sentence for
/// each pattern, dialog names) with the label the baseline gives it.
fn phrases(bot: &KoreBot, language: &str) -> Vec<(String, Label)> {
    let mut out = Vec::new();
    for (ref_id, name) in bot.dialogs() {
        for example in bot.pattern_examples(&ref_id, language) {
            out.push((example, Label::Dialog(ref_id.clone())));
        }
        out.push((name, Label::Dialog(ref_id)));
    }
    for (ref_id, utterance) in bot.utterances(language) {
        out.push((utterance, Label::Dialog(ref_id)));
    }
    for (i, faq) in bot.faqs(language).into_iter().enumerate() {
        let label = faq.dialog.map_or(Label::Faq(i), Label::Dialog);
        for q in std::iter::once(faq.question).chain(faq.alternates) {
            out.push((q, label.clone()));
        }
    }
    out
}

/// Messages nobody trained: random letters, and words of the bot's phrases in random order.
fn gibberish(count: usize, vocabulary: &[&str]) -> Vec<String> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    (0..count)
        .map(|i| {
            let words = 1 + next(12);
            let list: Vec<String> = (0..words)
                .map(|_| {
                    if i % 2 == 0 || vocabulary.is_empty() {
                        (0..2 + next(8)).map(|_| (b'a' + next(26) as u8) as char).collect()
                    } else {
                        vocabulary[next(vocabulary.len())].to_owned()
                    }
                })
                .collect();
            list.join(" ")
        })
        .collect()
}

/// Detection in the bot's default language (`language`, a default session's).
fn latency_of(bot: &KoreBot, language: &str, args: &Args) -> Latency {
    let session = Session::default();
    let phrases = phrases(bot, language);
    let mut naive = Naive::default();
    for (phrase, label) in &phrases {
        naive.add(phrase, label.clone());
    }
    let vocabulary: Vec<&str> = phrases.iter().flat_map(|(p, _)| p.split_whitespace()).collect();
    let mut messages: Vec<String> = phrases.iter().map(|(p, _)| p.clone()).collect();
    messages.extend(EVERYDAY.iter().map(|m| (*m).to_owned()));
    messages.extend(gibberish(args.gibberish, &vocabulary));
    let max_input = Limits::default().max_input_bytes;
    let mut long = String::new();
    for (phrase, _) in phrases.iter().cycle().take(10 * max_input) {
        if long.len() >= max_input {
            break;
        }
        long.push_str(phrase);
        long.push(' ');
    }

    let mut engine = Vec::with_capacity(messages.len() * args.rounds);
    let mut scan = Vec::with_capacity(messages.len() * args.rounds);
    let mut exact = Vec::with_capacity(messages.len() * args.rounds);
    let mut longest = Vec::with_capacity(args.rounds);
    for round in 0..args.warmup + args.rounds {
        for m in &messages {
            let started = Instant::now();
            std::hint::black_box(bot.detect(m, &session));
            let e = started.elapsed();
            let started = Instant::now();
            std::hint::black_box(naive.nearest(m));
            let n = started.elapsed();
            let started = Instant::now();
            std::hint::black_box(naive.exact(m));
            let x = started.elapsed();
            if round >= args.warmup {
                engine.push(e);
                scan.push(n);
                exact.push(x);
            }
        }
        let started = Instant::now();
        std::hint::black_box(bot.detect(&long, &session));
        if round >= args.warmup {
            longest.push(started.elapsed());
        }
    }
    engine.sort_unstable();
    scan.sort_unstable();
    exact.sort_unstable();
    longest.sort_unstable();
    Latency { messages: messages.len(), engine, naive: scan, exact, longest }
}

/// Median times to parse the definition and to compile it, each copy dropped before the next
/// (so memory is reused, as in a long-running server; first-touch page faults are not counted).
fn load_times(text: &str, limits: &Limits) -> anyhow::Result<(Duration, Duration)> {
    let (mut parse, mut compile) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let started = Instant::now();
        let definition: Value = serde_json::from_str(text)?;
        parse.push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(KoreBot::compile(&definition, limits)?);
        compile.push(started.elapsed());
    }
    parse.sort_unstable();
    compile.sort_unstable();
    Ok((parse[parse.len() / 2], compile[compile.len() / 2]))
}

/// `(KiB per parsed definition, KiB per compiled bot)`, measured by a fresh child process.
fn memory_in_child(export: &str, copies: usize) -> anyhow::Result<(u64, u64)> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(["koreai", "--memory-of", export, "--copies", &copies.to_string()])
        .output()?;
    if !output.status.success() {
        bail!("measuring {export}'s memory failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let line = String::from_utf8(output.stdout)?;
    let numbers: Vec<u64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let [json_kib, bot_kib] = numbers[..] else { bail!("unexpected answer: {line}") };
    Ok((json_kib, bot_kib))
}

/// In this (fresh) process: the definition parsed `copies` times, then compiled `copies` times,
/// every copy kept; returns the resident growth per parsed definition (`serde_json::Value`) and
/// per compiled bot, KiB. Growth is taken from the first copy to the last, divided by
/// `copies - 1`, so the first copy's one-off costs and the garbage one parse or compile leaves
/// behind (which the next one reuses) are not counted as part of a copy.
fn memory_here(export: &str, copies: usize) -> anyhow::Result<(u64, u64)> {
    let text = std::fs::read_to_string(definition_path(export))?;
    let limits = Limits::default();
    let mut definitions: Vec<Value> = Vec::new();
    let mut after_first = 0;
    for i in 0..copies {
        definitions.push(serde_json::from_str(&text)?);
        if i == 0 {
            after_first = resident_kib()?;
        }
    }
    let json_kib = resident_kib()?.saturating_sub(after_first) / (copies as u64 - 1);
    let mut bots = Vec::new();
    for i in 0..copies {
        bots.push(KoreBot::compile(&definitions[0], &limits)?);
        if i == 0 {
            after_first = resident_kib()?;
        }
    }
    let bot_kib = resident_kib()?.saturating_sub(after_first) / (copies as u64 - 1);
    std::hint::black_box((&definitions, &bots));
    Ok((json_kib, bot_kib))
}

/// The process's resident memory (`VmRSS`), KiB.
fn resident_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).context("no VmRSS in /proc/self/status")?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}
