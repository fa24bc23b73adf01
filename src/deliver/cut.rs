//! What a run keeps of an exchange once the console has judged it.
//!
//! An answer may be as large as the transport's body cap (1 MiB) and a suite makes hundreds
//! of exchanges, so keeping every answer whole would let a merchant that pads `resultMsg`
//! grow kgsim's memory and its reports without bound. The facts the expectations need (the
//! instanceId returned, the credentials, how many instances were listed) are taken from the
//! whole answer first; then the stored body is cut down: any string longer than
//! [`STRING_CAP`] keeps its first [`KEPT_OF_LONG_STRING`] characters, and once
//! [`BODY_BUDGET`] bytes of the body are kept the rest is replaced by a marker that counts
//! what was left out. Answers within the documented field lengths (the longest, `memo`, is
//! 1024 characters) are kept byte for byte.

use serde_json::{Map, Value};

use crate::marketplace::classify::Answer;
use crate::marketplace::classify::answer;
use crate::marketplace::{Judgement, Transport};

/// How many bytes of an answer's body a report keeps.
pub(crate) const BODY_BUDGET: usize = 64 * 1024;
/// Strings longer than this (in bytes) are cut.
pub(crate) const STRING_CAP: usize = 4 * 1024;
/// How many characters of a cut string are kept.
pub(crate) const KEPT_OF_LONG_STRING: usize = 256;

/// What the expectations need of an answer, taken before the body is cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AnswerFacts {
    /// The body's size as received, in bytes.
    pub(crate) body_bytes: usize,
    /// The instanceId a successful answer carried, whether or not the marketplace saw it (a
    /// dropped answer still shows what the merchant did).
    pub(crate) instance_id: Option<String>,
    /// Decrypted (V1) or clear (V2, in queryInstance's `info[].appInfo`) credentials, by
    /// field name.
    pub(crate) credentials: Vec<(String, String)>,
    /// How many instances the answer listed, when it had an `info` array.
    pub(crate) listed: Option<usize>,
}

/// The facts of an answer: from what the transport saw (the whole body) and from the
/// console's parse of it, when it had one.
pub(crate) fn facts_of(transport: &Transport, judged: Option<&Answer>) -> AnswerFacts {
    let raw = match transport {
        Transport::Answered(raw) => Some(raw),
        _ => None,
    };
    // The console's parse when it made one; the body parsed here only when it did not look
    // (an answer the scenario dropped), so that a large body is not parsed twice.
    let own_parse = match judged {
        Some(_) => None,
        None => raw.and_then(|raw| answer::parse(&raw.body).ok()),
    };
    let instance_id = judged
        .or(own_parse.as_ref())
        .filter(|answer| answer.succeeded())
        .and_then(|answer| answer.instance_id().map(str::to_owned));
    AnswerFacts {
        body_bytes: raw.map_or(0, |raw| raw.body.len()),
        instance_id,
        credentials: judged.map_or_else(Vec::new, credentials),
        listed: judged.and_then(|a| a.info.as_ref()).map(Vec::len),
    }
}

/// Cuts an answer as received down to size.
pub(crate) fn cut_transport(transport: &mut Transport) {
    if let Transport::Answered(raw) = transport {
        cut_body(&mut raw.body);
    }
}

fn credentials(answer: &Answer) -> Vec<(String, String)> {
    let decrypted: Vec<(String, String)> = answer
        .decrypted
        .iter()
        .map(|d| {
            let field = d.path.rsplit('.').next().unwrap_or_default();
            (field.to_owned(), d.plaintext.clone())
        })
        .collect();
    if decrypted.is_empty() {
        answer.clear_credentials.clone()
    } else {
        decrypted
    }
}

