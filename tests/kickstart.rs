//! Integration tests: kickstart flattening (checked against pykickstart's `ksflatten`), the
//! include errors a user can meet, `fbs ks flatten`, and fetching kickstarts over HTTP from
//! real local servers.

use std::fs;
use std::path::Path;
use std::process::Command;

use fbs_core::kickstart::{self, KsError};

use crate::helper::{self, data, fbs, root};

/// `ksflatten -c FILE` run from an empty directory (pykickstart tries the current directory
/// before the including file's), or `None` when the test environment is opted out of.
fn ksflatten(file: &Path) -> Option<String> {
    let tool = helper::venv_tool("ksflatten")?;
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = Command::new(tool)
        .arg("-c")
        .arg(file)
        .current_dir(cwd.path())
        .output()
        .expect("run ksflatten");
    assert!(
        out.status.success(),
        "ksflatten -c {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("ksflatten output is UTF-8"))
}

/// Flattens `file` with fbs, and checks that pykickstart reads the result exactly as it
/// reads the original with its includes.
fn same_meaning_as_ksflatten(file: &Path, root: &Path) {
    let ours = kickstart::flatten_file(file, root)
        .unwrap_or_else(|e| panic!("flatten {}: {e}", file.display()));
    assert!(
        !ours
            .text
            .lines()
            .any(|l| l.trim_start().starts_with("%include")),
        "{}",
        ours.text
    );
    let Some(theirs) = ksflatten(file) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let flat = dir.path().join("flat.ks");
    fs::write(&flat, &ours.text).expect("write flattened");
    let ours_again = ksflatten(&flat).expect("ksflatten");
    assert_eq!(
        ours_again,
        theirs,
        "fbs's flattening of {} differs",
        file.display()
    );
}

#[test]
fn nested_includes_mean_what_ksflatten_reads() {
    let main = data("ks/nested/main.ks");
    same_meaning_as_ksflatten(&main, &data("ks/nested"));
    let flat = kickstart::flatten_file(&main, &data("ks/nested")).expect("flatten");
    assert_eq!(flat.files.len(), 8, "{:?}", flat.files);
    let ks = &flat.kickstart;
    let repos: Vec<&str> = ks.repos().map(|r| r.name.as_str()).collect();
    assert_eq!(repos, ["updates", "local extras"]);
    assert_eq!(ks.packages().count(), 2);
    let post: Vec<String> = ks.scripts().map(|s| s.body_text()).collect();
    assert_eq!(post[0], "echo \"base, outside the chroot\"\n");
    assert_eq!(
        post[1],
        "echo main\necho common > /etc/fbs-marker\necho \"tail: the last line has no newline\"\n"
    );
}

#[test]
fn sample_kickstarts_mean_what_ksflatten_reads() {
    let examples = root().join("conf/examples");
    for name in ["fbs-live.ks", "fbs-dvd.ks", "fbs-base.ks"] {
        same_meaning_as_ksflatten(&examples.join(name), &examples);
    }
    let live = kickstart::flatten_file(&examples.join("fbs-live.ks"), &examples).expect("live");
    assert!(live.text.contains("part / --size=4096"));
    let pkgs: Vec<_> = live
        .kickstart
        .packages()
        .flat_map(|p| p.entries())
        .collect();
    assert!(pkgs.contains(&&kickstart::PackageEntry::Package("dracut-live".into())));
}

fn flatten_err(file: &Path, root: &Path) -> KsError {
    match kickstart::flatten_file(file, root) {
        Ok(f) => panic!("{} flattened:\n{}", file.display(), f.text),
        Err(e) => e,
    }
}

#[test]
fn a_cycle_names_its_chain() {
    let a = data("ks/cycle/a.ks");
    let e = flatten_err(&a, &data("ks/cycle"));
    let d = data("ks/cycle").display().to_string();
    assert_eq!(
        e.to_string(),
        format!("{d}/sub/b.ks:1: %include cycle: {d}/a.ks → {d}/sub/b.ks → {d}/a.ks")
    );
    assert_eq!(e.exit_code(), fbs_core::exit::INVALID_INPUT);
}

#[test]
fn dot_dot_cannot_leave_the_root() {
    let e = flatten_err(&data("ks/escape/root/a.ks"), &data("ks/escape/root"));
    let s = e.to_string();
    assert!(
        s.contains("escape/root/a.ks:3: %include ../outside.ks: outside the kickstart root"),
        "{s}"
    );
    // With the parent as root, the same include is fine.
    assert!(kickstart::flatten_file(&data("ks/escape/root/a.ks"), &data("ks/escape")).is_ok());
}

#[test]
fn a_symlink_cannot_leave_the_root() {
    let d = tempfile::tempdir().expect("temp dir");
    let top = d.path().join("root");
    fs::create_dir_all(top.join("sub")).expect("mkdir");
    fs::write(d.path().join("secret.ks"), "rootpw hunter2\n").expect("write");
    fs::write(top.join("sub/real.ks"), "timezone UTC\n").expect("write");
    std::os::unix::fs::symlink("../secret.ks", top.join("evil.ks")).expect("symlink");
    std::os::unix::fs::symlink("sub/real.ks", top.join("fine.ks")).expect("symlink");
    fs::write(
        top.join("a.ks"),
        "lang C\n%include fine.ks\n%include evil.ks\n",
    )
    .expect("write");
    let e = flatten_err(&top.join("a.ks"), &top).to_string();
    let secret = fs::canonicalize(d.path().join("secret.ks")).expect("canonical");
    assert!(
        e.contains(&format!(
            "a.ks:3: %include evil.ks: outside the kickstart root {} (resolves to {})",
            top.display(),
            secret.display()
        )),
        "{e}"
    );
    // The root itself may be reached through a symlink.
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&top, &link).expect("symlink");
    fs::write(top.join("b.ks"), "%include fine.ks\n").expect("write");
    let f = kickstart::flatten_file(&link.join("b.ks"), &link).expect("flatten via link");
    assert_eq!(f.text, "timezone UTC\n");
}

