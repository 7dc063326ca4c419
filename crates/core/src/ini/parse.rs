//! The reader: a line-by-line port of CPython 3.11's `RawConfigParser._read` with the default
//! settings (delimiters `=` and `:`, comment prefixes `#` and `;`, no inline comments, strict,
//! `empty_lines_in_values=True`, no valueless keys).

use std::collections::HashMap;

use super::error::{IniError, IniErrorKind, IniErrors, show};
use super::{DEFAULT_SECTION, Entry, Ini, MAX_ERRORS, Section};

/// Parses a whole file.
pub(super) fn parse(input: &[u8]) -> Result<Ini, IniErrors> {
    let text = match std::str::from_utf8(input) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            let error = IniError {
                line: line_at(input, at),
                section: None,
                key: None,
                kind: IniErrorKind::InvalidUtf8 {
                    byte: input.get(at).copied().unwrap_or_default(),
                },
            };
            return Err(IniErrors::one(error));
        }
    };
    let mut reader = Reader::default();
    for (i, line) in Lines(text).enumerate() {
        reader.line(i + 1, line);
        if reader.stopped {
            break;
        }
    }
    reader.finish()
}

/// Python's `str.isspace()` (also what `\s` and `str.strip()` use).
pub(crate) fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\x0b'
            | '\x0c'
            | '\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()` without arguments.
pub(super) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// The 1-based line that byte offset `at` is on, counting `\n`, `\r\n` and a lone `\r` as one
/// line end each (Python's universal newlines).
fn line_at(input: &[u8], at: usize) -> usize {
    let prefix = input.get(..at).unwrap_or(input);
    let mut line = 1;
    for (i, &b) in prefix.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && prefix.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// The lines of a text, without their ends; `\n`, `\r\n` and a lone `\r` end a line, and a
/// final line end does not start another line.
struct Lines<'a>(&'a str);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.0.is_empty() {
            return None;
        }
        let text = self.0;
        match text.find(['\n', '\r']) {
            None => {
                self.0 = "";
                Some(text)
            }
            Some(i) => {
                let end = if text[i..].starts_with("\r\n") {
                    i + 2
                } else {
                    i + 1
                };
                self.0 = &text[end..];
                Some(&text[..i])
            }
        }
    }
}

/// Which section lines go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cur {
    /// No header seen yet.
    None,
    /// `[DEFAULT]`.
    Default,
    /// A section, by index.
    Section(usize),
    /// The body of a duplicate section: checked, then dropped.
    Discard,
}

/// Where continuation lines go (Python's `optname`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// No option yet in this section, or an option with an empty name.
    None,
    /// The entry with this index in the current section.
    Entry(usize),
    /// A duplicate key: its continuation lines are dropped.
    Sink,
}

#[derive(Debug)]
struct Reader {
    defaults: Section,
    sections: Vec<Section>,
    index: HashMap<String, usize>,
    discard: Section,
    cur: Cur,
    target: Target,
    indent_level: usize,
    errors: Vec<IniError>,
    missing_header_reported: bool,
    stopped: bool,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            defaults: Section::new(DEFAULT_SECTION, None),
            sections: Vec::new(),
            index: HashMap::new(),
            discard: Section::new("", None),
            cur: Cur::None,
            target: Target::None,
            indent_level: 0,
            errors: Vec::new(),
            missing_header_reported: false,
            stopped: false,
        }
    }
}

impl Reader {
    fn section_mut(&mut self) -> Option<&mut Section> {
        match self.cur {
            Cur::None => None,
            Cur::Default => Some(&mut self.defaults),
            Cur::Section(i) => self.sections.get_mut(i),
            Cur::Discard => Some(&mut self.discard),
        }
    }

    fn section_name(&self) -> Option<String> {
        match self.cur {
            Cur::None => None,
            Cur::Default => Some(DEFAULT_SECTION.to_owned()),
            Cur::Section(i) => self.sections.get(i).map(|s| s.name.clone()),
            Cur::Discard => Some(self.discard.name.clone()),
        }
    }

    fn error(&mut self, line: usize, key: Option<String>, kind: IniErrorKind) {
        let section = self.section_name();
        self.errors.push(IniError {
            line,
            section,
            key,
            kind,
        });
        if self.errors.len() >= MAX_ERRORS {
            self.errors.push(IniError {
                line,
                section: None,
                key: None,
                kind: IniErrorKind::TooManyErrors,
            });
            self.stopped = true;
        }
    }

