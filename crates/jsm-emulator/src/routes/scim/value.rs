//! Checks an incoming attribute value against its definition and writes it in canonical form: attribute names
//! as the schema spells them, booleans from `true`/`"False"`, unknown sub-attributes dropped, empty values
//! unassigned.

use serde_json::{Map, Value};

use super::schema::{Attr, Kind};

/// The canonical form of `value` for `attr`; `Ok(None)` means unassigned (null, empty object or array).
pub fn normalize(attr: &Attr, value: Value) -> Result<Option<Value>, String> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items = match value {
            Value::Array(items) => items,
            single => vec![single],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = single(attr, item)?
                && !out.contains(&v)
            {
                out.push(v);
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    if value.is_array() {
        return Err(format!(
            "'{}' takes a single value, not an array",
            attr.name
        ));
    }
    single(attr, value)
}

fn single(attr: &Attr, value: Value) -> Result<Option<Value>, String> {
    match (attr.kind, value) {
        (_, Value::Null) => Ok(None),
        (Kind::String | Kind::Reference, Value::String(s)) => Ok(Some(Value::String(s))),
        (Kind::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (Kind::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            for (key, v) in fields {
                let Some(sub) = attr.sub_attr(&key) else {
                    continue;
                };
                if let Some(v) = normalize(sub, v)? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (kind, other) => Err(format!(
            "'{}' must be {}, got {}",
            attr.name,
            match kind {
                Kind::String | Kind::Reference => "a string",
                Kind::Boolean => "a boolean",
                Kind::Complex => "an object",
            },
            kind_of(&other)
        )),
    }
}

/// Merges the sub-attributes of `incoming` into the object `target` (PATCH add/replace on a complex value).
pub fn merge(target: &mut Value, incoming: Value) {
    match (target, incoming) {
        (Value::Object(have), Value::Object(new)) => {
            for (k, v) in new {
                have.insert(k, v);
            }
        }
        (slot, new) => *slot = new,
    }
}

/// A JSON type's name for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::USER_ATTRS;
    use super::*;
    use serde_json::json;

    fn attr(name: &str) -> &'static Attr {
        USER_ATTRS
            .iter()
            .find(|a| a.name == name)
            .unwrap_or(&USER_ATTRS[0])
    }

    #[test]
    fn booleans_from_strings_and_canonical_sub_names() {
        assert_eq!(
            normalize(attr("active"), json!("False")),
            Ok(Some(json!(false)))
        );
        assert!(normalize(attr("active"), json!("nope")).is_err());
        assert_eq!(
            normalize(
                attr("emails"),
                json!({"VALUE": "a@b.example", "Primary": "true", "junk": 1})
            ),
            Ok(Some(json!([{"value": "a@b.example", "primary": true}])))
        );
        assert_eq!(normalize(attr("name"), json!({})), Ok(None));
        assert!(normalize(attr("title"), json!(["a"])).is_err());
    }
}
