//! The document every page shares: one self-contained file — the stylesheet and the script
//! inline, the data as JSON in a `<script type="application/json">`, and a content security
//! policy that lets it load nothing from anywhere (the live page may also ask its own origin).

use serde_json::Value;

use super::escape::{script_json, text};
use super::palette;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Catches every script error into `<body data-errors>`, so a browser test reads them from the
/// DOM. It runs first, before the page's own script.
const ERRORS: &str = "window.addEventListener('error',function(e){var b=document.body;b.setAttribute('data-errors',String(Number(b.getAttribute('data-errors')||0)+1));b.setAttribute('data-error-text',String(e.message))});";

/// What the page may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Nothing at all: a report file, opened from disk or an artifact store.
    Nothing,
    /// Its own origin, by `fetch` only: the live page of `serve`'s admin port.
    OwnOrigin,
}

/// One page: its title, the server-rendered body, the data for the script, and extra script.
#[derive(Clone, Debug)]
pub struct Page {
    /// The `<title>` and the first heading.
    pub title: String,
    /// Server-rendered sections (already escaped).
    pub body: String,
    /// The data the script reads.
    pub data: Value,
    /// Script run after the shared one (the live page's).
    pub extra_script: &'static str,
    /// What the page may reach.
    pub reach: Reach,
}

impl Page {
    /// The whole document.
    pub fn render(&self) -> String {
        let connect = match self.reach {
            Reach::Nothing => "",
            Reach::OwnOrigin => " connect-src 'self';",
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:;{connect}\">\n\
<title>{title}</title>\n<style>{vars}\n{STYLE}</style>\n</head>\n\
<body data-errors=\"0\">\n<script>{ERRORS}</script>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n\
<script type=\"application/json\" id=\"page-data\">{data}</script>\n\
<script>{SCRIPT}\n{extra}</script>\n</body>\n</html>\n",
            title = text(&self.title),
            vars = palette::css_vars(),
            body = self.body,
            data = script_json(&self.data),
            extra = self.extra_script,
        )
    }
}

/// A `<pre>` of a diff: each line marked by its first character (`+` added, `-` removed) as
/// well as by colour.
pub fn diff(d: &str) -> String {
    let mut s = String::from("<pre class=\"diff\">");
    for line in d.lines() {
        let class = if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else {
            "ctx"
        };
        s += &format!("<span class=\"{class}\">{}</span>", text(line));
    }
    s += "</pre>";
    s
}
