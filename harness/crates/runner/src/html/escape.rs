//! Escaping for the page: text and attribute values, and JSON inside a `<script>` element.
//! Everything the page shows from a run (names, findings, diffs, details a connector wrote)
//! goes through one of these two.

use std::fmt::Write;

/// `s` as HTML text or a quoted attribute value: `& < > " '` become character references.
pub fn text(s: &str) -> String {
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

/// `value` as JSON that is safe inside `<script type="application/json">`: `<`, `>` and `&`
/// are written as `\u003c`-style escapes (so no `</script>` or `<!--` can appear), and so are
/// U+2028 and U+2029. The result parses back to the same value.
pub fn script_json(value: &serde_json::Value) -> String {
    let raw = value.to_string();
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` as an HTML id: letters, digits, `-` and `_` kept, anything else as `_XX` hex bytes, so
/// two names never share an id.
pub fn id(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "_{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup() {
        assert_eq!(
            text(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let v = serde_json::json!({"m": "</script><!-- \u{2028}"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>'), "{s}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).ok(), Some(v));
    }

    #[test]
    fn ids_are_distinct_and_plain() {
        assert_eq!(id("pkcs-issue"), "pkcs-issue");
        assert_ne!(id("a b"), id("a_b"));
        assert!(id("<x>")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)));
    }
}
