//! The fleet as `fbs deploy` sees it, read from a `deploy.conf` (the old INI format, module
//! `ini`) or a `deploy.toml` (module `toml`): brokers, releases, the master (webapp) host, the
//! worker hosts per release and arch, SMTP (for the master only), Koji, and how to reach the
//! hosts over SSH. Errors name the file, the line and the key.

mod ini;
mod login;
mod toml;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fbs_core::config::{BrokerConfig, ConfigError, KojiConfig, SmtpConfig};
use fbs_core::spec::Arch;

pub use login::Login;

/// One queue a worker host serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Queue {
    /// The arch it builds.
    pub arch: Arch,
    /// The release it builds.
    pub release: String,
}

impl Queue {
    /// `ARCH:RELEASE`, as `fbs worker --queue` takes it.
    pub fn spec(&self) -> String {
        format!("{}:{}", self.arch.as_str(), self.release)
    }
}

/// One host of the fleet and everything it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// How to log in.
    pub login: Login,
    /// Runs the webapp (monitor, REST API, notifier).
    pub master: bool,
    /// The queues its workers serve.
    pub queues: Vec<Queue>,
    /// The working directory deploy.conf gives its role (`workdir`), if any.
    pub workdir: Option<PathBuf>,
}

impl Host {
    /// The name shown in progress lines and summaries, and matched by `--hosts`.
    pub fn name(&self) -> String {
        self.login.to_string()
    }

    /// `master`, `worker x86_64:17`, … for the summary.
    pub fn roles(&self) -> String {
        let mut parts = Vec::new();
        if self.master {
            parts.push("master".to_owned());
        }
        if !self.queues.is_empty() {
            let qs: Vec<String> = self.queues.iter().map(Queue::spec).collect();
            parts.push(format!("worker {}", qs.join(",")));
        }
        parts.join(" + ")
    }

    /// True when `pattern` (a glob: `*`, `?`, `[abc]`) matches the host name, its address, or
    /// its `user@host[:port]`.
    pub fn matches(&self, pattern: &str) -> bool {
        let full = self.name();
        crate::pattern::glob(pattern, &self.login.host) || crate::pattern::glob(pattern, &full)
    }
}

/// Whether an unknown host key is accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// Only keys already in known_hosts (`StrictHostKeyChecking=yes`).
    #[default]
    Strict,
    /// Unknown keys are added; changed keys are still refused (`accept-new`).
    AcceptNew,
}

/// How hosts are reached (`[ssh]`; everything else comes from the ssh config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// An ssh config file to use instead of `~/.ssh/config` (`ssh -F`).
    pub config: Option<PathBuf>,
    /// The private key to log in with.
    pub identity: Option<PathBuf>,
    /// Host key policy.
    pub host_keys: HostKeyPolicy,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            config: None,
            identity: None,
            host_keys: HostKeyPolicy::Strict,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The whole fleet.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The file it was read from.
    pub file: PathBuf,
    /// The default broker and the per-arch ones.
    pub brokers: BrokerConfig,
    /// Releases built (`[releases]`).
    pub releases: Vec<String>,
    /// Every host, in the order the file first names it.
    pub hosts: Vec<Host>,
    /// Mail settings; written only to the master's config.
    pub smtp: Option<SmtpConfig>,
    /// The Koji hub.
    pub koji: KojiConfig,
    /// How hosts are reached.
    pub ssh: SshSettings,
    /// Settings merged into every host's daemon config (`[daemon]` of deploy.toml).
    pub daemon: ::toml::Table,
    /// The port the master's monitor listens on.
    pub monitor_port: u16,
    /// Things worth telling the user that are not errors.
    pub warnings: Vec<String>,
}

impl Inventory {
    /// Read a deploy.conf (INI) or, for a `.toml` file, a deploy.toml.
    pub fn load(path: &Path) -> Result<Inventory, ConfigError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ConfigError::file(path, "not valid UTF-8".to_owned()))?;
        Self::parse(path, &text)
    }

    /// Parse `text` as read from `path` (its extension picks the format).
    pub fn parse(path: &Path, text: &str) -> Result<Inventory, ConfigError> {
        let mut inv = if path.extension().is_some_and(|e| e == "toml") {
            toml::parse(path, text)?
        } else {
            ini::parse(path, text)?
        };
        inv.resolve_relative_paths();
        Ok(inv)
    }

    fn resolve_relative_paths(&mut self) {
        let base = self.file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let fix = |p: &mut PathBuf| {
            if let Some(rest) = p.to_str().and_then(|s| s.strip_prefix("~/"))
                && let Some(home) = dirs::home_dir()
            {
                *p = home.join(rest);
            } else if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(c) = self.ssh.config.as_mut() {
            fix(c);
        }
        if let Some(i) = self.ssh.identity.as_mut() {
            fix(i);
        }
        if let Some(pf) = self.smtp.as_mut().and_then(|s| s.password_file.as_mut()) {
            fix(pf);
        }
    }

    /// Keep only the hosts `pattern` matches; returns how many are left.
    pub fn retain_matching(&mut self, pattern: &str) -> usize {
        self.hosts.retain(|h| h.matches(pattern));
        self.hosts.len()
    }

    /// The master host, if the fleet has one.
    pub fn master(&self) -> Option<&Host> {
        self.hosts.iter().find(|h| h.master)
    }

    /// The host the default broker runs on (`[broker] default`, else the first URL), when it
    /// is one of the fleet's hosts: `install-packages` puts the Redis server there.
    pub fn broker_host(&self) -> Option<&Host> {
        let url = self
            .brokers
            .default
            .as_deref()
            .or_else(|| self.brokers.arch.values().next().map(String::as_str))?;
        let host = url::Url::parse(url).ok()?.host_str()?.to_owned();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.hosts.iter().find(|h| h.login.host == host)
    }

    /// Add `queue` (and `workdir`) to the host `login`, creating it in file order.
    fn add_worker(&mut self, login: Login, queue: Queue, workdir: Option<&PathBuf>) {
        let h = self.host_mut(login);
        if !h.queues.contains(&queue) {
            h.queues.push(queue);
        }
        if h.workdir.is_none() {
            h.workdir = workdir.cloned();
        }
    }

    fn host_mut(&mut self, login: Login) -> &mut Host {
        let i = match self.hosts.iter().position(|h| h.login == login) {
            Some(i) => i,
            None => {
                self.hosts.push(Host {
                    login,
                    master: false,
                    queues: Vec::new(),
                    workdir: None,
                });
                self.hosts.len() - 1
            }
        };
        &mut self.hosts[i]
    }

    fn empty(file: &Path) -> Inventory {
        Inventory {
            file: file.to_path_buf(),
            brokers: BrokerConfig::default(),
            releases: Vec::new(),
            hosts: Vec::new(),
            smtp: None,
            koji: KojiConfig::default(),
            ssh: SshSettings::default(),
            daemon: ::toml::Table::new(),
            monitor_port: 8080,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
