//! User strings made safe to print in human-readable messages.
//!
//! Ids, node types, paths and messages can come from a manifest or a file
//! name, that is from anyone. Printed raw, an ESC or a newline in one lets
//! it rewrite the terminal or forge log lines, and a huge one floods the
//! output. Human-readable messages therefore print user strings through
//! [`escaped`] (control characters escaped) or [`quoted`] (escaped, quoted
//! and cut short). JSON output needs neither: serde escapes it.

use std::borrow::Cow;
use std::fmt::Write;

/// Longest user string [`quoted`] prints in full, in characters.
pub const QUOTE_LIMIT: usize = 100;

/// Whether `c` can change how a terminal shows what follows it: a control
/// character (C0, DEL, C1; newlines and tabs included) or a bidirectional
/// text control (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069),
/// which can make printed text read differently from what it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_unsafe`] character written as a Rust escape (`\n`,
/// `\u{1b}`, `\u{202e}`); borrowed when there is none.
pub fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` escaped, in double quotes (escaped inside), cut after
/// [`QUOTE_LIMIT`] characters with a note of its full length.
pub fn quoted(s: &str) -> String {
    let (head, cut) = head(s);
    let inside = escaped(head).replace('"', "\\\"");
    if cut {
        format!("\"{inside}\"... ({} bytes)", s.len())
    } else {
        format!("\"{inside}\"")
    }
}

/// `s` escaped, cut after [`QUOTE_LIMIT`] characters with a note of its
/// full length; for names printed without quotes.
pub fn short(s: &str) -> String {
    cut_at(s, QUOTE_LIMIT)
}

/// `s` escaped, cut after `limit` characters with a note of its full
/// length.
pub fn cut_at(s: &str, limit: usize) -> String {
    match head_at(s, limit) {
        (head, true) => format!("{}... ({} bytes)", escaped(head), s.len()),
        (head, false) => escaped(head).into_owned(),
    }
}

/// The first [`QUOTE_LIMIT`] characters of `s`, and whether that cut any.
fn head(s: &str) -> (&str, bool) {
    head_at(s, QUOTE_LIMIT)
}

/// The first `limit` characters of `s`, and whether that cut any.
fn head_at(s: &str, limit: usize) -> (&str, bool) {
    match s.char_indices().nth(limit) {
        None => (s, false),
        Some((cut, _)) => (&s[..cut], true),
    }
}
