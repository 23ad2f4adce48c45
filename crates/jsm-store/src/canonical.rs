//! Canonical JSON and the audit record hash: one byte-exact form shared by plan hashes, the audit chain and
//! the JSON columns, so a hash computed at write time can be recomputed from what is stored.

use chrono::SecondsFormat;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::AuditDraft;

/// The `prev_hash` of the first audit record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Renders `value` with object keys sorted (by UTF-8 bytes) at every depth and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// Writes a JSON string literal, escaping exactly what JSON requires (as serde_json does).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                out.push_str("\\u00");
                push_hex_byte(u32::from(c) as u8, out);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_hex_byte(b: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// Lowercase hex SHA-256 of `input`.
pub fn sha256_hex(input: &[u8]) -> String {
    let digest = Sha256::digest(input);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        push_hex_byte(*b, &mut out);
    }
    out
}

/// The hash of the audit record at `seq` holding `draft` after `prev_hash`.
///
/// Hex SHA-256 of `prev_hash`, a newline, and the canonical JSON of the record without its `hash` (the draft's
/// fields plus `seq` and `prev_hash`; `at` as RFC 3339 UTC with milliseconds, the precision the store keeps).
/// Appending and verifying both call this, so they cannot disagree.
pub fn record_hash(prev_hash: &str, draft: &AuditDraft, seq: i64) -> String {
    fn opt(v: &Option<String>) -> Value {
        v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
    }
    let mut m = Map::new();
    m.insert("seq".into(), Value::from(seq));
    m.insert("prev_hash".into(), Value::String(prev_hash.to_string()));
    m.insert(
        "at".into(),
        Value::String(draft.at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    m.insert("actor".into(), Value::String(draft.actor.clone()));
    m.insert("kind".into(), Value::String(draft.kind.clone()));
    m.insert("plan_id".into(), opt(&draft.plan_id));
    m.insert("item_key".into(), opt(&draft.item_key));
    m.insert("action".into(), Value::String(draft.action.clone()));
    m.insert("target".into(), Value::String(draft.target.clone()));
    m.insert("outcome".into(), Value::String(draft.outcome.clone()));
    m.insert("request_id".into(), opt(&draft.request_id));
    m.insert("detail".into(), draft.detail.clone());
    let body = canonical_json(&Value::Object(m));
    let mut input = String::with_capacity(prev_hash.len() + 1 + body.len());
    input.push_str(prev_hash);
    input.push('\n');
    input.push_str(&body);
    sha256_hex(input.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_depth_without_whitespace() {
        let v = json!({"b": 1, "a": {"z": [true, null, {"y": "x", "c": 2.5}], "m": "q\"\n\u{1}"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"m":"q\"\n\u0001","z":[true,null,{"c":2.5,"y":"x"}]},"b":1}"#
        );
    }

    #[test]
    fn canonical_form_parses_back_to_the_same_value() {
        let v = json!({"é": "ü\u{7f}", "n": -12, "f": 1e-7, "big": u64::MAX, "s": "tab\there"});
        let text = canonical_json(&v);
        let back: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(back, v);
        assert_eq!(canonical_json(&back), text);
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
