//! SCIM 2.0 user provisioning at `/scim/directory/{directoryId}` (RFC 7643/7644 as Atlassian serves it): Users,
//! Groups and the discovery endpoints, over the one site, so SCIM users are Atlassian accounts and SCIM groups
//! are Jira groups.
//!
//! Choices where Atlassian's documentation is silent:
//! - Responses are `application/scim+json` unless the request's `Accept` names `application/json` only.
//! - `count` defaults to 100 and is clamped to 1000 (`filter.maxResults`); `itemsPerPage` is what was returned.
//! - `DELETE /Users/{id}` deactivates the account; the record then answers 404 and is left out of lists until
//!   it is restored (admin API `restore-access`, lifecycle `enable`) or provisioned again by `POST` with the
//!   same email, which brings back the same SCIM id.
//! - `active` left out of a `POST` means `true`; left out of a `PUT` (or removed by PATCH) it is unassigned,
//!   which also counts as active.
//! - `schemas` on a user lists the core schema first (generic clients pick the model from the first URN);
//!   Atlassian's extension is described at `/Schemas` but not declared on the User resource type, because
//!   its URN ends in a version (`…:1.0`) that RFC 7644's attrPath grammar cannot address.
//! - A `POST /Groups` whose name is an existing Jira group takes it over and only adds members.

mod attrs;
mod discovery;
pub mod filter;
mod groups;
mod patch;
pub mod schema;
mod users;
mod value;
mod view;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Emulator;
use crate::http::{ApiError, Params};
use filter::{CompareOp, Filter};

/// Page size when the client gives no `count`.
pub const DEFAULT_COUNT: u64 = 100;
/// Largest page served; larger asks are clamped.
pub const MAX_COUNT: u64 = 1000;

/// Schema URN of a list response.
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Routes under `/scim/directory/{directoryId}`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/Users", get(users::list).post(users::create))
        .route(
            "/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route(
            "/Groups/{id}",
            get(groups::get)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/ServiceProviderConfig", get(discovery::config))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/.search", axum::routing::post(discovery::search))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "The method is not supported on this resource.",
            )
        })
        .fallback(|| async { ApiError::not_found("The requested resource does not exist.") })
}

/// `startIndex` (1-based; below 1 counts as 1) and `count` (clamped to [`MAX_COUNT`]).
fn page_args(params: &Params) -> Result<(u64, u64), ApiError> {
    let int = |key: &str, default: i64| -> Result<i64, ApiError> {
        match params.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("'{key}' must be an integer, got '{v}'."))
                    .code("invalidValue")
            }),
        }
    };
    let start = int("startIndex", 1)?.max(1) as u64;
    let count = (int("count", DEFAULT_COUNT as i64)?.max(0) as u64).min(MAX_COUNT);
    Ok((start, count))
}

/// A list response over `all`: the page from `startIndex`, with `itemsPerPage` the number returned.
fn list_response(all: Vec<Value>, params: &Params) -> Result<Value, ApiError> {
    let (start, count) = page_args(params)?;
    let total = all.len() as u64;
    let resources: Vec<Value> = all
        .into_iter()
        .skip((start - 1) as usize)
        .take(count as usize)
        .collect();
    Ok(json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
}

/// The `filter` parameter as `(attribute, value)`, allowing only `attr eq "string"` on `allowed` attributes
/// (Atlassian's subset); anything else is a 400 `invalidFilter` that says why.
fn eq_filter(
    params: &Params,
    allowed: &[&'static str],
) -> Result<Option<(&'static str, String)>, ApiError> {
    let Some(text) = params.get("filter") else {
        return Ok(None);
    };
    let refuse = |why: String| {
        ApiError::bad_request(format!("Invalid filter '{text}': {why}")).code("invalidFilter")
    };
    let parsed = filter::parse_filter(text).map_err(refuse)?;
    let Filter::Compare { path, op, value } = parsed else {
        return Err(refuse(format!(
            "only a single 'eq' on {} is supported.",
            allowed.join(" or ")
        )));
    };
    if op != CompareOp::Eq {
        return Err(refuse(format!(
            "only 'eq' is supported, on {}.",
            allowed.join(" or ")
        )));
    }
    let core = path.urn.as_deref().is_none_or(|u| {
        u.eq_ignore_ascii_case(schema::USER) || u.eq_ignore_ascii_case(schema::GROUP)
    });
    let attr = allowed
        .iter()
        .find(|a| core && path.sub.is_none() && a.eq_ignore_ascii_case(&path.name))
        .ok_or_else(|| {
            refuse(format!(
                "filtering on '{}' is not supported; use {}.",
                path.short(),
                allowed.join(" or ")
            ))
        })?;
    let Value::String(value) = value else {
        return Err(refuse(format!("'{}' is compared with a string.", attr)));
    };
    Ok(Some((attr, value)))
}
