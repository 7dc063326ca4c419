//! dnf and rpm for a native build: the job-local configuration (`dnf.conf`, `repos.d/`,
//! an empty `vars/`, and `HOME/.rpmmacros`), and the few commands the builders need.
//!
//! dnf keeps its cache, logs and history *inside* the install root whatever it is told (it
//! prefixes `cachedir`, `logdir` and `persistdir` with `--installroot`); they are removed
//! from image roots before squashing (see `root::scrub`).
//!
//! **rpmdb path.** Debian's rpm puts its database under `~/.rpmdb`, so an image root would
//! get `/root/.rpmdb`. The host rpm's default is probed with the job's `HOME`; when it lies
//! under `HOME`, `%_dbpath` is set to `/var/lib/rpm` in the job's `.rpmmacros`, where every
//! RPM-based distribution's tools look. Otherwise (a Fedora or RHEL host) the host default
//! is kept, so the image matches what its own rpm expects.

use std::path::{Path, PathBuf};

use fbs_core::spec::Arch;

use super::packages::PackageRequest;
use super::repos::{self, RepoDef};
use super::session::{Session, mkdir, write};
use super::tools;
use crate::builder::BuildError;

/// The rpmdb path used when the host's rpm would put it in `HOME`.
pub(crate) const STANDARD_DBPATH: &str = "/var/lib/rpm";

/// The query format of one installed package's NEVRA.
pub(crate) const NEVRA_QF: &str = "%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n";

/// dnf configured for one job.
#[derive(Debug, Clone)]
pub(crate) struct Dnf {
    /// The dnf 4 command (`dnf4`, `dnf-3` or `dnf`).
    program: String,
    conf: PathBuf,
    reposdir: PathBuf,
    varsdir: PathBuf,
    releasever: String,
    forcearch: Option<&'static str>,
    /// The rpmdb path inside image roots.
    pub dbpath: String,
}

impl Dnf {
    /// Write the configuration for `repos` under `work/dnf` and the rpm macros in `HOME`.
    pub async fn setup(
        s: &Session<'_>,
        repos: &[RepoDef],
        releasever: &str,
        arch: Arch,
        install_langs: Option<&str>,
    ) -> Result<Dnf, BuildError> {
        let program = tools::dnf4()?;
        tools::require("rpm")?;
        if repos.is_empty() {
            return Err(BuildError::Input(
                "no repositories to install from: give the kickstart `repo --baseurl=…` (or `url`) lines, or the spec repositories".into(),
            ));
        }
        if releasever.is_empty() || releasever.contains(char::is_whitespace) {
            return Err(BuildError::Input(format!(
                "release version {releasever:?} cannot be passed to dnf as --releasever"
            )));
        }
        let dir = s.work("dnf");
        let reposdir = dir.join("repos.d");
        let varsdir = dir.join("vars");
        mkdir(&reposdir)?;
        mkdir(&varsdir)?;
        let keys = repos::host_keys(Path::new(repos::HOST_KEY_DIR));
        for r in repos {
            if !r.is_local() && keys.is_empty() {
                s.warn(&format!(
                    "repo {} is checked with gpgcheck=1 but {} has no keys: signed packages will be refused",
                    r.id,
                    repos::HOST_KEY_DIR
                ));
            }
            write(
                &reposdir.join(format!("{}.repo", r.id)),
                repos::render_repo(r, &keys)?,
            )?;
        }
        let conf = dir.join("dnf.conf");
        write(
            &conf,
            format!(
                "[main]\ngpgcheck=1\nkeepcache=1\nplugins=0\nskip_if_unavailable=0\nreposdir={}\n",
                reposdir.display()
            ),
        )?;

        let probed = s
            .stdout(s.cmd("rpm").args(["--eval", "%{_dbpath}"]))
            .await?;
        let probed = probed.trim();
        let dbpath = if probed.is_empty()
            || !probed.starts_with('/')
            || probed.starts_with(&*s.home.to_string_lossy())
        {
            STANDARD_DBPATH.to_owned()
        } else {
            probed.to_owned()
        };
        let mut macros = format!("%_dbpath {dbpath}\n");
        if let Some(l) = install_langs {
            macros.push_str(&format!("%_install_langs {l}\n"));
        }
        write(&s.home.join(".rpmmacros"), macros)?;
        s.note(&format!("rpmdb path in image roots: {dbpath}"));

        let forcearch = match Arch::host() {
            Some(h) if h == arch => None,
            _ => {
                s.warn(&format!(
                    "building {arch} packages on a {} host: dnf --forcearch={arch}; scriptlets may fail",
                    std::env::consts::ARCH
                ));
                Some(arch.as_str())
            }
        };
        Ok(Dnf {
            program: program.to_string_lossy().into_owned(),
            conf,
            reposdir,
            varsdir,
            releasever: releasever.to_owned(),
            forcearch,
            dbpath,
        })
    }

