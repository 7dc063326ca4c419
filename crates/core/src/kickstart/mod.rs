//! Kickstarts: the parts fbs reads, flattening of `%include`, fetching by URL, and the edits
//! the side repo needs.
//!
//! A kickstart is held as its lines ([`Kickstart`]): `repo`, `url`, `%packages` and script
//! sections are parsed (as pykickstart reads them), everything else is carried through
//! verbatim, so `to_string()` gives back the input exactly and an edit touches only the line
//! it changes. The client flattens a kickstart where its files are ([`flatten_file`]) or
//! fetches it ([`fetch_url`], [`flatten_url`]) and puts the flattened text in the job;
//! workers never read a kickstart path or URL.

mod edit;
mod error;
mod fetch;
pub mod flatten;
pub mod lex;
mod local;
mod model;
mod options;
mod parse;

pub use edit::render_repo;
pub use error::{KsError, Loc};
pub use fetch::{CONNECT_TIMEOUT, FETCH_TIMEOUT, fetch_url, flatten_url};
pub use flatten::{Flattened, Limits};
pub use local::{flatten_file, flatten_file_with};
pub use model::{
    Command, CommandKind, Header, Include, Item, Kickstart, OtherSection, PackageEntry,
    PackageLine, Packages, Repo, RepoSource, Script, ScriptKind, UrlCommand,
};
pub use options::Opt;
/// The URL type [`fetch_url`] and [`flatten_url`] take.
pub use url::Url;

#[cfg(test)]
mod tests;
