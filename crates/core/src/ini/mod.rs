//! The INI dialect of the 2012 service's files: Python 3.11 `configparser.ConfigParser` with
//! `interpolation=None` and its default, strict settings.
//!
//! The old tool read build specs and `deploy.conf` with Python's `configparser`, so users' files
//! are written against its exact behaviour. This module reproduces `RawConfigParser._read`
//! rule for rule (a test compares its reading with python3's on a corpus):
//!
//! - `key = value` or `key: value`; the first `=` or `:` on the line splits it;
//! - keys are stripped and lowercased, values stripped; no quotes, no `%` interpolation;
//! - whole-line comments start with `#` or `;` after leading whitespace; there are no inline
//!   comments (`nvr=a;b;` keeps its `;`);
//! - a line indented deeper than its option line continues the value (joined with `\n`); empty
//!   lines inside a value are kept, trailing ones dropped;
//! - a section header is `[name]` at the start of the stripped line, up to its last `]`
//!   (`[a] junk` is section `a`); `[DEFAULT]` keys are inherited by every section;
//! - a duplicate section, a duplicate key in a section, a key before any section header, a key
//!   with an empty name and a line that is neither a header nor `key = value` are errors;
//! - lines end in `\n`, `\r\n` or a lone `\r`; the input must be UTF-8.
//!
//! Unlike Python, the reader keeps the line of every section and key, so callers can report
//! `file:line` for values they reject, and it reports every syntax error it finds (up to
//! [`MAX_ERRORS`]) instead of stopping at the first.

mod error;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use error::{IniError, IniErrorKind, IniErrors};
pub(crate) use parse::is_py_space;

/// The name of the section whose keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// The reader stops after this many errors (a binary file would otherwise yield one per line).
pub const MAX_ERRORS: usize = 50;

/// One `key = value` of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, stripped and lowercased (Python's `optionxform`).
    pub key: String,
    /// The value, stripped; continuation lines joined with `\n`.
    pub value: String,
    /// The 1-based line the key is on.
    pub line: usize,
}

/// A section and its own keys, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    name: String,
    line: Option<usize>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Section {
    fn new(name: &str, line: Option<usize>) -> Self {
        Section {
            name: name.to_owned(),
            line,
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The section's name as written (section names are case-sensitive).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The line of the section's (first) header; `None` for a `[DEFAULT]` the file never names.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The section's own keys, in file order (without inherited `[DEFAULT]` keys).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// One of the section's own keys; `key` must be lowercase.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    fn insert(&mut self, entry: Entry) {
        self.index.insert(entry.key.clone(), self.entries.len());
        self.entries.push(entry);
    }
}

/// A parsed INI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ini {
    defaults: Section,
    sections: Vec<Section>,
    index: HashMap<String, usize>,
}

impl Ini {
    /// Parses a whole file. On error, returns every problem found (at least one).
    pub fn parse(input: &[u8]) -> Result<Ini, IniErrors> {
        parse::parse(input)
    }

    /// The `[DEFAULT]` section (always present, possibly empty).
    pub fn defaults(&self) -> &Section {
        &self.defaults
    }

    /// Every section except `[DEFAULT]`, in file order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// A section by name (`DEFAULT` gives [`Ini::defaults`]).
    pub fn section(&self, name: &str) -> Option<&Section> {
        if name == DEFAULT_SECTION {
            return Some(&self.defaults);
        }
        self.index.get(name).map(|&i| &self.sections[i])
    }

    /// A key as `ConfigParser.get(section, key)` sees it: the section's own, else the
    /// `[DEFAULT]` one. `key` must be lowercase. `None` when the section or key is missing.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        let own = self.section(section)?;
        own.get(key).or_else(|| self.defaults.get(key))
    }

    /// A section's keys as `ConfigParser.items(section)` lists them: `[DEFAULT]` keys first (in
    /// their order, overridden values in place), then the section's other keys.
    pub fn items(&self, section: &str) -> Option<Vec<&Entry>> {
        let own = self.section(section)?;
        let mut out: Vec<&Entry> = self
            .defaults
            .entries
            .iter()
            .map(|d| own.get(&d.key).unwrap_or(d))
            .collect();
        out.extend(
            own.entries
                .iter()
                .filter(|e| self.defaults.get(&e.key).is_none()),
        );
        Some(out)
    }
}
