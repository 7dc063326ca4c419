//! What can go wrong reading, flattening, fetching or editing a kickstart. Every error about
//! the content names the place as `file:line` (a URL stands in for the file when the
//! kickstart was fetched).

use std::fmt;
use std::io;

use super::lex::QuoteError;
use crate::exit;

/// A place in a kickstart: a file (as the user named it, or a URL) and a 1-based line.
/// Line 0 means the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file as given (relative when the user gave it so), or a URL.
    pub file: String,
    /// The 1-based line, or 0 for the whole file.
    pub line: usize,
}

impl Loc {
    /// A place in `file` at `line`.
    pub fn new(file: impl Into<String>, line: usize) -> Self {
        Loc {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// An error about a kickstart. Its `Display` starts with `file:line: ` (or the URL).
#[derive(Debug, thiserror::Error)]
pub enum KsError {
    /// A line whose quoting Python's `shlex` (and so pykickstart) rejects.
    #[error("{at}: bad quoting: {error}")]
    Quoting {
        /// Where.
        at: Loc,
        /// What is wrong with it.
        error: QuoteError,
    },
    /// A `%name` line that starts no section pykickstart knows.
    #[error("{at}: unknown kickstart section {section}")]
    UnknownSection {
        /// Where.
        at: Loc,
        /// The `%word` as written.
        section: String,
    },
    /// A section still open at the end of the file it starts in.
    #[error("{at}: {section} is not closed by %end before the end of the file")]
    Unterminated {
        /// The section's header line.
        at: Loc,
        /// `%packages`, `%post`, …
        section: String,
    },
    /// A section header while another section is still open.
    #[error("{at}: {section} starts before the {open} opened at {open_at} is closed by %end")]
    NestedSection {
        /// The second header.
        at: Loc,
        /// The section it starts.
        section: String,
        /// The section still open.
        open: String,
        /// Where that one starts.
        open_at: Loc,
    },
    /// `%end` with no section open.
    #[error("{at}: %end without an open section")]
    StrayEnd {
        /// Where.
        at: Loc,
    },
    /// `%end` in an included file closing a section opened in the including file.
    #[error(
        "{at}: %end closes the {section} opened at {open_at}, in another file; a section must end in the file it starts in"
    )]
    SectionAcrossFiles {
        /// The `%end` line.
        at: Loc,
        /// The section.
        section: String,
        /// Its header.
        open_at: Loc,
    },
    /// A command, header or package line fbs reads whose arguments are wrong.
    #[error("{at}: {message}")]
    Invalid {
        /// Where.
        at: Loc,
        /// What is wrong.
        message: String,
    },
    /// Bytes that are not UTF-8 text.
    #[error("{at}: not a text file ({reason})")]
    NotText {
        /// The first bad line.
        at: Loc,
        /// What was found.
        reason: &'static str,
    },
    /// The kickstart with everything it includes is over the size limit.
    #[error("{at}: the kickstart with its includes is larger than {limit} bytes")]
    TooLarge {
        /// The file (or the include line) that went over.
        at: Loc,
        /// The limit in bytes.
        limit: u64,
    },
    /// Includes nested too deeply, or too many of them.
    #[error("{at}: {what} (limit {limit})")]
    TooManyIncludes {
        /// The include line.
        at: Loc,
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: usize,
    },
    /// A file that includes itself, directly or through others.
    #[error("{at}: %include cycle: {chain}")]
    IncludeCycle {
        /// The include line that closes the cycle.
        at: Loc,
        /// The files in the cycle, `a.ks → b.ks → a.ks`.
        chain: String,
    },
    /// An include whose target lies outside the directory tree includes may come from.
    #[error("{at}: %include {include}: outside the kickstart root {root} (resolves to {target})")]
    IncludeOutsideRoot {
        /// The include line.
        at: Loc,
        /// The path as written.
        include: String,
        /// Where it leads (symlinks resolved when it exists).
        target: String,
        /// The root.
        root: String,
    },
    /// An include whose target does not exist.
    #[error("{at}: %include {include}: no such file ({target})")]
    IncludeMissing {
        /// The include line.
        at: Loc,
        /// The path as written.
        include: String,
        /// The path looked for.
        target: String,
    },
    /// An include fbs will not follow (a URL from a local file, another server, a local path
    /// from a fetched kickstart, a directory, …).
    #[error("{at}: %include {include}: {reason}")]
    IncludeRefused {
        /// The include line.
        at: Loc,
        /// The path or URL as written.
        include: String,
        /// Why.
        reason: String,
    },
    /// An included file that exists but could not be read.
    #[error("{at}: %include {include}: cannot read {target}: {source}")]
    IncludeRead {
        /// The include line.
        at: Loc,
        /// The path as written.
        include: String,
        /// The file.
        target: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The kickstart (or the root directory) could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The path as given.
        file: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The kickstart lies outside the root it is flattened under.
    #[error("{file}: outside the kickstart root {root}")]
    FileOutsideRoot {
        /// The path as given.
        file: String,
        /// The root.
        root: String,
    },
    /// A URL fbs does not fetch kickstarts from.
    #[error("{url}: kickstarts are fetched over http, https or ftp only")]
    UnsupportedScheme {
        /// The URL.
        url: String,
    },
    /// A fetch that failed before an answer (connection, timeout, FTP error, …).
    #[error("{url}: {message}")]
    Fetch {
        /// The URL (without password).
        url: String,
        /// What happened.
        message: String,
    },
    /// An HTTP answer other than 200.
    #[error("{url}: the server answered HTTP {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A fetched kickstart over the size limit.
    #[error("{url}: larger than the limit of {limit} bytes")]
    FetchTooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// An edit named a repo no `repo` line has.
    #[error("the kickstart has no `repo --name={name}` line")]
    NoSuchRepo {
        /// The repo name.
        name: String,
    },
    /// An edit added a repo whose name is already used.
    #[error("the kickstart already has a `repo --name={name}` line")]
    DuplicateRepo {
        /// The repo name.
        name: String,
    },
}

impl KsError {
    /// The `fbs` exit code this error maps to: [`exit::UNAVAILABLE`] when a file or server
    /// could not be read, [`exit::INVALID_INPUT`] for everything about the content.
    pub fn exit_code(&self) -> u8 {
        match self {
            KsError::Read { .. } | KsError::IncludeRead { .. } | KsError::Fetch { .. } => {
                exit::UNAVAILABLE
            }
            KsError::HttpStatus { status, .. } if !(400..500).contains(status) => exit::UNAVAILABLE,
            _ => exit::INVALID_INPUT,
        }
    }

    /// Where the error is, when it is about a place in a kickstart.
    pub fn loc(&self) -> Option<&Loc> {
        match self {
            KsError::Quoting { at, .. }
            | KsError::UnknownSection { at, .. }
            | KsError::Unterminated { at, .. }
            | KsError::NestedSection { at, .. }
            | KsError::StrayEnd { at }
            | KsError::SectionAcrossFiles { at, .. }
            | KsError::Invalid { at, .. }
            | KsError::NotText { at, .. }
            | KsError::TooLarge { at, .. }
            | KsError::TooManyIncludes { at, .. }
            | KsError::IncludeCycle { at, .. }
            | KsError::IncludeOutsideRoot { at, .. }
            | KsError::IncludeMissing { at, .. }
            | KsError::IncludeRefused { at, .. }
            | KsError::IncludeRead { at, .. } => Some(at),
            _ => None,
        }
    }
}
