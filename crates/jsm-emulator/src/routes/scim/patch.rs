//! SCIM PATCH (RFC 7644 §3.5.2) over a resource held as a JSON object with canonical attribute names. It takes
//! what identity providers really send: `Operations` or `operations`, with or without the PatchOp `schemas`,
//! ops in any case, no `path` (a map of attributes, keys may be `name.givenName` or extension URNs), value
//! filters (`members[value eq "…"]`, `emails[type eq "work"].value`) and `active` as `"False"`.

use serde_json::{Map, Value};

use super::filter::{self, AttrPath, CompareOp, Filter, PatchPath};
use super::schema::{self, Attr, Kind, Mutability, Resource, Target};
use super::value::{kind_of, merge, normalize};
use crate::http::ApiError;

/// Most operations accepted in one request.
const MAX_OPERATIONS: usize = 1000;

/// A PATCH operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One operation, read from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

fn invalid(scim_type: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message).code(scim_type)
}

/// Reads a PATCH body: an object with `Operations`/`operations` (any case); `schemas` may be absent.
pub fn read_body(body: &Value) -> Result<Vec<Operation>, ApiError> {
    let Value::Object(fields) = body else {
        return Err(invalid(
            "invalidSyntax",
            format!("A PATCH body is an object, got {}.", kind_of(body)),
        ));
    };
    if let Some(schemas) = fields.get("schemas")
        && !schemas
            .as_array()
            .is_some_and(|s| s.iter().all(Value::is_string))
    {
        return Err(invalid(
            "invalidSyntax",
            "'schemas' must be an array of strings.",
        ));
    }
    let ops = fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("operations"))
        .map(|(_, v)| v)
        .ok_or_else(|| invalid("invalidSyntax", "The PATCH body has no 'Operations'."))?;
    let Value::Array(ops) = ops else {
        return Err(invalid("invalidSyntax", "'Operations' must be an array."));
    };
    if ops.is_empty() {
        return Err(invalid("invalidSyntax", "'Operations' is empty."));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(invalid(
            "invalidSyntax",
            format!("At most {MAX_OPERATIONS} operations per request."),
        ));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| read_operation(i, op))
        .collect()
}

fn read_operation(i: usize, op: &Value) -> Result<Operation, ApiError> {
    let Value::Object(fields) = op else {
        return Err(invalid(
            "invalidSyntax",
            format!("Operations[{i}] must be an object."),
        ));
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let kind = match get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(op) if op == "add" => Op::Add,
        Some(op) if op == "replace" => Op::Replace,
        Some(op) if op == "remove" => Op::Remove,
        Some(other) => {
            return Err(invalid(
                "invalidSyntax",
                format!("Operations[{i}].op '{other}' is not add, replace or remove."),
            ));
        }
        None => {
            return Err(invalid(
                "invalidSyntax",
                format!("Operations[{i}].op is missing."),
            ));
        }
    };
    let path = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(other) => {
            return Err(invalid(
                "invalidPath",
                format!(
                    "Operations[{i}].path must be a string, got {}.",
                    kind_of(other)
                ),
            ));
        }
    };
    let value = get("value").cloned();
    if kind != Op::Remove && value.is_none() {
        return Err(invalid(
            "invalidValue",
            format!("Operations[{i}] ({kind:?}) needs a 'value'."),
        ));
    }
    Ok(Operation {
        op: kind,
        path,
        value,
    })
}

/// Applies the operations in order to `doc`; on error `doc` may be half-changed, so callers patch a copy.
pub fn apply(
    resource: Resource,
    doc: &mut Map<String, Value>,
    ops: &[Operation],
) -> Result<(), ApiError> {
    for op in ops {
        match (&op.path, op.op) {
            (None, Op::Remove) => {
                return Err(invalid("noTarget", "A remove operation needs a 'path'."));
            }
            (None, kind) => {
                let Some(Value::Object(fields)) = &op.value else {
                    return Err(invalid(
                        "invalidValue",
                        "Without a 'path', the value must be an object of attributes.",
                    ));
                };
                for (key, value) in fields {
                    let attr = filter::parse_attr_path(key)
                        .map_err(|e| invalid("invalidPath", format!("'{key}': {e}")))?;
                    let path = PatchPath {
                        attr,
                        filter: None,
                        sub: None,
                    };
                    apply_one(resource, doc, kind, &path, Some(value.clone()))?;
                }
            }
            (Some(text), kind) => {
                let path = filter::parse_patch_path(text)
                    .map_err(|e| invalid("invalidPath", format!("path '{text}': {e}")))?;
                apply_one(resource, doc, kind, &path, op.value.clone())?;
            }
        }
    }
    Ok(())
}

