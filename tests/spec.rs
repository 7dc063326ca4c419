//! Integration tests: build specs — the samples in conf/examples, the INI reader against
//! python3's configparser, and the malformed corpus (tests/data/bad) through `fbs validate`.

use std::path::{Path, PathBuf};
use std::process::Command;

use fbs_core::ini::{Entry, Ini};
use fbs_core::spec::{self, ImageOptions, KickstartSource, SpecFormat};
use serde_json::{Value, json};

use crate::helper::{self, fbs};

/// The files in `dir` whose extension is one of `exts`, sorted.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)))
        .collect();
    out.sort();
    out
}

fn examples() -> PathBuf {
    helper::root().join("conf/examples")
}

#[test]
fn samples_load_and_their_ini_and_toml_twins_agree() {
    for stem in ["boot", "dvd", "live"] {
        let ini = spec::load_spec(&examples().join(format!("{stem}.conf")))
            .unwrap_or_else(|e| panic!("{stem}.conf:\n{e}"));
        let toml = spec::load_spec(&examples().join(format!("{stem}.toml")))
            .unwrap_or_else(|e| panic!("{stem}.toml:\n{e}"));
        assert_eq!(ini.spec, toml.spec, "{stem}: the twins differ");
        assert_eq!(ini.spec.image_type().as_str(), stem);
        assert_eq!(ini.spec.staging.redacted(), "file:///tmp/fbs-staging");
        // The old directory keys: read, ignored, one warning naming them all.
        assert_eq!(ini.warnings.len(), 1, "{stem}: {:?}", ini.warnings);
        assert!(
            ini.warnings[0].starts_with("ignored keys: "),
            "{:?}",
            ini.warnings
        );
        assert!(toml.warnings.is_empty(), "{stem}: {:?}", toml.warnings);
        // A trailing `;` in nvr= adds no empty item.
        assert!(!ini.spec.koji.nvrs.is_empty());
        assert!(ini.spec.koji.nvrs.iter().all(|n| !n.is_empty()));
        if let Some(KickstartSource::Path(ks)) = ini.spec.kickstart() {
            assert_eq!(ks, &examples().join(format!("fbs-{stem}.ks")));
        }
    }
    let boot = spec::load_spec(&examples().join("boot.conf")).expect("boot.conf");
    let ImageOptions::Boot(b) = &boot.spec.image else {
        panic!("boot.conf is not a boot spec")
    };
    let names: Vec<_> = b.repos.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["fedora", "fedora", "updates"]);
}

