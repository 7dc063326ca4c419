//! The repositories a native build installs from, and the dnf configuration written for them
//! under the job's own directory (dnf never reads the host's `/etc/yum.repos.d` or
//! `/etc/dnf/dnf.conf`).
//!
//! Sources: the kickstart's `repo` lines and its `url` line (live, dvd), or the spec's
//! `[boot]` repositories (boot). `--cost`, `--excludepkgs`, `--includepkgs`, `--proxy` and
//! `--noverifyssl` map to the dnf options of the same meaning.
//!
//! **Signature checking.** `file://` repositories (the job's side repo, local mirrors, test
//! repos) are read with `gpgcheck=0`: they were put on this host by fbs or its operator and
//! are usually unsigned. Every other repository is read with `gpgcheck=1`, checked against
//! the keys in the host's `/etc/pki/rpm-gpg/` (dnf imports the one a package needs into the
//! image's rpmdb); a remote repository whose packages are signed with a key the host lacks
//! fails the build rather than installing unchecked packages.

use std::fmt::Write as _;
use std::path::Path;

use fbs_core::kickstart::{Kickstart, RepoSource};
use fbs_core::spec::{BootOptions, RepoKind};

use crate::builder::BuildError;

/// The directory whose keys remote repositories are checked against.
pub(crate) const HOST_KEY_DIR: &str = "/etc/pki/rpm-gpg";

/// Where a repository's metadata is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Baseurl(String),
    Mirrorlist(String),
    Metalink(String),
}

impl Source {
    fn url(&self) -> &str {
        match self {
            Source::Baseurl(u) | Source::Mirrorlist(u) | Source::Metalink(u) => u,
        }
    }
}

/// One repository as dnf is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoDef {
    /// The dnf repo id (sanitized, unique).
    pub id: String,
    /// The name as the kickstart or spec gave it.
    pub name: String,
    pub source: Source,
    pub cost: Option<i64>,
    pub excludepkgs: Vec<String>,
    pub includepkgs: Vec<String>,
    pub proxy: Option<String>,
    pub sslverify: bool,
}

impl RepoDef {
    /// True for `file://` repositories, read without signature checks.
    pub fn is_local(&self) -> bool {
        self.source.url().starts_with("file:")
    }
}

/// The repositories of a kickstart: its `url` line (as repo `install-source`) and its `repo`
/// lines, in order. A `repo` line without a location names a repository only the installer
/// knows; it is skipped and returned as a warning.
pub(crate) fn from_kickstart(ks: &Kickstart) -> (Vec<RepoDef>, Vec<String>) {
    let mut repos = Vec::new();
    let mut warnings = Vec::new();
    if let Some(url) = ks.url()
        && let Some(src) = &url.source
    {
        repos.push(RepoDef {
            id: String::new(),
            name: "install-source".into(),
            source: source(src),
            cost: None,
            excludepkgs: Vec::new(),
            includepkgs: Vec::new(),
            proxy: url.proxy.clone(),
            sslverify: !url.noverifyssl,
        });
    }
    for r in ks.repos() {
        let Some(src) = &r.source else {
            warnings.push(format!(
                "repo {} names no --baseurl, --mirrorlist or --metalink; skipped",
                r.name
            ));
            continue;
        };
        repos.push(RepoDef {
            id: String::new(),
            name: r.name.clone(),
            source: source(src),
            cost: r.cost,
            excludepkgs: r.excludepkgs.clone(),
            includepkgs: r.includepkgs.clone(),
            proxy: r.proxy.clone(),
            sslverify: !r.noverifyssl,
        });
    }
    assign_ids(&mut repos);
    (repos, warnings)
}

fn source(s: &RepoSource) -> Source {
    match s {
        RepoSource::Baseurl(u) => Source::Baseurl(u.clone()),
        RepoSource::Mirrorlist(u) => Source::Mirrorlist(u.clone()),
        RepoSource::Metalink(u) => Source::Metalink(u.clone()),
    }
}

/// The repositories of a `[boot]` spec, in order.
pub(crate) fn from_boot(b: &BootOptions) -> Vec<RepoDef> {
    let mut repos: Vec<RepoDef> = b
        .repos
        .iter()
        .map(|r| {
            let url = r.url.to_string();
            RepoDef {
                id: String::new(),
                name: r.name.clone(),
                source: match r.kind {
                    RepoKind::Baseurl => Source::Baseurl(url),
                    RepoKind::Mirrorlist => Source::Mirrorlist(url),
                },
                cost: None,
                excludepkgs: Vec::new(),
                includepkgs: Vec::new(),
                proxy: b.proxy.clone(),
                sslverify: true,
            }
        })
        .collect();
    assign_ids(&mut repos);
    repos
}

/// `repos` plus the job's side repo (`fbs-side`, cost 1), every other repo excluding the
/// side repo's packages so they win even over newer versions there.
pub(crate) fn with_side_repo(
    mut repos: Vec<RepoDef>,
    side: Option<&crate::siderepo::SideRepo>,
) -> Vec<RepoDef> {
    let Some(side) = side else { return repos };
    for r in &mut repos {
        for p in &side.packages {
            if !r.excludepkgs.contains(p) {
                r.excludepkgs.push(p.clone());
            }
        }
    }
    repos.push(RepoDef {
        id: String::new(),
        name: crate::siderepo::SideRepo::NAME.into(),
        source: Source::Baseurl(side.url()),
        cost: Some(1),
        excludepkgs: Vec::new(),
        includepkgs: Vec::new(),
        proxy: None,
        sslverify: true,
    });
    assign_ids(&mut repos);
    repos
}

