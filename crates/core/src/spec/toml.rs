//! The native TOML build spec (layout in the [parent module](super)): typed values, real
//! lists, defaults for everything that has a sane one, unknown keys rejected. Value rules are
//! the FBS INI ones; errors carry file, line, table and key like the INI reader's.

mod boot;
mod locate;
mod raw;

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::{At, Collector, SpecErrors};
use super::model::{
    Arch, BuildSpec, DvdOptions, DvdStage, ImageOptions, ImageType, KickstartSource, KojiBuilds,
    LiveOptions,
};
use super::validate as v;
use super::{KeyLocation, LoadedSpec};
use raw::{RawDvd, RawKoji, RawLive, RawSpec, S, Text};

/// Reads a TOML spec.
pub(super) fn read(bytes: &[u8], file: &Path) -> Result<LoadedSpec, SpecErrors> {
    let mut errs = Collector::new(file);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes.iter().take(at).filter(|&&b| b == b'\n').count();
            let byte = bytes.get(at).copied().unwrap_or_default();
            let msg = format!("not valid UTF-8 (byte 0x{byte:02x}); the file must be UTF-8 text");
            errs.push(
                At {
                    line: Some(line),
                    ..At::default()
                },
                msg,
            );
            return errs.finish(None);
        }
    };
    let raw: RawSpec = match ::toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let (line, section, key) = match e.span() {
                Some(span) => locate::locate(text, span),
                None => (None, None, None),
            };
            let message = shorten(&e.message().trim().replace('\n', " "));
            let at = At {
                line,
                section: section.as_deref(),
                key: key.as_deref(),
            };
            errs.push(at, message);
            return errs.finish(None);
        }
    };
    let mut reader = Reader {
        text,
        errs,
        dir: v::spec_dir(file),
        kickstart_at: None,
    };
    let spec = reader.spec(raw);
    let kickstart_at = reader.kickstart_at.take();
    reader.errs.finish(spec).map(|spec| LoadedSpec {
        spec,
        warnings: Vec::new(),
        path: file.to_owned(),
        kickstart_at,
    })
}

/// A table: its name (`None` for the top level) and the line of its header.
#[derive(Debug, Clone, Copy)]
struct Table {
    name: Option<&'static str>,
    line: usize,
}

impl Table {
    fn at(self, line: usize, key: &'static str) -> At<'static> {
        At {
            line: Some(line),
            section: self.name,
            key: Some(key),
        }
    }
}

struct Reader<'t> {
    text: &'t str,
    errs: Collector,
    dir: PathBuf,
    kickstart_at: Option<KeyLocation>,
}

