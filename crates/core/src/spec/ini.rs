//! The FBS INI build spec (the 2012 service's format): `[DEFAULT]` with type, arch, release,
//! staging and email, then the `[boot]`, `[dvd]` or `[live]` section of that type, which
//! inherits the `[DEFAULT]` keys. Keys, defaults and rules: reference/fbs-formats.md.

mod keys;

use std::path::Path;

use super::error::{At, Collector, SpecErrors};
use super::model::{
    Arch, BootOptions, BuildSpec, DvdOptions, DvdStage, ImageOptions, ImageType, KickstartSource,
    KojiBuilds, LiveOptions, Repo, RepoKind,
};
use super::validate as v;
use super::{KeyLocation, LoadedSpec};
use crate::ini::{DEFAULT_SECTION, Ini, IniError, IniErrorKind};
use keys::BOOT_REPOS;

/// Reads an FBS INI spec.
pub(super) fn read(text: &[u8], file: &Path) -> Result<LoadedSpec, SpecErrors> {
    let mut errs = Collector::new(file);
    let ini = match Ini::parse(text) {
        Ok(ini) => ini,
        Err(errors) => {
            for e in errors {
                syntax_error(&mut errs, &e);
            }
            return errs.finish(None);
        }
    };
    let mut reader = Reader {
        ini: &ini,
        errs,
        warnings: Vec::new(),
        kickstart_at: None,
    };
    let spec = reader.spec(&v::spec_dir(file));
    let (warnings, kickstart_at) = (reader.warnings, reader.kickstart_at);
    reader.errs.finish(spec).map(|spec| LoadedSpec {
        spec,
        warnings,
        path: file.to_owned(),
        kickstart_at,
    })
}

fn syntax_error(errs: &mut Collector, e: &IniError) {
    let (key, message) = match &e.kind {
        IniErrorKind::DuplicateOption { first_line, .. } => (
            e.key.as_deref(),
            format!("set twice (first on line {first_line})"),
        ),
        IniErrorKind::DuplicateSection { first_line, .. } => (
            None,
            format!("section appears twice (first on line {first_line})"),
        ),
        IniErrorKind::NoValue { .. } => (
            e.key.as_deref(),
            "has no value (write `key = value`)".to_owned(),
        ),
        kind => (None, kind.to_string()),
    };
    let at = At {
        line: Some(e.line),
        section: e.section.as_deref(),
        key,
    };
    errs.push(at, message);
}

/// A non-empty value and where it is.
#[derive(Debug, Clone, Copy)]
struct Val<'a> {
    text: &'a str,
    line: usize,
    section: &'a str,
    key: &'a str,
}

impl<'a> Val<'a> {
    fn at(&self) -> At<'a> {
        At::key(Some(self.line), self.section, self.key)
    }
}

struct Reader<'a> {
    ini: &'a Ini,
    errs: Collector,
    warnings: Vec<String>,
    kickstart_at: Option<KeyLocation>,
}

