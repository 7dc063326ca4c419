//! `[staging]` in the daemon config: the credentials workers use for FTP staging targets, how
//! transfers are retried and reported, and the public URLs artifacts are reachable at.
//!
//! FTP credentials are taken, field by field, from the first of:
//! 1. this section (`ftp_user`, `ftp_password` or `ftp_password_file`),
//! 2. `FBS_FTP_USER` / `FBS_FTP_PASSWORD`,
//! 3. the staging URL's `user:password@`,
//! 4. the netrc file's entry for the server's host (or its `default` entry),
//! 5. anonymous.
//!
//! The operator's settings win over the spec's URL on purpose: the worker's account decides
//! where it may write. Passwords are never printed.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::Staging;

/// The `[staging]` section.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StagingConfig {
    /// The FTP login for every FTP staging target.
    pub ftp_user: Option<String>,
    /// Its password (prefer `ftp_password_file` or `FBS_FTP_PASSWORD`).
    pub ftp_password: Option<String>,
    /// A file holding the password (first line).
    pub ftp_password_file: Option<PathBuf>,
    /// The netrc file consulted last (default `~/.netrc`).
    pub netrc: Option<PathBuf>,
    /// Use the control connection's address for passive data connections, ignoring the one
    /// the server advertises (servers behind NAT that announce a private address).
    pub ftp_nat_workaround: bool,
    /// Tries of one file after a connection or transient (4xx) error before staging fails.
    pub ftp_retries: u32,
    /// The wait before the first retry; doubles with each retry (at most a minute).
    #[serde(with = "super::duration")]
    pub ftp_retry_base: Duration,
    /// The longest any one FTP exchange (connect, command, a block of data) may take.
    #[serde(with = "super::duration")]
    pub ftp_timeout: Duration,
    /// Extra CA certificates (PEM) trusted for `ftps://` targets.
    pub ftps_ca_file: Option<PathBuf>,
    /// At most one progress line per transfer in the job log this often.
    #[serde(with = "super::duration")]
    pub progress_every: Duration,
    /// Public URLs of staging targets, for links in job records, manifests and mails.
    pub public: Vec<PublicUrl>,
}

/// One staging location as users reach it: `prefix` (a staging URL as in specs, e.g.
/// `ftp://host/pub` or `file:///srv/staging`) is served at `url` (e.g. `https://host/pub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicUrl {
    /// The staging location (no credentials).
    pub prefix: String,
    /// Its public http(s) URL.
    pub url: String,
}

impl Default for StagingConfig {
    fn default() -> Self {
        StagingConfig {
            ftp_user: None,
            ftp_password: None,
            ftp_password_file: None,
            netrc: None,
            ftp_nat_workaround: false,
            ftp_retries: 5,
            ftp_retry_base: Duration::from_secs(2),
            ftp_timeout: Duration::from_secs(60),
            ftps_ca_file: None,
            progress_every: Duration::from_secs(5),
            public: Vec::new(),
        }
    }
}

impl std::fmt::Debug for StagingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagingConfig")
            .field("ftp_user", &self.ftp_user)
            .field("ftp_password", &self.ftp_password.as_ref().map(|_| "***"))
            .field("ftp_password_file", &self.ftp_password_file)
            .field("netrc", &self.netrc)
            .field("ftp_nat_workaround", &self.ftp_nat_workaround)
            .field("ftp_retries", &self.ftp_retries)
            .field("ftp_retry_base", &self.ftp_retry_base)
            .field("ftp_timeout", &self.ftp_timeout)
            .field("ftps_ca_file", &self.ftps_ca_file)
            .field("progress_every", &self.progress_every)
            .field("public", &self.public)
            .finish()
    }
}

/// A staging location without credentials, with one trailing `/`: the form `prefix`es are
/// compared in.
fn location(target: &Staging) -> String {
    let raw = match target {
        Staging::File { path } => format!("file://{}", path.display()),
        Staging::Ftp { url } => {
            let mut u = url.clone();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
    };
    format!("{}/", raw.trim_end_matches('/'))
}

impl StagingConfig {
    /// The public URL of `rel` (a path relative to the target, `/`-separated) under `target`,
    /// when a `[[staging.public]]` prefix covers it (the longest one wins).
    pub fn public_url(&self, target: &Staging, rel: &str) -> Option<String> {
        let loc = location(target);
        self.public
            .iter()
            .filter_map(|p| {
                let prefix = format!("{}/", p.prefix.trim_end_matches('/'));
                loc.strip_prefix(&prefix)
                    .map(|rest| (prefix.len(), rest, p))
            })
            .max_by_key(|(len, _, _)| *len)
            .map(|(_, rest, p)| {
                format!(
                    "{}/{}{}",
                    p.url.trim_end_matches('/'),
                    rest,
                    rel.trim_start_matches('/')
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_map_the_longest_prefix_and_ignore_credentials() {
        let cfg = StagingConfig {
            public: vec![
                PublicUrl {
                    prefix: "ftp://files.example.org/pub".into(),
                    url: "https://files.example.org/pub/".into(),
                },
                PublicUrl {
                    prefix: "ftp://files.example.org/pub/qa/".into(),
                    url: "https://qa.example.org".into(),
                },
                PublicUrl {
                    prefix: "file:///srv/staging".into(),
                    url: "https://fbs.example.org/staging".into(),
                },
            ],
            ..StagingConfig::default()
        };
        let ftp = |u: &str| Staging::Ftp {
            url: url::Url::parse(u).expect("url"),
        };
        assert_eq!(
            cfg.public_url(&ftp("ftp://u:secret@files.example.org/pub/"), "J/a.iso"),
            Some("https://files.example.org/pub/J/a.iso".into())
        );
        assert_eq!(
            cfg.public_url(&ftp("ftp://files.example.org/pub/qa/x"), "J/a.iso"),
            Some("https://qa.example.org/x/J/a.iso".into())
        );
        assert_eq!(
            cfg.public_url(&ftp("ftp://other.example.org/pub"), "a.iso"),
            None
        );
        let file = Staging::File {
            path: "/srv/staging".into(),
        };
        assert_eq!(
            cfg.public_url(&file, "J/a.iso"),
            Some("https://fbs.example.org/staging/J/a.iso".into())
        );
        let debug = format!(
            "{:?}",
            StagingConfig {
                ftp_password: Some("hunter2".into()),
                ..cfg
            }
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
