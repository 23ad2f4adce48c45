//! HTML building blocks of the approvals page: escaping (every piece of text from Atlassian, the identity source or
//! an operator goes through [`esc`]), the layout, and the stylesheet. No script is ever sent, and the
//! Content-Security-Policy forbids any.

use std::fmt::Write;

/// Escapes text for an HTML element or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
pub fn url_part(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The Content-Security-Policy of every page: our stylesheet, our forms, nothing else.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// A whole page: title, navigation (when someone is logged in), a flash message and the body.
pub fn page(
    title: &str,
    who: Option<(&str, &str)>,
    active: &str,
    flash: Option<&Flash>,
    body: &str,
) -> String {
    let mut nav = String::new();
    if let Some((name, csrf)) = who {
        let _ = write!(nav, "<nav><span class=\"brand\">jsmctl</span>");
        for (href, label, key) in [
            ("/ui", "Plans", "plans"),
            ("/ui/jobs", "Jobs", "jobs"),
            ("/ui/audit", "Audit log", "audit"),
            ("/ui/site", "Seats &amp; credentials", "site"),
        ] {
            let class = if key == active {
                " class=\"active\""
            } else {
                ""
            };
            let _ = write!(nav, "<a href=\"{href}\"{class}>{label}</a>");
        }
        let _ = write!(
            nav,
            "<span class=\"who\">{}</span><form method=\"post\" action=\"/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button class=\"link\">Log out</button></form></nav>",
            esc(name),
            esc(csrf)
        );
    }
    let flash = flash
        .map(|f| {
            format!(
                "<div class=\"flash {}\" role=\"status\">{}</div>",
                f.class(),
                esc(&f.text)
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · jsmctl</title><link rel=\"stylesheet\" href=\"/ui/style.css\"></head>\
         <body>{nav}<main>{flash}{body}</main></body></html>",
        esc(title)
    )
}

/// A message at the top of a page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// The text.
    pub text: String,
    /// Whether it reports an error.
    pub error: bool,
}

impl Flash {
    /// A success message.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: false,
        }
    }

    /// An error message.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: true,
        }
    }

    fn class(&self) -> &'static str {
        if self.error { "error" } else { "ok" }
    }
}

/// The stylesheet: readable on a laptop screen, coloured `+ ~ -`.
pub const STYLE: &str = r#"
:root { --fg:#1d2430; --muted:#5f6b7a; --line:#dde2e8; --bg:#f6f7f9; --card:#fff;
        --add:#1a7f37; --chg:#9a6700; --del:#cf222e; --accent:#0b5cad; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
nav { display:flex; gap:1.2rem; align-items:center; padding:.7rem 1.5rem; background:#17212f; color:#fff; }
nav a { color:#c9d4e3; text-decoration:none; } nav a.active, nav a:hover { color:#fff; }
nav .brand { font-weight:700; margin-right:1rem; } nav .who { margin-left:auto; color:#c9d4e3; }
main { max-width:1100px; margin:1.5rem auto; padding:0 1.5rem; }
h1 { font-size:1.4rem; margin:.2rem 0 1rem; } h2 { font-size:1.1rem; margin:1.6rem 0 .6rem; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:.45rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:.9rem; }
.muted { color:var(--muted); } .mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.9em; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:1rem 1.2rem; margin-bottom:1rem; }
.diff { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.92rem; background:var(--card);
        border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; }
.diff .item { padding:.25rem 0; border-bottom:1px dashed var(--line); } .diff .item:last-child { border-bottom:0; }
.diff .why { color:var(--muted); margin-left:2.2rem; font-size:.85rem; }
.sign { display:inline-block; width:1.4rem; font-weight:700; }
.create .sign, .create .verb { color:var(--add); } .change .sign, .change .verb { color:var(--chg); }
.remove .sign, .remove .verb { color:var(--del); }
.verb { display:inline-block; min-width:13rem; }
.rule { color:var(--chg); font-size:.85rem; margin-left:.5rem; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.8rem; background:#e8ecf1; }
.badge.awaiting_approval { background:#fff1c2; } .badge.applied, .badge.done { background:#d3f5dc; }
.badge.rejected, .badge.failed { background:#ffd9dc; } .badge.running, .badge.applying { background:#d8e8ff; }
.flash { padding:.7rem 1rem; border-radius:6px; margin-bottom:1rem; }
.flash.ok { background:#d3f5dc; } .flash.error { background:#ffd9dc; }
form.inline { display:inline; margin:0; }
.actions { display:flex; gap:1rem; align-items:flex-end; flex-wrap:wrap; margin:1rem 0; }
button { font:inherit; padding:.45rem 1rem; border-radius:5px; border:1px solid #b7c0cc; background:#fff; cursor:pointer; }
button.approve { background:var(--add); border-color:var(--add); color:#fff; }
button.reject { background:var(--del); border-color:var(--del); color:#fff; }
button.link { background:none; border:0; color:#c9d4e3; padding:0; }
input[type=text], input[type=password], input[type=search] { font:inherit; padding:.4rem .6rem; border:1px solid #b7c0cc; border-radius:5px; min-width:18rem; }
label { display:block; font-size:.85rem; color:var(--muted); margin-bottom:.2rem; }
.login { max-width:26rem; margin:4rem auto; }
"#;
