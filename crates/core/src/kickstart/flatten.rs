//! Flattening: one kickstart text with every `%include` (and `%ksappend`) replaced by the
//! lines of the file it names, as `ksflatten` (pykickstart) does, with limits and checks
//! that make it safe on untrusted input.
//!
//! Where fbs and pykickstart differ, on purpose:
//! - Includes are resolved relative to the including file only (pykickstart first tries the
//!   current directory), and never outside the root; absolute paths must lie inside it too.
//! - A cycle is an error naming the chain (pykickstart recurses until Python gives up).
//! - A section must end in the file it starts in. pykickstart lets `%end` in an included
//!   file close the includer's section, or lets an included file leave a section open, and
//!   then silently drops or misfiles the lines that follow.
//! - `%ksappend PATH` at command level is inlined like `%include` (what anaconda's
//!   preprocessing does); `ksflatten` drops such lines without a word.
//! - An absolute `%include` of a file that a `%pre` script writes at install time (the path
//!   appears in a `%pre`/`%pre-install` body, or the include stands inside one) cannot be
//!   resolved now; it is kept as written for anaconda, and listed in
//!   [`Flattened::runtime_includes`]. `ksflatten` fails on such files with "Unable to open
//!   input kickstart file". Anything else that cannot be resolved is an error.

use std::path::PathBuf;

use url::Url;

use super::error::{KsError, Loc};
use super::model::{Kickstart, ScriptKind};
use super::parse::{Parser, Step};

/// Default deepest nesting of includes.
pub const MAX_DEPTH: usize = 32;
/// Default largest kickstart, includes counted each time they are inlined.
pub const MAX_BYTES: u64 = 4 << 20;
/// Default largest number of include lines followed.
pub const MAX_INCLUDES: usize = 1000;

/// Bounds on what flattening reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of includes.
    pub max_depth: usize,
    /// Most bytes read in all.
    pub max_bytes: u64,
    /// Most include lines followed in all.
    pub max_includes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: MAX_DEPTH,
            max_bytes: MAX_BYTES,
            max_includes: MAX_INCLUDES,
        }
    }
}

/// A flattened kickstart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flattened {
    /// The text: the top file's lines with each include replaced by its file's lines.
    pub text: String,
    /// The same, parsed.
    pub kickstart: Kickstart,
    /// The local files read (canonical paths), in the order first read.
    pub files: Vec<PathBuf>,
    /// The URLs fetched, in the order first read.
    pub urls: Vec<Url>,
    /// Includes kept as written because a `%pre` script creates them at install time.
    pub runtime_includes: Vec<String>,
}

/// One kickstart document: a file or a URL.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    /// What identifies it for cycle detection (canonical path or URL).
    pub key: String,
    /// How errors name it.
    pub display: String,
    /// Where it is.
    pub place: Place,
}

/// Where a document is.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    File(PathBuf),
    Url(Url),
}

/// Why an include could not be resolved.
#[derive(Debug)]
pub(crate) enum Unresolved {
    /// An error in any case.
    Fatal(KsError),
    /// Not readable now: acceptable for an absolute path a `%pre` script may create.
    Absent(KsError),
}

/// Why reading a document stopped.
#[derive(Debug)]
pub(crate) enum LoadError {
    Ks(KsError),
    /// The document must be fetched first (the walk is then run again).
    NeedFetch(Url),
}

impl From<KsError> for LoadError {
    fn from(e: KsError) -> Self {
        LoadError::Ks(e)
    }
}

/// Where documents come from.
pub(crate) trait Loader {
    /// The document `include`, named on line `at` of `from`.
    fn resolve(&self, from: &Doc, include: &str, at: &Loc) -> Result<Doc, Unresolved>;
    /// At most `budget + 1` bytes of `doc`; `via` is the include line and path (none for the
    /// top document).
    fn read(
        &mut self,
        doc: &Doc,
        budget: u64,
        via: Option<(&Loc, &str)>,
    ) -> Result<Vec<u8>, LoadError>;
}

/// Decodes a document: UTF-8 without NUL bytes, else an error naming the first bad line.
pub(crate) fn decode(bytes: Vec<u8>, display: &str) -> Result<String, KsError> {
    let line_of = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() + 1;
    match String::from_utf8(bytes) {
        Ok(s) => match s.find('\0') {
            Some(i) => Err(KsError::NotText {
                at: Loc::new(display, line_of(&s.as_bytes()[..i])),
                reason: "NUL byte",
            }),
            None => Ok(s),
        },
        Err(e) => {
            let upto = e.utf8_error().valid_up_to();
            Err(KsError::NotText {
                at: Loc::new(display, line_of(&e.as_bytes()[..upto])),
                reason: "invalid UTF-8",
            })
        }
    }
}