fn apply_one(
    resource: Resource,
    doc: &mut Map<String, Value>,
    op: Op,
    path: &PatchPath,
    value: Option<Value>,
) -> Result<(), ApiError> {
    let (target, sub) =
        schema::resolve(resource, &path.attr).map_err(|e| invalid("invalidPath", e))?;
    match target {
        Target::Extension(urn, attrs) => {
            if path.filter.is_some() || path.sub.is_some() {
                return Err(invalid("invalidPath", format!("'{urn}' takes no filter.")));
            }
            extension(doc, urn, attrs, op, value)
        }
        Target::Attr { ext, attr } => {
            if attr.mutability == Mutability::ReadOnly {
                return Err(invalid(
                    "mutability",
                    format!("'{}' is read-only.", attr.name),
                ));
            }
            let result = {
                let container = match ext {
                    None => &mut *doc,
                    Some(urn) => {
                        let slot = doc
                            .entry(urn.to_string())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if !slot.is_object() {
                            *slot = Value::Object(Map::new());
                        }
                        match slot.as_object_mut() {
                            Some(map) => map,
                            None => return Err(ApiError::internal("extension is not an object")),
                        }
                    }
                };
                if attr.mutability == Mutability::Immutable && path.filter.is_none() {
                    let same = match (&value, container.get(attr.name)) {
                        (Some(new), Some(old)) => new == old,
                        _ => false,
                    };
                    if !same {
                        return Err(invalid(
                            "mutability",
                            format!("'{}' cannot be changed.", attr.name),
                        ));
                    }
                    return Ok(());
                }
                let sub = match (sub, &path.sub) {
                    (Some(s), _) => Some(s),
                    (None, Some(name)) => Some(attr.sub_attr(name).ok_or_else(|| {
                        invalid(
                            "invalidPath",
                            format!("'{}' has no sub-attribute '{name}'.", attr.name),
                        )
                    })?),
                    (None, None) => None,
                };
                match &path.filter {
                    None => plain(container, attr, sub, op, value),
                    Some(f) => filtered(container, attr, f, sub, op, value),
                }
            };
            if let Some(urn) = ext {
                let empty = doc
                    .get(urn)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty);
                if empty {
                    doc.remove(urn);
                }
            }
            result
        }
    }
}

fn extension(
    doc: &mut Map<String, Value>,
    urn: &str,
    attrs: &'static [Attr],
    op: Op,
    value: Option<Value>,
) -> Result<(), ApiError> {
    if op == Op::Remove {
        doc.remove(urn);
        return Ok(());
    }
    let Some(Value::Object(fields)) = value else {
        return Err(invalid("invalidValue", format!("'{urn}' takes an object.")));
    };
    let mut incoming = Map::new();
    for (key, v) in fields {
        let Some(attr) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(&key)) else {
            continue;
        };
        if attr.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = normalize(attr, v).map_err(|e| invalid("invalidValue", e))? {
            incoming.insert(attr.name.to_string(), v);
        }
    }
    if incoming.is_empty() {
        return Ok(());
    }
    let slot = doc
        .entry(urn.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    merge(slot, Value::Object(incoming));
    Ok(())
}

fn norm(attr: &Attr, value: Value) -> Result<Option<Value>, ApiError> {
    normalize(attr, value).map_err(|e| invalid("invalidValue", e))
}

