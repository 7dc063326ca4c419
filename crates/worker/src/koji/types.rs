//! The parts of Koji's build and RPM records fbs uses, decoded tolerantly (see
//! [`super::value`]): every member fbs does not need may be absent, and so may the newer
//! ones it reads (`draft`, `volume_name`).

use std::fmt;

use dxr::Value;
use serde::{Deserialize, Serialize};

use super::value::{DecodeError, Members};

/// A build's state (`state` in `getBuild`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuildState {
    /// 0: still building.
    Building,
    /// 1: done; the only state whose RPMs a side repo may use.
    Complete,
    /// 2: deleted.
    Deleted,
    /// 3: failed.
    Failed,
    /// 4: canceled.
    Canceled,
    /// A state this version of fbs does not know.
    Other(i64),
}

impl BuildState {
    /// The state for Koji's number.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => BuildState::Building,
            1 => BuildState::Complete,
            2 => BuildState::Deleted,
            3 => BuildState::Failed,
            4 => BuildState::Canceled,
            n => BuildState::Other(n),
        }
    }
}

impl fmt::Display for BuildState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildState::Building => f.write_str("BUILDING"),
            BuildState::Complete => f.write_str("COMPLETE"),
            BuildState::Deleted => f.write_str("DELETED"),
            BuildState::Failed => f.write_str("FAILED"),
            BuildState::Canceled => f.write_str("CANCELED"),
            BuildState::Other(n) => write!(f, "in state {n}"),
        }
    }
}

/// A build, as `getBuild` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The build id.
    pub id: i64,
    /// The package name (`package_name`, else `name`): the first directory level of the
    /// build's download path.
    pub package_name: String,
    /// The version.
    pub version: String,
    /// The release; for a draft build this is the draft release (`1.fc40,draft_42`).
    pub release: String,
    /// The epoch, when the build has one.
    pub epoch: Option<i64>,
    /// `name-version-release`.
    pub nvr: String,
    /// The state.
    pub state: BuildState,
    /// True for a draft build (Koji ≥ 1.34; absent means not a draft).
    pub draft: bool,
    /// The storage volume; `None` or `DEFAULT` means the main one.
    pub volume_name: Option<String>,
}

impl BuildInfo {
    /// Decode a `getBuild` result.
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        let m = Members::of(v, "getBuild result")?;
        let name = m.opt_string("name")?;
        let package_name = match m.opt_string("package_name")? {
            Some(p) => p,
            None => name.clone().ok_or_else(|| DecodeError {
                what: "getBuild result".into(),
                problem: "neither `package_name` nor `name` is present".into(),
            })?,
        };
        let version = m.string("version")?;
        let release = m.string("release")?;
        let nvr = match m.opt_string("nvr")? {
            Some(n) => n,
            None => format!("{package_name}-{version}-{release}"),
        };
        let id = match m.opt_int("id")? {
            Some(id) => id,
            None => m.int("build_id")?,
        };
        Ok(BuildInfo {
            id,
            package_name,
            version,
            release,
            epoch: m.opt_int("epoch")?,
            nvr,
            state: BuildState::from_code(m.int("state")?),
            draft: m.flag("draft", false)?,
            volume_name: m.opt_string("volume_name")?,
        })
    }
}

/// One RPM of a build, as `listRPMs` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmInfo {
    /// The RPM id.
    pub id: i64,
    /// The (sub)package name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The RPM's own release (never a draft release).
    pub release: String,
    /// The epoch.
    pub epoch: Option<i64>,
    /// The architecture (`x86_64`, `noarch`, `src`, …).
    pub arch: String,
    /// The file size in bytes (of the unsigned copy under `packages/`).
    pub size: Option<u64>,
    /// The header+payload MD5 (rpm's SIGMD5), hex.
    pub payloadhash: Option<String>,
    /// The build it belongs to.
    pub build_id: Option<i64>,
    /// Set for RPMs from an external repository (no file on this Koji).
    pub external_repo_id: Option<i64>,
    /// True for metadata-only RPMs (no file).
    pub metadata_only: bool,
}

