//! How a side repo reaches the build: for kickstart-driven builds (live, dvd) a
//! `repo --name=fbs-side --baseurl=file://… --cost=1` line in the flattened kickstart, and the
//! side repo's package names added to every other `repo` line's `--excludepkgs`, so its
//! packages win even over newer versions in the base repos (cost only breaks ties). Builders
//! without a kickstart (boot) get the same through [`crate::BuildContext::side_repo`].
//!
//! A kickstart `url` line cannot exclude packages; its newer packages would still win, so the
//! job log says so.

use fbs_core::kickstart::{Kickstart, KsError, Repo, RepoSource};

use super::SideRepo;

/// A kickstart with the side repo added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// The new kickstart text.
    pub text: String,
    /// Things the job log should say.
    pub warnings: Vec<String>,
}

/// The `repo` line the side repo gets.
pub fn side_repo_line(side: &SideRepo) -> Repo {
    Repo {
        name: SideRepo::NAME.to_owned(),
        source: Some(RepoSource::Baseurl(side.url())),
        cost: Some(1),
        ..Repo::default()
    }
}

/// `text` (a flattened kickstart) with the side repo added and the other repos excluding its
/// packages. Fails when the kickstart cannot be read or already has a repo named `fbs-side`.
pub fn kickstart(text: &str, side: &SideRepo) -> Result<Injected, KsError> {
    let mut ks = Kickstart::parse(text, "job.ks")?;
    let mut names: Vec<String> = Vec::new();
    for r in ks.repos() {
        if !names.contains(&r.name) {
            names.push(r.name.clone());
        }
    }
    for name in &names {
        ks.add_repo_excludes(name, &side.packages)?;
    }
    ks.add_repo(&side_repo_line(side))?;
    let mut warnings = Vec::new();
    if ks.url().is_some_and(|u| u.source.is_some()) {
        warnings.push(format!(
            "the kickstart's `url` line cannot exclude packages: a newer {} there would win over the side repo's",
            side.packages.join(", ")
        ));
    }
    Ok(Injected {
        text: ks.to_string(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side() -> SideRepo {
        SideRepo {
            dir: "/jobs/1/work/siderepo".into(),
            builds: vec!["kojipkg-2.0-1.fc40".into()],
            packages: vec!["kojipkg".into(), "kojipkg-data".into()],
            files: Vec::new(),
            downloaded_bytes: 0,
            from_cache: 0,
        }
    }

    #[test]
    fn adds_the_side_repo_and_excludes_its_packages_elsewhere() {
        let text = "lang en_US.UTF-8\n\
                    repo --name=fedora --baseurl=http://m/os/ --excludepkgs=foo\n\
                    repo --name=updates --baseurl=http://m/up/\n\
                    %packages\nkojipkg\n%end\n";
        let out = kickstart(text, &side()).expect("injects");
        assert!(out.warnings.is_empty());
        let ks = Kickstart::parse(&out.text, "out.ks").expect("parses");
        let repos: Vec<&Repo> = ks.repos().collect();
        assert_eq!(repos.len(), 3);
        assert_eq!(repos[0].excludepkgs, ["foo", "kojipkg", "kojipkg-data"]);
        assert_eq!(repos[1].excludepkgs, ["kojipkg", "kojipkg-data"]);
        assert_eq!(repos[2].name, "fbs-side");
        assert_eq!(repos[2].cost, Some(1));
        assert_eq!(
            repos[2].source,
            Some(RepoSource::Baseurl("file:///jobs/1/work/siderepo".into()))
        );
        assert!(repos[2].excludepkgs.is_empty());
        assert!(out.text.starts_with("lang en_US.UTF-8\n"));
        assert!(out.text.ends_with("%packages\nkojipkg\n%end\n"));
    }

    #[test]
    fn a_url_line_is_warned_about_and_a_second_side_repo_refused() {
        let out = kickstart("url --url=http://m/os/\n", &side()).expect("injects");
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(kickstart(&out.text, &side()).is_err());
    }
}