/// A path without a value filter: `title`, `name.givenName`, `emails`, `members`.
fn plain(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    sub: Option<&'static Attr>,
    op: Op,
    value: Option<Value>,
) -> Result<(), ApiError> {
    let key = attr.name;
    if let Some(sub) = sub {
        return plain_sub(container, attr, sub, op, value);
    }
    match op {
        Op::Remove => {
            match (attr.multi, value) {
                // Remove listed values only (Azure AD: remove members with a value list).
                (true, Some(v)) if !v.is_null() => {
                    let listed = norm(attr, v)?.unwrap_or(Value::Array(Vec::new()));
                    let listed = listed.as_array().cloned().unwrap_or_default();
                    if let Some(Value::Array(items)) = container.get_mut(key) {
                        items.retain(|item| !listed.iter().any(|l| same_element(l, item)));
                    }
                    drop_if_empty(container, key);
                }
                _ => {
                    container.remove(key);
                }
            }
            Ok(())
        }
        Op::Add | Op::Replace => {
            let Some(new) = value.map(|v| norm(attr, v)).transpose()?.flatten() else {
                if op == Op::Replace {
                    container.remove(key);
                }
                return Ok(());
            };
            match (attr.multi, attr.kind, op) {
                (true, _, Op::Add) => {
                    let slot = container
                        .entry(key.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let (Value::Array(items), Value::Array(new)) = (slot, new) {
                        for item in new {
                            match items.iter_mut().find(|i| same_element(&item, i)) {
                                Some(existing) => *existing = item,
                                None => items.push(item),
                            }
                        }
                    }
                }
                (false, Kind::Complex, _) => match container.get_mut(key) {
                    Some(existing) => merge(existing, new),
                    None => {
                        container.insert(key.to_string(), new);
                    }
                },
                _ => {
                    container.insert(key.to_string(), new);
                }
            }
            Ok(())
        }
    }
}

/// `name.givenName` or `emails.value` (the latter applies to every element).
fn plain_sub(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    sub: &'static Attr,
    op: Op,
    value: Option<Value>,
) -> Result<(), ApiError> {
    let key = attr.name;
    let new = match op {
        Op::Remove => None,
        _ => value.map(|v| norm(sub, v)).transpose()?.flatten(),
    };
    if attr.multi {
        if op == Op::Add && !container.contains_key(key) {
            return Err(invalid(
                "noTarget",
                format!("'{key}' has no values to set '{}' on.", sub.name),
            ));
        }
        if let Some(Value::Array(items)) = container.get_mut(key) {
            for item in items.iter_mut() {
                set_field(item, sub.name, new.clone());
            }
            items.retain(|i| i.as_object().is_some_and(|o| !o.is_empty()));
        }
    } else {
        let slot = container
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        set_field(slot, sub.name, new);
    }
    drop_if_empty(container, key);
    Ok(())
}

/// A path with a value filter: `members[value eq "…"]`, `emails[type eq "work"].value`.
fn filtered(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    filter: &Filter,
    sub: Option<&'static Attr>,
    op: Op,
    value: Option<Value>,
) -> Result<(), ApiError> {
    if !(attr.multi && attr.kind == Kind::Complex) {
        return Err(invalid(
            "invalidFilter",
            format!("'{}' is not a multi-valued complex attribute.", attr.name),
        ));
    }
    check_filter(attr, filter)?;
    let key = attr.name;
    let pass = |item: &Value| {
        filter::matches(filter, &|p: &AttrPath| {
            item.as_object().and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&p.name))
                    .map(|(_, v)| v.clone())
            })
        })
    };
    let mut items = match container.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let hits = items.iter().filter(|i| pass(i)).count();
    match op {
        Op::Remove => match sub {
            None => items.retain(|i| !pass(i)),
            Some(sub) => {
                for item in items.iter_mut().filter(|i| pass(i)) {
                    set_field(item, sub.name, None);
                }
            }
        },
        Op::Add | Op::Replace => {
            let new = match sub {
                Some(s) => value.map(|v| norm(s, v)).transpose()?.flatten(),
                None => value
                    .map(|v| normalize_element(attr, v))
                    .transpose()?
                    .flatten(),
            };
            if hits == 0 {
                // Azure AD adds through a filter: build the element from the filter's `eq`.
                let Filter::Compare {
                    path,
                    op: CompareOp::Eq,
                    value: wanted,
                } = filter
                else {
                    container.insert(key.to_string(), Value::Array(items));
                    return Err(invalid(
                        "noTarget",
                        format!("No value of '{key}' matches the filter."),
                    ));
                };
                let mut element = Map::new();
                if let Some(field) = attr.sub_attr(&path.name) {
                    element.insert(field.name.to_string(), wanted.clone());
                }
                let mut element = Value::Object(element);
                match (sub, new) {
                    (Some(s), Some(v)) => set_field(&mut element, s.name, Some(v)),
                    (None, Some(v)) => merge(&mut element, v),
                    (_, None) => {}
                }
                items.push(element);
            } else {
                for item in items.iter_mut().filter(|i| pass(i)) {
                    match (sub, &new) {
                        (Some(s), v) => set_field(item, s.name, v.clone()),
                        (None, Some(v)) if op == Op::Replace => *item = v.clone(),
                        (None, Some(v)) => merge(item, v.clone()),
                        (None, None) => {}
                    }
                }
            }
        }
    }
    items.retain(|i| i.as_object().is_some_and(|o| !o.is_empty()));
    if !items.is_empty() {
        container.insert(key.to_string(), Value::Array(items));
    }
    Ok(())
}

fn normalize_element(attr: &'static Attr, value: Value) -> Result<Option<Value>, ApiError> {
    let value = match value {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => other,
    };
    let out = norm(attr, value)?;
    Ok(out.and_then(|v| match v {
        Value::Array(mut items) if !items.is_empty() => Some(items.remove(0)),
        _ => None,
    }))
}

