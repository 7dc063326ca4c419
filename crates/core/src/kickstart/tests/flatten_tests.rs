//! Flattening on temporary trees: limits, install-time includes, `%ksappend`, sections that
//! cross files.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::fs;
use std::path::Path;

use super::super::*;

fn write(dir: &Path, rel: &str, text: &[u8]) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(p, text).unwrap();
}

fn flat(dir: &Path, top: &str) -> Result<Flattened, KsError> {
    flatten_file(&dir.join(top), dir)
}

#[test]
fn inlines_relative_to_the_including_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.ks",
        b"lang C\n%include sub/b.ks\n%packages\n%include sub/pkgs\n%end\n",
    );
    write(d.path(), "sub/b.ks", b"%include c.ks\ntimezone UTC");
    write(d.path(), "sub/c.ks", b"keyboard us\n");
    write(d.path(), "sub/pkgs", b"bash\n");
    let f = flat(d.path(), "a.ks").unwrap();
    assert_eq!(
        f.text,
        "lang C\nkeyboard us\ntimezone UTC\n%packages\nbash\n%end\n"
    );
    assert_eq!(f.files.len(), 4);
    assert!(f.runtime_includes.is_empty());
}

#[test]
fn ksappend_is_inlined_at_command_level() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.ks",
        b"lang C\n%ksappend extra.ks\n%post\n%ksappend stays\n%end\n",
    );
    write(d.path(), "extra.ks", b"timezone UTC\n");
    let f = flat(d.path(), "a.ks").unwrap();
    assert_eq!(
        f.text,
        "lang C\ntimezone UTC\n%post\n%ksappend stays\n%end\n"
    );
}

#[test]
fn install_time_includes_are_kept() {
    let d = tempfile::tempdir().unwrap();
    let text = "lang C\n%include /tmp/fbs-no-such-part-include\n%pre\necho 'part / --size=1' > /tmp/fbs-no-such-part-include\n%include /tmp/fbs-no-such-other\n%end\n";
    write(d.path(), "a.ks", text.as_bytes());
    let f = flat(d.path(), "a.ks").unwrap();
    assert_eq!(f.text, text);
    assert_eq!(
        f.runtime_includes,
        ["/tmp/fbs-no-such-other", "/tmp/fbs-no-such-part-include"]
    );
    // Without a %pre that writes it, the same include is an error.
    write(
        d.path(),
        "b.ks",
        b"lang C\n%include /tmp/fbs-no-such-part-include\n",
    );
    let e = flat(d.path(), "b.ks").unwrap_err().to_string();
    assert!(
        e.contains("b.ks:2: %include /tmp/fbs-no-such-part-include: outside the kickstart root"),
        "{e}"
    );
    // A relative path is never an install-time include.
    write(
        d.path(),
        "c.ks",
        b"%pre\necho > gone.ks\n%end\n%include gone.ks\n",
    );
    let e = flat(d.path(), "c.ks").unwrap_err().to_string();
    assert!(e.contains("c.ks:4: %include gone.ks: no such file"), "{e}");
}

#[test]
fn sections_end_in_their_own_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.ks", b"%include open.ks\ntimezone UTC\n");
    write(d.path(), "open.ks", b"lang C\n%post\necho\n");
    let e = flat(d.path(), "a.ks").unwrap_err().to_string();
    assert!(
        e.ends_with("open.ks:2: %post is not closed by %end before the end of the file"),
        "{e}"
    );
    write(
        d.path(),
        "b.ks",
        b"%packages\n%include close.ks\nvim\n%end\n",
    );
    write(d.path(), "close.ks", b"bash\n%end\n");
    let e = flat(d.path(), "b.ks").unwrap_err().to_string();
    assert!(
        e.contains("close.ks:2: %end closes the %packages opened at "),
        "{e}"
    );
    write(d.path(), "c.ks", b"%packages\n%include post.ks\n%end\n");
    write(d.path(), "post.ks", b"%post\n%end\n");
    let e = flat(d.path(), "c.ks").unwrap_err().to_string();
    assert!(
        e.contains("post.ks:1: %post starts before the %packages opened at "),
        "{e}"
    );
}

#[test]
fn limits() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..5 {
        write(
            d.path(),
            &format!("{i}.ks"),
            format!("%include {}.ks\n", i + 1).as_bytes(),
        );
    }
    write(d.path(), "5.ks", b"lang C\n");
    let tight = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let e = flatten_file_with(&d.path().join("0.ks"), d.path(), tight).unwrap_err();
    assert!(
        e.to_string()
            .contains("3.ks:1: includes nested too deeply (limit 3)"),
        "{e}"
    );
    assert!(flat(d.path(), "0.ks").is_ok());

    let small = Limits {
        max_bytes: 40,
        ..Limits::default()
    };
    write(d.path(), "big.ks", &[b'#'; 100]);
    write(d.path(), "inc-big.ks", b"%include big.ks\n");
    let e = flatten_file_with(&d.path().join("inc-big.ks"), d.path(), small).unwrap_err();
    assert_eq!(
        e.to_string()
            .split(d.path().to_str().unwrap())
            .last()
            .unwrap(),
        "/inc-big.ks:1: the kickstart with its includes is larger than 40 bytes"
    );
    let e = flatten_file_with(&d.path().join("big.ks"), d.path(), small).unwrap_err();
    assert!(matches!(e, KsError::TooLarge { .. }), "{e}");

    // Includes of one file many times over are bounded too.
    write(d.path(), "fan.ks", "%include 5.ks\n".repeat(20).as_bytes());
    let few = Limits {
        max_includes: 10,
        ..Limits::default()
    };
    let e = flatten_file_with(&d.path().join("fan.ks"), d.path(), few).unwrap_err();
    assert!(
        e.to_string()
            .contains("fan.ks:11: too many includes (limit 10)"),
        "{e}"
    );
}

#[test]
fn refuses_urls_and_odd_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.ks", b"%include http://example.org/x.ks\n");
    let e = flat(d.path(), "a.ks").unwrap_err().to_string();
    assert!(
        e.contains(
            "a.ks:1: %include http://example.org/x.ks: a local kickstart cannot include a URL"
        ),
        "{e}"
    );
    fs::create_dir(d.path().join("dir.ks")).unwrap();
    write(d.path(), "b.ks", b"%include dir.ks\n");
    let e = flat(d.path(), "b.ks").unwrap_err().to_string();
    assert!(
        e.contains("b.ks:1: %include dir.ks: not a regular file"),
        "{e}"
    );
    let e = flatten_file(&d.path().join("missing.ks"), d.path()).unwrap_err();
    assert_eq!(e.exit_code(), crate::exit::UNAVAILABLE);
    let other = tempfile::tempdir().unwrap();
    write(other.path(), "x.ks", b"lang C\n");
    let e = flatten_file(&other.path().join("x.ks"), d.path()).unwrap_err();
    assert!(matches!(e, KsError::FileOutsideRoot { .. }), "{e}");
}