/// Cuts a raw body: JSON keeps its shape with long strings and the excess marked; anything
/// else keeps its first [`BODY_BUDGET`] bytes and a count of the rest.
fn cut_body(body: &mut Vec<u8>) {
    // A body no longer than the string cap can hold nothing to cut.
    if body.len() <= STRING_CAP {
        return;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            let mut budget = BODY_BUDGET;
            if cut_value(&mut value, &mut budget) > 0 {
                *body = serde_json::to_vec(&value).unwrap_or_default();
            }
        }
        Err(_) if body.len() > BODY_BUDGET => {
            let elided = body.len() - BODY_BUDGET;
            body.truncate(BODY_BUDGET);
            body.extend_from_slice(marker(elided).as_bytes());
            body.shrink_to_fit();
        }
        Err(_) => {}
    }
}

/// Cuts what the console kept of an answer down to size. What the engine reads of it (the
/// instanceId, the instances listed) lies within the cut: ids are far shorter than
/// [`STRING_CAP`], and the decrypted credentials are kept apart.
pub(crate) fn cut_judgement(judgement: &mut Judgement) {
    if let Some(answer) = judgement.answer.as_mut() {
        let mut budget = BODY_BUDGET;
        let kept = answer
            .result_code
            .iter_mut()
            .chain(answer.instance_id.iter_mut())
            .chain(answer.info.iter_mut().flatten())
            .chain(answer.clear_credentials.iter_mut().map(|(_, value)| value));
        for text in kept {
            cut_string(text, &mut budget);
        }
    }
}

fn marker(bytes: usize) -> String {
    format!("…[{bytes} bytes elided]")
}

/// Cuts a JSON value in place within `budget` bytes; returns how many bytes were left out.
pub(crate) fn cut_value(value: &mut Value, budget: &mut usize) -> usize {
    match value {
        Value::String(text) => cut_string(text, budget),
        Value::Array(items) => {
            spend(budget, 2);
            let mut elided = 0;
            for (index, item) in items.iter_mut().enumerate() {
                spend(budget, 1);
                if *budget == 0 {
                    let rest: usize = items[index..].iter().map(size_of).sum();
                    items.truncate(index);
                    items.push(Value::String(marker(rest)));
                    items.shrink_to_fit();
                    return elided + rest;
                }
                elided += cut_value(item, budget);
            }
            elided
        }
        Value::Object(map) => cut_object(map, budget),
        _ => {
            spend(budget, 8);
            0
        }
    }
}

/// Counts `bytes` of serialised JSON against the budget.
fn spend(budget: &mut usize, bytes: usize) {
    *budget = budget.saturating_sub(bytes);
}

fn cut_object(map: &mut Map<String, Value>, budget: &mut usize) -> usize {
    spend(budget, 2);
    let mut elided = 0;
    let mut dropped = Vec::new();
    for (name, value) in map.iter_mut() {
        if *budget == 0 {
            dropped.push(name.clone());
            continue;
        }
        spend(budget, name.len() + 4);
        elided += cut_value(value, budget);
    }
    if !dropped.is_empty() {
        let rest: usize = dropped
            .iter()
            .map(|name| name.len() + map.get(name).map_or(0, size_of))
            .sum();
        for name in &dropped {
            map.remove(name);
        }
        map.insert("…".to_owned(), Value::String(marker(rest)));
        elided += rest;
    }
    elided
}

fn cut_string(text: &mut String, budget: &mut usize) -> usize {
    let keep_bytes = if text.len() > STRING_CAP {
        KEPT_OF_LONG_STRING
    } else {
        text.len()
    }
    .min(*budget);
    if keep_bytes >= text.len() {
        spend(budget, text.len() + 2);
        return 0;
    }
    let mut cut = keep_bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let elided = text.len() - cut;
    text.truncate(cut);
    text.push_str(&marker(elided));
    // Truncating keeps the allocation: give the cut string back its own size.
    text.shrink_to_fit();
    spend(budget, text.len() + 2);
    elided
}

