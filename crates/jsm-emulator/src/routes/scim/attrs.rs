//! `attributes` and `excludedAttributes` (RFC 7643 §7, RFC 7644 §3.4.2.5): narrow a resource to the attributes a
//! client asked for, or drop the ones it excluded; `id` and `schemas` are always returned.

use serde_json::{Map, Value};

use super::filter::{AttrPath, parse_attr_path};
use crate::http::{ApiError, Params};

/// The projection a request asked for.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    include: Option<Vec<AttrPath>>,
    exclude: Vec<AttrPath>,
}

fn list(text: &str) -> Result<Vec<AttrPath>, ApiError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse_attr_path(s).map_err(|e| ApiError::bad_request(e).code("invalidValue")))
        .collect()
}

impl Projection {
    /// Reads `attributes` and `excludedAttributes`; both at once is a 400.
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        let include = params.text("attributes").map(list).transpose()?;
        let exclude = params
            .text("excludedAttributes")
            .map(list)
            .transpose()?
            .unwrap_or_default();
        if include.is_some() && !exclude.is_empty() {
            return Err(ApiError::bad_request(
                "'attributes' and 'excludedAttributes' are mutually exclusive.",
            )
            .code("invalidValue"));
        }
        Ok(Self { include, exclude })
    }

    /// The resource narrowed as asked.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(full) = resource else {
            return resource;
        };
        match &self.include {
            Some(paths) => {
                let mut out = Map::new();
                for key in ["schemas", "id"] {
                    if let Some(v) = full.get(key) {
                        out.insert(key.to_string(), v.clone());
                    }
                }
                for path in paths {
                    copy(&full, &mut out, path);
                }
                Value::Object(out)
            }
            None => {
                let mut out = full;
                for path in &self.exclude {
                    remove(&mut out, path);
                }
                Value::Object(out)
            }
        }
    }
}

fn key_of(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Where a path lives: (the key of an extension object, if any; the attribute key; the sub-attribute).
fn locate(map: &Map<String, Value>, path: &AttrPath) -> Option<(Option<String>, Option<String>)> {
    match &path.urn {
        Some(urn) => {
            let whole = format!("{urn}:{}", path.name);
            if let Some(ext) = key_of(map, &whole) {
                return Some((Some(ext), None));
            }
            if let Some(ext) = key_of(map, urn) {
                let inner = map.get(&ext).and_then(Value::as_object)?;
                return Some((Some(ext), key_of(inner, &path.name)));
            }
            let core = urn.to_ascii_lowercase().contains(":core:");
            core.then(|| (None, key_of(map, &path.name)))
                .and_then(|(e, k)| k.map(|k| (e, Some(k))))
        }
        None => key_of(map, &path.name).map(|k| (None, Some(k))),
    }
}

fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, path: &AttrPath) {
    let Some((ext, key)) = locate(from, path) else {
        return;
    };
    let (src, dst) = match &ext {
        None => (from, &mut *to),
        Some(ext) => {
            let Some(src) = from.get(ext).and_then(Value::as_object) else {
                return;
            };
            let Some(key) = &key else {
                to.insert(ext.clone(), Value::Object(src.clone()));
                return;
            };
            let _ = key;
            let slot = to
                .entry(ext.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            match slot.as_object_mut() {
                Some(dst) => (src, dst),
                None => return,
            }
        }
    };
    let Some(key) = key else {
        return;
    };
    let Some(value) = src.get(&key) else {
        return;
    };
    match &path.sub {
        None => {
            dst.insert(key, value.clone());
        }
        Some(sub) => {
            let pick = |v: &Value| -> Option<Value> {
                let obj = v.as_object()?;
                let k = key_of(obj, sub)?;
                let mut out = Map::new();
                out.insert(k.clone(), obj.get(&k)?.clone());
                Some(Value::Object(out))
            };
            let picked = match value {
                Value::Array(items) => {
                    let items: Vec<Value> = items.iter().filter_map(pick).collect();
                    (!items.is_empty()).then_some(Value::Array(items))
                }
                other => pick(other),
            };
            if let Some(picked) = picked {
                match dst.get_mut(&key) {
                    Some(existing) => merge_deep(existing, picked),
                    None => {
                        dst.insert(key, picked);
                    }
                }
            }
        }
    }
}

fn merge_deep(into: &mut Value, new: Value) {
    match (into, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                a.insert(k, v);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                merge_deep(x, y);
            }
        }
        (slot, new) => *slot = new,
    }
}

fn remove(map: &mut Map<String, Value>, path: &AttrPath) {
    let Some((ext, key)) = locate(map, path) else {
        return;
    };
    if key_of(map, "id").is_some_and(|k| Some(&k) == key.as_ref()) && ext.is_none() {
        return;
    }
    let target = match &ext {
        None => Some(&mut *map),
        Some(ext) => match &key {
            None => {
                map.remove(ext);
                return;
            }
            Some(_) => map.get_mut(ext).and_then(Value::as_object_mut),
        },
    };
    let (Some(target), Some(key)) = (target, key) else {
        return;
    };
    if key == "schemas" {
        return;
    }
    match &path.sub {
        None => {
            target.remove(&key);
        }
        Some(sub) => {
            let strip = |v: &mut Value| {
                if let Some(obj) = v.as_object_mut()
                    && let Some(k) = key_of(obj, sub)
                {
                    obj.remove(&k);
                }
            };
            match target.get_mut(&key) {
                Some(Value::Array(items)) => items.iter_mut().for_each(strip),
                Some(other) => strip(other),
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "a", "title": "t",
            "emails": [{"value": "a@x.example", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT", "organization": "O"}
        })
    }

    #[test]
    fn include_keeps_id_and_schemas() {
        let p = Projection::from_params(&Params::parse(
            "attributes=userName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ));
        let out = p.map(|p| p.apply(user())).unwrap_or_default();
        assert_eq!(
            out,
            json!({"schemas": ["s"], "id": "1", "userName": "a", "emails": [{"value": "a@x.example"}],
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"}})
        );
    }

    #[test]
    fn exclude_drops_but_never_id() {
        let p = Projection::from_params(&Params::parse("excludedAttributes=title,id,emails.type"));
        let out = p.map(|p| p.apply(user())).unwrap_or_default();
        assert!(out.get("title").is_none());
        assert_eq!(out["id"], json!("1"));
        assert_eq!(out["emails"], json!([{"value": "a@x.example"}]));
        assert!(
            Projection::from_params(&Params::parse("attributes=a&excludedAttributes=b")).is_err()
        );
    }
}
