//! Where fbs lives on a host: the binary in /opt/fbs/bin, its config in /etc/fbs (0700, the
//! file 0600), state and pid files in /var/lib/fbs, logs in /var/log/fbs, units in
//! /etc/systemd/system. `deploy-local --local-root DIR` puts the same tree under DIR.

use std::path::{Path, PathBuf};

/// The paths of an installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: Option<PathBuf>,
}

impl Layout {
    /// The real paths.
    pub fn system() -> Self {
        Layout { root: None }
    }

    /// The same tree under `root` (no systemd is ever driven for it).
    pub fn under(root: impl Into<PathBuf>) -> Self {
        Layout {
            root: Some(root.into()),
        }
    }

    /// True for a tree under a root directory.
    pub fn is_rooted(&self) -> bool {
        self.root.is_some()
    }

    fn p(&self, abs: &str) -> PathBuf {
        match &self.root {
            None => PathBuf::from(abs),
            Some(r) => r.join(abs.trim_start_matches('/')),
        }
    }

    /// /opt/fbs/bin
    pub fn bin_dir(&self) -> PathBuf {
        self.p("/opt/fbs/bin")
    }

    /// /opt/fbs/bin/fbs
    pub fn binary(&self) -> PathBuf {
        self.bin_dir().join("fbs")
    }

    /// /etc/fbs
    pub fn etc_dir(&self) -> PathBuf {
        self.p("/etc/fbs")
    }

    /// /etc/fbs/fbs.toml
    pub fn config(&self) -> PathBuf {
        self.etc_dir().join("fbs.toml")
    }

    /// /etc/fbs/environment: extra environment for the daemons (read by the units and by the
    /// `--daemon` start alike); optional, never written by deploy.
    pub fn env_file(&self) -> PathBuf {
        self.etc_dir().join("environment")
    }

    /// /var/lib/fbs
    pub fn state_dir(&self) -> PathBuf {
        self.p("/var/lib/fbs")
    }

    /// /var/log/fbs
    pub fn log_dir(&self) -> PathBuf {
        self.p("/var/log/fbs")
    }

    /// /etc/systemd/system
    pub fn unit_dir(&self) -> PathBuf {
        self.p("/etc/systemd/system")
    }

    /// The directories deploy creates.
    pub fn dirs(&self) -> [PathBuf; 4] {
        [
            self.bin_dir(),
            self.etc_dir(),
            self.state_dir(),
            self.log_dir(),
        ]
    }

    /// A path of this layout for display.
    pub fn show(p: &Path) -> String {
        p.display().to_string()
    }
}
