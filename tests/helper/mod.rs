//! Shared test helpers: the `fbs` binary, temp dirs, and the servers and tools the test
//! environment script provides.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod fixtures;
pub mod ftp;
pub mod koji;
pub mod mail;
pub mod qemu;

/// A `Command` for the `fbs` binary built for this test run.
pub fn fbs() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fbs"))
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `tests/data/`.
pub fn data(rel: &str) -> PathBuf {
    root().join("tests/data").join(rel)
}

/// True when the developer opted out of tests that need the test environment
/// (`FBS_TEST_OPTOUT=1`). CI never sets it, so there such tests fail loudly instead.
pub fn opted_out() -> bool {
    std::env::var_os("FBS_TEST_OPTOUT").is_some_and(|v| v == "1")
}

/// An executable from the test environment's Python venv (`ksflatten`, `python`, …).
/// Returns `None` only when the developer opted out; panics when the environment is missing.
pub fn venv_tool(name: &str) -> Option<PathBuf> {
    let venv = match std::env::var_os("FBS_TEST_VENV") {
        Some(v) => PathBuf::from(v),
        None if opted_out() => return None,
        None => panic!(
            "FBS_TEST_VENV is not set: run the tests through scripts/test.sh (or set FBS_TEST_OPTOUT=1 to skip tests that need the test environment)"
        ),
    };
    let p = venv.join("bin").join(name);
    assert!(p.exists(), "{} is missing from the test venv", p.display());
    Some(p)
}
