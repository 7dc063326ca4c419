//! Flattening a kickstart from local files: includes resolved relative to the including file,
//! and every file read (the top one included) inside a root directory, symlinks resolved.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use super::error::{KsError, Loc};
use super::flatten::{Doc, Flattened, Limits, LoadError, Loader, Place, Unresolved, walk};

/// Flattens the kickstart at `path`, inlining `%include`s recursively; every file read must
/// lie inside `root` once symlinks are resolved. Uses the default [`Limits`].
pub fn flatten_file(path: &Path, root: &Path) -> Result<Flattened, KsError> {
    flatten_file_with(path, root, Limits::default())
}

/// [`flatten_file`] with explicit limits.
pub fn flatten_file_with(path: &Path, root: &Path, limits: Limits) -> Result<Flattened, KsError> {
    let read_err = |p: &Path| {
        let file = p.display().to_string();
        move |source| KsError::Read { file, source }
    };
    let root_canon = fs::canonicalize(root).map_err(read_err(root))?;
    let canon = fs::canonicalize(path).map_err(read_err(path))?;
    if !canon.starts_with(&root_canon) {
        return Err(KsError::FileOutsideRoot {
            file: path.display().to_string(),
            root: root.display().to_string(),
        });
    }
    if !canon.is_file() {
        // Opening a FIFO or device could block or never end.
        return Err(read_err(path)(io::Error::other("not a regular file")));
    }
    let top = Doc {
        key: canon.display().to_string(),
        display: path.display().to_string(),
        place: Place::File(canon),
    };
    let mut loader = FileLoader {
        root: root_canon,
        root_display: root.display().to_string(),
    };
    walk(&top, &mut loader, limits).map_err(|e| match e {
        LoadError::Ks(e) => e,
        // The file loader never asks for a fetch.
        LoadError::NeedFetch(url) => KsError::Fetch {
            url: url.to_string(),
            message: "a local kickstart cannot fetch includes".to_string(),
        },
    })
}

/// Resolves `..` and `.` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

struct FileLoader {
    root: PathBuf,
    root_display: String,
}

impl Loader for FileLoader {
    fn resolve(&self, from: &Doc, include: &str, at: &Loc) -> Result<Doc, Unresolved> {
        let refused = |reason: &str| {
            Unresolved::Fatal(KsError::IncludeRefused {
                at: at.clone(),
                include: include.to_string(),
                reason: reason.to_string(),
            })
        };
        if include.contains("://") {
            return Err(refused(
                "a local kickstart cannot include a URL; put the file beside the kickstart and include it by path",
            ));
        }
        let Place::File(from_path) = &from.place else {
            return Err(refused("not a local kickstart"));
        };
        let inc = Path::new(include);
        let dir = from_path.parent().unwrap_or(Path::new("/"));
        let candidate = if inc.is_absolute() {
            inc.to_path_buf()
        } else {
            dir.join(inc)
        };
        let display = if inc.is_absolute() {
            include.to_string()
        } else {
            let from_dir = Path::new(&from.display).parent().unwrap_or(Path::new(""));
            normalize(&from_dir.join(inc)).display().to_string()
        };
        // An absolute path may name a file a %pre script writes at install time.
        let absent = |e| match inc.is_absolute() {
            true => Unresolved::Absent(e),
            false => Unresolved::Fatal(e),
        };
        let outside = |target: &Path| KsError::IncludeOutsideRoot {
            at: at.clone(),
            include: include.to_string(),
            target: target.display().to_string(),
            root: self.root_display.clone(),
        };
        let canon = match fs::canonicalize(&candidate) {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let lexical = normalize(&candidate);
                return Err(absent(if lexical.starts_with(&self.root) {
                    KsError::IncludeMissing {
                        at: at.clone(),
                        include: include.to_string(),
                        target: lexical.display().to_string(),
                    }
                } else {
                    outside(&lexical)
                }));
            }
            Err(source) => {
                return Err(Unresolved::Fatal(KsError::IncludeRead {
                    at: at.clone(),
                    include: include.to_string(),
                    target: candidate.display().to_string(),
                    source,
                }));
            }
        };
        if !canon.starts_with(&self.root) {
            return Err(absent(outside(&canon)));
        }
        if !canon.is_file() {
            return Err(refused("not a regular file"));
        }
        Ok(Doc {
            key: canon.display().to_string(),
            display,
            place: Place::File(canon),
        })
    }

    fn read(
        &mut self,
        doc: &Doc,
        budget: u64,
        via: Option<(&Loc, &str)>,
    ) -> Result<Vec<u8>, LoadError> {
        let Place::File(path) = &doc.place else {
            return Ok(Vec::new());
        };
        let err = |source: io::Error| match via {
            Some((at, include)) => KsError::IncludeRead {
                at: at.clone(),
                include: include.to_string(),
                target: doc.display.clone(),
                source,
            },
            None => KsError::Read {
                file: doc.display.clone(),
                source,
            },
        };
        let file = fs::File::open(path).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if !meta.is_file() {
            return Err(err(io::Error::other("not a regular file")).into());
        }
        let mut bytes = Vec::new();
        // One byte more than allowed tells the walker the budget is exceeded.
        file.take(budget.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(err)?;
        Ok(bytes)
    }
}
