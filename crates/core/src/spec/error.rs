//! Spec errors: each names the file, line, section and key it is about, and a reader collects
//! all of them before giving up, so one `fbs validate` run shows every problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a build spec, printed as `live.conf:9: [live] label: missing`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    /// The spec file, as the caller named it.
    pub file: PathBuf,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// The section (INI) or table (TOML) concerned, if any.
    pub section: Option<String>,
    /// The key concerned, if any.
    pub key: Option<String>,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(section) = &self.section {
            write!(f, "[{section}] ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one spec (never empty), one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(Vec<SpecError>);

impl SpecErrors {
    /// A single error.
    pub fn one(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }

    /// The errors, in the order they were found (mostly line order).
    pub fn errors(&self) -> &[SpecError] {
        &self.0
    }

    /// Adds another problem (a kickstart's, for instance) to the list.
    pub fn push(&mut self, error: SpecError) {
        self.0.push(error);
    }
}

impl fmt::Display for SpecErrors {
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

impl IntoIterator for SpecErrors {
    type Item = SpecError;
    type IntoIter = std::vec::IntoIter<SpecError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a SpecError;
    type IntoIter = std::slice::Iter<'a, SpecError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Where in a spec a value came from.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct At<'a> {
    pub line: Option<usize>,
    pub section: Option<&'a str>,
    pub key: Option<&'a str>,
}

impl<'a> At<'a> {
    /// A key of a section.
    pub fn key(line: Option<usize>, section: &'a str, key: &'a str) -> Self {
        At {
            line,
            section: Some(section),
            key: Some(key),
        }
    }
}

/// Collects a reader's errors.
#[derive(Debug)]
pub(super) struct Collector {
    file: PathBuf,
    errors: Vec<SpecError>,
}

impl Collector {
    pub fn new(file: &Path) -> Self {
        Collector {
            file: file.to_owned(),
            errors: Vec::new(),
        }
    }

    /// Records a problem.
    pub fn push(&mut self, at: At<'_>, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.clone(),
            line: at.line,
            section: at.section.map(str::to_owned),
            key: at.key.map(str::to_owned),
            message: message.into(),
        });
    }

    /// Records the error of a check and turns its result into an `Option`.
    pub fn check<T>(&mut self, at: At<'_>, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.push(at, m)).ok()
    }

    /// The errors so far, if any.
    pub fn into_errors(self) -> Option<SpecErrors> {
        (!self.errors.is_empty()).then_some(SpecErrors(self.errors))
    }

    /// `value` when nothing went wrong, else every error recorded.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, SpecErrors> {
        let file = self.file.clone();
        match (self.into_errors(), value) {
            (None, Some(value)) => Ok(value),
            (Some(errors), _) => Err(errors),
            (None, None) => Err(SpecErrors::one(SpecError {
                file,
                line: None,
                section: None,
                key: None,
                message: "the spec could not be read".into(),
            })),
        }
    }
}
