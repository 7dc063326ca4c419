//! Configuration errors: each names the file, the line when known, and the key.

use std::fmt;
use std::path::PathBuf;

/// A configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The key (`[section] key` or a dotted TOML path), when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about the whole file.
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line: None,
            key: None,
            message: message.into(),
        }
    }

    /// An error about one key.
    pub fn key(
        file: impl Into<PathBuf>,
        line: Option<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.into(),
            line,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// From a TOML parse/deserialize error, with the line taken from its span.
    pub fn from_toml(file: impl Into<PathBuf>, text: &str, e: &toml::de::Error) -> Self {
        let line = e
            .span()
            .map(|sp| text.get(..sp.start).map_or(1, |t| t.lines().count().max(1)));
        let line = line.map(|l| {
            // A span starting right after a newline belongs to the next line.
            match e.span() {
                Some(sp) if text.get(..sp.start).is_some_and(|t| t.ends_with('\n')) => l + 1,
                _ => l,
            }
        });
        let message = e.message().to_owned();
        let key = message
            .split('`')
            .nth(1)
            .filter(|k| !k.contains(' '))
            .map(str::to_owned);
        ConfigError {
            file: file.into(),
            line,
            key,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ": ")?;
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        f.write_str(&self.message)
    }
}
