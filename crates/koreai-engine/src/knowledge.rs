//! FAQs (`knowledgeTasks[].faqs`) and small talk (`smallTalk[].groups[].nodes`).

use serde_json::Value;

/// One answer variant of an FAQ or small-talk node.
#[derive(Debug, Clone)]
pub struct Answer {
    pub channel: String,
    pub text: String,
    /// `basic` (text) or `script` (JavaScript printing the answer).
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Faq {
    pub question: String,
    pub alternates: Vec<String>,
    pub answers: Vec<Answer>,
    /// `responseType: dialog`: the FAQ starts this dialog (by `refId`).
    pub dialog: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SmallTalk {
    pub group: String,
    /// The user's side, written as patterns (`thank ~you`, `!y ~yes`).
    pub utterances: Vec<String>,
    pub answers: Vec<Answer>,
}

fn answers(list: Option<&Value>) -> Vec<Answer> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some(Answer {
                channel: a.get("channel").and_then(Value::as_str).unwrap_or("default").to_owned(),
                text: a.get("text").and_then(Value::as_str)?.to_owned(),
                kind: a.get("type").and_then(Value::as_str).unwrap_or("basic").to_owned(),
            })
        })
        .collect()
}

/// The FAQs of `language`, and the knowledge graph's synonyms (term → phrases).
pub fn faqs(definition: &Value, language: &str) -> (Vec<Faq>, Vec<(String, Vec<String>)>) {
    let mut out = Vec::new();
    let mut synonyms = Vec::new();
    for task in definition.get("knowledgeTasks").and_then(Value::as_array).into_iter().flatten() {
        if task.get("language").and_then(Value::as_str).is_some_and(|l| l != language) {
            continue;
        }
        let Some(faqs) = task.get("faqs") else { continue };
        if let Some(map) = faqs.get("synonyms").and_then(Value::as_object) {
            for (key, list) in map {
                let phrases =
                    list.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned);
                synonyms.push((key.replace('-', " "), phrases.collect()));
            }
        }
        for faq in faqs.get("faqs").and_then(Value::as_array).into_iter().flatten() {
            if faq.get("faqStatus").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let Some(question) = faq.get("question").and_then(Value::as_str) else { continue };
            let alternates = faq
                .get("alternateQuestions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|q| q.get("question").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            let dialog = (faq.get("responseType").and_then(Value::as_str) == Some("dialog"))
                .then(|| faq.get("dialogRefId").and_then(Value::as_str).map(str::to_owned))
                .flatten();
            out.push(Faq {
                question: question.to_owned(),
                alternates,
                answers: answers(faq.get("answer")),
                dialog,
            });
        }
    }
    (out, synonyms)
}

/// The small-talk nodes of `language`.
pub fn small_talk(definition: &Value, language: &str) -> Vec<SmallTalk> {
    let mut out = Vec::new();
    for set in definition.get("smallTalk").and_then(Value::as_array).into_iter().flatten() {
        if set.get("language").and_then(Value::as_str).unwrap_or(language) != language {
            continue;
        }
        for group in set.get("groups").and_then(Value::as_array).into_iter().flatten() {
            let name = group.get("groupName").and_then(Value::as_str).unwrap_or_default();
            for node in group.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                let utterances = node
                    .get("userUtterances")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|u| u.get("text").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect();
                out.push(SmallTalk {
                    group: name.to_owned(),
                    utterances,
                    answers: answers(node.get("botUtterances")),
                });
            }
        }
    }
    out
}
