//! The packages each role needs (`deploy/packages.toml`, compiled in) and the exact
//! package-manager commands that check for them and install the missing ones, per
//! distribution family. Nothing here touches a firewall or SELinux.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::remote::quote;

const PACKAGES: &str = include_str!("../../../deploy/packages.toml");

/// A distribution family with one package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Debian, Ubuntu: dpkg + apt-get.
    Debian,
    /// Fedora, RHEL, CentOS: rpm + dnf.
    Fedora,
}

impl Family {
    /// Both families, for `--dry-run`.
    pub const ALL: [Family; 2] = [Family::Debian, Family::Fedora];

    /// The family of an `/etc/os-release` `ID` and `ID_LIKE`.
    pub fn detect(id: &str, id_like: &str) -> Option<Family> {
        let words: Vec<&str> = std::iter::once(id)
            .chain(id_like.split_whitespace())
            .collect();
        if words.iter().any(|w| matches!(*w, "debian" | "ubuntu")) {
            Some(Family::Debian)
        } else if words
            .iter()
            .any(|w| matches!(*w, "fedora" | "rhel" | "centos" | "rocky" | "almalinux"))
        {
            Some(Family::Fedora)
        } else {
            None
        }
    }

    /// `debian` or `fedora`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Debian => "debian",
            Family::Fedora => "fedora",
        }
    }
}

/// A role's package set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Set {
    /// The builder's tools (workers).
    Builder,
    /// The master's.
    Webapp,
    /// The Redis server (the default broker's host).
    Broker,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lists {
    builder: Vec<String>,
    webapp: Vec<String>,
    broker: Vec<String>,
}

fn lists() -> BTreeMap<String, Lists> {
    // The file is compiled in and checked by a unit test, so this cannot fail at run time.
    toml::from_str(PACKAGES).unwrap_or_default()
}

/// The packages of `sets` on `family`, in order, without repeats.
pub fn packages(family: Family, sets: &[Set]) -> Vec<String> {
    let all = lists();
    let Some(l) = all.get(family.as_str()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for s in sets {
        let list = match s {
            Set::Builder => &l.builder,
            Set::Webapp => &l.webapp,
            Set::Broker => &l.broker,
        };
        for p in list {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
    }
    out
}

/// The script printing the names of the packages that are not installed.
pub fn missing_script(family: Family, pkgs: &[String]) -> String {
    let list = pkgs.iter().map(quote).collect::<Vec<_>>().join(" ");
    match family {
        Family::Debian => format!(
            "dpkg-query -W -f='${{Package}} ${{Status}}\\n' {list} 2>/dev/null | awk -v want='{list}' \
             'BEGIN {{ n = split(want, w, \" \") }} / install ok installed$/ {{ ok[$1] = 1 }} END {{ for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }}'"
        ),
        Family::Fedora => format!(
            "rpm -q --qf '%{{NAME}}\\n' {list} 2>/dev/null | sed -n 's/^package \\(.*\\) is not installed$/\\1/p'"
        ),
    }
}

/// The command installing `pkgs`.
pub fn install_command(family: Family, pkgs: &[String]) -> String {
    let list = pkgs.iter().map(quote).collect::<Vec<_>>().join(" ");
    match family {
        Family::Debian => format!(
            "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {list}"
        ),
        Family::Fedora => format!("dnf install -y --setopt=install_weak_deps=False {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_file_parses_and_has_every_family() {
        let all: BTreeMap<String, Lists> = toml::from_str(PACKAGES).expect("deploy/packages.toml");
        for f in Family::ALL {
            assert!(all.contains_key(f.as_str()), "{f:?}");
            assert!(!packages(f, &[Set::Builder]).is_empty());
        }
        assert_eq!(packages(Family::Debian, &[Set::Broker]), ["redis-server"]);
        assert_eq!(packages(Family::Fedora, &[Set::Broker]), ["redis"]);
    }

    #[test]
    fn the_debian_builder_list_matches_the_test_environment() {
        let script = include_str!("../../../scripts/testenv.sh");
        let start = script
            .find("BUILDER_APT_PACKAGES=(")
            .expect("array in testenv.sh");
        let body = &script[start..];
        let body = &body[body.find('(').unwrap_or(0) + 1..body.find("\n)").unwrap_or(0)];
        let from_script: Vec<String> = body
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect();
        assert_eq!(packages(Family::Debian, &[Set::Builder]), from_script);
    }

    #[test]
    fn families_are_detected_from_os_release() {
        assert_eq!(Family::detect("debian", ""), Some(Family::Debian));
        assert_eq!(Family::detect("ubuntu", "debian"), Some(Family::Debian));
        assert_eq!(Family::detect("fedora", ""), Some(Family::Fedora));
        assert_eq!(
            Family::detect("rocky", "rhel centos fedora"),
            Some(Family::Fedora)
        );
        assert_eq!(Family::detect("arch", ""), None);
    }

    #[test]
    fn commands_check_then_install_only_what_is_missing() {
        let pk = vec!["xorriso".to_owned(), "isomd5sum".to_owned()];
        assert!(missing_script(Family::Debian, &pk).contains("dpkg-query -W"));
        assert!(missing_script(Family::Fedora, &pk).starts_with("rpm -q"));
        assert!(install_command(Family::Fedora, &pk).starts_with("dnf install -y"));
        assert!(install_command(Family::Debian, &pk).contains("apt-get install -y"));
    }
}
