//! The kickstart as fbs holds it: every line kept as written (so rendering round-trips
//! exactly), with the parts fbs reads — `repo`, `url`, `%packages`, scripts — parsed beside.

use std::fmt;

use super::lex::Word;
use super::options::Opt;

/// A kickstart: its lines in order, grouped into items. `to_string()` gives back the text
/// it was parsed from, byte for byte, until it is edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kickstart {
    /// The items in file order.
    pub items: Vec<Item>,
}

/// One line, or one section from its header to its `%end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A blank line or a `#` comment, as written.
    Blank(String),
    /// A command line (`repo`, `url`, `lang`, `part`, …).
    Command(Command),
    /// An `%include` or `%ksappend` line left in place (an unflattened kickstart, or an
    /// include of a file that `%pre` writes at install time).
    Include(Include),
    /// A `%packages` section.
    Packages(Packages),
    /// A `%pre`, `%pre-install`, `%post`, `%onerror` or `%traceback` section.
    Script(Script),
    /// Another section pykickstart knows but fbs does not read (`%certificate`, `%addon`,
    /// `%anaconda`), kept as written.
    Section(OtherSection),
}

/// A command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub(crate) raw: String,
    pub(crate) words: Vec<Word>,
    pub(crate) kind: CommandKind,
}

/// What fbs understood of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    /// `repo …`.
    Repo(Repo),
    /// `url …`, the installation source.
    Url(UrlCommand),
    /// Any other command, kept as written.
    Other,
}

impl Command {
    /// The line as written, line ending included.
    pub fn text(&self) -> &str {
        &self.raw
    }

    /// The command word (`repo`, `lang`, …).
    pub fn name(&self) -> &str {
        self.words.first().map_or("", |w| w.text.as_str())
    }

    /// The words after the command word, quotes removed and comments dropped.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.words.iter().skip(1).map(|w| w.text.as_str())
    }

    /// What fbs understood of it.
    pub fn kind(&self) -> &CommandKind {
        &self.kind
    }

    /// The repository, for a `repo` line.
    pub fn repo(&self) -> Option<&Repo> {
        match &self.kind {
            CommandKind::Repo(r) => Some(r),
            _ => None,
        }
    }
}

/// Where a repository (or the installation source) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoSource {
    /// `--baseurl=` (for `url`: `--url=`).
    Baseurl(String),
    /// `--mirrorlist=`.
    Mirrorlist(String),
    /// `--metalink=`.
    Metalink(String),
}

impl RepoSource {
    /// The URL, whatever its kind. It may hold `$releasever` and `$basearch`.
    pub fn url(&self) -> &str {
        match self {
            RepoSource::Baseurl(u) | RepoSource::Mirrorlist(u) | RepoSource::Metalink(u) => u,
        }
    }
}

/// A `repo` line's options that fbs reads or writes; other options stay in the line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repo {
    /// `--name`.
    pub name: String,
    /// `--baseurl`, `--mirrorlist` or `--metalink`; none names a repo the installer knows.
    pub source: Option<RepoSource>,
    /// `--cost` (lower wins ties).
    pub cost: Option<i64>,
    /// `--excludepkgs`, split on commas.
    pub excludepkgs: Vec<String>,
    /// `--includepkgs`, split on commas.
    pub includepkgs: Vec<String>,
    /// `--proxy`.
    pub proxy: Option<String>,
    /// `--install`: also configure the repo on the installed system.
    pub install: bool,
    /// `--noverifyssl`.
    pub noverifyssl: bool,
}

/// The `url` command: where the installer finds the installation tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlCommand {
    /// `--url`, `--mirrorlist` or `--metalink`.
    pub source: Option<RepoSource>,
    /// `--proxy`.
    pub proxy: Option<String>,
    /// `--noverifyssl`.
    pub noverifyssl: bool,
}

/// An `%include PATH` or `%ksappend PATH` line kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub(crate) raw: String,
    /// The path or URL named.
    pub path: String,
    /// True for `%ksappend`.
    pub ksappend: bool,
}

impl Include {
    /// The line as written.
    pub fn text(&self) -> &str {
        &self.raw
    }
}

/// A section's header line: `%post --nochroot --log=/tmp/x.log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub(crate) raw: String,
    /// The section name with its `%`.
    pub name: String,
    /// `--options`, in order.
    pub options: Vec<Opt>,
    /// Words that are not options (an `%addon`'s name, …).
    pub args: Vec<String>,
}

impl Header {
    /// The line as written.
    pub fn text(&self) -> &str {
        &self.raw
    }

    /// The last value given for `--name` (as pykickstart, the last one wins).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|o| o.name == name)
            .and_then(|o| o.value.as_deref())
    }

    /// True when the option `--name` is present.
    pub fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|o| o.name == name)
    }
}