    fn append(&mut self, text: &str) {
        if let Target::Entry(i) = self.target
            && let Some(entry) = self.section_mut().and_then(|s| s.entries.get_mut(i))
        {
            entry.value.push('\n');
            entry.value.push_str(text);
        }
    }

    fn line(&mut self, lineno: usize, line: &str) {
        let stripped = py_strip(line);
        let comment = stripped.starts_with('#') || stripped.starts_with(';');
        if stripped.is_empty() || comment {
            // Python keeps an empty line in the value, but not a comment line.
            if !comment {
                self.append("");
            }
            return;
        }
        let value = stripped;
        let indent = line.chars().take_while(|&c| is_py_space(c)).count();
        if self.cur != Cur::None && self.target != Target::None && indent > self.indent_level {
            self.append(value);
            return;
        }
        self.indent_level = indent;
        if let Some(name) = section_header(value) {
            self.header(lineno, name);
            return;
        }
        if self.cur == Cur::None {
            if !self.missing_header_reported {
                self.missing_header_reported = true;
                let hint = if line.starts_with('\u{feff}') {
                    " (the file starts with a byte-order mark; save it as UTF-8 without one)"
                } else {
                    " (the file should start with [DEFAULT])"
                };
                let text = show(line);
                self.error(
                    lineno,
                    None,
                    IniErrorKind::MissingSectionHeader { text, hint },
                );
            }
            return;
        }
        match value.find(['=', ':']) {
            Some(d) => self.option(lineno, &value[..d], &value[d + 1..], value),
            None => {
                // Python keeps the previous option as the continuation target here.
                let text = show(value);
                let looks_like_key =
                    !value.contains(is_py_space) && !value.starts_with('[') && value.len() <= 64;
                let kind = if looks_like_key {
                    IniErrorKind::NoValue { text }
                } else {
                    IniErrorKind::Unparsable { text }
                };
                let key = looks_like_key.then(|| value.to_lowercase());
                self.error(lineno, key, kind);
            }
        }
    }

    fn header(&mut self, lineno: usize, name: &str) {
        self.target = Target::None;
        if let Some(&i) = self.index.get(name) {
            let first_line = self.sections.get(i).and_then(|s| s.line).unwrap_or(lineno);
            self.discard = Section::new(name, Some(lineno));
            self.cur = Cur::Discard;
            let kind = IniErrorKind::DuplicateSection {
                section: name.to_owned(),
                first_line,
            };
            self.error(lineno, None, kind);
        } else if name == DEFAULT_SECTION {
            self.defaults.line.get_or_insert(lineno);
            self.cur = Cur::Default;
        } else {
            self.index.insert(name.to_owned(), self.sections.len());
            self.cur = Cur::Section(self.sections.len());
            self.sections.push(Section::new(name, Some(lineno)));
        }
    }

    fn option(&mut self, lineno: usize, name: &str, rest: &str, value: &str) {
        if name.is_empty() {
            self.error(lineno, None, IniErrorKind::EmptyKey { text: show(value) });
        }
        let key = name.trim_end_matches(is_py_space).to_lowercase();
        let section = self.section_name().unwrap_or_default();
        let Some(sect) = self.section_mut() else {
            return;
        };
        if let Some(first) = sect.get(&key) {
            let first_line = first.line;
            self.target = Target::Sink;
            let kind = IniErrorKind::DuplicateOption {
                section,
                key: key.clone(),
                first_line,
            };
            self.error(lineno, Some(key), kind);
            return;
        }
        let entry = Entry {
            key,
            value: py_strip(rest).to_owned(),
            line: lineno,
        };
        let empty_name = name.is_empty();
        sect.insert(entry);
        // Python's `optname` is falsy for an empty name: no continuation lines then.
        self.target = if empty_name {
            Target::None
        } else {
            Target::Entry(sect.entries.len() - 1)
        };
    }

    fn finish(self) -> Result<Ini, IniErrors> {
        if let Some(errors) = IniErrors::new(self.errors) {
            return Err(errors);
        }
        let mut defaults = self.defaults;
        let mut sections = self.sections;
        for sect in std::iter::once(&mut defaults).chain(sections.iter_mut()) {
            for entry in &mut sect.entries {
                let len = entry.value.trim_end_matches(is_py_space).len();
                entry.value.truncate(len);
            }
        }
        Ok(Ini {
            defaults,
            sections,
            index: self.index,
        })
    }
}

/// Python's `SECTCRE.match`: `[`, then at least one character, up to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}
