//! The file source: desired state as a CSV or JSON file.
//!
//! CSV has a header row with the columns of [`COLUMNS`] (`email` required, any order, names case-insensitive);
//! list columns hold `;`-separated values. JSON is an array of objects with the same fields, lists as arrays or
//! `;` strings. UTF-8 with or without a BOM, quoted CSV fields (commas, quotes, newlines), CRLF or LF.
//!
//! A file with any bad row fails as a whole with [`Error::BadRows`], naming every bad row (up to
//! [`MAX_ROW_ERRORS`]) by CSV line or JSON path: the caller plans nothing from half a file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, MAX_ROW_ERRORS, Result, RowError};
use crate::model::{DesiredPerson, Kind, Snapshot, push_unique};

/// The columns (and JSON fields) a desired-state file may have.
pub const COLUMNS: [&str; 8] = [
    "email",
    "display_name",
    "external_id",
    "kind",
    "active",
    "service_desks",
    "organizations",
    "groups",
];

const LIST_COLUMNS: [&str; 3] = ["service_desks", "organizations", "groups"];

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Reads desired state from a CSV or JSON file.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    format: Option<FileFormat>,
}

impl FileSource {
    /// A source for `path`, its format told by the extension (`.csv`, `.json`) or else by the content.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            format: None,
        }
    }

    /// Forces the format instead of guessing it.
    pub fn with_format(mut self, format: FileFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file. The watermark is the SHA-256 of its bytes: when `since` equals it, the file is unchanged
    /// and the answer is an empty incremental snapshot; otherwise the whole file is read (`complete`).
    pub async fn read(&self, since: Option<&str>) -> Result<Snapshot> {
        let bytes = tokio::fs::read(&self.path)
            .await
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
        let hash = sha256_hex(&bytes);
        if since == Some(hash.as_str()) {
            return Ok(Snapshot {
                people: Vec::new(),
                watermark: Some(hash),
                complete: false,
                skipped: Vec::new(),
            });
        }
        let format = self.format.or_else(|| format_from_extension(&self.path));
        let people = parse(&bytes, &self.path.display().to_string(), format)?;
        Ok(Snapshot {
            people,
            watermark: Some(hash),
            complete: true,
            skipped: Vec::new(),
        })
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn format_from_extension(path: &Path) -> Option<FileFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(FileFormat::Csv),
        "json" => Some(FileFormat::Json),
        _ => None,
    }
}

/// Parses a whole desired-state file (`origin` names it in errors); `format` `None` sniffs the content (a
/// leading `[` or `{` means JSON). Never panics, whatever the bytes.
pub fn parse(bytes: &[u8], origin: &str, format: Option<FileFormat>) -> Result<Vec<DesiredPerson>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Format {
        origin: origin.to_owned(),
        message: format!(
            "not UTF-8 (line {}, byte {})",
            line_of_offset(bytes, e.valid_up_to()),
            e.valid_up_to() + 1
        ),
    })?;
    let format = format.unwrap_or_else(|| match text.trim_start().as_bytes().first() {
        Some(b'[') | Some(b'{') => FileFormat::Json,
        _ => FileFormat::Csv,
    });
    match format {
        FileFormat::Csv => parse_csv(text, origin),
        FileFormat::Json => parse_json(text, origin),
    }
}

fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The fields of one row before validation, shared by CSV and JSON.
#[derive(Default)]
struct RawRow {
    scalars: BTreeMap<&'static str, String>,
    lists: BTreeMap<&'static str, Vec<String>>,
}

/// Collects bad rows and duplicate keys across a file.
struct Validator<'a> {
    origin: &'a str,
    people: Vec<DesiredPerson>,
    errors: Vec<RowError>,
    more: usize,
    emails: HashMap<String, String>,
    external_ids: HashMap<String, String>,
    source_ids: HashMap<String, String>,
}

impl<'a> Validator<'a> {
    fn new(origin: &'a str) -> Self {
        Self {
            origin,
            people: Vec::new(),
            errors: Vec::new(),
            more: 0,
            emails: HashMap::new(),
            external_ids: HashMap::new(),
            source_ids: HashMap::new(),
        }
    }