/// dnf repo ids: the name with characters dnf rejects replaced by `_`, made unique.
fn assign_ids(repos: &mut [RepoDef]) {
    let mut seen: Vec<String> = Vec::new();
    for r in repos.iter_mut() {
        let mut base: String = r
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.:".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() {
            base = "repo".into();
        }
        let mut id = base.clone();
        let mut n = 2;
        while seen.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        seen.push(id.clone());
        r.id = id;
    }
}

/// A value that goes into an INI line must be one line.
fn one_line(what: &str, v: &str) -> Result<(), BuildError> {
    if v.contains(['\n', '\r']) {
        return Err(BuildError::Input(format!(
            "{what} contains a line break: {v:?}"
        )));
    }
    Ok(())
}

/// The text of `<id>.repo` for `r`; `keys` are the `gpgkey` URLs for signed repositories.
pub(crate) fn render_repo(r: &RepoDef, keys: &[String]) -> Result<String, BuildError> {
    let mut s = String::new();
    let (key, url) = match &r.source {
        Source::Baseurl(u) => ("baseurl", u),
        Source::Mirrorlist(u) => ("mirrorlist", u),
        Source::Metalink(u) => ("metalink", u),
    };
    for (what, v) in [("repo name", &r.name), ("repo URL", url)] {
        one_line(what, v)?;
    }
    let _ = writeln!(s, "[{}]", r.id);
    let _ = writeln!(s, "name={}", r.name);
    let _ = writeln!(s, "{key}={url}");
    let _ = writeln!(s, "enabled=1");
    let _ = writeln!(s, "skip_if_unavailable=0");
    if r.is_local() {
        let _ = writeln!(s, "gpgcheck=0");
    } else {
        let _ = writeln!(s, "gpgcheck=1");
        if !keys.is_empty() {
            let _ = writeln!(s, "gpgkey={}", keys.join(" "));
        }
    }
    if let Some(c) = r.cost {
        let _ = writeln!(s, "cost={c}");
    }
    for (k, list) in [
        ("excludepkgs", &r.excludepkgs),
        ("includepkgs", &r.includepkgs),
    ] {
        if !list.is_empty() {
            let v = list.join(",");
            one_line(k, &v)?;
            let _ = writeln!(s, "{k}={v}");
        }
    }
    if let Some(p) = &r.proxy {
        one_line("proxy", p)?;
        let _ = writeln!(s, "proxy={p}");
    }
    if !r.sslverify {
        let _ = writeln!(s, "sslverify=0");
    }
    Ok(s)
}

/// `file://` URLs of the keys in `dir` (sorted), for remote repositories' `gpgkey`.
pub(crate) fn host_keys(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| format!("file://{}", e.path().display()))
        .filter(|k| !k.contains(char::is_whitespace))
        .collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(text: &str) -> Kickstart {
        Kickstart::parse(text, "test.ks").expect("parses")
    }

    #[test]
    fn kickstart_repos_keep_their_options_and_get_unique_ids() {
        let (repos, warnings) = from_kickstart(&ks("url --url=file:///srv/os\n\
             repo --name=\"my repo\" --baseurl=http://m/$releasever/ --cost=5 --excludepkgs=a,b\n\
             repo --name=my_repo --mirrorlist=https://ml --noverifyssl\n\
             repo --name=updates\n"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let ids: Vec<&str> = repos.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["install-source", "my_repo", "my_repo-2"]);
        assert!(repos[0].is_local());
        let text = render_repo(&repos[1], &["file:///k".into()]).expect("renders");
        assert!(text.contains("baseurl=http://m/$releasever/\n"), "{text}");
        assert!(
            text.contains("cost=5\n") && text.contains("excludepkgs=a,b\n"),
            "{text}"
        );
        assert!(text.contains("gpgcheck=1\ngpgkey=file:///k\n"), "{text}");
        let text = render_repo(&repos[2], &[]).expect("renders");
        assert!(text.contains("mirrorlist=https://ml\n") && text.contains("sslverify=0"));
        let text = render_repo(&repos[0], &["file:///k".into()]).expect("renders");
        assert!(
            text.contains("gpgcheck=0\n") && !text.contains("gpgkey"),
            "{text}"
        );
    }

    #[test]
    fn line_breaks_in_values_are_refused() {
        let mut r = from_boot(&BootOptions {
            product: "F".into(),
            version: "1".into(),
            release: "1".into(),
            updates: false,
            updates_testing: false,
            repos: vec![fbs_core::spec::Repo {
                name: "base".into(),
                url: "file:///srv/repo".parse().expect("url"),
                kind: RepoKind::Baseurl,
            }],
            proxy: None,
        });
        assert_eq!(r[0].id, "base");
        r[0].excludepkgs = vec!["a\nb".into()];
        assert!(render_repo(&r[0], &[]).is_err());
    }
}
