//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a tokenizer and a recursive-descent parser for
//! the whole grammar, so that any well-formed filter parses and anything else gets a precise `invalidFilter` or
//! `invalidPath` message. What the emulator then supports (a single `eq`, like Atlassian) is decided by the
//! callers. Nesting and length are bounded, and nothing here panics.

use serde_json::Value;

/// Longest filter or path accepted.
const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses, brackets and `not`.
const MAX_DEPTH: usize = 32;

/// An attribute path: `[urn:…:]name[.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// Schema URN prefix, when the path named one.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// The path as written, without the URN.
    pub fn short(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH path: an attribute, optionally narrowed by a value filter and followed by a sub-attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// Sub-attribute after the filter (`emails[type eq "work"].value`).
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Str(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    if text.len() > MAX_LEN {
        return Err(format!("longer than {MAX_LEN} characters"));
    }
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '[' => tokens.push(Token::OpenBracket),
            ']' => tokens.push(Token::CloseBracket),
            '"' => {
                let mut end = None;
                let mut escaped = false;
                for (i, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(i);
                        break;
                    }
                }
                let end = end.ok_or_else(|| "unterminated string".to_string())?;
                let literal = text.get(start..=end).unwrap_or("\"\"");
                let value: String = serde_json::from_str(literal)
                    .map_err(|e| format!("bad string {literal}: {e}"))?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text.get(start..end).unwrap_or("").to_string()));
            }
        }
    }
    Ok(tokens)
}

/// Parses an attribute path such as `userName`, `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
pub fn parse_attr_path(word: &str) -> Result<AttrPath, String> {
    let is_urn = word.len() > 4
        && word
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let (urn, rest) = if is_urn {
        match word.rfind(':') {
            Some(i) => (Some(word[..i].to_string()), &word[i + 1..]),
            None => (None, word),
        }
    } else {
        (None, word)
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let valid = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    };
    if !valid(name) {
        return Err(format!("'{word}' is not an attribute path"));
    }
    if let Some(sub) = sub
        && !valid(sub)
    {
        return Err(format!("'{word}' is not an attribute path"));
    }
    Ok(AttrPath {
        urn,
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

fn compare_op(word: &str) -> Option<CompareOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "lt" => CompareOp::Lt,
        "ge" => CompareOp::Ge,
        "le" => CompareOp::Le,
        _ => return None,
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if self.peek_word("not") {
            self.at += 1;
            if self.next() != Some(Token::Open) {
                return Err("'not' must be followed by '('".into());
            }
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Token::Close) {
                return Err("missing ')'".into());
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                if self.next() != Some(Token::Close) {
                    return Err("missing ')'".into());
                }
                Ok(inner)
            }
            Some(Token::Word(word)) => {
                let path = parse_attr_path(&word)?;
                if self.peek() == Some(&Token::OpenBracket) {
                    self.at += 1;
                    let inner = self.or(depth + 1)?;
                    if self.next() != Some(Token::CloseBracket) {
                        return Err("missing ']'".into());
                    }
                    return Ok(Filter::ValuePath {
                        path,
                        filter: Box::new(inner),
                    });
                }
                let op = match self.next() {
                    Some(Token::Word(op)) if op.eq_ignore_ascii_case("pr") => {
                        return Ok(Filter::Present(path));
                    }
                    Some(Token::Word(op)) => compare_op(&op)
                        .ok_or_else(|| format!("'{op}' is not a comparison operator"))?,
                    _ => return Err(format!("'{word}' must be followed by an operator")),
                };
                let value = match self.next() {
                    Some(Token::Str(s)) => Value::String(s),
                    Some(Token::Word(w)) => literal(&w)?,
                    _ => return Err(format!("'{word}' is compared with nothing")),
                };
                Ok(Filter::Compare { path, op, value })
            }
            Some(other) => Err(format!("unexpected {other:?}")),
            None => Err("the filter ends too early".into()),
        }
    }
}

fn literal(word: &str) -> Result<Value, String> {
    match word.to_ascii_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => match serde_json::from_str::<serde_json::Number>(word) {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => Err(format!(
                "'{word}' is not a value (strings need double quotes)"
            )),
        },
    }
}

/// Parses a whole filter.
pub fn parse_filter(text: &str) -> Result<Filter, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    let mut parser = Parser { tokens, at: 0 };
    let filter = parser.or(0)?;
    match parser.peek() {
        None => Ok(filter),
        Some(t) => Err(format!("unexpected {t:?} after a complete filter")),
    }
}

/// Parses a PATCH path: `attrPath`, `attrPath[valFilter]` or `attrPath[valFilter].subAttr`.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the path is empty".into());
    }
    if text.len() > MAX_LEN {
        return Err(format!("longer than {MAX_LEN} characters"));
    }
    let Some(open) = text.find('[') else {
        return Ok(PatchPath {
            attr: parse_attr_path(text)?,
            filter: None,
            sub: None,
        });
    };
    let close = closing_bracket(text, open).ok_or_else(|| "missing ']'".to_string())?;
    let attr = parse_attr_path(text[..open].trim())?;
    if attr.sub.is_some() {
        return Err(format!(
            "'{}' cannot carry a filter on a sub-attribute",
            &text[..open]
        ));
    }
    let filter = parse_filter(&text[open + 1..close])?;
    let rest = text[close + 1..].trim();
    let sub = if rest.is_empty() {
        None
    } else {
        let sub = rest
            .strip_prefix('.')
            .ok_or_else(|| format!("unexpected '{rest}' after ']'"))?;
        let checked = parse_attr_path(sub)?;
        if checked.sub.is_some() || checked.urn.is_some() {
            return Err(format!("'{sub}' is not a sub-attribute"));
        }
        Some(checked.name)
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub,
    })
}