    fn error(&mut self, location: &str, field: Option<&str>, message: String) {
        if self.errors.len() < MAX_ROW_ERRORS {
            self.errors.push(RowError {
                location: location.to_owned(),
                field: field.map(str::to_owned),
                message,
            });
        } else {
            self.more += 1;
        }
    }

    /// Validates one row; a bad row records its errors (one per bad field) and adds no person.
    fn row(&mut self, location: &str, raw: RawRow, field_errors: Vec<(Option<String>, String)>) {
        let before = self.errors.len() + self.more;
        for (field, message) in field_errors {
            self.error(location, field.as_deref(), message);
        }
        let scalar = |name: &str| {
            raw.scalars
                .get(name)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };

        let email = match scalar("email") {
            None => {
                self.error(
                    location,
                    Some("email"),
                    "missing (the email column is required)".into(),
                );
                None
            }
            Some(e) => match check_email(e) {
                Ok(()) => Some(e.to_owned()),
                Err(why) => {
                    self.error(
                        location,
                        Some("email"),
                        format!("invalid email `{e}`: {why}"),
                    );
                    None
                }
            },
        };
        let kind = match scalar("kind").map(str::to_ascii_lowercase).as_deref() {
            None => Kind::Customer,
            Some("customer") => Kind::Customer,
            Some("agent") => Kind::Agent,
            Some(other) => {
                self.error(
                    location,
                    Some("kind"),
                    format!("unknown kind `{other}` (expected customer or agent)"),
                );
                Kind::Customer
            }
        };
        let active = match scalar("active").map(str::to_ascii_lowercase).as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                self.error(
                    location,
                    Some("active"),
                    format!("`{other}` is not a boolean (expected true or false)"),
                );
                true
            }
        };
        let external_id = scalar("external_id").map(str::to_owned);
        let display_name = scalar("display_name").map(str::to_owned);

        if let Some(email) = &email {
            let key = email.to_lowercase();
            if let Some(first) = self.emails.get(&key) {
                let message = format!("duplicate email `{email}` (first at {first})");
                self.error(location, Some("email"), message);
            } else {
                self.emails.insert(key, location.to_owned());
            }
        }
        if let Some(id) = &external_id {
            if let Some(first) = self.external_ids.get(id) {
                let message = format!("duplicate external_id `{id}` (first at {first})");
                self.error(location, Some("external_id"), message);
            } else {
                self.external_ids.insert(id.clone(), location.to_owned());
            }
        }
        let Some(email) = email else { return };
        let source_id = external_id.clone().unwrap_or_else(|| email.to_lowercase());
        if self.errors.len() + self.more > before {
            // Already bad (a duplicate email or external id implies a repeated source id): say it once.
            return;
        }
        if let Some(first) = self.source_ids.get(&source_id) {
            let message = format!(
                "source id `{source_id}` (external_id, else lowercased email) repeats {first}"
            );
            self.error(location, None, message);
        } else {
            self.source_ids
                .insert(source_id.clone(), location.to_owned());
        }
        if self.errors.len() + self.more > before {
            return;
        }

        let mut attributes = BTreeMap::new();
        for (name, value) in &raw.scalars {
            let value = value.trim();
            if !value.is_empty() {
                attributes.insert((*name).to_owned(), vec![value.to_owned()]);
            }
        }
        let list = |name: &str| raw.lists.get(name).cloned().unwrap_or_default();
        let (service_desks, organizations, groups) =
            (list("service_desks"), list("organizations"), list("groups"));
        for (name, values) in [
            ("service_desks", &service_desks),
            ("organizations", &organizations),
            ("groups", &groups),
        ] {
            if !values.is_empty() {
                attributes.insert(name.to_owned(), values.clone());
            }
        }
        self.people.push(DesiredPerson {
            source_id,
            email,
            display_name,
            external_id,
            kind,
            active,
            service_desks,
            organizations,
            groups,
            source_groups: Vec::new(),
            attributes,
        });
    }

    fn finish(self) -> Result<Vec<DesiredPerson>> {
        if self.errors.is_empty() && self.more == 0 {
            Ok(self.people)
        } else {
            Err(Error::BadRows {
                origin: self.origin.to_owned(),
                errors: self.errors,
                more: self.more,
            })
        }
    }
}