struct Walker<'a> {
    loader: &'a mut dyn Loader,
    limits: Limits,
    parser: Parser,
    stack: Vec<(String, String)>,
    used: u64,
    includes: usize,
    files: Vec<PathBuf>,
    urls: Vec<Url>,
    pending: Vec<(String, KsError)>,
    runtime: Vec<String>,
}

/// Flattens from `top`, reading through `loader`.
pub(crate) fn walk(
    top: &Doc,
    loader: &mut dyn Loader,
    limits: Limits,
) -> Result<Flattened, LoadError> {
    let mut w = Walker {
        loader,
        limits,
        parser: Parser::default(),
        stack: Vec::new(),
        used: 0,
        includes: 0,
        files: Vec::new(),
        urls: Vec::new(),
        pending: Vec::new(),
        runtime: Vec::new(),
    };
    w.doc(top, None)?;
    let kickstart = w.parser.finish()?;
    let pre_bodies: Vec<String> = kickstart
        .scripts()
        .filter(|s| matches!(s.kind, ScriptKind::Pre | ScriptKind::PreInstall))
        .map(|s| s.body_text())
        .collect();
    for (path, err) in w.pending {
        if !pre_bodies.iter().any(|b| b.contains(&path)) {
            return Err(err.into());
        }
        w.runtime.push(path);
    }
    Ok(Flattened {
        text: kickstart.to_string(),
        kickstart,
        files: w.files,
        urls: w.urls,
        runtime_includes: w.runtime,
    })
}

impl Walker<'_> {
    fn doc(&mut self, doc: &Doc, via: Option<(&Loc, &str)>) -> Result<(), LoadError> {
        if let Some((at, _)) = via
            && self.stack.len() > self.limits.max_depth
        {
            return Err(KsError::TooManyIncludes {
                at: at.clone(),
                what: "includes nested too deeply",
                limit: self.limits.max_depth,
            }
            .into());
        }
        let budget = self.limits.max_bytes.saturating_sub(self.used);
        let bytes = self.loader.read(doc, budget, via)?;
        if bytes.len() as u64 > budget {
            let at = via.map_or_else(|| Loc::new(&doc.display, 0), |(at, _)| at.clone());
            return Err(KsError::TooLarge {
                at,
                limit: self.limits.max_bytes,
            }
            .into());
        }
        self.used += bytes.len() as u64;
        let text = decode(bytes, &doc.display)?;
        match &doc.place {
            Place::File(p) if !self.files.contains(p) => self.files.push(p.clone()),
            Place::Url(u) if !self.urls.contains(u) => self.urls.push(u.clone()),
            _ => {}
        }
        self.stack.push((doc.key.clone(), doc.display.clone()));
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            // An included file's last line may lack its newline; the includer's next line
            // must still start a line of its own.
            let owned;
            let raw = if via.is_some() && !raw.ends_with('\n') {
                owned = format!("{raw}\n");
                owned.as_str()
            } else {
                raw
            };
            let here = Loc::new(&doc.display, n + 1);
            if let Step::Include { path, ksappend } = self.parser.push(raw, &here)? {
                self.include(doc, raw, &path, ksappend, &here)?;
            }
        }
        self.stack.pop();
        Ok(())
    }

    fn include(
        &mut self,
        from: &Doc,
        raw: &str,
        path: &str,
        ksappend: bool,
        at: &Loc,
    ) -> Result<(), LoadError> {
        self.includes += 1;
        if self.includes > self.limits.max_includes {
            return Err(KsError::TooManyIncludes {
                at: at.clone(),
                what: "too many includes",
                limit: self.limits.max_includes,
            }
            .into());
        }
        match self.loader.resolve(from, path, at) {
            Ok(target) => {
                if let Some(pos) = self.stack.iter().position(|(k, _)| *k == target.key) {
                    let mut chain: Vec<&str> =
                        self.stack[pos..].iter().map(|(_, d)| d.as_str()).collect();
                    chain.push(&target.display);
                    return Err(KsError::IncludeCycle {
                        at: at.clone(),
                        chain: chain.join(" → "),
                    }
                    .into());
                }
                self.parser.enter_include();
                self.doc(&target, Some((at, path)))?;
                self.parser.leave_include()?;
                Ok(())
            }
            Err(Unresolved::Absent(e)) if !ksappend && path.starts_with('/') => {
                match self.parser.open_script() {
                    Some(ScriptKind::Pre | ScriptKind::PreInstall) => {
                        self.runtime.push(path.to_string())
                    }
                    _ => self.pending.push((path.to_string(), e)),
                }
                self.parser.keep_include(raw, path, ksappend);
                Ok(())
            }
            Err(Unresolved::Absent(e) | Unresolved::Fatal(e)) => Err(e.into()),
        }
    }
}