/// Byte index of the `]` closing the `[` at `open`, skipping quoted strings.
fn closing_bracket(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `value` (an element of a multi-valued attribute, or a resource) passes `filter`; `get` reads an
/// attribute by name, ignoring case. Only `eq`, `ne`, `co`, `sw`, `ew`, `pr` and the logical operators are
/// evaluated; ordering comparisons on strings compare them.
pub fn matches(filter: &Filter, get: &dyn Fn(&AttrPath) -> Option<Value>) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, get) && matches(b, get),
        Filter::Or(a, b) => matches(a, get) || matches(b, get),
        Filter::Not(a) => !matches(a, get),
        Filter::Present(path) => get(path).is_some_and(|v| !v.is_null()),
        Filter::ValuePath { .. } => false,
        Filter::Compare { path, op, value } => {
            let Some(have) = get(path) else {
                return false;
            };
            compare(&have, *op, value)
        }
    }
}

fn compare(have: &Value, op: CompareOp, want: &Value) -> bool {
    if let (Value::String(a), Value::String(b)) = (have, want) {
        let (a, b) = (a.to_lowercase(), b.to_lowercase());
        return match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            CompareOp::Co => a.contains(&b),
            CompareOp::Sw => a.starts_with(&b),
            CompareOp::Ew => a.ends_with(&b),
            CompareOp::Gt => a > b,
            CompareOp::Lt => a < b,
            CompareOp::Ge => a >= b,
            CompareOp::Le => a <= b,
        };
    }
    match op {
        CompareOp::Eq => have == want,
        CompareOp::Ne => have != want,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn simple_eq_and_escapes() {
        let f = parse_filter(r#"userName eq "bjensen@example.com""#);
        assert_eq!(
            f,
            Ok(Filter::Compare {
                path: AttrPath {
                    urn: None,
                    name: "userName".into(),
                    sub: None
                },
                op: CompareOp::Eq,
                value: Value::String("bjensen@example.com".into())
            })
        );
        let f = parse_filter(r#"externalId EQ "a \"quoted\" id""#);
        assert!(
            matches!(f, Ok(Filter::Compare { value: Value::String(s), .. }) if s == "a \"quoted\" id")
        );
    }

    #[test]
    fn full_grammar_parses() {
        for ok in [
            r#"title pr and (userType eq "Employee" or userType eq "Intern")"#,
            r#"not (userName sw "j")"#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "IT""#,
            "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
            "active eq true",
            "x eq 1.5e3",
        ] {
            assert!(parse_filter(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName xx \"a\"",
            "userName eq bare",
            "(userName eq \"a\"",
            "userName eq \"a\" extra",
            "userName eq \"unterminated",
            "9abc eq \"a\"",
            "not userName eq \"a\"",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}a pr{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_filter(&deep[..MAX_LEN.min(deep.len())]).is_err());
        let deep = format!("{}a pr{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_filter(&deep).is_err());
    }

    #[test]
    fn patch_paths() {
        let p = parse_patch_path(r#"members[value eq "2819c223"]"#);
        assert!(
            p.as_ref()
                .is_ok_and(|p| p.attr.name == "members" && p.filter.is_some())
        );
        let p = parse_patch_path(r#"emails[type eq "work"].value"#);
        assert!(p.is_ok_and(|p| p.sub.as_deref() == Some("value")));
        let p = parse_patch_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        );
        assert!(p.is_ok_and(|p| p.attr.urn.is_some() && p.attr.name == "department"));
        for bad in [
            "",
            "members[",
            "members[value eq \"x\"]junk",
            "a.b[c eq \"d\"]",
            "[x pr]",
        ] {
            assert!(parse_patch_path(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,200}") {
            let _ = parse_filter(&text);
            let _ = parse_patch_path(&text);
        }

        #[test]
        fn grammar_shaped_noise_never_panics(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("("), Just(")"), Just("["), Just("]"), Just(" and "), Just(" or "), Just("not "),
                    Just("userName"), Just(" eq "), Just(" pr"), Just("\"x\\\"y\""), Just("\""), Just("."),
                    Just("urn:a:b:"), Just("true"), Just("-1.5"), Just("emails"), Just(" co ")
                ],
                0..40,
            )
        ) {
            let text: String = parts.concat();
            let _ = parse_filter(&text);
            let _ = parse_patch_path(&text);
        }

        #[test]
        fn quoted_values_round_trip(value in "\\PC{0,40}") {
            let quoted = serde_json::to_string(&value).unwrap_or_default();
            let parsed = parse_filter(&format!("userName eq {quoted}"));
            let ok = matches!(&parsed, Ok(Filter::Compare { value: Value::String(v), .. }) if *v == value);
            prop_assert!(ok, "{:?}", parsed);
        }
    }
}