/// A `%packages` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packages {
    /// `%packages --excludedocs …`.
    pub header: Header,
    /// The lines between header and `%end`.
    pub lines: Vec<PackageLine>,
    pub(crate) end: String,
}

impl Packages {
    /// The entries that name something (blank and comment lines left out).
    pub fn entries(&self) -> impl Iterator<Item = &PackageEntry> {
        self.lines
            .iter()
            .map(|l| &l.entry)
            .filter(|e| !matches!(e, PackageEntry::Blank))
    }
}

/// One line of `%packages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLine {
    pub(crate) raw: String,
    /// What it asks for.
    pub entry: PackageEntry,
}

impl PackageLine {
    /// The line as written.
    pub fn text(&self) -> &str {
        &self.raw
    }
}

/// What a `%packages` line asks for (pykickstart's reading; text after `#` is a comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageEntry {
    /// A blank or comment line.
    Blank,
    /// A package name or glob.
    Package(String),
    /// `@group` (or `@module:stream`), with `--optional` / `--nodefaults`.
    Group {
        /// The group id or name (spaces allowed).
        name: String,
        /// `--optional`: the optional packages too.
        optional: bool,
        /// `--nodefaults`: the mandatory packages only.
        nodefaults: bool,
    },
    /// `@^environment`.
    Environment(String),
    /// `-package`.
    Exclude(String),
    /// `-@group`.
    ExcludeGroup(String),
    /// An `%include` left in place.
    Include(String),
}

/// Which script section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// `%pre`: before installation, in the installer.
    Pre,
    /// `%pre-install`: after partitioning, before packages.
    PreInstall,
    /// `%post`: after installation, in the new system unless `--nochroot`.
    Post,
    /// `%onerror`: when installation fails.
    OnError,
    /// `%traceback`: when the installer crashes.
    Traceback,
}

impl ScriptKind {
    /// The section name with its `%`.
    pub fn section(self) -> &'static str {
        match self {
            ScriptKind::Pre => "%pre",
            ScriptKind::PreInstall => "%pre-install",
            ScriptKind::Post => "%post",
            ScriptKind::OnError => "%onerror",
            ScriptKind::Traceback => "%traceback",
        }
    }

    /// The kind a section name starts, if it is a script section.
    pub fn from_section(name: &str) -> Option<Self> {
        Some(match name {
            "%pre" => ScriptKind::Pre,
            "%pre-install" => ScriptKind::PreInstall,
            "%post" => ScriptKind::Post,
            "%onerror" => ScriptKind::OnError,
            "%traceback" => ScriptKind::Traceback,
            _ => return None,
        })
    }
}

/// A script section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Which section.
    pub kind: ScriptKind,
    /// Its header.
    pub header: Header,
    /// The body lines as written, line endings included.
    pub body: Vec<String>,
    pub(crate) end: String,
}

impl Script {
    /// `--interpreter`, default `/bin/sh`.
    pub fn interpreter(&self) -> &str {
        self.header.value("interpreter").unwrap_or("/bin/sh")
    }

    /// `--nochroot` (meaningful for `%post`).
    pub fn nochroot(&self) -> bool {
        self.header.flag("nochroot")
    }

    /// `--erroronfail`.
    pub fn erroronfail(&self) -> bool {
        self.header.flag("erroronfail")
    }

    /// `--log` (or `--logfile`).
    pub fn log(&self) -> Option<&str> {
        self.header
            .options
            .iter()
            .rev()
            .find(|o| o.name == "log" || o.name == "logfile")
            .and_then(|o| o.value.as_deref())
    }

    /// The body as one string.
    pub fn body_text(&self) -> String {
        self.body.concat()
    }
}

/// A section fbs keeps without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherSection {
    /// Its header.
    pub header: Header,
    /// The body lines as written.
    pub body: Vec<String>,
    pub(crate) end: String,
}

impl fmt::Display for Kickstart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.iter().try_for_each(|i| write!(f, "{i}"))
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Blank(raw) => f.write_str(raw),
            Item::Command(c) => f.write_str(&c.raw),
            Item::Include(i) => f.write_str(&i.raw),
            Item::Packages(p) => {
                f.write_str(&p.header.raw)?;
                p.lines.iter().try_for_each(|l| f.write_str(&l.raw))?;
                f.write_str(&p.end)
            }
            Item::Script(s) => {
                f.write_str(&s.header.raw)?;
                s.body.iter().try_for_each(|l| f.write_str(l))?;
                f.write_str(&s.end)
            }
            Item::Section(s) => {
                f.write_str(&s.header.raw)?;
                s.body.iter().try_for_each(|l| f.write_str(l))?;
                f.write_str(&s.end)
            }
        }
    }
}
