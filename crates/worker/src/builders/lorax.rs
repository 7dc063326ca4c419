//! `lorax` → boot ISO (type = boot):
//! `lorax -p PRODUCT -v VERSION -r RELEASE -s REPO… [-m MIRRORLIST…] --buildarch=ARCH
//! --volid=ID [--proxy=URL] --nomacboot --tmp=WORK/tmp OUTPUTDIR`, run in `work/lorax`,
//! with `OUTPUTDIR` = `output/lorax`, which must not exist (lorax refuses an existing one).
//! `--buildarch=ARCH` is one argument (the 2012 service split it in two, which lorax reads
//! as an empty arch and a stray positional).
//!
//! **Side repo.** It is one more `-s file://…/siderepo`. So that its packages win even over
//! newer ones in the base repos, lorax 28 and later (which read dnf repo files with
//! `--repo`) get the base repos in a repo file with `excludepkgs=` naming the side repo's
//! packages instead of as `-s`; older lorax only has `-s`, and the job log says that a newer
//! base package wins there.
//!
//! Output: `OUTPUTDIR/images/boot.iso` (found by listing; `install.img`, `pxeboot/` and the
//! tree files stay in the job directory).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use fbs_core::spec::{BootOptions, BuildSpec, ImageOptions, RepoKind};

use super::tool;
use crate::builder::{BuildContext, BuildError, BuildReport, Builder};
use crate::siderepo::SideRepo;

/// What to install when lorax is missing.
const INSTALL: &str = "lorax (Fedora/RHEL: dnf install lorax)";

/// The first lorax version that reads dnf repo files (`--repo`).
const REPO_FILES_SINCE: u32 = 28;

/// The lorax adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoraxBuilder;

/// Everything lorax's argv depends on.
#[derive(Debug, Clone)]
pub struct LoraxInput<'a> {
    /// The spec (arch).
    pub spec: &'a BuildSpec,
    /// Its `[boot]` options.
    pub boot: &'a BootOptions,
    /// The output directory (must not exist).
    pub out: &'a Path,
    /// The work directory (cwd; `tmp/` below it).
    pub work: &'a Path,
    /// The side repo, if any.
    pub side: Option<&'a SideRepo>,
    /// The repo file holding the base repos (when lorax reads repo files and there is a
    /// side repo).
    pub repo_file: Option<&'a Path>,
}

/// lorax's arguments (without the program).
pub fn argv(i: &LoraxInput<'_>) -> Vec<String> {
    let b = i.boot;
    let mut v = vec![
        "-p".to_owned(),
        b.product.clone(),
        "-v".into(),
        b.version.clone(),
        "-r".into(),
        b.release.clone(),
    ];
    match i.repo_file {
        Some(f) => v.push(format!("--repo={}", f.display())),
        None => {
            for r in &b.repos {
                let flag = match r.kind {
                    RepoKind::Baseurl => "-s",
                    RepoKind::Mirrorlist => "-m",
                };
                v.push(flag.into());
                v.push(r.url.to_string());
            }
        }
    }
    if let Some(s) = i.side {
        v.push("-s".into());
        v.push(s.url());
    }
    v.push(format!("--buildarch={}", i.spec.arch));
    v.push(format!(
        "--volid={}",
        tool::volume_id(&format!("{}-{}-{}", b.product, b.version, i.spec.arch))
    ));
    if let Some(p) = b.proxy.as_deref().filter(|p| !p.is_empty()) {
        v.push(format!("--proxy={p}"));
    }
    v.push("--nomacboot".into());
    v.push(format!("--tmp={}", i.work.join("tmp").display()));
    v.push(i.out.display().to_string());
    v
}

/// A dnf repo file with the spec's repos, each excluding the side repo's packages.
pub fn repo_file(b: &BootOptions, side: &SideRepo) -> String {
    let mut s = String::new();
    for (n, r) in b.repos.iter().enumerate() {
        let key = match r.kind {
            RepoKind::Baseurl => "baseurl",
            RepoKind::Mirrorlist => "mirrorlist",
        };
        let id: String = r
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let _ = writeln!(s, "[{id}-{n}]\nname={}\n{key}={}\nenabled=1", r.name, r.url);
        if let Some(p) = b.proxy.as_deref().filter(|p| !p.is_empty()) {
            let _ = writeln!(s, "proxy={p}");
        }
        let _ = writeln!(s, "excludepkgs={}\n", side.packages.join(","));
    }
    s
}

/// The major version in `lorax -V` output (`lorax-39.5`).
pub fn major_version(out: &str) -> Option<u32> {
    let v = out.trim().rsplit('-').next()?;
    v.split('.').next()?.parse().ok()
}

/// `OUTPUTDIR/images/boot.iso`, when lorax made it.
pub fn discover(out: &Path) -> Result<BuildReport, BuildError> {
    let iso = out.join("images/boot.iso");
    if !iso.is_file() {
        return Err(BuildError::Input(format!(
            "lorax finished but made no {}",
            iso.display()
        )));
    }
    Ok(vec![tool::iso_artifact(&iso)].into())
}

#[async_trait]
impl Builder for LoraxBuilder {
    fn name(&self) -> &'static str {
        "lorax"
    }

    fn available(&self) -> bool {
        tool::find("lorax").is_some()
    }

    async fn version(&self) -> Option<String> {
        let out = std::process::Command::new(tool::find("lorax")?)
            .arg("-V")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Some(if text.is_empty() {
            String::from_utf8_lossy(&out.stderr).trim().to_owned()
        } else {
            text
        })
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let ImageOptions::Boot(boot) = &ctx.job.spec.image else {
            return Err(BuildError::Input(
                "lorax makes boot ISOs only; choose another builder for this image type".into(),
            ));
        };
        let program = tool::require("lorax", INSTALL)?;
        tool::require_root("lorax")?;
        let work = ctx.dirs.work.join("lorax");
        std::fs::create_dir_all(work.join("tmp")).map_err(tool::io_err("create", &work))?;
        let out = tool::fresh_dir(&ctx.dirs.output.join("lorax"))?;
        let side = ctx.side_repo.as_ref();
        let mut repo_path: Option<PathBuf> = None;
        if let Some(s) = side {
            let probe =
                tool::command(ctx, &program, &tool::os(vec!["-V".into()]), &work).capture_stdout();
            let version = tool::run(ctx, &probe, INSTALL).await?;
            let major = major_version(version.stdout.as_deref().unwrap_or_default());
            if major.is_some_and(|m| m >= REPO_FILES_SINCE) {
                let p = work.join("base.repo");
                std::fs::write(&p, repo_file(boot, s)).map_err(tool::io_err("write", &p))?;
                repo_path = Some(p);
            } else {
                ctx.log.fbs(
                    "warning: this lorax reads no repo files: a newer package in the base repos wins over the side repo's",
                );
            }
        }
        let args = argv(&LoraxInput {
            spec: &ctx.job.spec,
            boot,
            out: &out,
            work: &work,
            side,
            repo_file: repo_path.as_deref(),
        });
        let cmd = tool::command(ctx, &program, &tool::os(args), &work);
        tool::run(ctx, &cmd, INSTALL).await?;
        discover(&out)
    }
}
