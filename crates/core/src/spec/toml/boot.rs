//! `[boot]` in TOML: lorax's options and an explicit list of repositories.

use super::raw::{RawBoot, RawRepo, S};
use super::{Reader, Table, text};
use crate::spec::model::{BootOptions, Repo, RepoKind};
use crate::spec::validate as v;

impl Reader<'_> {
    pub(super) fn boot(&mut self, boot: Option<S<RawBoot>>, rel: &str) -> Option<BootOptions> {
        let (t, b) = self.required_table(boot, "boot")?;
        let product = self.text_or(b.product, t, "product", "Fedora");
        let version = self.text_or(b.version.map(text), t, "version", rel);
        let release = self.text_or(b.release.map(text), t, "release", rel);
        let proxy = self.get(b.proxy, t, "proxy", false);
        let proxy = proxy.map(|p| self.check(Some(p), t, "proxy", v::text));
        let repos = match b.repos {
            Some(list) if !list.get_ref().is_empty() => self.repos(t, list.into_inner()),
            _ => {
                self.errs
                    .push(t.at(t.line, "repos"), "missing: at least one repository");
                None
            }
        };
        let names: Vec<&str> = repos.iter().flatten().map(|r| r.name.as_str()).collect();
        let updates = self.updates_flag(b.updates, t, "updates", &names);
        let updates_testing = self.updates_flag(b.updates_testing, t, "updates_testing", &names);
        Some(BootOptions {
            product: product?,
            version: version?,
            release: release?,
            updates: updates?,
            updates_testing: updates_testing?,
            proxy: proxy.map_or(Some(None), |p| p.map(Some))?,
            repos: repos?,
        })
    }

    /// `updates`/`updates_testing`: defaults to whether the repo is listed; must agree with it.
    fn updates_flag(
        &mut self,
        f: Option<S<bool>>,
        t: Table,
        key: &'static str,
        names: &[&str],
    ) -> Option<bool> {
        let repo = key.replace('_', "-");
        let listed = names.contains(&repo.as_str());
        match self.flag(f) {
            (Some(flag), Some(line)) if flag != listed => {
                let msg = if flag {
                    format!("true, but no repo named `{repo}` is listed")
                } else {
                    format!("false, but a repo named `{repo}` is listed")
                };
                self.errs.push(t.at(line, key), msg);
                None
            }
            _ => Some(listed),
        }
    }

    fn repos(&mut self, t: Table, list: Vec<S<RawRepo>>) -> Option<Vec<Repo>> {
        let mut ok = true;
        let mut repos = Vec::new();
        for entry in list {
            let line = self.line(&entry.span());
            let entry = entry.into_inner();
            let here = Table { name: t.name, line };
            let name = self.get(entry.name, here, "repos.name", true);
            let name = self.check(name, here, "repos.name", v::text);
            let url = self.get(entry.url, here, "repos.url", true);
            let url = self.check(url, here, "repos.url", v::repo_url);
            let kind = match self.get(entry.kind, here, "repos.kind", false) {
                None => Some(RepoKind::Baseurl),
                Some(k) => self.check(Some(k), here, "repos.kind", |s| match s {
                    "baseurl" => Ok(RepoKind::Baseurl),
                    "mirrorlist" => Ok(RepoKind::Mirrorlist),
                    _ => Err(format!("{} is not baseurl or mirrorlist", v::quote(s))),
                }),
            };
            match (name, url, kind) {
                (Some(name), Some(url), Some(kind)) => repos.push(Repo { name, url, kind }),
                _ => ok = false,
            }
        }
        ok.then_some(repos)
    }
}