impl RpmInfo {
    /// Decode one `listRPMs` entry; `index` numbers it in errors.
    pub fn from_value(v: &Value, index: usize) -> Result<Self, DecodeError> {
        let what = format!("listRPMs entry {index}");
        let m = Members::of(v, &what)?;
        let size = match m.opt_int("size")? {
            None => None,
            Some(s) => Some(u64::try_from(s).map_err(|_| DecodeError {
                what: what.clone(),
                problem: format!("negative size {s}"),
            })?),
        };
        Ok(RpmInfo {
            id: m.int("id")?,
            name: m.string("name")?,
            version: m.string("version")?,
            release: m.string("release")?,
            epoch: m.opt_int("epoch")?,
            arch: m.string("arch")?,
            size,
            payloadhash: m.opt_string("payloadhash")?,
            build_id: m.opt_int("build_id")?,
            external_repo_id: m.opt_int("external_repo_id")?.filter(|&id| id != 0),
            metadata_only: m.flag("metadata_only", false)?,
        })
    }

    /// The file name: `NAME-VERSION-RELEASE.ARCH.rpm`.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.{}.rpm",
            self.name, self.version, self.release, self.arch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xml: &str) -> Value {
        Value::from_xml(xml).expect("value")
    }

    fn member(name: &str, value: &str) -> String {
        format!("<member><name>{name}</name><value>{value}</value></member>")
    }

    #[test]
    fn an_old_hub_build_without_draft_or_volume_decodes() {
        let xml = format!(
            "<value><struct>{}{}{}{}{}{}</struct></value>",
            member("build_id", "<int>42</int>"),
            member("name", "<string>wget</string>"),
            member("version", "<string>1.13.4</string>"),
            member("release", "<string>4.fc17</string>"),
            member("epoch", "<nil/>"),
            member("state", "<int>1</int>"),
        );
        let b = BuildInfo::from_value(&v(&xml)).expect("decodes");
        assert_eq!(b.id, 42);
        assert_eq!(b.package_name, "wget");
        assert_eq!(b.nvr, "wget-1.13.4-4.fc17");
        assert_eq!(b.state, BuildState::Complete);
        assert!(!b.draft);
        assert_eq!(b.volume_name, None);
        assert_eq!(b.epoch, None);
    }

    #[test]
    fn rpm_entries_take_i8_sizes_and_name_their_files() {
        let xml = format!(
            "<value><struct>{}{}{}{}{}{}{}{}</struct></value>",
            member("id", "<int>7</int>"),
            member("name", "<string>kernel-core</string>"),
            member("version", "<string>6.8.0</string>"),
            member("release", "<string>1.fc40</string>"),
            member("arch", "<string>x86_64</string>"),
            member("size", "<i8>6442450944</i8>"),
            member("payloadhash", "<string>0123abcd</string>"),
            member("external_repo_id", "<int>0</int>"),
        );
        let r = RpmInfo::from_value(&v(&xml), 0).expect("decodes");
        assert_eq!(r.size, Some(6_442_450_944));
        assert_eq!(r.file_name(), "kernel-core-6.8.0-1.fc40.x86_64.rpm");
        assert_eq!(r.external_repo_id, None);
        let bad = format!(
            "<value><struct>{}</struct></value>",
            member("id", "<int>7</int>")
        );
        let e = RpmInfo::from_value(&v(&bad), 3).expect_err("no name");
        assert_eq!(e.to_string(), "listRPMs entry 3: member `name` is missing");
    }

    #[test]
    fn states_print_as_koji_names_them() {
        assert_eq!(BuildState::from_code(3).to_string(), "FAILED");
        assert_eq!(BuildState::from_code(9).to_string(), "in state 9");
    }
}