#[test]
fn absolute_includes_only_inside_the_root() {
    let d = tempfile::tempdir().expect("temp dir");
    let top = d.path().join("root");
    fs::create_dir_all(&top).expect("mkdir");
    fs::write(d.path().join("outside.ks"), "lang C\n").expect("write");
    fs::write(top.join("inside.ks"), "keyboard us\n").expect("write");
    let outside = d.path().join("outside.ks");
    let inside = top.join("inside.ks");
    let text = format!(
        "%include {}\n%include {}\n",
        inside.display(),
        outside.display()
    );
    fs::write(top.join("a.ks"), &text).expect("write");
    let e = flatten_err(&top.join("a.ks"), &top).to_string();
    assert!(
        e.contains(&format!(
            "a.ks:2: %include {}: outside the kickstart root",
            outside.display()
        )),
        "{e}"
    );
    fs::write(top.join("b.ks"), format!("%include {}\n", inside.display())).expect("write");
    let f = kickstart::flatten_file(&top.join("b.ks"), &top).expect("inside");
    assert_eq!(f.text, "keyboard us\n");
}

#[test]
fn a_missing_include_is_named_with_its_line() {
    let e = flatten_err(&data("ks/missing/a.ks"), &data("ks/missing"));
    let d = data("ks/missing").display().to_string();
    assert_eq!(
        e.to_string(),
        format!("{d}/a.ks:3: %include sub/none.ks: no such file ({d}/sub/none.ks)")
    );
}

#[test]
fn fbs_ks_flatten_prints_the_text() {
    let out = fbs()
        .args(["ks", "flatten"])
        .arg(data("ks/nested/main.ks"))
        .output()
        .expect("run fbs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected =
        kickstart::flatten_file(&data("ks/nested/main.ks"), &data("ks/nested")).expect("flatten");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected.text);
    let out = fbs()
        .args(["ks", "flatten", "--root"])
        .arg(data("ks/escape/root"))
        .arg(data("ks/escape/root/a.ks"))
        .output()
        .expect("run fbs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a.ks:3: %include ../outside.ks"));
}

#[path = "kickstart/fetch.rs"]
mod fetch;

/// The kickstart cases among the invalid specs of `fbs validate`: each spec's kickstart,
/// flattened under the spec's directory, fails with the text of its `.expect` file.
#[test]
fn bad_spec_kickstarts_fail_as_expected() {
    let bad = data("bad");
    let mut seen = 0;
    for entry in fs::read_dir(&bad).expect("tests/data/bad") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("ks-") && name.ends_with(".conf")) {
            continue;
        }
        let spec = fs::read_to_string(&path).expect("read spec");
        let config = spec
            .lines()
            .find_map(|l| l.strip_prefix("config="))
            .unwrap_or_else(|| panic!("{name}: no config="));
        let expect = fs::read_to_string(path.with_extension("expect")).expect("read .expect");
        let e = flatten_err(&bad.join(config), &bad);
        assert!(e.to_string().contains(expect.trim()), "{name}: {e}");
        assert_eq!(e.exit_code(), fbs_core::exit::INVALID_INPUT, "{name}: {e}");
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} ks-* cases");
}

/// fbs splits kickstart lines exactly as Python's `shlex.split` (which pykickstart uses)
/// does, quoting errors included: checked on lines made of quoting's hard cases.
#[test]
fn words_split_as_python_shlex_splits_them() {
    let Some(python) = helper::venv_tool("python3") else {
        return;
    };
    let pieces = [
        "a", "b", " ", "\t", "'", "\"", "\\", "#", "=", "--x=", "é", "\r", "$", "''", "\"\"",
    ];
    // A fixed pseudo-random sequence, so a failure can be reproduced.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let lines: Vec<String> = (0..2000)
        .map(|_| {
            let n = next() % 9;
            (0..n)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect()
        })
        .collect();
    let script = r#"
import json, shlex, sys
out = []
for line in json.load(sys.stdin):
    row = []
    for comments in (True, False):
        try:
            row.append(shlex.split(line, comments=comments))
        except ValueError:
            row.append(None)
    out.append(row)
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    let input = serde_json::to_vec(&lines).expect("json");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &input).expect("write");
    let out = child.wait_with_output().expect("python output");
    let expected: Vec<Vec<Option<Vec<String>>>> =
        serde_json::from_slice(&out.stdout).expect("python printed JSON");
    for (line, want) in lines.iter().zip(expected) {
        for (comments, want) in [true, false].into_iter().zip(want) {
            let got = kickstart::lex::split_words(line, comments).ok();
            assert_eq!(got, want, "{line:?} (comments={comments})");
        }
    }
}
