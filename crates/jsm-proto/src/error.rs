//! Error bodies: Jira's `ErrorCollection` and JSM's `ErrorResponse` have different shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Jira platform error body: `{"errorMessages":[...],"errors":{"field":"message"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCollection {
    #[serde(default)]
    pub error_messages: Vec<String>,
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// JSM error body: one message plus an i18n key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsmErrorResponse {
    #[serde(default)]
    pub error_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i18n_error_message: Option<I18nErrorMessage>,
}

/// The translatable form of a JSM error message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct I18nErrorMessage {
    pub i18n_key: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}