fn run_validate(args: &[&Path], json: bool) -> (i32, String, String) {
    let mut cmd = fbs();
    cmd.arg("validate").args(args);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run fbs validate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fbs_validate_accepts_every_sample() {
    let samples = files(&examples(), &["conf", "toml"]);
    assert!(
        samples.len() >= 6,
        "boot, dvd and live in both formats: {samples:?}"
    );
    let ini_samples = samples
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .count();
    let args: Vec<&Path> = samples.iter().map(PathBuf::as_path).collect();
    let (code, out, err) = run_validate(&args, false);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    for s in &samples {
        assert!(out.contains(&format!("{}: ok (", s.display())), "{out}");
    }
    // Every INI sample carries some of the old tool's directory keys.
    assert_eq!(
        err.matches(": warning: ignored keys: ").count(),
        ini_samples,
        "{err}"
    );
    let (code, out, _) = run_validate(&args, true);
    assert_eq!(code, 0);
    let reports: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(reports.len(), samples.len());
    assert!(
        reports
            .iter()
            .all(|r| r["ok"] == json!(true) && r["summary"].is_string())
    );
}

/// Checks one malformed spec through `fbs validate`: exit 2, no panic, the expected text, and
/// every error line names `file:line`.
fn check_rejected(spec: &Path, expect: &str) -> Result<(), String> {
    let (code, out, err) = run_validate(&[spec], false);
    let name = spec.display().to_string();
    let fail = |why: &str| Err(format!("{name}: {why}\nstdout:\n{out}\nstderr:\n{err}"));
    if code != 2 {
        return fail(&format!("exit code {code}, not 2"));
    }
    if err.contains("panicked") {
        return fail("panicked");
    }
    if !err.contains(expect) {
        return fail(&format!("stderr lacks `{expect}`"));
    }
    for line in err.lines().filter(|l| !l.contains(": warning: ")) {
        let rest = line.strip_prefix(&name).and_then(|r| r.strip_prefix(':'));
        let digits = rest.map(|r| r.chars().take_while(char::is_ascii_digit).count());
        let names_line = match (rest, digits) {
            (Some(r), Some(n)) => n > 0 && r[n..].starts_with(':'),
            _ => false,
        };
        if !names_line {
            return fail(&format!(
                "error line does not start with {name}:LINE: `{line}`"
            ));
        }
    }
    Ok(())
}

#[test]
fn fbs_validate_rejects_the_malformed_corpus() {
    let bad = helper::data("bad");
    let specs = files(&bad, &["conf", "toml"]);
    let spec_cases = specs
        .iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("ks-"))
        })
        .count();
    assert!(spec_cases >= 22, "only {spec_cases} spec cases");
    let failures: Vec<String> = specs
        .iter()
        .filter_map(|spec| {
            let expect_file = spec.with_extension("expect");
            let expect = std::fs::read_to_string(&expect_file)
                .unwrap_or_else(|e| panic!("{}: {e}", expect_file.display()));
            check_rejected(spec, expect.trim()).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_one_megabyte_line_is_rejected_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = "x".repeat(1 << 20);
    let cases = [
        (
            "huge-value.conf",
            format!("[DEFAULT]\ntype={big}\n"),
            "huge-value.conf:2: [DEFAULT] type: `xxx",
        ),
        (
            "huge-line.conf",
            format!("[DEFAULT]\n{big} {big}\n"),
            "huge-line.conf:2: [DEFAULT] `xxx",
        ),
        (
            "huge-header.conf",
            format!("[{big}\n"),
            "huge-header.conf:1: `[xxx",
        ),
        (
            "huge-value.toml",
            format!("type = \"live\"\nlabel = \"{big}\"\n"),
            "huge-value.toml:2: label: unknown field",
        ),
        (
            "huge-key.toml",
            format!("{big} = 1\n"),
            "huge-key.toml:1: unknown field",
        ),
    ];
    for (name, text, expect) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write spec");
        if let Err(e) = check_rejected(&path, expect) {
            panic!("{}", &e[..e.len().min(4000)]);
        }
    }
}

/// Python's reading of INI files: `{path: {"ok": [[section, [[key, value], …]], …]}}` with
/// `[DEFAULT]` first and inherited keys as `items(section)` lists them, or
/// `{path: {"error": exception class}}`.
const PY_DUMP: &str = r#"
import configparser, json, sys
out = {}
for path in sys.argv[1:]:
    cp = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            cp.read_file(f, path)
        secs = [["DEFAULT", [[k, v] for k, v in cp.defaults().items()]]]
        secs += [[s, [[k, v] for k, v in cp.items(s)]] for s in cp.sections()]
        out[path] = {"ok": secs}
    except Exception as e:
        out[path] = {"error": type(e).__name__}
print(json.dumps(out))
"#;