impl<'a> Reader<'a> {
    /// A key as ConfigParser's `get` sees it; an empty value counts as missing.
    fn lookup(&self, section: &str, key: &str) -> Option<Val<'a>> {
        let own = self.ini.section(section)?;
        let (entry, from) = match own.get(key) {
            Some(e) => (e, own.name()),
            None => (self.ini.defaults().get(key)?, DEFAULT_SECTION),
        };
        (!entry.value.is_empty()).then_some(Val {
            text: &entry.value,
            line: entry.line,
            section: from,
            key: &entry.key,
        })
    }

    fn section_line(&self, section: &str) -> Option<usize> {
        let line = self.ini.section(section).and_then(|s| s.line());
        // A file without a [DEFAULT] header: point at its start.
        line.or(Some(1))
    }

    fn required(&mut self, section: &str, key: &str) -> Option<Val<'a>> {
        let val = self.lookup(section, key);
        if val.is_none() {
            let line = self.section_line(section);
            self.errs.push(At::key(line, section, key), "missing");
        }
        val
    }

    /// Checks a one-line value.
    fn parse<T>(
        &mut self,
        val: Option<Val<'a>>,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let val = val?;
        let result = if val.text.contains('\n') {
            Err("must be on one line (an indented line after it continues the value)".to_owned())
        } else {
            check(val.text)
        };
        self.errs.check(val.at(), result)
    }

    fn text_or(&mut self, section: &str, key: &str, default: &str) -> Option<String> {
        match self.lookup(section, key) {
            Some(val) => self.parse(Some(val), v::text),
            None => Some(default.to_owned()),
        }
    }

    fn flag(&mut self, section: &str, key: &str) -> Option<bool> {
        match self.lookup(section, key) {
            Some(val) => self.parse(Some(val), v::flag),
            None => Some(false),
        }
    }

    /// A `;`-separated list whose items all pass `check`.
    fn list<T>(
        &mut self,
        section: &str,
        key: &str,
        check: fn(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let Some(val) = self.lookup(section, key) else {
            return Vec::new();
        };
        v::list(val.text)
            .filter_map(|item| self.errs.check(val.at(), check(item)))
            .collect()
    }

    fn spec(&mut self, dir: &Path) -> Option<BuildSpec> {
        let d = DEFAULT_SECTION;
        let type_val = self.required(d, "type");
        let ty = self.parse(type_val, str::parse::<ImageType>);
        let val = self.required(d, "arch");
        let arch = self.parse(val, str::parse::<Arch>);
        let val = self.required(d, "release");
        let release = self.parse(val, v::release);
        let val = self.required(d, "staging");
        let staging = self.parse(val, v::staging);
        let val = self.required(d, "email");
        let email = self.parse(val, v::email);

        let (ty, type_val) = (ty?, type_val?);
        let s = ty.as_str();
        if self.ini.section(s).is_none() {
            let msg = format!("type {s} needs a [{s}] section, and the file has none");
            self.errs.push(type_val.at(), msg);
            return None;
        }
        let rel = release.as_deref().unwrap_or_default();
        let koji = KojiBuilds {
            nvrs: self.list(s, "nvr", v::nvr),
            build_ids: self.list(s, "bid", v::build_id),
        };
        let val = self.lookup(s, "builder");
        let builder = match val {
            Some(_) => self.parse(val, |t| v::builder(t, Some(ty))),
            None => Some(Default::default()),
        };
        let val = self.lookup(s, "staging_layout");
        let staging_layout = match val {
            Some(_) => self.parse(val, v::staging_layout),
            None => Some(Default::default()),
        };
        let val = self.lookup(s, "source_date_epoch");
        let source_date_epoch = match val {
            Some(_) => self
                .parse(val, |t| {
                    t.parse::<i64>()
                        .map_err(|_| format!("{} is not a number of seconds", v::quote(t)))
                        .and_then(v::epoch)
                })
                .map(Some),
            None => Some(None),
        };
        let image = match ty {
            ImageType::Boot => self.boot(s, release.as_deref()).map(ImageOptions::Boot),
            ImageType::Dvd => self.dvd(s, rel, dir).map(ImageOptions::Dvd),
            ImageType::Live => self.live(s, rel, dir).map(ImageOptions::Live),
        };
        self.warn_keys(ty, rel);
        Some(BuildSpec {
            arch: arch?,
            release: release?,
            staging: staging?,
            staging_layout: staging_layout?,
            email: email?,
            koji,
            builder: builder?,
            source_date_epoch: source_date_epoch?,
            image: image?,
        })
    }

    fn boot(&mut self, s: &str, release: Option<&str>) -> Option<BootOptions> {
        let rel = release.unwrap_or_default();
        let product = self.text_or(s, "product", "Fedora");
        let version = self.text_or(s, "version", rel);
        let lorax_release = self.text_or(s, "release", rel);
        let updates = self.flag(s, "updates");
        let updates_testing = self.flag(s, "updates-testing");
        let val = self.lookup(s, "proxy");
        let proxy = self.parse(val, v::text);
        // Without a valid release the repository keys cannot be named.
        let repos = self.boot_repos(
            s,
            release?.to_lowercase(),
            [Some(true), updates, updates_testing],
        );
        Some(BootOptions {
            product: product?,
            version: version?,
            release: lorax_release?,
            updates: updates?,
            updates_testing: updates_testing?,
            repos: repos?,
            proxy,
        })
    }

    fn boot_repos(&mut self, s: &str, rel: String, wanted: [Option<bool>; 3]) -> Option<Vec<Repo>> {
        let mut repos = Vec::new();
        let mut ok = true;
        for ((name, infix), wanted) in BOOT_REPOS.into_iter().zip(wanted) {
            if wanted != Some(true) {
                continue;
            }
            let url_key = format!("{rel}{infix}_url");
            let mirror_key = format!("{rel}{infix}_mirror");
            let url = self.lookup(s, &url_key);
            let mirror = self.lookup(s, &mirror_key);
            if name == "fedora" && url.is_none() && mirror.is_none() {
                let line = self.section_line(s);
                let msg = format!("missing (a [{s}] spec needs {url_key} or {mirror_key})");
                self.errs.push(At::key(line, s, &url_key), msg);
                ok = false;
            } else if name != "fedora" && url.is_none() {
                let flag = self.lookup(s, name).map(|f| f.line);
                let line = flag.or_else(|| self.section_line(s));
                let msg = format!("missing ({name} = 1 needs it)");
                self.errs.push(At::key(line, s, &url_key), msg);
                ok = false;
            }
            for (val, kind) in [(url, RepoKind::Baseurl), (mirror, RepoKind::Mirrorlist)] {
                match self.parse(val, v::repo_url) {
                    Some(url) => repos.push(Repo {
                        name: name.to_owned(),
                        url,
                        kind,
                    }),
                    None => ok &= val.is_none(),
                }
            }
        }
        ok.then_some(repos)
    }

    fn dvd(&mut self, s: &str, rel: &str, dir: &Path) -> Option<DvdOptions> {
        let name = self.text_or(s, "name", "Fedora");
        let version = self.text_or(s, "version", rel);
        let flavor = self.text_or(s, "flavor", "Fedora");
        let val = self.lookup(s, "bugurl");
        let bugurl = self.parse(val, v::text);
        let nosource = self.flag(s, "nosource");
        let sourceisos = self.flag(s, "sourceisos");
        let force = self.flag(s, "force");
        let val = self.lookup(s, "stage");
        let stage = match val {
            Some(_) => self.parse(val, v::stage),
            None => Some(DvdStage::All),
        };
        let kickstart = self.kickstart(s, dir);
        Some(DvdOptions {
            name: name?,
            version: version?,
            flavor: flavor?,
            bugurl,
            nosource: nosource?,
            sourceisos: sourceisos?,
            force: force?,
            stage: stage?,
            kickstart: kickstart?,
        })
    }

    fn live(&mut self, s: &str, rel: &str, dir: &Path) -> Option<LiveOptions> {
        let val = self.required(s, "label");
        let label = self.parse(val, v::label);
        let title = match self.lookup(s, "title") {
            Some(val) => self.parse(Some(val), v::text),
            None => label.clone(),
        };
        let product = self.text_or(s, "product", "Fedora");
        let releasever = self.text_or(s, "releasever", rel);
        let kickstart = self.kickstart(s, dir);
        Some(LiveOptions {
            label: label?,
            title: title?,
            product: product?,
            releasever: releasever?,
            kickstart: kickstart?,
        })
    }

    /// `config`: the kickstart, and where it is named.
    fn kickstart(&mut self, s: &str, dir: &Path) -> Option<KickstartSource> {
        let val = self.required(s, "config")?;
        self.kickstart_at = Some(KeyLocation {
            line: val.line,
            section: Some(val.section.to_owned()),
            key: val.key.to_owned(),
        });
        self.parse(Some(val), |t| v::kickstart(t, dir))
    }
}
