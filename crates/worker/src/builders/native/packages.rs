//! What a kickstart's `%packages` asks dnf for, in dnf's own terms.
//!
//! - a name or glob → an argument to `dnf install`; `@group` → `@group`; `@^environment` →
//!   `@^environment`;
//! - `-name` → `--exclude=name`; `-@group` cannot be expressed to dnf and is reported;
//! - `--excludedocs` → `tsflags=nodocs`; `--ignoremissing` → `strict=0`;
//!   `--exclude-weakdeps` → `install_weak_deps=0`; `--multilib` → `multilib_policy=all`;
//!   `--inst-langs=` → the `%_install_langs` rpm macro; `@group --optional` /
//!   `--nodefaults` → dnf's `group_package_types` (dnf has one setting for all groups: any
//!   `--optional` adds optional packages; `--nodefaults` applies when every group has it);
//! - like anaconda, `@core` is added unless `--nocore` — when the repositories have a `core`
//!   group (repositories without comps data, such as test repos, have none).

use fbs_core::kickstart::{Kickstart, PackageEntry};

use crate::builder::BuildError;

/// A `%packages` request translated for dnf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageRequest {
    /// The arguments of `dnf install`, in kickstart order.
    pub specs: Vec<String>,
    /// `--exclude` patterns.
    pub excludes: Vec<String>,
    /// `--setopt=` values.
    pub setopts: Vec<String>,
    /// The `%_install_langs` value, for the rpm macros.
    pub install_langs: Option<String>,
    /// True unless `--nocore`: add `@core` when the repositories define it.
    pub want_core: bool,
}

impl PackageRequest {
    /// The dnf options (`--exclude`, `--setopt`) the request needs besides its specs.
    pub fn options(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .excludes
            .iter()
            .map(|e| format!("--exclude={e}"))
            .collect();
        v.extend(self.setopts.iter().map(|o| format!("--setopt={o}")));
        v
    }
}

/// The request of every `%packages` section of `ks`, and warnings about what dnf cannot do.
pub(crate) fn from_kickstart(ks: &Kickstart) -> Result<(PackageRequest, Vec<String>), BuildError> {
    let mut req = PackageRequest {
        want_core: true,
        ..PackageRequest::default()
    };
    let mut warnings = Vec::new();
    let (mut any_optional, mut groups, mut nodefaults) = (false, 0usize, 0usize);
    let mut sections = 0;
    for p in ks.packages() {
        sections += 1;
        let h = &p.header;
        if h.flag("nocore") {
            req.want_core = false;
        }
        if h.flag("excludedocs") {
            push_unique(&mut req.setopts, "tsflags=nodocs");
        }
        if h.flag("ignoremissing") {
            push_unique(&mut req.setopts, "strict=0");
        }
        if h.flag("excludeWeakdeps") || h.flag("exclude-weakdeps") {
            push_unique(&mut req.setopts, "install_weak_deps=0");
        }
        if h.flag("multilib") {
            push_unique(&mut req.setopts, "multilib_policy=all");
        }
        if let Some(l) = h.value("inst-langs").or_else(|| h.value("instLangs")) {
            if l.contains(['\n', '\r', '%']) {
                return Err(BuildError::Input(format!(
                    "%packages --inst-langs={l:?} is not a language list"
                )));
            }
            req.install_langs = Some(l.to_owned());
        }
        for e in p.entries() {
            match e {
                PackageEntry::Blank => {}
                PackageEntry::Package(n) => req.specs.push(n.clone()),
                PackageEntry::Group {
                    name,
                    optional,
                    nodefaults: nd,
                } => {
                    groups += 1;
                    any_optional |= optional;
                    nodefaults += usize::from(*nd);
                    req.specs.push(format!("@{name}"));
                }
                PackageEntry::Environment(n) => req.specs.push(format!("@^{n}")),
                PackageEntry::Exclude(n) => req.excludes.push(n.clone()),
                PackageEntry::ExcludeGroup(g) => warnings.push(format!(
                    "%packages: -@{g} is ignored: dnf cannot exclude a group's packages; exclude them by name"
                )),
                PackageEntry::Include(path) => {
                    return Err(BuildError::Input(format!(
                        "%packages still has `%include {path}`: the kickstart was not flattened"
                    )));
                }
            }
        }
    }
    if sections == 0 {
        return Err(BuildError::Input(
            "the kickstart has no %packages section: nothing to install".into(),
        ));
    }
    if any_optional {
        req.setopts
            .push("group_package_types=mandatory,default,optional".into());
    } else if groups > 0 && nodefaults == groups {
        req.setopts.push("group_package_types=mandatory".into());
    } else if nodefaults > 0 {
        warnings.push(
            "%packages: --nodefaults is ignored because other groups want their default packages (dnf has one setting for all groups)".into(),
        );
    }
    Ok((req, warnings))
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> Result<(PackageRequest, Vec<String>), BuildError> {
        from_kickstart(&Kickstart::parse(text, "t.ks").expect("parses"))
    }

    #[test]
    fn entries_and_header_options_become_dnf_arguments() {
        let (r, w) = req("%packages --excludedocs --nocore --inst-langs=en:de\n\
             fbs-test-app\nkernel*\n@base-x --optional\n@^workstation\n-gnome-tour\n-@printing\n%end\n")
        .expect("ok");
        assert_eq!(
            r.specs,
            ["fbs-test-app", "kernel*", "@base-x", "@^workstation"]
        );
        assert!(!r.want_core);
        assert_eq!(r.install_langs.as_deref(), Some("en:de"));
        assert_eq!(
            r.options(),
            [
                "--exclude=gnome-tour",
                "--setopt=tsflags=nodocs",
                "--setopt=group_package_types=mandatory,default,optional"
            ]
        );
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn no_packages_section_is_an_input_error() {
        let e = req("lang en_US\n").expect_err("refused");
        assert!(e.to_string().contains("no %packages"), "{e}");
        let (r, _) = req("%packages\n@core --nodefaults\n%end\n").expect("ok");
        assert!(r.want_core);
        assert_eq!(r.setopts, ["group_package_types=mandatory"]);
    }
}
