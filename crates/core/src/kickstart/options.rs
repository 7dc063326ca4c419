//! Reading `--options` of commands and section headers the way pykickstart's argparse-based
//! option parser does (`--opt=value` or `--opt value`, unique prefixes accepted), and the
//! meaning of `repo`, `url` and `%packages` lines.

use super::lex::Word;
use super::model::{PackageEntry, Repo, RepoSource, UrlCommand};

/// One `--option` of a command or section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The option name without `--`, spelled out in full when an abbreviation was used.
    pub name: String,
    /// Its value, for options that take one.
    pub value: Option<String>,
    /// Byte range of the option (and its separate value word) in the line.
    pub(crate) span: (usize, usize),
}

/// Which options a command or header knows: those that take a value and flags.
#[derive(Debug)]
pub(crate) struct OptSpec {
    pub values: &'static [&'static str],
    pub flags: &'static [&'static str],
}

pub(crate) const REPO: OptSpec = OptSpec {
    values: &[
        "name",
        "baseurl",
        "mirrorlist",
        "metalink",
        "cost",
        "excludepkgs",
        "includepkgs",
        "proxy",
        "ignoregroups",
        "sslcacert",
        "sslclientcert",
        "sslclientkey",
    ],
    flags: &["noverifyssl", "install"],
};

pub(crate) const URL: OptSpec = OptSpec {
    values: &[
        "url",
        "mirrorlist",
        "metalink",
        "proxy",
        "sslcacert",
        "sslclientcert",
        "sslclientkey",
    ],
    flags: &["noverifyssl"],
};

pub(crate) const SCRIPT: OptSpec = OptSpec {
    values: &["interpreter", "log", "logfile"],
    flags: &["erroronfail", "nochroot"],
};

pub(crate) const PACKAGES: OptSpec = OptSpec {
    values: &["instLangs", "inst-langs", "timeout", "retries"],
    flags: &[
        "excludedocs",
        "ignoremissing",
        "nobase",
        "nocore",
        "multilib",
        "default",
        "resolvedeps",
        "ignoredeps",
        "excludeWeakdeps",
        "exclude-weakdeps",
        "ignorebroken",
    ],
};

/// Options unknown to fbs: `--x=y` has a value, a bare `--x` is a flag.
pub(crate) const ANY: OptSpec = OptSpec {
    values: &[],
    flags: &[],
};

impl OptSpec {
    /// The full name `given` stands for: itself, or the one known option it is a prefix of.
    fn resolve<'a>(&self, given: &'a str) -> (&'a str, Option<bool>) {
        let known = self.values.iter().map(|v| (*v, true));
        let known = known.chain(self.flags.iter().map(|f| (*f, false)));
        if let Some((_, takes)) = known.clone().find(|(n, _)| *n == given) {
            return (given, Some(takes));
        }
        let mut matches = known.filter(|(n, _)| n.starts_with(given));
        match (matches.next(), matches.next()) {
            (Some((n, takes)), None) if !given.is_empty() => (n, Some(takes)),
            _ => (given, None),
        }
    }
}

/// Splits `words` (the command or header word excluded) into options and other words.
pub(crate) fn parse_opts(
    words: &[Word],
    spec: &OptSpec,
) -> Result<(Vec<Opt>, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut args = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let Some(body) = w.text.strip_prefix("--").filter(|b| !b.is_empty()) else {
            args.push(w.text.clone());
            i += 1;
            continue;
        };
        let (given, inline) = match body.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (body, None),
        };
        let (name, takes_value) = spec.resolve(given);
        let mut end = w.end;
        let value = match (takes_value, inline) {
            (Some(true), Some(v)) => Some(v),
            (Some(true), None) => match words.get(i + 1) {
                Some(next) if !next.text.starts_with("--") => {
                    i += 1;
                    end = next.end;
                    Some(next.text.clone())
                }
                _ => return Err(format!("--{name} needs a value")),
            },
            (Some(false), Some(_)) => return Err(format!("--{name} takes no value")),
            (_, v) => v,
        };
        opts.push(Opt {
            name: name.to_string(),
            value,
            span: (w.start, end),
        });
        i += 1;
    }
    Ok((opts, args))
}

fn last<'a>(opts: &'a [Opt], name: &str) -> Option<&'a str> {
    opts.iter()
        .rev()
        .find(|o| o.name == name)
        .and_then(|o| o.value.as_deref())
}

fn has(opts: &[Opt], name: &str) -> bool {
    opts.iter().any(|o| o.name == name)
}

/// pykickstart's `commaSplit`: split on commas, trim, drop empty items.
pub(crate) fn comma_split(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn one_source(opts: &[Opt], names: [&str; 3], command: &str) -> Result<Option<RepoSource>, String> {
    let given: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| last(opts, n).is_some_and(|v| !v.is_empty()))
        .collect();
    if given.len() > 1 {
        let list: Vec<String> = given.iter().map(|n| format!("--{n}")).collect();
        return Err(format!(
            "only one of {} may be given to {command}",
            list.join(", ")
        ));
    }
    let Some(&n) = given.first() else {
        return Ok(None);
    };
    let v = last(opts, n).unwrap_or_default().to_string();
    Ok(Some(if n == names[0] {
        RepoSource::Baseurl(v)
    } else if n == names[1] {
        RepoSource::Mirrorlist(v)
    } else {
        RepoSource::Metalink(v)
    }))
}

