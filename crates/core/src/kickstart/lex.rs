//! Kickstart word splitting and quoting, in the dialect pykickstart uses: Python's
//! `shlex.split` in POSIX mode (`whitespace_split = True`), with or without `#` comments.
//!
//! This is written here rather than taken from a crate on purpose: the `shlex` and
//! `shell-words` crates implement POSIX *shell* rules, which differ from Python's `shlex` in
//! ways that change the meaning of kickstart lines: Python ends a word at a `#` inside it
//! (`a#b` is `a`), keeps `\$` as two characters inside double quotes, and treats `\r` as
//! whitespace. Editing also needs the byte span of every word, which neither crate gives.

use std::fmt;

/// One word of a line, with where it was in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after quote removal.
    pub text: String,
    /// Byte offset of the word's first character (a quote or backslash included).
    pub start: usize,
    /// Byte offset just past the word's last character.
    pub end: usize,
}

/// Why a line could not be split (Python's `ValueError` messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteError {
    /// A `'` or `"` is not closed before the end of the line.
    NoClosingQuotation,
    /// The line ends with a lone backslash.
    NoEscapedCharacter,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuoteError::NoClosingQuotation => "no closing quotation",
            QuoteError::NoEscapedCharacter => "no escaped character after a backslash",
        })
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits one line into words as Python's `shlex.split(line, comments=...)` does.
pub fn split(line: &str, comments: bool) -> Result<Vec<Word>, QuoteError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape { back_to: Option<char> },
    }
    let mut words = Vec::new();
    let mut state = State::Space;
    let mut token = String::new();
    let mut start = 0;
    // In the word state the token is empty only after `""` or `''`, which Python keeps as an
    // empty word, so a word is always emitted when it ends.
    let finish = |token: &mut String, start: usize, end: usize| Word {
        text: std::mem::take(token),
        start,
        end,
    };
    for (i, c) in line.char_indices() {
        match state {
            State::Space => {
                if is_space(c) {
                    continue;
                }
                if comments && c == '#' {
                    return Ok(words);
                }
                start = i;
                match c {
                    '\\' => state = State::Escape { back_to: None },
                    '\'' | '"' => state = State::Quote(c),
                    _ => {
                        token.push(c);
                        state = State::Word;
                    }
                }
            }
            State::Word => {
                if is_space(c) {
                    words.push(finish(&mut token, start, i));
                    state = State::Space;
                } else if comments && c == '#' {
                    words.push(finish(&mut token, start, i));
                    return Ok(words);
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else if c == '\\' {
                    state = State::Escape { back_to: None };
                } else {
                    token.push(c);
                }
            }
            State::Quote(q) => {
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape { back_to: Some(q) };
                } else {
                    token.push(c);
                }
            }
            State::Escape { back_to } => {
                // Inside double quotes only `\"` and `\\` are escapes; `\x` stays `\x`.
                if back_to.is_some() && c != '"' && c != '\\' {
                    token.push('\\');
                }
                token.push(c);
                state = match back_to {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                };
            }
        }
    }
    match state {
        State::Space => {}
        State::Word => words.push(finish(&mut token, start, line.len())),
        State::Quote(_) => return Err(QuoteError::NoClosingQuotation),
        State::Escape { .. } => return Err(QuoteError::NoEscapedCharacter),
    }
    Ok(words)
}

/// Just the words of a line, without their spans.
pub fn split_words(line: &str, comments: bool) -> Result<Vec<String>, QuoteError> {
    Ok(split(line, comments)?.into_iter().map(|w| w.text).collect())
}

/// Quotes a word so that [`split`] (and Python's `shlex.split`) reads it back unchanged,
/// exactly as Python's `shlex.quote` does.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if word.is_empty() {
        "''".to_string()
    } else if word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
#[expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]
mod tests {
    use super::*;

    fn w(line: &str) -> Vec<String> {
        split_words(line, true).unwrap()
    }

    #[test]
    fn splits_like_python_shlex() {
        // Expected values come from Python 3.11 `shlex.split(line, comments=True)`.
        assert_eq!(
            w("repo --name=a --baseurl=http://x/"),
            ["repo", "--name=a", "--baseurl=http://x/"]
        );
        assert_eq!(
            w("repo --name=\"my repo\" x"),
            ["repo", "--name=my repo", "x"]
        );
        assert_eq!(w("a 'b c' d"), ["a", "b c", "d"]);
        assert_eq!(w("a#b c"), ["a"]);
        assert_eq!(w("a # b"), ["a"]);
        assert_eq!(w("# all comment"), Vec::<String>::new());
        assert_eq!(w("x \"a\\$b\" y"), ["x", "a\\$b", "y"]);
        assert_eq!(w("x \"a\\\"b\\\\\""), ["x", "a\"b\\"]);
        assert_eq!(w("x a\\ b"), ["x", "a b"]);
        assert_eq!(w("x 'a\\b'"), ["x", "a\\b"]);
        assert_eq!(w("x \"\" y"), ["x", "", "y"]);
        assert_eq!(w("x\r\n"), ["x"]);
        assert_eq!(w("x 'it'\"'\"'s'"), ["x", "it's"]);
        assert_eq!(w("ünï cödé"), ["ünï", "cödé"]);
    }

    #[test]
    fn comments_off_keeps_hashes() {
        assert_eq!(split_words("a #b c#d", false).unwrap(), ["a", "#b", "c#d"]);
    }

    #[test]
    fn quoting_errors() {
        assert_eq!(split("a 'b", true), Err(QuoteError::NoClosingQuotation));
        assert_eq!(
            split("a \"b\\\"", true),
            Err(QuoteError::NoClosingQuotation)
        );
        assert_eq!(split("a b\\", true), Err(QuoteError::NoEscapedCharacter));
        // A quote after a comment starts is not an error.
        assert!(split("a # it's", true).is_ok());
    }

    #[test]
    fn spans_cover_the_raw_word() {
        let line = "repo  --name='a b' --cost 5 # c";
        let words = split(line, true).unwrap();
        let raw: Vec<&str> = words.iter().map(|w| &line[w.start..w.end]).collect();
        assert_eq!(raw, ["repo", "--name='a b'", "--cost", "5"]);
    }

    #[test]
    fn quote_round_trips() {
        for s in [
            "", "plain", "a b", "it's", "*.rpm", "a\"b", "x\\y", "ü", "a,b=c",
        ] {
            let q = quote(s);
            assert_eq!(split_words(&q, true).unwrap(), [s], "{q}");
        }
        assert_eq!(quote("file:///srv/repo"), "file:///srv/repo");
        assert_eq!(quote("kernel*"), "'kernel*'");
    }
}