/// Splits a `;` list, trimming entries, dropping empty ones and repeats (ignoring ASCII case).
fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        push_unique(&mut out, part);
    }
    out
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces or separators.
pub(crate) fn check_email(e: &str) -> std::result::Result<(), &'static str> {
    if e.len() > 254 {
        return Err("longer than 254 characters");
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace");
    }
    if e.chars().any(|c| {
        matches!(
            c,
            '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
        )
    }) {
        return Err("contains a character not allowed in an address");
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err("no `@`");
    };
    if domain.contains('@') {
        return Err("more than one `@`");
    }
    if local.is_empty() || local.len() > 64 {
        return Err("the part before `@` is empty or longer than 64 characters");
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err("the domain is not a dotted name");
    }
    if domain
        .split('.')
        .any(|label| label.starts_with('-') || label.ends_with('-'))
    {
        return Err("a domain label starts or ends with `-`");
    }
    Ok(())
}

fn parse_csv(text: &str, origin: &str) -> Result<Vec<DesiredPerson>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let format_err = |message: String| Error::Format {
        origin: origin.to_owned(),
        message,
    };

    let header = match records.next() {
        None => {
            return Err(format_err(
                "empty file: expected a header row naming the columns".into(),
            ));
        }
        Some(Err(e)) => return Err(format_err(format!("cannot read the header row: {e}"))),
        Some(Ok(h)) => h,
    };
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let normalized = name.trim().to_ascii_lowercase();
        let Some(known) = COLUMNS.iter().copied().find(|c| *c == normalized) else {
            return Err(Error::UnknownColumn {
                origin: origin.to_owned(),
                column: name.to_owned(),
                position: i + 1,
            });
        };
        if let Some(first) = columns.iter().position(|c| *c == known) {
            return Err(format_err(format!(
                "column `{known}` appears twice (columns {} and {})",
                first + 1,
                i + 1
            )));
        }
        columns.push(known);
    }
    if !columns.contains(&"email") {
        return Err(Error::MissingColumn {
            origin: origin.to_owned(),
            column: "email",
        });
    }

    let mut v = Validator::new(origin);
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
                v.error(
                    &format!("line {line}"),
                    None,
                    format!("not readable as CSV: {e}"),
                );
                continue;
            }
        };
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte()))
            .unwrap_or(0);
        let location = format!("line {line}");
        if record.len() != columns.len() {
            v.error(
                &location,
                None,
                format!(
                    "{} fields, but the header has {}",
                    record.len(),
                    columns.len()
                ),
            );
            continue;
        }
        let mut raw = RawRow::default();
        for (column, value) in columns.iter().zip(record.iter()) {
            if LIST_COLUMNS.contains(column) {
                raw.lists.insert(column, split_list(value));
            } else {
                raw.scalars.insert(column, value.to_owned());
            }
        }
        v.row(&location, raw, Vec::new());
    }
    v.finish()
}

/// Physical line numbers of record starts. csv reports a record's position before the blank lines it skips,
/// so the start is moved past line breaks first; offsets only grow, so counting is incremental.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            // Not expected (positions only grow); count from the beginning rather than guess.
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.offset = start;
        self.line
    }
}

