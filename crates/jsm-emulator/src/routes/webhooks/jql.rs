//! The JQL subset app webhooks accept: fields `issueKey`, `project`, `issuetype`, `status`, `assignee`,
//! `reporter`, `issue.property[…]` and `cf[id]`; operators `=`, `!=`, `IN`, `NOT IN`; clauses joined by `AND`
//! or `OR`, grouped with parentheses. Anything else is reported the way Jira reports it.

/// The problems of `jql`; empty when the filter is acceptable.
pub fn problems(jql: &str) -> Vec<String> {
    let tokens = match tokenize(jql) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    if tokens.is_empty() {
        return vec!["The JQL filter is empty.".into()];
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        problems: Vec::new(),
        depth: 0,
    };
    if let Err(e) = parser.expr() {
        parser.problems.push(e);
    } else if parser.at < parser.tokens.len() {
        parser.problems.push(format!(
            "Error in the JQL Query: unexpected '{}'.",
            parser.tokens[parser.at].text()
        ));
    }
    parser.problems
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Comma,
    Op(String),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Word(w) | Token::Quoted(w) | Token::Op(w) => w,
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

fn tokenize(jql: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = jql.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '=' | '!' | '<' | '>' | '~' => {
                chars.next();
                let mut op = c.to_string();
                if chars.peek().is_some_and(|n| matches!(n, '=' | '~')) {
                    op.extend(chars.next());
                }
                tokens.push(Token::Op(op));
            }
            '"' | '\'' => {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                while let Some(n) = chars.next() {
                    if n == '\\' {
                        text.extend(chars.next());
                    } else if n == c {
                        closed = true;
                        break;
                    } else {
                        text.push(n);
                    }
                }
                if !closed {
                    return Err("Error in the JQL Query: a quoted value is not closed.".into());
                }
                tokens.push(Token::Quoted(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "(),=!<>~\"'".contains(n) {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                // `cf[10010]` and `issue.property[key].path` keep their brackets inside the word.
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    problems: Vec<String>,
    depth: usize,
}

const MAX_DEPTH: usize = 32;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expr(&mut self) -> Result<(), String> {
        self.clause()?;
        while self
            .peek()
            .is_some_and(|t| t.is_word("and") || t.is_word("or"))
        {
            self.at += 1;
            self.clause()?;
        }
        Ok(())
    }

    fn clause(&mut self) -> Result<(), String> {
        if self.peek().is_some_and(|t| t.is_word("not")) {
            self.at += 1;
        }
        if self.peek() == Some(&Token::Open) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("Error in the JQL Query: too many nested parentheses.".into());
            }
            self.at += 1;
            self.expr()?;
            self.depth -= 1;
            return match self.next() {
                Some(Token::Close) => Ok(()),
                _ => Err("Error in the JQL Query: expected ')'.".into()),
            };
        }
        let field = match self.next() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => w,
            Some(other) => {
                return Err(format!(
                    "Error in the JQL Query: expected a field but found '{}'.",
                    other.text()
                ));
            }
            None => return Err("Error in the JQL Query: expected a field.".into()),
        };
        if !supported_field(&field) {
            self.problems
                .push(format!("The clause {field} is unsupported"));
        }
        let list = match self.next() {
            Some(Token::Op(op)) if op == "=" || op == "!=" => false,
            Some(t) if t.is_word("in") => true,
            Some(t) if t.is_word("not") && self.peek().is_some_and(|n| n.is_word("in")) => {
                self.at += 1;
                true
            }
            Some(t) => {
                self.problems
                    .push(format!("The operator '{}' is unsupported", t.text()));
                // Skip what follows as a value so later clauses are still checked.
                false
            }
            None => {
                return Err(format!(
                    "Error in the JQL Query: expected an operator after '{field}'."
                ));
            }
        };
        if list {
            if self.next() != Some(Token::Open) {
                return Err("Error in the JQL Query: expected '(' after IN.".into());
            }
            loop {
                self.value()?;
                match self.next() {
                    Some(Token::Comma) => continue,
                    Some(Token::Close) => break,
                    _ => return Err("Error in the JQL Query: expected ',' or ')'.".into()),
                }
            }
            Ok(())
        } else {
            self.value()
        }
    }

    fn value(&mut self) -> Result<(), String> {
        match self.next() {
            Some(Token::Word(w)) if !w.is_empty() => Ok(()),
            Some(Token::Quoted(_)) => Ok(()),
            _ => Err("Error in the JQL Query: expected a value.".into()),
        }
    }
}

fn supported_field(field: &str) -> bool {
    let lower = field.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "issuekey" | "key" | "project" | "issuetype" | "type" | "status" | "assignee" | "reporter"
    ) || lower.starts_with("issue.property")
        || (lower.starts_with("cf[") && lower.ends_with(']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_subset() {
        for ok in [
            "project = PROJ",
            "project IN (PROJ, EXP) AND status = done",
            "issuetype != Bug OR (assignee = \"Ann Lee\" and reporter not in (a, 'b'))",
            "issue.property[my-key].x = 5",
            "cf[10010] = EPIC-1",
            "issueKey = ABC-1",
        ] {
            assert_eq!(problems(ok), Vec::<String>::new(), "{ok}");
        }
    }

    #[test]
    fn reports_like_jira() {
        assert_eq!(
            problems("watchCount = 3"),
            vec!["The clause watchCount is unsupported".to_string()]
        );
        assert_eq!(
            problems("project ~ X"),
            vec!["The operator '~' is unsupported".to_string()]
        );
        for bad in [
            "",
            "project =",
            "project IN PROJ",
            "(project = A",
            "project = \"A",
            "= A",
        ] {
            assert!(!problems(bad).is_empty(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(jql in "\\PC{0,80}") {
            let _ = problems(&jql);
        }

        #[test]
        fn never_panics_on_jql_like_input(
            jql in "[ ()=!,'\"a-zA-Z0-9\\[\\]._~<>-]{0,60}"
        ) {
            let _ = problems(&jql);
        }
    }
}