    fn args(&self, root: &Path) -> Vec<String> {
        let mut v = vec![
            "-y".to_owned(),
            format!("--installroot={}", root.display()),
            format!("--config={}", self.conf.display()),
            format!("--setopt=reposdir={}", self.reposdir.display()),
            format!("--setopt=varsdir={}", self.varsdir.display()),
            format!("--releasever={}", self.releasever),
            "--noplugins".to_owned(),
        ];
        if let Some(a) = self.forcearch {
            v.push(format!("--forcearch={a}"));
        }
        v
    }

    /// Resolve `req` for an empty root at `root` and download every package of the
    /// transaction into `dest` (nothing is installed; no scriptlet runs).
    pub async fn download(
        &self,
        s: &Session<'_>,
        root: &Path,
        req: &PackageRequest,
        dest: &Path,
    ) -> Result<(), BuildError> {
        let cmd = s
            .cmd(&self.program)
            .args(self.args(root))
            .args(req.options())
            .args(["install", "--downloadonly"])
            .arg(format!("--destdir={}", dest.display()))
            .args(&req.specs)
            .name("dnf download");
        s.run(&cmd).await.map(|_| ())
    }

    /// Install `req` into `root` from the metadata and packages [`Dnf::download`] cached, in
    /// the build's own namespaces (package scriptlets run here).
    pub async fn install(
        &self,
        s: &Session<'_>,
        root: &Path,
        req: &PackageRequest,
    ) -> Result<(), BuildError> {
        let cmd = s
            .isolated(&self.program)
            .args(self.args(root))
            .arg("--cacheonly")
            .args(req.options())
            .arg("install")
            .args(&req.specs)
            .name("dnf install");
        s.run(&cmd).await.map(|_| ())
    }

    /// `dnf repoquery` with `args`, using `scratch` as the (empty) install root; one line per
    /// result.
    pub async fn repoquery(
        &self,
        s: &Session<'_>,
        scratch: &Path,
        args: &[&str],
    ) -> Result<Vec<String>, BuildError> {
        let out = s
            .stdout(
                s.cmd(&self.program)
                    .arg("-q")
                    .args(self.args(scratch))
                    .arg("repoquery")
                    .args(args)
                    .name("dnf repoquery"),
            )
            .await?;
        let mut v: Vec<String> = out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        v.sort();
        v.dedup();
        Ok(v)
    }

    /// True when the repositories define comps group `id`.
    pub async fn has_group(
        &self,
        s: &Session<'_>,
        scratch: &Path,
        id: &str,
    ) -> Result<bool, BuildError> {
        let out = s
            .stdout(
                s.cmd(&self.program)
                    .arg("-q")
                    .args(self.args(scratch))
                    .args(["group", "info", id])
                    .name("dnf group info"),
            )
            .await?;
        Ok(!out.trim().is_empty())
    }

    /// `rpm --root ROOT --dbpath … -qa --qf QF`, one line per package, sorted.
    pub async fn query_installed(
        &self,
        s: &Session<'_>,
        root: &Path,
        qf: &str,
    ) -> Result<Vec<String>, BuildError> {
        let args = [
            format!("--root={}", root.display()),
            format!("--dbpath={}", self.dbpath),
            "-qa".into(),
            "--qf".into(),
            qf.into(),
        ];
        let out = s.stdout_quiet("rpm", args).await?;
        Ok(sorted_lines(&out))
    }
}

/// `rpm -qp --qf QF FILES…` (no database involved), one line per output line, in the order
/// rpm prints them (the order of `files`).
pub(crate) async fn query_files(
    s: &Session<'_>,
    files: &[PathBuf],
    qf: &str,
) -> Result<Vec<String>, BuildError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<std::ffi::OsString> = ["-qp", "--nosignature", "--nodigest", "--qf", qf]
        .iter()
        .map(Into::into)
        .collect();
    args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    let out = s.stdout_quiet("rpm", args).await?;
    Ok(out.lines().map(String::from).collect())
}

fn sorted_lines(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// The newest of `BUILDTIME` values printed one per line.
pub(crate) fn newest(times: &[String]) -> Option<i64> {
    times.iter().filter_map(|t| t.parse::<i64>().ok()).max()
}

/// The `.rpm` files directly in `dir`, sorted.
pub(crate) fn rpms_in(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let rd = std::fs::read_dir(dir).map_err(super::session::io_err("list", dir))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rpm") && p.is_file())
        .collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_ignores_what_is_not_a_number() {
        let t = [
            "1700000000".to_owned(),
            "(none)".into(),
            "1700000500".into(),
        ];
        assert_eq!(newest(&t), Some(1_700_000_500));
        assert_eq!(newest(&[]), None);
    }
}
