//! The RPM fixture repositories built by `scripts/fixtures/make-repo.sh` (run by
//! `scripts/testenv.sh up`), located through `FBS_TEST_FIXTURES`.
//!
//! `repo()` holds `fbs-test-sh` (busybox as `/bin/sh`), `fbs-test-base` (with a `%post` that
//! writes `/var/lib/fbs-test/post-ran`), `fbs-test-app` (requires `fbs-test-base >= 1.0`),
//! `kernel` (Debian's real vmlinuz at Fedora's paths) and `fbs-test-initramfs` (an initramfs
//! that prints [`BOOT_MARKER`] and powers off). `repo_nokernel()` holds the first three only.

use std::path::PathBuf;

use super::opted_out;

/// What the fixture initramfs prints on the console and the first serial port once booted.
pub const BOOT_MARKER: &str = "FBS-BOOT-MARKER-OK";

/// What `fbs-test-base` installs as `/usr/share/fbs-test/base.txt`.
pub const BASE_MARKER: &str = "FBS-TEST-BASE-MARKER";

/// The content of `/var/lib/fbs-test/post-ran` once `fbs-test-base`'s `%post` ran in a root.
pub const POST_RAN: &str = "post-ran FBS-TEST-BASE-MARKER";

/// The fixture directory (`$FBS_TEST_FIXTURES`).
#[derive(Debug, Clone)]
pub struct Fixtures {
    dir: PathBuf,
    kver: String,
}

/// The fixtures, or `None` only when the developer opted out (`FBS_TEST_OPTOUT=1`).
/// Panics when `FBS_TEST_FIXTURES` is unset or the fixtures are incomplete.
pub fn fixtures() -> Option<Fixtures> {
    let dir = match std::env::var_os("FBS_TEST_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None if opted_out() => return None,
        None => panic!(
            "FBS_TEST_FIXTURES is not set: run scripts/testenv.sh up and source .testenv/env \
             (or set FBS_TEST_OPTOUT=1 to skip tests that need the test environment)"
        ),
    };
    let done = dir.join(".done");
    assert!(
        done.is_file(),
        "{} is missing: the fixtures are not built; run scripts/testenv.sh up",
        done.display()
    );
    let kver = std::fs::read_to_string(dir.join("kver"))
        .unwrap_or_else(|e| panic!("reading {}/kver: {e}", dir.display()))
        .trim()
        .to_owned();
    assert!(!kver.is_empty(), "{}/kver is empty", dir.display());
    Some(Fixtures { dir, kver })
}

impl Fixtures {
    /// The repository with all five packages (createrepo_c metadata in `repodata/`).
    pub fn repo(&self) -> PathBuf {
        self.dir.join("repo")
    }

    /// The repository without `kernel` and `fbs-test-initramfs`.
    pub fn repo_nokernel(&self) -> PathBuf {
        self.dir.join("repo-nokernel")
    }

    /// The packaged kernel's version, as `uname -r` prints it (e.g. `6.1.0-56-amd64`).
    pub fn kver(&self) -> &str {
        &self.kver
    }

    /// The `.rpm` of package `name` in [`Fixtures::repo`]. Panics when there is not exactly one.
    pub fn rpm(&self, name: &str) -> PathBuf {
        let repo = self.repo();
        let entries =
            std::fs::read_dir(&repo).unwrap_or_else(|e| panic!("reading {}: {e}", repo.display()));
        let found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .and_then(|f| f.strip_suffix(".rpm"))
                    .and_then(|stem| stem.strip_prefix(name))
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {name} package in {}, found {found:?}",
            repo.display()
        );
        found.into_iter().next().expect("one package")
    }

    /// The Debian package (`linux-image-<kver>_*.deb`) the kernel RPM was made from.
    pub fn kernel_deb(&self) -> PathBuf {
        let debs = self.dir.join("debs");
        let prefix = format!("linux-image-{}_", self.kver);
        let entries =
            std::fs::read_dir(&debs).unwrap_or_else(|e| panic!("reading {}: {e}", debs.display()));
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(&prefix) && f.ends_with(".deb"))
            })
            .unwrap_or_else(|| panic!("no {prefix}*.deb in {}", debs.display()))
    }
}
