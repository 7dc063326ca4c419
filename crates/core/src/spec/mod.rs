//! Build specs: one model for boot, dvd and live images ([`BuildSpec`]), read from the 2012
//! service's FBS INI format or from native TOML.
//!
//! Both readers apply the same value rules (reference/fbs-formats.md) and report *every*
//! problem they find, each naming the file, line, section and key (`live.conf:9: [live] label:
//! missing`), so a user fixes a spec in one round. [`load_spec`] picks the reader by file
//! extension: `.toml` is TOML, anything else is FBS INI.
//!
//! The TOML layout:
//!
//! ```toml
//! type = "live"                      # boot | dvd | live; may be left out when exactly one of
//!                                    # the [boot], [dvd], [live] tables is given
//! arch = "x86_64"                    # i686 (i386) | x86_64 | aarch64 | ppc64le | s390x
//! release = "17"                     # a string or an integer
//! staging = "file:///srv/staging"    # file:///path | ftp://… | ftps://… | a bare FTP host
//! staging_layout = "job"             # optional: job (<staging>/<job-id>/…) | flat (old names)
//! email = "qa@example.org"
//! builder = "auto"                   # optional: auto | native | lorax | pungi | kiwi | …
//! source_date_epoch = 1700000000     # optional
//!
//! [koji]                             # optional: builds for the side repo
//! nvrs = ["wget-1.13.4-4.fc17"]
//! build_ids = [123456]
//!
//! [boot]
//! product = "Fedora"                 # default Fedora
//! version = "17"                     # default the release
//! release = "17"                     # default the release
//! updates = false                    # default: whether a repo named "updates" is listed
//! updates_testing = false            # likewise for "updates-testing"
//! proxy = "http://proxy:3128"        # optional
//! repos = [                          # at least one; kind defaults to baseurl
//!   { name = "fedora", url = "http://…/os/", kind = "baseurl" },
//!   { name = "fedora", url = "http://…/metalink?…", kind = "mirrorlist" },
//! ]
//!
//! [dvd]
//! name = "Fedora"                    # default Fedora
//! version = "17"                     # default the release
//! flavor = "Fedora"                  # default Fedora
//! bugurl = "https://bugzilla.redhat.com"   # optional
//! nosource = false                   # default false (also sourceisos, force)
//! stage = "all"                      # all | G | C | B | I, default all
//! kickstart = "fedora-dvd.ks"        # required: a path relative to the spec, or a URL
//!
//! [live]
//! label = "Fedora-17-Live"           # required, ≤ 32 characters
//! title = "Fedora 17"                # default the label
//! product = "Fedora"                 # default Fedora
//! releasever = "17"                  # default the release
//! kickstart = "fedora-live.ks"       # required
//! ```
//!
//! In FBS INI, `staging_layout = job | flat` may stand in `[DEFAULT]` or the type's section.
//!
//! Unknown keys are errors in TOML. In FBS INI they are warnings, and the old directory keys
//! (outdir, workdir, tmpdir, destdir, cachedir, logfile) are read and ignored with one warning:
//! each job works in its own directory.

mod error;
mod ini;
mod model;
#[cfg(test)]
mod tests;
mod toml;
mod validate;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::{SpecError, SpecErrors};
pub use model::*;

/// The largest spec file [`load_spec`] reads.
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

/// The two spec formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecFormat {
    /// The 2012 service's INI format (Python configparser dialect).
    Ini,
    /// Native TOML.
    Toml,
}

impl SpecFormat {
    /// The format a file name implies: `.toml` is TOML, anything else FBS INI.
    pub fn from_path(path: &Path) -> Self {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => SpecFormat::Toml,
            _ => SpecFormat::Ini,
        }
    }
}

/// A spec read and validated, with the warnings reading it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSpec {
    /// The spec.
    pub spec: BuildSpec,
    /// Things worth telling the user that do not make the spec invalid (ignored keys, …).
    pub warnings: Vec<String>,
    /// The file it came from, as the caller named it.
    pub path: PathBuf,
    /// Where the spec names its kickstart, so a problem with the kickstart can be reported
    /// at that key.
    pub kickstart_at: Option<KeyLocation>,
}

/// The place of one key in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLocation {
    /// The 1-based line.
    pub line: usize,
    /// The INI section or TOML table (`None` for TOML's top level).
    pub section: Option<String>,
    /// The key.
    pub key: String,
}

impl KeyLocation {
    /// An error about this key of `file`.
    pub fn error(&self, file: &Path, message: impl Into<String>) -> SpecError {
        SpecError {
            file: file.to_owned(),
            line: Some(self.line),
            section: self.section.clone(),
            key: Some(self.key.clone()),
            message: message.into(),
        }
    }
}

/// Reads and validates the spec in `path`; the extension picks the format
/// ([`SpecFormat::from_path`]). Relative paths in the spec are resolved against its directory.
pub fn load_spec(path: &Path) -> Result<LoadedSpec, SpecErrors> {
    let text = read_limited(path).map_err(|message| {
        SpecErrors::one(SpecError {
            file: path.to_owned(),
            line: None,
            section: None,
            key: None,
            message,
        })
    })?;
    parse_spec(&text, path, SpecFormat::from_path(path))
}

/// Validates spec text. `file_name` is used in messages and its directory resolves relative
/// paths (a kickstart named by `config`/`kickstart`).
pub fn parse_spec(
    text: &[u8],
    file_name: &Path,
    format: SpecFormat,
) -> Result<LoadedSpec, SpecErrors> {
    match format {
        SpecFormat::Ini => ini::read(text, file_name),
        SpecFormat::Toml => toml::read(text, file_name),
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a spec file".into());
    }
    let mut text = Vec::new();
    file.take(MAX_SPEC_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    if text.len() as u64 > MAX_SPEC_BYTES {
        return Err(format!(
            "larger than {} MiB; not a build spec",
            MAX_SPEC_BYTES >> 20
        ));
    }
    Ok(text)
}