/// Filters inside a path may only name sub-attributes of the attribute.
fn check_filter(attr: &'static Attr, filter: &Filter) -> Result<(), ApiError> {
    let check = |p: &AttrPath| {
        if p.urn.is_some() || p.sub.is_some() || attr.sub_attr(&p.name).is_none() {
            Err(invalid(
                "invalidFilter",
                format!("'{}' is not a sub-attribute of '{}'.", p.short(), attr.name),
            ))
        } else {
            Ok(())
        }
    };
    match filter {
        Filter::Compare { path, .. } | Filter::Present(path) => check(path),
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_filter(attr, a)?;
            check_filter(attr, b)
        }
        Filter::Not(a) => check_filter(attr, a),
        Filter::ValuePath { .. } => {
            Err(invalid("invalidFilter", "Value filters cannot be nested."))
        }
    }
}

/// Two elements of a multi-valued attribute are the same value when their `value` sub-attributes are equal
/// (or, without one, when they are equal).
fn same_element(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn set_field(item: &mut Value, name: &str, value: Option<Value>) {
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    if let Some(obj) = item.as_object_mut() {
        match value {
            Some(v) => {
                obj.insert(name.to_string(), v);
            }
            None => {
                obj.remove(name);
            }
        }
    }
}

fn drop_if_empty(container: &mut Map<String, Value>, key: &str) {
    let empty = match container.get(key) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        container.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(resource: Resource, doc: Value, body: Value) -> Result<Value, ApiError> {
        let mut doc = doc.as_object().cloned().unwrap_or_default();
        let ops = read_body(&body)?;
        apply(resource, &mut doc, &ops)?;
        Ok(Value::Object(doc))
    }

    #[test]
    fn active_as_string_without_schemas_and_with_lowercase_operations() {
        let out = run(
            Resource::User,
            json!({"userName": "a"}),
            json!({"operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        );
        assert_eq!(
            out.ok().and_then(|d| d.get("active").cloned()),
            Some(json!(false))
        );
        let out = run(
            Resource::User,
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "replace", "value": {"active": "True", "name.givenName": "Ann"}}]}),
        );
        let out = out.ok().unwrap_or_default();
        assert_eq!(out["active"], json!(true));
        assert_eq!(out["name"]["givenName"], json!("Ann"));
    }

    #[test]
    fn member_removal_by_filter_and_by_value_list() {
        let doc = json!({"displayName": "g", "members": [{"value": "1"}, {"value": "2"}, {"value": "3"}]});
        let out = run(
            Resource::Group,
            doc.clone(),
            json!({"Operations": [{"op": "remove", "path": "members[value eq \"2\"]"}]}),
        );
        assert_eq!(
            out.ok().map(|d| d["members"].clone()),
            Some(json!([{"value": "1"}, {"value": "3"}]))
        );
        let out = run(
            Resource::Group,
            doc,
            json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "1"}, {"value": "3"}]}]}),
        );
        assert_eq!(
            out.ok().map(|d| d["members"].clone()),
            Some(json!([{"value": "2"}]))
        );
    }

    #[test]
    fn filtered_add_builds_the_element_and_readonly_is_refused() {
        let out = run(
            Resource::User,
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@x.example"}]}),
        );
        assert_eq!(
            out.ok().map(|d| d["emails"].clone()),
            Some(json!([{"type": "work", "value": "w@x.example"}]))
        );
        let err = run(
            Resource::User,
            json!({"userName": "a"}),
            json!({"Operations": [{"op": "add", "path": "groups", "value": [{"value": "x"}]}]}),
        );
        assert_eq!(err.err().and_then(|e| e.code), Some("mutability"));
        let err = run(
            Resource::Group,
            json!({"displayName": "a"}),
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": "b"}]}),
        );
        assert_eq!(err.err().and_then(|e| e.code), Some("mutability"));
    }

    #[test]
    fn bad_bodies_name_the_scim_type() {
        for (body, code) in [
            (json!([]), "invalidSyntax"),
            (json!({}), "invalidSyntax"),
            (json!({"Operations": []}), "invalidSyntax"),
            (
                json!({"Operations": [{"op": "move", "path": "title"}]}),
                "invalidSyntax",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "title"}]}),
                "invalidValue",
            ),
            (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
            (
                json!({"Operations": [{"op": "add", "path": "nope", "value": 1}]}),
                "invalidPath",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "title[", "value": 1}]}),
                "invalidPath",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "title", "value": 1}]}),
                "invalidValue",
            ),
            (
                json!({"Operations": [{"op": "remove", "path": "emails[nope eq \"x\"]"}]}),
                "invalidFilter",
            ),
        ] {
            let err = run(Resource::User, json!({"userName": "a"}), body.clone());
            assert_eq!(err.err().and_then(|e| e.code), Some(code), "{body}");
        }
    }
}
