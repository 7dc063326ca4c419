//! `fbs validate`: checks build specs, and the kickstart files they name, without building or
//! fetching anything.
//!
//! For each spec: its warnings go to stderr as `FILE: warning: …`, each error to stderr on a
//! line of its own (`live.conf:9: [live] label: missing`), and a valid spec gets
//! `FILE: ok (<summary>)` on stdout. With `--json`, stdout gets one JSON object per spec
//! instead (`{file, ok, summary, warnings, errors: [{file, line, section, key, message}]}`).
//! A kickstart given as a file is flattened (its `%include`s must stay inside the spec's
//! directory) and its problems are reported as errors of the spec, at the key naming it; a
//! kickstart URL is not fetched.

use std::io::Write;
use std::path::{Path, PathBuf};

use fbs_core::exit;
use fbs_core::kickstart;
use fbs_core::spec::{self, KickstartSource, LoadedSpec, SpecError};
use serde::Serialize;

/// The outcome for one spec, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The spec file, as given.
    pub file: String,
    /// True when the spec (and its kickstart) are valid.
    pub ok: bool,
    /// The spec's one-line summary, when it is valid.
    pub summary: Option<String>,
    /// Warnings (ignored keys, …).
    pub warnings: Vec<String>,
    /// Every problem found.
    pub errors: Vec<ErrorReport>,
}

/// One problem, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// The spec file.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The INI section or TOML table, when there is one.
    pub section: Option<String>,
    /// The key, when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<&SpecError> for ErrorReport {
    fn from(e: &SpecError) -> Self {
        ErrorReport {
            file: e.file.display().to_string(),
            line: e.line,
            section: e.section.clone(),
            key: e.key.clone(),
            message: e.message.clone(),
        }
    }
}

/// Validates every spec in `paths` and prints the results; returns the exit code:
/// [`exit::SUCCESS`] when all are valid, else [`exit::INVALID_INPUT`].
pub fn run(paths: &[PathBuf], json: bool) -> u8 {
    let mut all_ok = !paths.is_empty();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    for path in paths {
        let report = check(path);
        all_ok &= report.ok;
        // A closed stdout or stderr (`| head`) must not turn into a panic.
        let _ = if json {
            print_json(&mut stdout.lock(), &report)
        } else {
            print_human(&mut stdout.lock(), &mut stderr.lock(), &report)
        };
    }
    if paths.is_empty() {
        let _ = writeln!(stderr.lock(), "fbs validate: no spec given");
    }
    if all_ok {
        exit::SUCCESS
    } else {
        exit::INVALID_INPUT
    }
}

/// Validates one spec and the kickstart file it names.
pub fn check(path: &Path) -> Report {
    let file = path.display().to_string();
    match spec::load_spec(path) {
        Ok(loaded) => {
            let mut errors = Vec::new();
            if let Some(e) = check_kickstart(path, &loaded) {
                errors.push(ErrorReport::from(&e));
            }
            Report {
                file,
                ok: errors.is_empty(),
                summary: errors.is_empty().then(|| loaded.spec.summary()),
                warnings: loaded.warnings,
                errors,
            }
        }
        Err(errors) => Report {
            file,
            ok: false,
            summary: None,
            warnings: Vec::new(),
            errors: errors.errors().iter().map(ErrorReport::from).collect(),
        },
    }
}

/// Flattens the kickstart *file* a spec names (URLs are left alone) and turns a failure into
/// an error of the spec at the key that names the kickstart.
fn check_kickstart(path: &Path, loaded: &LoadedSpec) -> Option<SpecError> {
    let Some(KickstartSource::Path(ks)) = loaded.spec.kickstart() else {
        return None;
    };
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let err = kickstart::flatten_file(ks, root).err()?;
    let message = format!("kickstart {err}").replace('\n', " ");
    Some(match &loaded.kickstart_at {
        Some(at) => at.error(path, message),
        None => SpecError {
            file: path.to_owned(),
            line: None,
            section: None,
            key: None,
            message,
        },
    })
}

fn print_human(out: &mut impl Write, err: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for w in &r.warnings {
        writeln!(err, "{}: warning: {w}", r.file)?;
    }
    for e in &r.errors {
        writeln!(err, "{}", line_of(e))?;
    }
    if let Some(summary) = &r.summary {
        writeln!(out, "{}: ok ({summary})", r.file)?;
    }
    Ok(())
}

fn print_json(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, r).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// An error as one line: `file:line: [section] key: message`.
fn line_of(e: &ErrorReport) -> String {
    let mut s = e.file.clone();
    if let Some(line) = e.line {
        s.push_str(&format!(":{line}"));
    }
    s.push_str(": ");
    if let Some(section) = &e.section {
        s.push_str(&format!("[{section}] "));
    }
    if let Some(key) = &e.key {
        s.push_str(&format!("{key}: "));
    }
    s.push_str(&e.message);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }

    const LIVE: &str = "[DEFAULT]\ntype=live\narch=x86_64\nrelease=17\nstaging=file:///s\n\
                        email=a@b.org\n[live]\nlabel=L\nconfig=k.ks\ntmpdir=/tmp/x\n";

    #[test]
    fn a_valid_spec_and_its_kickstart() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "k.ks", "%packages\nbash\n%end\n");
        let spec = write(dir.path(), "s.conf", LIVE);
        let r = check(&spec);
        assert!(r.ok, "{r:?}");
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.summary
                .is_some_and(|s| s.starts_with("live x86_64/17 label=L"))
        );
        assert_eq!(run(&[spec], true), exit::SUCCESS);
    }

    #[test]
    fn a_kickstart_problem_is_an_error_of_the_spec() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let spec = write(dir.path(), "s.conf", LIVE);
        let r = check(&spec);
        assert!(!r.ok);
        let e = &r.errors[0];
        assert_eq!((e.line, e.key.as_deref()), (Some(9), Some("config")));
        assert!(
            line_of(e).contains("s.conf:9: [live] config: kickstart "),
            "{e:?}"
        );
        assert_eq!(run(&[spec], false), exit::INVALID_INPUT);
    }

    #[test]
    fn every_error_gets_its_own_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let spec = write(
            dir.path(),
            "s.toml",
            "type = \"live\"\narch = \"vax\"\n[live]\n",
        );
        let r = check(&spec);
        let lines: Vec<_> = r.errors.iter().map(line_of).collect();
        assert!(lines.len() >= 5, "{lines:#?}");
        assert!(lines.iter().all(|l| !l.contains('\n')));
        assert!(lines[0].ends_with("s.toml:2: arch: `vax` is not one of i686, x86_64, aarch64, ppc64le, s390x (i386 = i686)"));
        assert_eq!(run(&[], false), exit::INVALID_INPUT);
    }
}
