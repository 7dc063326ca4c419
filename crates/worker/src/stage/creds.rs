//! FTP credentials, field by field from the first source that has one: the daemon config's
//! `[staging]` > `FBS_FTP_USER` / `FBS_FTP_PASSWORD` > the staging URL > the netrc file
//! (`machine HOST`, else `default`) > anonymous. The password is a [`Secret`]: it is never
//! printed, and errors name only where it came from.

use std::path::{Path, PathBuf};

use fbs_core::config::StagingConfig;
use url::Url;

use super::StageFailure;

/// A password: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The password itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A login for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (`anonymous` when nothing names one).
    pub user: String,
    /// The password.
    pub password: Secret,
    /// Where the user name came from (`config`, `environment`, `URL`, `netrc`, `anonymous`).
    pub source: &'static str,
}

/// The environment, as far as credentials go (a parameter so tests need not set variables).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (empty values count as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The credentials for staging to `url` (see the module docs).
pub fn resolve(url: &Url, cfg: &StagingConfig, env: Env<'_>) -> Result<Credentials, StageFailure> {
    let file_password = match &cfg.ftp_password_file {
        Some(p) => Some(read_password(p)?),
        None => None,
    };
    let url_user = Some(decode(url.username())).filter(|u| !u.is_empty());
    let url_password = url.password().map(decode);
    let netrc = netrc_path(cfg, env).and_then(|p| netrc_entry(&p, url.host_str().unwrap_or("")));

    let (user, source) = [
        (cfg.ftp_user.clone(), "config"),
        (env("FBS_FTP_USER"), "environment"),
        (url_user, "URL"),
        (netrc.as_ref().and_then(|n| n.login.clone()), "netrc"),
    ]
    .into_iter()
    .find_map(|(u, s)| u.map(|u| (u, s)))
    .unwrap_or_else(|| ("anonymous".to_owned(), "anonymous"));
    // netrc's password belongs to its login (or to any user when it names none).
    let netrc_password = netrc
        .filter(|n| n.login.as_deref().is_none_or(|l| l == user))
        .and_then(|n| n.password);
    let password = cfg
        .ftp_password
        .clone()
        .or(file_password)
        .or_else(|| env("FBS_FTP_PASSWORD"))
        .or(url_password)
        .or(netrc_password)
        .unwrap_or_else(|| {
            if user == "anonymous" || user == "ftp" {
                "fbs@".to_owned()
            } else {
                String::new()
            }
        });
    Ok(Credentials {
        user,
        password: Secret(password),
        source,
    })
}

fn read_password(path: &Path) -> Result<String, StageFailure> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().next().unwrap_or_default().to_owned())
        .map_err(|e| StageFailure::Config(format!("ftp_password_file {}: {e}", path.display())))
}

fn netrc_path(cfg: &StagingConfig, env: Env<'_>) -> Option<PathBuf> {
    cfg.netrc
        .clone()
        .or_else(|| env("NETRC").map(PathBuf::from))
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".netrc")))
}

/// `%XX` escapes in a URL's user or password.
pub(super) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One netrc entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `login`.
    pub login: Option<String>,
    /// `password`.
    pub password: Option<String>,
}

/// The entry of `host` in the netrc file at `path` (else its `default` entry); `None` when
/// the file is missing or names neither.
pub fn netrc_entry(path: &Path, host: &str) -> Option<NetrcEntry> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_netrc(&text, host)
}

/// The netrc format: whitespace-separated tokens; `machine NAME` or `default` starts an
/// entry, `login`, `password` and `account` fill it, `macdef NAME` skips a macro up to the
/// next empty line.
pub fn parse_netrc(text: &str, host: &str) -> Option<NetrcEntry> {
    let mut found: Option<NetrcEntry> = None;
    let mut default: Option<NetrcEntry> = None;
    // Which entry the tokens fill now: Some(true) = host's, Some(false) = default, None = other.
    let mut current: Option<bool> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut tokens = line.split_whitespace();
        while let Some(tok) = tokens.next() {
            match tok {
                "machine" => {
                    let name = tokens.next().unwrap_or_default();
                    current = (name == host && found.is_none()).then_some(true);
                    if current == Some(true) {
                        found = Some(NetrcEntry::default());
                    }
                }
                "default" => {
                    current = default.is_none().then_some(false);
                    if current.is_some() {
                        default = Some(NetrcEntry::default());
                    }
                }
                "login" | "password" | "account" => {
                    let value = tokens.next().map(str::to_owned);
                    let entry = match current {
                        Some(true) => found.as_mut(),
                        Some(false) => default.as_mut(),
                        None => None,
                    };
                    if let Some(e) = entry {
                        match tok {
                            "login" => e.login = value,
                            "password" => e.password = value,
                            _ => {}
                        }
                    }
                }
                "macdef" => {
                    for l in lines.by_ref() {
                        if l.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    found.or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn precedence_is_config_then_env_then_url_then_netrc() {
        let dir = tempfile::tempdir().expect("tempdir");
        let netrc = dir.path().join("netrc");
        std::fs::write(
            &netrc,
            "machine other login x password y\nmachine files.example.org\n  login nu\n  password np\ndefault login du password dp\n",
        )
        .expect("write");
        let cfg = StagingConfig {
            netrc: Some(netrc),
            ..StagingConfig::default()
        };
        let none = |_: &str| None;
        let c = resolve(&url("ftp://files.example.org/pub"), &cfg, &none).expect("creds");
        assert_eq!((c.user.as_str(), c.password.expose()), ("nu", "np"));
        assert_eq!(c.source, "netrc");
        let c = resolve(&url("ftp://elsewhere/pub"), &cfg, &none).expect("creds");
        assert_eq!((c.user.as_str(), c.password.expose()), ("du", "dp"));
        let c = resolve(&url("ftp://u%40x:p%3As@files.example.org/"), &cfg, &none).expect("c");
        assert_eq!((c.user.as_str(), c.password.expose()), ("u@x", "p:s"));
        let env = |k: &str| match k {
            "FBS_FTP_USER" => Some("eu".to_owned()),
            "FBS_FTP_PASSWORD" => Some("ep".to_owned()),
            _ => None,
        };
        let c = resolve(&url("ftp://u:p@files.example.org/"), &cfg, &env).expect("creds");
        assert_eq!((c.user.as_str(), c.password.expose()), ("eu", "ep"));
        let with_cfg = StagingConfig {
            ftp_user: Some("cu".into()),
            ftp_password: Some("cp".into()),
            ..cfg.clone()
        };
        let c = resolve(&url("ftp://u:p@files.example.org/"), &with_cfg, &env).expect("c");
        assert_eq!((c.user.as_str(), c.password.expose()), ("cu", "cp"));
        assert_eq!(format!("{c:?}").matches("cp").count(), 0, "{c:?}");
        let anon = StagingConfig {
            netrc: Some(dir.path().join("missing")),
            ..StagingConfig::default()
        };
        let c = resolve(&url("ftp://files.example.org/pub"), &anon, &none).expect("creds");
        assert_eq!(c.user, "anonymous");
    }

    #[test]
    fn netrc_macros_and_unknown_hosts_are_skipped() {
        let text =
            "macdef init\ncd /pub\nmachine h login evil\n\nmachine h login good password pw\n";
        let e = parse_netrc(text, "h").expect("entry");
        assert_eq!(e.login.as_deref(), Some("good"));
        assert!(parse_netrc(text, "nope").is_none());
    }
}