/// The serialised size of a value, roughly (for counting what was left out).
fn size_of(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len() + 2,
        Value::Array(items) => items.iter().map(size_of).sum::<usize>() + items.len() + 1,
        Value::Object(map) => map
            .iter()
            .map(|(name, value)| name.len() + 4 + size_of(value))
            .sum(),
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn small_bodies_are_kept_byte_for_byte() {
        let original = br#"{"resultCode":"000000",  "resultMsg":"ok"}"#.to_vec();
        let mut body = original.clone();
        cut_body(&mut body);
        assert_eq!(body, original);
        let mut within =
            serde_json::to_vec(&json!({"memo": "m".repeat(1024), "x": "y".repeat(4000)})).unwrap();
        let before = within.clone();
        cut_body(&mut within);
        assert_eq!(within, before, "documented lengths are kept whole");
    }

    #[test]
    fn a_long_string_keeps_its_head_and_counts_the_rest() {
        let mut body =
            serde_json::to_vec(&json!({"resultCode": "000000", "resultMsg": "é".repeat(450_000)}))
                .unwrap();
        cut_body(&mut body);
        let value: Value = serde_json::from_slice(&body).unwrap();
        let message = value["resultMsg"].as_str().unwrap();
        assert!(message.starts_with(&"é".repeat(128)));
        assert!(message.ends_with("…[899744 bytes elided]"), "{message}");
        assert_eq!(value["resultCode"], "000000");
        assert!(body.len() < 1024);
    }

    #[test]
    fn many_small_values_stop_at_the_budget() {
        let items: Vec<Value> = (0..100_000)
            .map(|i| json!({"instanceId": format!("id-{i}")}))
            .collect();
        let mut body = serde_json::to_vec(&json!({"resultCode": "000000", "info": items})).unwrap();
        cut_body(&mut body);
        assert!(body.len() < BODY_BUDGET + 1024, "{}", body.len());
        let value: Value = serde_json::from_slice(&body).unwrap();
        let info = value["info"].as_array().unwrap();
        assert!(
            info.last()
                .unwrap()
                .as_str()
                .unwrap()
                .contains("bytes elided")
        );
    }

    #[test]
    fn text_bodies_are_cut_at_the_budget() {
        let mut body = vec![b'x'; BODY_BUDGET * 3];
        cut_body(&mut body);
        assert!(body.ends_with(format!("…[{} bytes elided]", BODY_BUDGET * 2).as_bytes()));
    }

    #[test]
    fn what_the_console_kept_of_an_answer_is_cut_after_the_facts_are_taken() {
        let items: Vec<Value> = (0..100_000)
            .map(|i| json!({"instanceId": format!("id-{i}")}))
            .collect();
        let body =
            json!({"resultCode": "000000", "instanceId": "i".repeat(900_000), "info": items});
        let raw = crate::marketplace::classify::RawResponse {
            status: 200,
            headers: Vec::new(),
            body: serde_json::to_vec(&body).unwrap(),
        };
        let mut judgement = Judgement {
            findings: Vec::new(),
            answer: Some(answer::parse(&raw.body).unwrap()),
            provisioning: false,
        };
        let facts = facts_of(&Transport::Answered(raw), judgement.answer.as_ref());
        assert_eq!(facts.listed, Some(100_000));
        assert_eq!(facts.instance_id.map(|id| id.len()), Some(900_000));
        cut_judgement(&mut judgement);
        let kept = judgement.answer.unwrap();
        assert_eq!(kept.result_code.as_deref(), Some("000000"));
        let id = kept.instance_id.unwrap();
        assert!(id.starts_with(&"i".repeat(256)) && id.ends_with("…[899744 bytes elided]"));
        let listed = kept.info.unwrap();
        assert_eq!(listed[..2], ["id-0".to_owned(), "id-1".to_owned()]);
        let kept_bytes: usize = listed.iter().map(String::len).sum();
        assert!(kept_bytes < BODY_BUDGET + 100_000 * 32, "{kept_bytes}");
    }
}
