//! Unit tests of the INI reader (the comparison with python3 lives in the integration tests).

use proptest::prelude::*;

use super::*;

fn ok(text: &str) -> Ini {
    match Ini::parse(text.as_bytes()) {
        Ok(ini) => ini,
        Err(e) => panic!("{text:?} was rejected: {e}"),
    }
}

fn err(text: &[u8]) -> IniErrors {
    match Ini::parse(text) {
        Ok(ini) => panic!("{text:?} was accepted: {ini:?}"),
        Err(e) => e,
    }
}

fn value<'a>(ini: &'a Ini, section: &str, key: &str) -> Option<&'a str> {
    ini.get(section, key).map(|e| e.value.as_str())
}

#[test]
fn keys_values_delimiters_and_lines() {
    let ini = ok("[DEFAULT]\nType = boot\n\n[boot]\n  17_URL: http://x/a=b:c \nnvr=a;b;\n");
    assert_eq!(value(&ini, "DEFAULT", "type"), Some("boot"));
    assert_eq!(value(&ini, "boot", "type"), Some("boot"));
    assert_eq!(value(&ini, "boot", "17_url"), Some("http://x/a=b:c"));
    assert_eq!(value(&ini, "boot", "nvr"), Some("a;b;"));
    assert_eq!(ini.get("boot", "nvr").map(|e| e.line), Some(6));
    assert_eq!(ini.section("boot").and_then(Section::line), Some(4));
    assert_eq!(ini.defaults().line(), Some(1));
    assert_eq!(value(&ini, "nope", "type"), None);
}

#[test]
fn first_delimiter_wins_and_spaces_around_it_go() {
    let ini = ok("[s]\na : b = c\nd=e:f\ng \t= \th\n");
    assert_eq!(value(&ini, "s", "a"), Some("b = c"));
    assert_eq!(value(&ini, "s", "d"), Some("e:f"));
    assert_eq!(value(&ini, "s", "g"), Some("h"));
}

#[test]
fn continuation_lines_and_empty_lines_in_values() {
    let ini = ok("[s]\na = 1\n  2\n\n   3\n\n\nb =\n  x\n# c\n  y\nc = z\n\n");
    assert_eq!(value(&ini, "s", "a"), Some("1\n2\n\n3"));
    assert_eq!(value(&ini, "s", "b"), Some("\nx\ny"));
    assert_eq!(value(&ini, "s", "c"), Some("z"));
}

#[test]
fn indented_option_lines_set_the_indent_level() {
    // `b` is indented like `a`, so it is a key, not a continuation.
    let ini = ok("[s]\n  a = 1\n  b = 2\n    c\n");
    assert_eq!(value(&ini, "s", "a"), Some("1"));
    assert_eq!(value(&ini, "s", "b"), Some("2\nc"));
}

#[test]
fn line_ends_crlf_and_lone_cr() {
    let ini = ok("[s]\r\na = 1\r  2\rb = 3\r\n");
    assert_eq!(value(&ini, "s", "a"), Some("1\n2"));
    assert_eq!(ini.get("s", "b").map(|e| e.line), Some(4));
}

#[test]
fn headers_are_permissive() {
    let ini = ok("[a] junk\nk=1\n[b]]\nk=2\n[ c ]\nk=3\n");
    let names: Vec<_> = ini.sections().iter().map(Section::name).collect();
    assert_eq!(names, ["a", "b]", " c "]);
}

#[test]
fn items_follow_configparser_order() {
    let ini = ok("[DEFAULT]\na=1\nb=2\n[s]\nc=3\nb=4\n");
    let items: Vec<_> = ini
        .items("s")
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(items, [("a", "1"), ("b", "4"), ("c", "3")]);
}

#[test]
fn default_may_appear_twice_but_keys_may_not_repeat() {
    ok("[DEFAULT]\na=1\n[DEFAULT]\nb=2\n");
    let e = err(b"[DEFAULT]\na=1\n[DEFAULT]\nA=2\n");
    assert_eq!(e.python_class(), "DuplicateOptionError");
    assert_eq!(e.errors()[0].line, 4);
    assert_eq!(e.errors()[0].key.as_deref(), Some("a"));
}

#[test]
fn errors_name_their_line_and_kind() {
    let cases: &[(&[u8], usize, &str)] = &[
        (b"a=1\n", 1, "MissingSectionHeaderError"),
        (b"\n# c\n[s]\n[s]\n", 4, "DuplicateSectionError"),
        (b"[s]\na=1\nA: 2\n", 3, "DuplicateOptionError"),
        (b"[s]\n=1\n", 2, "ParsingError"),
        (b"[s]\njustakey\n", 2, "ParsingError"),
        (b"[s]\n[unclosed\n", 2, "ParsingError"),
        (b"[s]\na=1\n\xff\n", 3, "UnicodeDecodeError"),
        (b"[s]\r\na=1\r\xc3\n", 3, "UnicodeDecodeError"),
        (b"\xef\xbb\xbf[s]\n", 1, "MissingSectionHeaderError"),
    ];
    for (text, line, class) in cases {
        let e = err(text);
        assert_eq!(e.errors()[0].line, *line, "{text:?}: {e}");
        assert_eq!(e.python_class(), *class, "{text:?}: {e}");
    }
}

#[test]
fn every_error_is_reported() {
    let e = err(b"[s]\nfoo\nbar baz\n[s]\n[t]\na=1\na=2\n");
    let lines: Vec<_> = e.errors().iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 7]);
    let text = e.to_string();
    assert!(text.contains("line 2: key `foo` has no value"), "{text}");
    assert!(
        text.contains("line 4: section [s] already appeared on line 1"),
        "{text}"
    );
}

#[test]
fn errors_are_capped_and_long_lines_shortened() {
    let soup = "[s]\n".to_owned() + &"x\n".repeat(1000);
    let e = err(soup.as_bytes());
    assert_eq!(e.errors().len(), MAX_ERRORS + 1);
    let long = format!("[s]\n{}\n", "y ".repeat(500_000));
    let e = err(long.as_bytes());
    assert!(e.to_string().len() < 200);
}

#[test]
fn nul_and_odd_whitespace_are_plain_characters() {
    let ini = ok("[s]\na = x\0y\n\u{a0}\u{a0}b\n");
    assert_eq!(value(&ini, "s", "a"), Some("x\0y\nb"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Ini::parse(&bytes);
    }

    #[test]
    fn never_panics_on_line_soup(lines in proptest::collection::vec(
        prop_oneof![
            Just("[DEFAULT]".to_owned()),
            Just("[s]".to_owned()),
            Just("".to_owned()),
            Just("  ".to_owned()),
            Just("# c".to_owned()),
            "[a-c]{0,3}[=:][ a-z;]{0,5}",
            "[ \t]{1,3}[a-z=:]{0,4}",
            "\\[[a-z\\] ]{0,4}\\]?[ a-z]{0,3}",
            ".{0,12}",
        ],
        0..24,
    ), ends in proptest::collection::vec(prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], 24)) {
        let text: String = lines.iter().zip(&ends).map(|(l, e)| format!("{l}{e}")).collect();
        if let Ok(ini) = Ini::parse(text.as_bytes()) {
            for s in ini.sections() {
                prop_assert!(ini.items(s.name()).is_some());
            }
        }
    }
}
