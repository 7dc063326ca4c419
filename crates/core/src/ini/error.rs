//! What can be wrong with an INI file, each error with the line it is on.

use std::fmt;

/// One problem in an INI file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct IniError {
    /// The 1-based line.
    pub line: usize,
    /// The section the line is in, if any.
    pub section: Option<String>,
    /// The key concerned, if any (lowercased).
    pub key: Option<String>,
    /// What is wrong.
    pub kind: IniErrorKind,
}

/// The kinds of INI errors, named after Python's `configparser` exceptions where one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniErrorKind {
    /// The bytes are not UTF-8 (Python: `UnicodeDecodeError`).
    #[error("not valid UTF-8 (byte 0x{byte:02x}); the file must be UTF-8 text")]
    InvalidUtf8 {
        /// The first offending byte.
        byte: u8,
    },
    /// A line before the first section header (Python: `MissingSectionHeaderError`).
    #[error("{text} comes before any [section] header{hint}")]
    MissingSectionHeader {
        /// The line, shortened for display.
        text: String,
        /// Extra advice (a byte-order mark, for instance), or empty.
        hint: &'static str,
    },
    /// A section header seen twice (Python: `DuplicateSectionError`).
    #[error("section [{section}] already appeared on line {first_line}")]
    DuplicateSection {
        /// The section name.
        section: String,
        /// Where it first appeared.
        first_line: usize,
    },
    /// A key given twice in one section (Python: `DuplicateOptionError`).
    #[error("key `{key}` already set in [{section}] on line {first_line}")]
    DuplicateOption {
        /// The section name.
        section: String,
        /// The key.
        key: String,
        /// Where it was first set.
        first_line: usize,
    },
    /// A `= value` line without a key (Python: `ParsingError`).
    #[error("{text} has an empty key name")]
    EmptyKey {
        /// The line, shortened for display.
        text: String,
    },
    /// A lone word where `key = value` is expected (Python: `ParsingError`).
    #[error("key {text} has no value (write `key = value`)")]
    NoValue {
        /// The line, shortened for display.
        text: String,
    },
    /// A line that is neither a section header nor `key = value` (Python: `ParsingError`).
    #[error("{text} is neither a [section] header nor a `key = value` line")]
    Unparsable {
        /// The line, shortened for display.
        text: String,
    },
    /// The reader gave up after [`super::MAX_ERRORS`] errors.
    #[error("too many errors; stopped reading")]
    TooManyErrors,
}

impl IniErrorKind {
    /// True for the errors Python raises at once (the others it collects until the end of the
    /// file). Tests use it to compare error kinds with Python's.
    pub fn is_fatal_in_python(&self) -> bool {
        matches!(
            self,
            IniErrorKind::InvalidUtf8 { .. }
                | IniErrorKind::MissingSectionHeader { .. }
                | IniErrorKind::DuplicateSection { .. }
                | IniErrorKind::DuplicateOption { .. }
        )
    }

    /// The Python exception class that reports this kind of error.
    pub fn python_class(&self) -> &'static str {
        match self {
            IniErrorKind::InvalidUtf8 { .. } => "UnicodeDecodeError",
            IniErrorKind::MissingSectionHeader { .. } => "MissingSectionHeaderError",
            IniErrorKind::DuplicateSection { .. } => "DuplicateSectionError",
            IniErrorKind::DuplicateOption { .. } => "DuplicateOptionError",
            IniErrorKind::EmptyKey { .. }
            | IniErrorKind::NoValue { .. }
            | IniErrorKind::Unparsable { .. }
            | IniErrorKind::TooManyErrors => "ParsingError",
        }
    }
}

/// Every problem found in one INI file (never empty), in line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IniErrors(Vec<IniError>);

impl IniErrors {
    pub(super) fn new(errors: Vec<IniError>) -> Option<Self> {
        (!errors.is_empty()).then_some(IniErrors(errors))
    }

    pub(super) fn one(error: IniError) -> Self {
        IniErrors(vec![error])
    }

    /// The errors, in line order.
    pub fn errors(&self) -> &[IniError] {
        &self.0
    }

    /// The Python exception `configparser` would raise for this file.
    pub fn python_class(&self) -> &'static str {
        self.0
            .iter()
            .find(|e| e.kind.is_fatal_in_python())
            .or(self.0.first())
            .map_or("ParsingError", |e| e.kind.python_class())
    }
}

impl fmt::Display for IniErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl IntoIterator for IniErrors {
    type Item = IniError;
    type IntoIter = std::vec::IntoIter<IniError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A line shortened and escaped for an error message: at most 40 characters, control
/// characters escaped, in backquotes.
pub(super) fn show(line: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::from("`");
    for (i, c) in line.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}