/// The meaning of a `repo` line's options.
pub(crate) fn repo_from(opts: &[Opt]) -> Result<Repo, String> {
    let name = match last(opts, "name") {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => return Err("repo needs --name=NAME".to_string()),
    };
    let cost = match last(opts, "cost") {
        None => None,
        Some(c) => Some(
            c.trim()
                .parse::<i64>()
                .map_err(|_| format!("repo --cost={c} is not an integer"))?,
        ),
    };
    Ok(Repo {
        name,
        source: one_source(opts, ["baseurl", "mirrorlist", "metalink"], "repo")?,
        cost,
        excludepkgs: last(opts, "excludepkgs")
            .map(comma_split)
            .unwrap_or_default(),
        includepkgs: last(opts, "includepkgs")
            .map(comma_split)
            .unwrap_or_default(),
        proxy: last(opts, "proxy").map(String::from),
        install: has(opts, "install"),
        noverifyssl: has(opts, "noverifyssl"),
    })
}

/// The meaning of a `url` line's options.
pub(crate) fn url_from(opts: &[Opt]) -> Result<UrlCommand, String> {
    let source = one_source(opts, ["url", "mirrorlist", "metalink"], "url")?;
    if source.is_none() {
        return Err("url needs one of --url, --mirrorlist, --metalink".to_string());
    }
    Ok(UrlCommand {
        source,
        proxy: last(opts, "proxy").map(String::from),
        noverifyssl: has(opts, "noverifyssl"),
    })
}

/// The meaning of one `%packages` line, as pykickstart reads it (`#` starts a comment
/// anywhere in the line).
pub(crate) fn package_entry(line: &str) -> Result<PackageEntry, String> {
    let s = line.split('#').next().unwrap_or_default().trim();
    if s.is_empty() {
        return Ok(PackageEntry::Blank);
    }
    if let Some(env) = s.strip_prefix("@^") {
        return Ok(PackageEntry::Environment(env.to_string()));
    }
    if let Some(group) = s.strip_prefix('@') {
        let (mut optional, mut nodefaults) = (false, false);
        let mut name = Vec::new();
        for w in group.split_whitespace() {
            match w {
                _ if w.len() > 2 && "--optional".starts_with(w) => optional = true,
                _ if w.len() > 2 && "--nodefaults".starts_with(w) => nodefaults = true,
                _ => name.push(w),
            }
        }
        if optional && nodefaults {
            return Err(format!(
                "{s}: a group cannot have both --nodefaults and --optional"
            ));
        }
        return Ok(PackageEntry::Group {
            name: name.join(" "),
            optional,
            nodefaults,
        });
    }
    if let Some(ex) = s.strip_prefix('-') {
        if ex.is_empty() {
            return Err("a lone `-` excludes nothing".to_string());
        }
        return Ok(match ex.strip_prefix('@') {
            Some(g) => PackageEntry::ExcludeGroup(g.to_string()),
            None => PackageEntry::Exclude(ex.to_string()),
        });
    }
    Ok(PackageEntry::Package(s.to_string()))
}

#[cfg(test)]
#[expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]
mod tests {
    use super::super::lex::split;
    use super::*;

    fn opts(line: &str, spec: &OptSpec) -> Result<Vec<(String, Option<String>)>, String> {
        let words = split(line, true).unwrap();
        let (o, _) = parse_opts(&words[1..], spec)?;
        Ok(o.into_iter().map(|o| (o.name, o.value)).collect())
    }

    #[test]
    fn option_forms() {
        let o = opts(
            "repo --name a --base=http://x --noverifyssl --cost=5",
            &REPO,
        )
        .unwrap();
        assert_eq!(
            o,
            [
                ("name".into(), Some("a".into())),
                ("baseurl".into(), Some("http://x".into())),
                ("noverifyssl".into(), None),
                ("cost".into(), Some("5".into())),
            ]
        );
        assert!(opts("repo --name", &REPO).is_err());
        assert!(opts("repo --install=yes --name=a", &REPO).is_err());
        // `--m` is ambiguous (mirrorlist, metalink): kept as an unknown flag.
        assert_eq!(opts("repo --m", &REPO).unwrap(), [("m".into(), None)]);
    }

    #[test]
    fn repo_meaning() {
        let words = split(
            "repo --name=u --mirrorlist=http://m --excludepkgs=a,,b ,c --cost 7",
            true,
        )
        .unwrap();
        let (o, _) = parse_opts(&words[1..], &REPO).unwrap();
        let r = repo_from(&o).unwrap();
        assert_eq!(r.name, "u");
        assert_eq!(r.source, Some(RepoSource::Mirrorlist("http://m".into())));
        assert_eq!(r.excludepkgs, ["a", "b"]);
        assert_eq!(r.cost, Some(7));
        for bad in [
            "repo --baseurl=x",
            "repo --name=a --baseurl=x --metalink=y",
            "repo --name=a --cost=x",
        ] {
            let words = split(bad, true).unwrap();
            let (o, _) = parse_opts(&words[1..], &REPO).unwrap();
            assert!(repo_from(&o).is_err(), "{bad}");
        }
    }

    #[test]
    fn package_lines() {
        use PackageEntry::*;
        assert_eq!(
            package_entry("  bash  # shell\n"),
            Ok(Package("bash".into()))
        );
        assert_eq!(package_entry("# c"), Ok(Blank));
        assert_eq!(package_entry("kernel-*"), Ok(Package("kernel-*".into())));
        assert_eq!(
            package_entry("@^workstation-product-environment"),
            Ok(Environment("workstation-product-environment".into()))
        );
        assert_eq!(
            package_entry("@X Window System --optional"),
            Ok(Group {
                name: "X Window System".into(),
                optional: true,
                nodefaults: false
            })
        );
        assert_eq!(
            package_entry("-@printing"),
            Ok(ExcludeGroup("printing".into()))
        );
        assert_eq!(
            package_entry("-gnome-tour"),
            Ok(Exclude("gnome-tour".into()))
        );
        assert!(package_entry("@core --optional --nodefaults").is_err());
        assert!(package_entry("-").is_err());
    }
}
