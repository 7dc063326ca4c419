//! Integration tests: the `fbs` command line as a user meets it.

use crate::helper::fbs;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = fbs().args(args).output().expect("run fbs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_everywhere() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("fbs "), "{out}");
    for sub in [
        vec!["--help"],
        vec!["validate", "--help"],
        vec!["ks", "flatten", "--help"],
        vec!["local", "--help"],
        vec!["completions", "--help"],
    ] {
        let (code, out, err) = run(&sub);
        assert_eq!(code, 0, "{sub:?}: {err}");
        assert!(out.contains("Usage:"), "{sub:?}: {out}");
    }
    let (_, out, _) = run(&["--help"]);
    assert!(
        out.contains("Exit codes:"),
        "exit codes are documented: {out}"
    );
    assert!(out.contains("2  invalid input"), "{out}");
}

#[test]
fn completions_for_bash_name_the_subcommands() {
    let (code, out, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    for word in ["validate", "local", "flatten"] {
        assert!(out.contains(word), "completion lacks {word}");
    }
}

#[test]
fn usage_errors_exit_2_without_a_panic() {
    for args in [vec!["nonsense"], vec!["validate"], vec!["local"]] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn local_rejects_a_bad_spec_before_building() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("bad.conf");
    std::fs::write(&spec, "[DEFAULT]\ntype=live\n").expect("write");
    let state = dir.path().join("state");
    let (code, _, err) = run(&[
        "local",
        spec.to_str().expect("utf-8 path"),
        "--state-dir",
        state.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.conf:"), "{err}");
    assert!(!state.exists(), "nothing is created for an invalid spec");
}
