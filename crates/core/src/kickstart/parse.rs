//! The kickstart reader: a line-at-a-time state machine that mirrors pykickstart's
//! `KickstartParser` (which lines are comments, where sections start and end, where
//! `%include` is honoured), so fbs and anaconda agree on a kickstart's structure.
//!
//! Lines are pushed one at a time with their place, which lets the flattener feed the lines
//! of several files through one reader and decide itself what an `%include` becomes.

use super::error::{KsError, Loc};
use super::lex::{self, Word};
use super::model::{
    Command, CommandKind, Header, Include, Item, Kickstart, OtherSection, PackageEntry,
    PackageLine, Packages, Script, ScriptKind,
};
use super::options::{self, OptSpec};

/// Sections pykickstart knows (its `setupSections`); any other `%word` at command level is an
/// error, as it is for pykickstart.
const SECTIONS: [&str; 9] = [
    "%pre",
    "%pre-install",
    "%post",
    "%onerror",
    "%traceback",
    "%packages",
    "%certificate",
    "%addon",
    "%anaconda",
];

/// What the reader made of a pushed line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The line was taken.
    Taken,
    /// The line is `%include PATH` (or `%ksappend PATH` at command level) and was not taken:
    /// the caller inlines the file or calls [`Parser::keep_include`].
    Include {
        /// The path or URL.
        path: String,
        /// True for `%ksappend`.
        ksappend: bool,
    },
}

#[derive(Debug)]
struct Open {
    at: Loc,
    serial: u64,
    item: Item,
}

/// The reader's state between lines.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    items: Vec<Item>,
    open: Option<Open>,
    serial: u64,
    /// For each file being included: the serial of the section open when it started.
    guards: Vec<Option<u64>>,
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn words(line: &str, comments: bool, at: &Loc) -> Result<Vec<Word>, KsError> {
    lex::split(line, comments).map_err(|error| KsError::Quoting {
        at: at.clone(),
        error,
    })
}

fn header(raw: &str, words: &[Word], spec: &OptSpec, at: &Loc) -> Result<Header, KsError> {
    let name = words.first().map(|w| w.text.clone()).unwrap_or_default();
    let (options, args) =
        options::parse_opts(words.get(1..).unwrap_or_default(), spec).map_err(|message| {
            KsError::Invalid {
                at: at.clone(),
                message: format!("{name}: {message}"),
            }
        })?;
    Ok(Header {
        raw: raw.to_string(),
        name,
        options,
        args,
    })
}

/// Reads a command line already split into words.
pub(crate) fn command(raw: &str, words: Vec<Word>, at: &Loc) -> Result<Command, KsError> {
    let invalid = |message| KsError::Invalid {
        at: at.clone(),
        message,
    };
    let name = words.first().map_or("", |w| w.text.as_str());
    let rest = words.get(1..).unwrap_or_default();
    let kind = match name {
        "repo" => {
            let (opts, _) = options::parse_opts(rest, &options::REPO)
                .map_err(|m| invalid(format!("repo: {m}")))?;
            CommandKind::Repo(options::repo_from(&opts).map_err(invalid)?)
        }
        "url" => {
            let (opts, _) = options::parse_opts(rest, &options::URL)
                .map_err(|m| invalid(format!("url: {m}")))?;
            CommandKind::Url(options::url_from(&opts).map_err(invalid)?)
        }
        _ => CommandKind::Other,
    };
    Ok(Command {
        raw: raw.to_string(),
        words,
        kind,
    })
}

fn include_path(words: &[Word], at: &Loc) -> Result<String, KsError> {
    match words.get(1) {
        Some(w) if !w.text.is_empty() => Ok(w.text.clone()),
        _ => Err(KsError::Invalid {
            at: at.clone(),
            message: format!("{} needs a file name", words[0].text),
        }),
    }
}

impl Parser {
    /// Reads one line (with its line ending, if it has one).
    pub(crate) fn push(&mut self, raw: &str, at: &Loc) -> Result<Step, KsError> {
        if self.open.is_some() {
            return self.push_in_section(raw, at);
        }
        if is_blank_or_comment(raw) {
            self.items.push(Item::Blank(raw.to_string()));
            return Ok(Step::Taken);
        }
        let words = words(raw, true, at)?;
        let Some(first) = words.first().map(|w| w.text.as_str()) else {
            self.items.push(Item::Blank(raw.to_string()));
            return Ok(Step::Taken);
        };
        match first {
            "%include" | "%ksappend" => Ok(Step::Include {
                path: include_path(&words, at)?,
                ksappend: first == "%ksappend",
            }),
            "%end" => Err(KsError::StrayEnd { at: at.clone() }),
            s if s.starts_with('%') => {
                self.open_section(raw, &words, at)?;
                Ok(Step::Taken)
            }
            _ => {
                self.items.push(Item::Command(command(raw, words, at)?));
                Ok(Step::Taken)
            }
        }
    }

