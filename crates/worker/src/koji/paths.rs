//! Where Koji's files are, as `koji.PathInfo(topdir=topurl)` computes it:
//!
//! - build dir: `TOPURL[/vol/VOLUME]/packages/NAME/VERSION/RELEASE` with the *build's*
//!   package name, version and release; `/vol/VOLUME` only when the volume is not `DEFAULT`;
//!   a draft build's release is its draft release (`1.fc40,draft_42`), so its directory
//!   carries that suffix while its RPM files do not;
//! - RPM: `<build dir>/ARCH/NAME-VERSION-RELEASE.ARCH.rpm` with the RPM's own name and release;
//! - signed copy: `<build dir>/data/signed/KEY/ARCH/<file>`.

use super::types::{BuildInfo, RpmInfo};

/// Computes download URLs under a Koji `topurl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    topurl: String,
}

impl PathInfo {
    /// Paths under `topurl` (a trailing `/` is ignored).
    pub fn new(topurl: &str) -> Self {
        PathInfo {
            topurl: topurl.trim_end_matches('/').to_owned(),
        }
    }

    /// The top of the tree, or of the volume's tree.
    pub fn volume_dir(&self, volume: Option<&str>) -> String {
        match volume {
            None | Some("DEFAULT") | Some("") => self.topurl.clone(),
            Some(v) => format!("{}/vol/{v}", self.topurl),
        }
    }

    /// The release directory name of `build`: its release, with `,draft_<id>` added for a
    /// draft build whose release does not carry it already (hubs that report the target
    /// release).
    pub fn release_dir(build: &BuildInfo) -> String {
        let suffix = format!(",draft_{}", build.id);
        if build.draft && !build.release.ends_with(&suffix) {
            format!("{}{suffix}", build.release)
        } else {
            build.release.clone()
        }
    }

    /// The build's directory.
    pub fn build_dir(&self, build: &BuildInfo) -> String {
        format!(
            "{}/packages/{}/{}/{}",
            self.volume_dir(build.volume_name.as_deref()),
            build.package_name,
            build.version,
            Self::release_dir(build)
        )
    }

    /// The URL of `rpm`'s unsigned copy.
    pub fn rpm_url(&self, build: &BuildInfo, rpm: &RpmInfo) -> String {
        format!("{}/{}/{}", self.build_dir(build), rpm.arch, rpm.file_name())
    }

    /// The URL of `rpm`'s copy signed with `key` (lower-case hex key id).
    pub fn signed_url(&self, build: &BuildInfo, rpm: &RpmInfo, key: &str) -> String {
        format!(
            "{}/data/signed/{}/{}/{}",
            self.build_dir(build),
            key.to_ascii_lowercase(),
            rpm.arch,
            rpm.file_name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::types::BuildState;
    use super::*;

    fn build(volume: Option<&str>, draft: bool, release: &str) -> BuildInfo {
        BuildInfo {
            id: 42,
            package_name: "kojipkg".into(),
            version: "2.0".into(),
            release: release.into(),
            epoch: None,
            nvr: format!("kojipkg-2.0-{release}"),
            state: BuildState::Complete,
            draft,
            volume_name: volume.map(String::from),
        }
    }

    fn rpm() -> RpmInfo {
        RpmInfo {
            id: 1,
            name: "kojipkg-data".into(),
            version: "2.0".into(),
            release: "1.fc40".into(),
            epoch: None,
            arch: "noarch".into(),
            size: None,
            payloadhash: None,
            build_id: Some(42),
            external_repo_id: None,
            metadata_only: false,
        }
    }

    #[test]
    fn urls_follow_pathinfo() {
        let p = PathInfo::new("http://k/top/");
        let b = build(Some("DEFAULT"), false, "1.fc40");
        assert_eq!(
            p.rpm_url(&b, &rpm()),
            "http://k/top/packages/kojipkg/2.0/1.fc40/noarch/kojipkg-data-2.0-1.fc40.noarch.rpm"
        );
        let b = build(Some("archive"), false, "1.fc40");
        assert_eq!(
            p.build_dir(&b),
            "http://k/top/vol/archive/packages/kojipkg/2.0/1.fc40"
        );
        assert_eq!(
            p.signed_url(&build(None, false, "1.fc40"), &rpm(), "A15B79CC"),
            "http://k/top/packages/kojipkg/2.0/1.fc40/data/signed/a15b79cc/noarch/kojipkg-data-2.0-1.fc40.noarch.rpm"
        );
    }

    #[test]
    fn draft_builds_get_the_suffix_on_the_release_directory_only_once() {
        let p = PathInfo::new("http://k");
        for release in ["1.fc40", "1.fc40,draft_42"] {
            let b = build(None, true, release);
            assert_eq!(
                p.rpm_url(&b, &rpm()),
                "http://k/packages/kojipkg/2.0/1.fc40,draft_42/noarch/kojipkg-data-2.0-1.fc40.noarch.rpm"
            );
        }
    }
}
