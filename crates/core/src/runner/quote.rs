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

/// Quote one word for display (invalid UTF-8 is shown lossily).
pub(crate) fn quote(word: &OsStr) -> String {
    String::from_utf8_lossy(&quote_bytes(word.as_bytes())).into_owned()
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
        assert_eq!(quote(OsStr::new("a\nb")), "'a\nb'");
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

    #[test]
    fn quoted_words_round_trip_through_sh() {
        let words = [
            "plain",
            "",
            "a b",
            "it's",
            "$x `y` \"z\"",
            "tab\there",
            "new\nline",
            "*",
        ];
        let script = words
            .iter()
            .map(|w| quote(OsStr::new(w)))
            .map(|q| format!("printf '%s\\0' {q}"))
            .collect::<Vec<_>>()
            .join("; ");
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .expect("run sh");
        let got: Vec<&str> = std::str::from_utf8(&out.stdout)
            .expect("utf8")
            .split_terminator('\0')
            .collect();
        assert_eq!(got, words);
    }
}