    fn open_section(&mut self, raw: &str, words: &[Word], at: &Loc) -> Result<(), KsError> {
        let name = words[0].text.as_str();
        if !SECTIONS.contains(&name) {
            return Err(KsError::UnknownSection {
                at: at.clone(),
                section: name.to_string(),
            });
        }
        let item = if let Some(kind) = ScriptKind::from_section(name) {
            Item::Script(Script {
                kind,
                header: header(raw, words, &options::SCRIPT, at)?,
                body: Vec::new(),
                end: String::new(),
            })
        } else if name == "%packages" {
            Item::Packages(Packages {
                header: header(raw, words, &options::PACKAGES, at)?,
                lines: Vec::new(),
                end: String::new(),
            })
        } else {
            Item::Section(OtherSection {
                header: header(raw, words, &options::ANY, at)?,
                body: Vec::new(),
                end: String::new(),
            })
        };
        self.serial += 1;
        self.open = Some(Open {
            at: at.clone(),
            serial: self.serial,
            item,
        });
        Ok(())
    }

    fn push_in_section(&mut self, raw: &str, at: &Loc) -> Result<Step, KsError> {
        let first = raw.split_whitespace().next().unwrap_or_default();
        if raw.trim_start().starts_with('%')
            && (first == "%end" || first == "%include" || SECTIONS.contains(&first))
        {
            // pykickstart splits these lines without treating `#` as a comment.
            let words = words(raw, false, at)?;
            let word = words.first().map_or("", |w| w.text.as_str());
            if word == "%include" {
                return Ok(Step::Include {
                    path: include_path(&words, at)?,
                    ksappend: false,
                });
            }
            if let Some(open) = self.open.take_if(|_| word == "%end") {
                if self.guards.last() == Some(&Some(open.serial)) {
                    return Err(KsError::SectionAcrossFiles {
                        at: at.clone(),
                        section: section_name(&open.item).to_string(),
                        open_at: open.at,
                    });
                }
                let mut item = open.item;
                set_end(&mut item, raw);
                self.items.push(item);
                return Ok(Step::Taken);
            }
            if SECTIONS.contains(&word)
                && let Some(open) = &self.open
            {
                return Err(KsError::NestedSection {
                    at: at.clone(),
                    section: word.to_string(),
                    open: section_name(&open.item).to_string(),
                    open_at: open.at.clone(),
                });
            }
        }
        self.body_line(raw, at)?;
        Ok(Step::Taken)
    }

    fn body_line(&mut self, raw: &str, at: &Loc) -> Result<(), KsError> {
        match self.open.as_mut().map(|o| &mut o.item) {
            Some(Item::Packages(p)) => {
                let entry = options::package_entry(raw).map_err(|message| KsError::Invalid {
                    at: at.clone(),
                    message,
                })?;
                p.lines.push(PackageLine {
                    raw: raw.to_string(),
                    entry,
                });
            }
            Some(Item::Script(s)) => s.body.push(raw.to_string()),
            Some(Item::Section(s)) => s.body.push(raw.to_string()),
            _ => {}
        }
        Ok(())
    }

    /// Keeps an include line the caller does not inline, where it stands.
    pub(crate) fn keep_include(&mut self, raw: &str, path: &str, ksappend: bool) {
        match self.open.as_mut().map(|o| &mut o.item) {
            None => self.items.push(Item::Include(Include {
                raw: raw.to_string(),
                path: path.to_string(),
                ksappend,
            })),
            Some(Item::Packages(p)) => p.lines.push(PackageLine {
                raw: raw.to_string(),
                entry: PackageEntry::Include(path.to_string()),
            }),
            Some(Item::Script(s)) => s.body.push(raw.to_string()),
            Some(Item::Section(s)) => s.body.push(raw.to_string()),
            Some(_) => {}
        }
    }

    /// The kind of script section open now, if any.
    pub(crate) fn open_script(&self) -> Option<ScriptKind> {
        match self.open.as_ref().map(|o| &o.item) {
            Some(Item::Script(s)) => Some(s.kind),
            _ => None,
        }
    }

    /// Marks the start of an included file's lines: sections open now cannot end in it.
    pub(crate) fn enter_include(&mut self) {
        self.guards.push(self.open.as_ref().map(|o| o.serial));
    }

    /// Marks the end of an included file: a section it opened must be closed by now.
    pub(crate) fn leave_include(&mut self) -> Result<(), KsError> {
        let guard = self.guards.pop().flatten();
        match &self.open {
            Some(open) if Some(open.serial) != guard => Err(KsError::Unterminated {
                at: open.at.clone(),
                section: section_name(&open.item).to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Ends the reading: every section must be closed.
    pub(crate) fn finish(self) -> Result<Kickstart, KsError> {
        if let Some(open) = self.open {
            return Err(KsError::Unterminated {
                at: open.at,
                section: section_name(&open.item).to_string(),
            });
        }
        Ok(Kickstart { items: self.items })
    }
}

fn section_name(item: &Item) -> &str {
    match item {
        Item::Packages(p) => &p.header.name,
        Item::Script(s) => &s.header.name,
        Item::Section(s) => &s.header.name,
        _ => "",
    }
}

fn set_end(item: &mut Item, raw: &str) {
    match item {
        Item::Packages(p) => p.end = raw.to_string(),
        Item::Script(s) => s.end = raw.to_string(),
        Item::Section(s) => s.end = raw.to_string(),
        _ => {}
    }
}

impl Kickstart {
    /// Reads a kickstart from text; `file` names it in errors. `%include` lines are kept as
    /// they are (see [`super::flatten_file`] to inline them).
    pub fn parse(text: &str, file: &str) -> Result<Kickstart, KsError> {
        let mut parser = Parser::default();
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            if let Step::Include { path, ksappend } = parser.push(raw, &Loc::new(file, n + 1))? {
                parser.keep_include(raw, &path, ksappend);
            }
        }
        parser.finish()
    }
}
