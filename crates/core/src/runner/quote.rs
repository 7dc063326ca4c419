//! POSIX shell quoting: for showing a command line in the job log, and for the `sh -c`
//! prelude that sets up an isolated command (where the exact bytes matter).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Bytes that never need quoting in a POSIX shell word.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b)
}

/// Quote `word` so a POSIX shell reads it back as exactly these bytes (any byte but NUL,
/// which no argument or path can hold). Plain words are left as they are.
pub(crate) fn quote_bytes(word: &[u8]) -> Vec<u8> {
    if !word.is_empty() && word.iter().all(|&b| is_plain(b)) {
        return word.to_vec();
    }
    let mut out = Vec::with_capacity(word.len() + 2);
    out.push(b'\'');
    for &b in word {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// Quote one word for display on one log line: like [`quote_bytes`], but a word with
/// control characters is written `$'…'` with escapes (`\n`, `\t`, `\xHH`), so a
/// multi-line script stays on one line. Invalid UTF-8 is shown lossily.
pub(crate) fn quote(word: &OsStr) -> String {
    let bytes = word.as_bytes();
    if !bytes.iter().any(|b| b.is_ascii_control()) {
        return String::from_utf8_lossy(&quote_bytes(bytes)).into_owned();
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str("$'");
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A whole argv, quoted and joined with spaces, for the job log.
pub(crate) fn command_line<'a>(argv: impl IntoIterator<Item = &'a OsStr>) -> String {
    argv.into_iter().map(quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn plain_words_stay_plain() {
        assert_eq!(quote(OsStr::new("lorax")), "lorax");
        assert_eq!(
            quote(OsStr::new("--volid=Fedora-17_x86_64")),
            "--volid=Fedora-17_x86_64"
        );
        assert_eq!(quote(OsStr::new("/usr/bin/x,y:z@h")), "/usr/bin/x,y:z@h");
    }

    #[test]
    fn special_words_are_single_quoted() {
        assert_eq!(quote(OsStr::new("")), "''");
        assert_eq!(quote(OsStr::new("a b")), "'a b'");
        assert_eq!(quote(OsStr::new("$HOME")), "'$HOME'");
        assert_eq!(quote(OsStr::new("it's")), "'it'\\''s'");
        assert_eq!(quote_bytes(b"a\nb"), b"'a\nb'");
    }

    #[test]
    fn control_characters_are_escaped_for_display() {
        assert_eq!(quote(OsStr::new("a\nb")), "$'a\\nb'");
        assert_eq!(quote(OsStr::new("it's\t\\\x1b")), "$'it\\'s\\t\\\\\\x1b'");
    }

    #[test]
    fn invalid_utf8_is_kept_exactly_in_bytes_and_lossy_for_display() {
        let w = OsString::from_vec(vec![b'a', 0xff, b' ']);
        assert_eq!(
            quote_bytes(w.as_bytes()),
            vec![b'\'', b'a', 0xff, b' ', b'\'']
        );
        assert_eq!(quote(&w), "'a\u{fffd} '");
    }

    #[test]
    fn command_lines_join_quoted_words() {
        let argv = ["sh", "-c", "echo hi; exit 3"].map(OsStr::new);
        assert_eq!(command_line(argv), "sh -c 'echo hi; exit 3'");
    }

    /// Each word quoted by `quote`, read back by `shell`.
    fn round_trip(shell: &str, quote: impl Fn(&str) -> String) -> Vec<String> {
        let script = WORDS
            .iter()
            .map(|w| format!("printf '%s\\0' {}", quote(w)))
            .collect::<Vec<_>>()
            .join("; ");
        let out = std::process::Command::new(shell)
            .args(["-c", &script])
            .output()
            .expect("run the shell");
        let text = String::from_utf8(out.stdout).expect("utf8");
        text.split_terminator('\0').map(str::to_owned).collect()
    }

    const WORDS: [&str; 9] = [
        "plain",
        "",
        "a b",
        "it's",
        "$x `y` \"z\"",
        "tab\there",
        "new\nline",
        "*",
        "a\\b'\r",
    ];

    #[test]
    fn exact_quoting_round_trips_through_posix_sh() {
        let got = round_trip("sh", |w| {
            String::from_utf8(quote_bytes(w.as_bytes())).expect("utf8")
        });
        assert_eq!(got, WORDS);
    }

    #[test]
    fn display_quoting_round_trips_through_bash() {
        if !std::path::Path::new("/bin/bash").exists() {
            return;
        }
        let got = round_trip("/bin/bash", |w| quote(OsStr::new(w)));
        assert_eq!(got, WORDS);
        assert!(WORDS.iter().all(|w| !quote(OsStr::new(w)).contains('\n')));
    }
}