impl Reader<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        locate::line_of(self.text, span.start)
    }

    /// A table's header line.
    fn table<T>(&self, name: &'static str, table: &S<T>) -> Table {
        Table {
            name: Some(name),
            line: self.line(&table.span()),
        }
    }

    /// A non-empty string and its line; `None` (and a "missing" error when `required`) else.
    fn get(
        &mut self,
        field: Option<S<String>>,
        table: Table,
        key: &'static str,
        required: bool,
    ) -> Option<(String, usize)> {
        match field {
            Some(f) if !f.get_ref().is_empty() => {
                let line = self.line(&f.span());
                Some((f.into_inner(), line))
            }
            _ => {
                if required {
                    self.errs.push(table.at(table.line, key), "missing");
                }
                None
            }
        }
    }

    /// Checks a value found by [`Reader::get`].
    fn check<T>(
        &mut self,
        value: Option<(String, usize)>,
        table: Table,
        key: &'static str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (text, line) = value?;
        self.errs.check(table.at(line, key), check(&text))
    }

    fn text_or(
        &mut self,
        f: Option<S<String>>,
        t: Table,
        key: &'static str,
        default: &str,
    ) -> Option<String> {
        match self.get(f, t, key, false) {
            Some(value) => self.check(Some(value), t, key, v::text),
            None => Some(default.to_owned()),
        }
    }

    fn spec(&mut self, raw: RawSpec) -> Option<BuildSpec> {
        let top = Table {
            name: None,
            line: 1,
        };
        let ty = self.image_type(&raw, top);
        let arch = self.get(raw.arch, top, "arch", true);
        let arch = self.check(arch, top, "arch", str::parse::<Arch>);
        let release = self.get(raw.release.map(text), top, "release", true);
        let release = self.check(release, top, "release", v::release);
        let staging = self.get(raw.staging, top, "staging", true);
        let staging = self.check(staging, top, "staging", v::staging);
        let staging_layout = match self.get(raw.staging_layout, top, "staging_layout", false) {
            Some(l) => self.check(Some(l), top, "staging_layout", v::staging_layout),
            None => Some(Default::default()),
        };
        let email = self.get(raw.email, top, "email", true);
        let email = self.check(email, top, "email", v::email);
        let builder = match self.get(raw.builder, top, "builder", false) {
            Some(b) => self.check(Some(b), top, "builder", |s| v::builder(s, ty)),
            None => Some(Default::default()),
        };
        let source_date_epoch = match raw.source_date_epoch {
            Some(n) => {
                let at = top.at(self.line(&n.span()), "source_date_epoch");
                self.errs.check(at, v::epoch(n.into_inner())).map(Some)
            }
            None => Some(None),
        };
        let koji = raw.koji.map(|k| self.koji(k));
        let rel = release.clone().unwrap_or_default();
        for (name, present) in [
            ("boot", raw.boot.as_ref().map(|t| t.span())),
            ("dvd", raw.dvd.as_ref().map(|t| t.span())),
            ("live", raw.live.as_ref().map(|t| t.span())),
        ] {
            if let (Some(span), Some(ty)) = (present, ty)
                && ty.as_str() != name
            {
                let at = At {
                    line: Some(self.line(&span)),
                    section: Some(name),
                    key: None,
                };
                self.errs
                    .push(at, format!("table given, but the spec's type is {ty}"));
            }
        }
        let image = match ty? {
            ImageType::Boot => self.boot(raw.boot, &rel).map(ImageOptions::Boot),
            ImageType::Dvd => self.dvd(raw.dvd, &rel).map(ImageOptions::Dvd),
            ImageType::Live => self.live(raw.live, &rel).map(ImageOptions::Live),
        };
        Some(BuildSpec {
            arch: arch?,
            release: release?,
            staging: staging?,
            staging_layout: staging_layout?,
            email: email?,
            koji: koji.unwrap_or(Some(KojiBuilds::default()))?,
            builder: builder?,
            source_date_epoch: source_date_epoch?,
            image: image?,
        })
    }

    /// `type`, or the one image table given.
    fn image_type(&mut self, raw: &RawSpec, top: Table) -> Option<ImageType> {
        if let Some(t) = &raw.image_type {
            let value = Some((t.get_ref().clone(), self.line(&t.span())));
            return self.check(value, top, "type", str::parse::<ImageType>);
        }
        let given: Vec<ImageType> = [
            (raw.boot.is_some(), ImageType::Boot),
            (raw.dvd.is_some(), ImageType::Dvd),
            (raw.live.is_some(), ImageType::Live),
        ]
        .into_iter()
        .filter_map(|(present, ty)| present.then_some(ty))
        .collect();
        match given.as_slice() {
            [ty] => Some(*ty),
            _ => {
                let msg = "missing (boot, dvd or live; it may be left out when exactly one \
                           [boot], [dvd] or [live] table is given)";
                self.errs.push(top.at(1, "type"), msg);
                None
            }
        }
    }

    fn koji(&mut self, koji: S<RawKoji>) -> Option<KojiBuilds> {
        let t = self.table("koji", &koji);
        let koji = koji.into_inner();
        let mut ok = true;
        let mut out = KojiBuilds::default();
        for nvr in koji.nvrs {
            let at = t.at(self.line(&nvr.span()), "nvrs");
            match self.errs.check(at, v::nvr(nvr.get_ref())) {
                Some(n) => out.nvrs.push(n),
                None => ok = false,
            }
        }
        for id in koji.build_ids {
            let at = t.at(self.line(&id.span()), "build_ids");
            match self.errs.check(at, v::build_id_number(*id.get_ref())) {
                Some(n) => out.build_ids.push(n),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// An image table required by the spec's type.
    fn required_table<T>(&mut self, table: Option<S<T>>, name: &'static str) -> Option<(Table, T)> {
        match table {
            Some(table) => Some((self.table(name, &table), table.into_inner())),
            None => {
                let at = At {
                    line: Some(1),
                    section: Some(name),
                    key: None,
                };
                self.errs
                    .push(at, format!("missing: a {name} spec needs a [{name}] table"));
                None
            }
        }
    }

    fn flag(&mut self, f: Option<S<bool>>) -> (Option<bool>, Option<usize>) {
        match f {
            Some(f) => (Some(*f.get_ref()), Some(self.line(&f.span()))),
            None => (None, None),
        }
    }

    fn dvd(&mut self, dvd: Option<S<RawDvd>>, rel: &str) -> Option<DvdOptions> {
        let (t, d) = self.required_table(dvd, "dvd")?;
        let name = self.text_or(d.name, t, "name", "Fedora");
        let version = self.text_or(d.version.map(text), t, "version", rel);
        let flavor = self.text_or(d.flavor, t, "flavor", "Fedora");
        let bugurl = self.get(d.bugurl, t, "bugurl", false);
        let bugurl = match bugurl {
            Some(b) => self.check(Some(b), t, "bugurl", v::text).map(Some),
            None => Some(None),
        };
        let stage = match self.get(d.stage, t, "stage", false) {
            Some(s) => self.check(Some(s), t, "stage", v::stage),
            None => Some(DvdStage::All),
        };
        let kickstart = self.kickstart(d.kickstart, t);
        Some(DvdOptions {
            name: name?,
            version: version?,
            flavor: flavor?,
            bugurl: bugurl?,
            nosource: self.flag(d.nosource).0.unwrap_or(false),
            sourceisos: self.flag(d.sourceisos).0.unwrap_or(false),
            force: self.flag(d.force).0.unwrap_or(false),
            stage: stage?,
            kickstart: kickstart?,
        })
    }

    /// `kickstart`: the kickstart, and where it is named.
    fn kickstart(&mut self, f: Option<S<String>>, t: Table) -> Option<KickstartSource> {
        let ks = self.get(f, t, "kickstart", true)?;
        self.kickstart_at = Some(KeyLocation {
            line: ks.1,
            section: t.name.map(str::to_owned),
            key: "kickstart".to_owned(),
        });
        let dir = self.dir.clone();
        self.check(Some(ks), t, "kickstart", |s| v::kickstart(s, &dir))
    }

    fn live(&mut self, live: Option<S<RawLive>>, rel: &str) -> Option<LiveOptions> {
        let (t, l) = self.required_table(live, "live")?;
        let label = self.get(l.label, t, "label", true);
        let label = self.check(label, t, "label", v::label);
        let title = match self.get(l.title, t, "title", false) {
            Some(title) => self.check(Some(title), t, "title", v::text),
            None => label.clone(),
        };
        let product = self.text_or(l.product, t, "product", "Fedora");
        let releasever = self.text_or(l.releasever.map(text), t, "releasever", rel);
        let kickstart = self.kickstart(l.kickstart, t);
        Some(LiveOptions {
            label: label?,
            title: title?,
            product: product?,
            releasever: releasever?,
            kickstart: kickstart?,
        })
    }
}

/// A string-or-integer as a string, keeping its span.
fn text(t: S<Text>) -> S<String> {
    let span = t.span();
    S::new(span, t.into_inner().0)
}

/// A message cut to a readable length (toml quotes whole keys, which may be huge).
fn shorten(message: &str) -> String {
    const MAX: usize = 240;
    match message.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &message[..i]),
        None => message.to_owned(),
    }
}
