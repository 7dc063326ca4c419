//! Turns the byte span of a TOML error into the line, table and key a person looks for.

use std::ops::Range;

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    1 + text.bytes().take(offset).filter(|&b| b == b'\n').count()
}

/// The line, the table (from the nearest `[header]` above) and the key of an error span.
pub(super) fn locate(
    text: &str,
    span: Range<usize>,
) -> (Option<usize>, Option<String>, Option<String>) {
    let start = span.start.min(text.len());
    let line = line_of(text, start);
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_text = text
        .get(line_start..)
        .and_then(|t| t.lines().next())
        .unwrap_or_default();
    let table = text
        .get(..line_start)
        .unwrap_or_default()
        .lines()
        .rev()
        .find_map(header);
    let prefix = text.get(line_start..start).unwrap_or_default();
    let key = if prefix.trim().is_empty() {
        // The span is the key itself (an unknown key).
        text.get(span.start..span.end.min(text.len()))
            .map(bare_key)
            .filter(|k| is_key(k))
    } else {
        // The span is (inside) the value of `key = …`.
        line_text
            .split_once('=')
            .map(|(k, _)| bare_key(k))
            .filter(|k| is_key(k))
    };
    (Some(line), table, key.map(str::to_owned))
}

/// The name in a `[table]` or `[[array]]` header line.
fn header(line: &str) -> Option<String> {
    let line = line.trim();
    let inner = line.strip_prefix("[[").or_else(|| line.strip_prefix('['))?;
    let end = inner.find(']')?;
    Some(inner[..end].trim().to_owned())
}

fn bare_key(k: &str) -> &str {
    k.trim().trim_matches('"').trim_matches('\'')
}

fn is_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