fn python_dump(paths: &[PathBuf]) -> Option<serde_json::Map<String, Value>> {
    let out = match Command::new("python3")
        .arg("-c")
        .arg(PY_DUMP)
        .args(paths)
        .output()
    {
        Ok(out) => out,
        Err(_) if helper::opted_out() => return None,
        Err(e) => panic!("python3 (stdlib only) is needed on PATH: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("python printed JSON");
    v.as_object().cloned()
}

fn our_dump(bytes: &[u8]) -> Value {
    let pairs = |entries: Vec<&Entry>| -> Vec<Value> {
        entries.iter().map(|e| json!([e.key, e.value])).collect()
    };
    match Ini::parse(bytes) {
        Ok(ini) => {
            let mut secs = vec![json!([
                "DEFAULT",
                pairs(ini.defaults().entries().iter().collect())
            ])];
            for s in ini.sections() {
                secs.push(json!([
                    s.name(),
                    pairs(ini.items(s.name()).unwrap_or_default())
                ]));
            }
            json!({ "ok": secs })
        }
        Err(e) => json!({ "error": e.python_class() }),
    }
}

/// Random INI-ish files (a fixed seed, so failures reproduce) from lines that exercise the
/// dialect's corners.
fn random_ini_files(dir: &Path, count: usize) -> Vec<PathBuf> {
    const PIECES: &[&str] = &[
        "[DEFAULT]",
        "[s]",
        "[t]",
        "[a] junk",
        "[]",
        "[S]",
        "",
        "  ",
        "\t",
        "# c",
        "  ; c",
        "k=v",
        "K = V",
        "k: v",
        "a=b:c",
        "a:b=c",
        "=x",
        ": x",
        "key",
        "two words",
        "nvr=a-1-1;b;",
        "  cont",
        "    deeper",
        " [s]",
        "\u{a0}nbsp",
        "x\u{0}y=z",
        "k =",
        "[s",
        "ü = ö",
    ];
    const ENDS: &[&str] = &["\n", "\r\n", "\r"];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    (0..count)
        .map(|i| {
            let lines = 1 + next(12);
            let text: String = (0..lines)
                .map(|_| format!("{}{}", PIECES[next(PIECES.len())], ENDS[next(ENDS.len())]))
                .collect();
            let path = dir.join(format!("random-{i}.ini"));
            std::fs::write(&path, text).expect("write random ini");
            path
        })
        .collect()
}

#[test]
fn ini_reader_reads_like_python_configparser() {
    let corpus = helper::data("specs/ini");
    let accepted = files(&corpus, &["ini"]);
    let rejected = files(&corpus.join("reject"), &["ini"]);
    let samples = files(&examples(), &["conf"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let random = random_ini_files(dir.path(), 400);
    let all: Vec<PathBuf> = [&accepted, &rejected, &samples, &random]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let Some(python) = python_dump(&all) else {
        return;
    };
    let mut mismatches = Vec::new();
    for path in &all {
        let key = path.to_string_lossy();
        let theirs = python.get(key.as_ref()).cloned().unwrap_or(Value::Null);
        let bytes = std::fs::read(path).expect("read corpus file");
        let ours = our_dump(&bytes);
        if ours != theirs {
            mismatches.push(format!(
                "{key} ({:?}):\n  ours:   {ours}\n  python: {theirs}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        let python_ok = theirs.get("ok").is_some();
        if accepted.contains(path) || samples.contains(path) {
            assert!(
                python_ok,
                "python rejects {key}, which the corpus says is valid: {theirs}"
            );
        }
        if rejected.contains(path) {
            assert!(
                !python_ok,
                "python accepts {key}, which the corpus says is invalid"
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        all.len(),
        mismatches.join("\n")
    );
}

#[test]
fn parse_spec_never_panics_on_corpus_files_in_either_format() {
    let corpus = helper::data("specs/ini");
    let bad = helper::data("bad");
    let all = [
        files(&corpus, &["ini"]),
        files(&corpus.join("reject"), &["ini"]),
        files(&bad, &["conf", "toml"]),
    ];
    for path in all.iter().flatten() {
        let bytes = std::fs::read(path).expect("read");
        // Kickstart cases are valid specs naming a bad kickstart; the others are invalid specs.
        let kickstart_case = path.to_string_lossy().contains("/ks-");
        for format in [SpecFormat::Ini, SpecFormat::Toml] {
            let result = spec::parse_spec(&bytes, path, format);
            if !kickstart_case {
                assert!(result.is_err(), "{} accepted as {format:?}", path.display());
            }
        }
    }
}