fn parse_json(text: &str, origin: &str) -> Result<Vec<DesiredPerson>> {
    let format_err = |message: String| Error::Format {
        origin: origin.to_owned(),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format_err(format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Array(items) = value else {
        return Err(format_err(format!(
            "expected a JSON array of people at the top level, found {}",
            json_kind(&value)
        )));
    };
    let mut v = Validator::new(origin);
    for (i, item) in items.into_iter().enumerate() {
        let location = format!("[{i}]");
        let Value::Object(object) = item else {
            v.error(
                &location,
                None,
                format!("expected an object, found {}", json_kind(&item)),
            );
            continue;
        };
        let mut raw = RawRow::default();
        let mut field_errors = Vec::new();
        for (key, value) in object {
            let Some(column) = COLUMNS.iter().copied().find(|c| *c == key) else {
                field_errors.push((
                    Some(key),
                    format!("unknown field (known: {})", COLUMNS.join(", ")),
                ));
                continue;
            };
            if LIST_COLUMNS.contains(&column) {
                match json_list(&value) {
                    Ok(list) => {
                        raw.lists.insert(column, list);
                    }
                    Err(why) => field_errors.push((Some(key), why)),
                }
            } else {
                match json_scalar(column, &value) {
                    Ok(Some(s)) => {
                        raw.scalars.insert(column, s);
                    }
                    Ok(None) => {}
                    Err(why) => field_errors.push((Some(key), why)),
                }
            }
        }
        v.row(&location, raw, field_errors);
    }
    v.finish()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_scalar(column: &str, v: &Value) -> std::result::Result<Option<String>, String> {
    match (column, v) {
        (_, Value::Null) => Ok(None),
        (_, Value::String(s)) => Ok(Some(s.clone())),
        ("active", Value::Bool(b)) => Ok(Some(b.to_string())),
        ("external_id", Value::Number(n)) => Ok(Some(n.to_string())),
        ("active", other) => Err(format!(
            "expected true or false, found {}",
            json_kind(other)
        )),
        (_, other) => Err(format!("expected a string, found {}", json_kind(other))),
    }
}

fn json_list(v: &Value) -> std::result::Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(split_list(s)),
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => push_unique(&mut out, s.trim()),
                    Value::String(_) => {}
                    other => {
                        return Err(format!(
                            "item [{i}]: expected a string, found {}",
                            json_kind(other)
                        ));
                    }
                }
            }
            Ok(out)
        }
        other => Err(format!(
            "expected an array of strings or a `;` list, found {}",
            json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<DesiredPerson>> {
        parse(text.as_bytes(), "people.csv", Some(FileFormat::Csv))
    }

    fn bad_rows(err: Error) -> Vec<RowError> {
        match err {
            Error::BadRows { errors, .. } => errors,
            other => panic!("expected BadRows, got {other}"),
        }
    }

    #[test]
    fn csv_with_bom_crlf_quotes_and_lists() {
        let text = "\u{feff}Email,display_name,kind,active,groups,service_desks,external_id\r\n\
                    a@example.test,\"Doe, Jane \"\"JD\"\"\",agent,TRUE, g1 ; ;g2;G1 ,HR,E1\r\n\
                    b@example.test,\"multi\r\nline\",,false,,,\r\n";
        let people = csv(text).unwrap();
        assert_eq!(people.len(), 2);
        let a = &people[0];
        assert_eq!(a.email, "a@example.test");
        assert_eq!(a.display_name.as_deref(), Some("Doe, Jane \"JD\""));
        assert_eq!(a.kind, Kind::Agent);
        assert!(a.active);
        assert_eq!(a.groups, vec!["g1", "g2"]);
        assert_eq!(a.service_desks, vec!["HR"]);
        assert_eq!(a.source_id, "E1");
        assert_eq!(a.attributes["groups"], vec!["g1", "g2"]);
        let b = &people[1];
        assert_eq!(b.display_name.as_deref(), Some("multi\r\nline"));
        assert_eq!(b.kind, Kind::Customer);
        assert!(!b.active);
        assert_eq!(b.source_id, "b@example.test");
        assert_eq!(b.external_id, None);
    }

    #[test]
    fn bad_rows_name_the_physical_line_and_all_are_collected() {
        let text = "email,display_name,kind,active\n\
                    ok@example.test,\"two\nlines\",,\n\
                    not-an-email,x,,\n\
                    c@example.test,x,admin,maybe\n\
                    \n\
                    OK@example.test,x,,\n\
                    d@example.test,too,many,fields,here\n";
        let errors = bad_rows(csv(text).unwrap_err());
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors[0].location, "line 4", "{shown:?}");
        assert_eq!(errors[0].field.as_deref(), Some("email"));
        assert_eq!(errors[1].location, "line 5");
        assert_eq!(errors[1].field.as_deref(), Some("kind"));
        assert_eq!(errors[2].location, "line 5");
        assert_eq!(errors[2].field.as_deref(), Some("active"));
        assert_eq!(errors[3].location, "line 7");
        assert!(errors[3].message.contains("duplicate email"), "{shown:?}");
        assert!(errors[3].message.contains("line 2"), "{shown:?}");
        assert_eq!(errors[4].location, "line 8");
        assert_eq!(errors.len(), 5, "{shown:?}");
    }

    #[test]
    fn row_errors_are_capped_and_counted() {
        let mut text = String::from("email\n");
        for _ in 0..30 {
            text.push_str("nope\n");
        }
        let err = csv(&text).unwrap_err();
        let msg = err.to_string();
        match err {
            Error::BadRows { errors, more, .. } => {
                assert_eq!(errors.len(), MAX_ROW_ERRORS);
                assert_eq!(more, 10);
            }
            other => panic!("{other}"),
        }
        assert!(msg.contains("30 bad rows"), "{msg}");
        assert!(msg.contains("and 10 more"), "{msg}");
    }

    #[test]
    fn header_errors() {
        let err = csv("email,phone\na@example.test,1\n").unwrap_err();
        assert!(
            matches!(&err, Error::UnknownColumn { column, position: 2, .. } if column == "phone"),
            "{err}"
        );
        assert!(err.to_string().contains("unknown column `phone`"));
        let err = csv("display_name\nx\n").unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingColumn {
                    column: "email",
                    ..
                }
            ),
            "{err}"
        );
        let err = csv("email,EMAIL\n").unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = csv("").unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err}");
    }

    #[test]
    fn header_only_is_an_empty_desired_state() {
        assert!(csv("email,kind\r\n").unwrap().is_empty());
    }

    #[test]
    fn duplicate_external_id_is_a_bad_row() {
        let errors =
            bad_rows(csv("email,external_id\na@example.test,X\nb@example.test,X\n").unwrap_err());
        assert_eq!(errors[0].location, "line 3");
        assert_eq!(errors[0].field.as_deref(), Some("external_id"));
    }

    #[test]
    fn not_utf8_names_the_line() {
        let err = parse(b"email\na@example.test\n\xff\n", "x.csv", None).unwrap_err();
        assert!(err.to_string().contains("not UTF-8 (line 3"), "{err}");
    }

    #[test]
    fn json_people_and_paths() {
        let text = r#"[
            {"email": "a@example.test", "kind": "agent", "groups": ["g1", "g2"], "active": true},
            {"email": "b@example.test", "service_desks": "HR; IT", "active": "false", "external_id": 42}
        ]"#;
        let people = parse(text.as_bytes(), "p.json", None).unwrap();
        assert_eq!(people[0].kind, Kind::Agent);
        assert_eq!(people[0].groups, vec!["g1", "g2"]);
        assert_eq!(people[1].service_desks, vec!["HR", "IT"]);
        assert!(!people[1].active);
        assert_eq!(people[1].source_id, "42");

        let text = r#"[{"email": "a@example.test"}, 3, {"email": "b@example.test", "kind": "boss", "phone": "1"},
                       {"email": "c@example.test", "groups": [1]}, {"kind": "agent"}]"#;
        let errors = bad_rows(parse(text.as_bytes(), "p.json", None).unwrap_err());
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            shown.contains(&"[1]: expected an object, found a number".to_string()),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("[2].kind: unknown kind `boss`")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("[2].phone: unknown field")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("[3].groups: item [0]")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("[4].email: missing")),
            "{shown:?}"
        );
    }

    #[test]
    fn json_syntax_and_shape_errors() {
        let err = parse(b"[{\"email\": }]", "p.json", None).unwrap_err();
        assert!(err.to_string().contains("invalid JSON at line 1"), "{err}");
        let err = parse(b"{\"email\": \"a@example.test\"}", "p.json", None).unwrap_err();
        assert!(err.to_string().contains("expected a JSON array"), "{err}");
    }

    #[test]
    fn emails() {
        for ok in [
            "a@example.test",
            "first.last+tag@sub.example.co.uk",
            "ü@bücher.example",
        ] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@b@c.d", "a@b..c", "a@-b.c", "<a@b.c>",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes, "fuzz", None);
            let _ = parse(&bytes, "fuzz", Some(FileFormat::Csv));
            let _ = parse(&bytes, "fuzz", Some(FileFormat::Json));
        }

        #[test]
        fn csv_like_text_never_panics(text in "[a-z@.,;\"\r\n \u{feff}]{0,300}") {
            let with_header = format!("email,groups,kind,active\n{text}");
            let _ = parse(with_header.as_bytes(), "fuzz", Some(FileFormat::Csv));
            let _ = parse(text.as_bytes(), "fuzz", None);
        }
    }
}
