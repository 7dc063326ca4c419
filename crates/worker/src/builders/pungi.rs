//! pungi → installation DVD (type = dvd).
//!
//! - **Current Fedora: `pungi-koji`** with a generated configuration ([`compose_files`]):
//!   `pungi-koji --config=WORK/pungi.conf --target-dir=OUT --test`, with
//!   `pkgset_source = "repos"` over the kickstart's repositories (the side repo first), a
//!   `variants.xml` with one variant, and a `comps.xml` whose group `fbs-packages` holds the
//!   kickstart's packages. Outputs come from productmd's `compose/metadata/images.json`.
//! - **Old hosts: legacy `pungi`** (Python-2 yum era, what the 2012 service ran):
//!   `pungi -c KS --name NAME --ver VERSION --flavor F --destdir OUT --cachedir CACHE
//!   [--bugurl URL] [--nosource] [--sourceisos] [--force] (--all-stages|-G|-C|-B|-I)`,
//!   outputs under `OUT/VERSION/FLAVOR/ARCH/iso/`, found by listing.
//!
//! `pungi-koji` is used when installed, else `pungi`. Neither has per-repository package
//! exclusion: the side repo is listed first (legacy pungi reads the kickstart, which
//! carries the excludes), and for `pungi-koji` a newer base package would win — the job log
//! says so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use fbs_core::kickstart::{Kickstart, PackageEntry, RepoSource};
use fbs_core::spec::{BuildSpec, DvdOptions, DvdStage, ImageOptions};

use super::livemedia::write_kickstart;
use super::tool;
use crate::builder::{BuildContext, BuildError, BuildReport, Builder, BuiltArtifact};
use crate::siderepo::SideRepo;

const INSTALL: &str = "pungi (Fedora: dnf install pungi)";

/// The pungi adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct PungiBuilder;

/// Legacy `pungi`'s arguments (without the program).
pub fn legacy_argv(d: &DvdOptions, ks: &Path, destdir: &Path, cachedir: &Path) -> Vec<String> {
    let mut v = vec![
        "-c".to_owned(),
        ks.display().to_string(),
        "--name".into(),
        d.name.clone(),
        "--ver".into(),
        d.version.clone(),
        "--flavor".into(),
        d.flavor.clone(),
        "--destdir".into(),
        destdir.display().to_string(),
        "--cachedir".into(),
        cachedir.display().to_string(),
    ];
    if let Some(u) = d.bugurl.as_deref().filter(|u| !u.is_empty()) {
        v.push("--bugurl".into());
        v.push(u.to_owned());
    }
    for (on, flag) in [
        (d.nosource, "--nosource"),
        (d.sourceisos, "--sourceisos"),
        (d.force, "--force"),
    ] {
        if on {
            v.push(flag.into());
        }
    }
    v.push(
        match d.stage {
            DvdStage::All => "--all-stages",
            DvdStage::G => "-G",
            DvdStage::C => "-C",
            DvdStage::B => "-B",
            DvdStage::I => "-I",
        }
        .into(),
    );
    v
}

/// `pungi-koji`'s arguments (without the program).
pub fn koji_argv(config: &Path, target: &Path) -> Vec<String> {
    vec![
        format!("--config={}", config.display()),
        format!("--target-dir={}", target.display()),
        "--test".into(),
    ]
}

/// The files of a `pungi-koji` compose configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeFiles {
    /// `pungi.conf`.
    pub config: String,
    /// `variants.xml`.
    pub variants: String,
    /// `comps.xml`.
    pub comps: String,
    /// What the job log should say.
    pub warnings: Vec<String>,
}

fn py(s: &str) -> String {
    format!("{s:?}")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The configuration for `d` from the kickstart `ks` (the side repo, if any, first).
pub fn compose_files(spec: &BuildSpec, d: &DvdOptions, ks: &Kickstart) -> ComposeFiles {
    let mut warnings = Vec::new();
    let mut repos: Vec<String> = Vec::new();
    for r in ks.repos() {
        match &r.source {
            Some(RepoSource::Baseurl(u)) if r.name == SideRepo::NAME => repos.insert(0, u.clone()),
            Some(RepoSource::Baseurl(u)) => repos.push(tool::expand_vars(u, &d.version, spec.arch)),
            _ => warnings.push(format!(
                "repo {}: pungi-koji reads base URLs only; left out",
                r.name
            )),
        }
    }
    if ks.repos().any(|r| r.name == SideRepo::NAME) {
        warnings.push(
            "pungi-koji cannot exclude packages per repository: a newer package in the base repos wins over the side repo's".into(),
        );
    }
    let mut packages = Vec::new();
    let mut groups = Vec::new();
    let mut filtered = Vec::new();
    for p in ks.packages() {
        for e in p.entries() {
            match e {
                PackageEntry::Package(n) => packages.push(n.clone()),
                PackageEntry::Group { name, .. } | PackageEntry::Environment(name) => {
                    groups.push(name.clone())
                }
                PackageEntry::Exclude(n) => filtered.push(n.clone()),
                _ => {}
            }
        }
    }
    let arch = spec.arch.as_str();
    let short: String = d.name.chars().filter(char::is_ascii_alphanumeric).collect();
    let mut c = String::new();
    let _ = writeln!(c, "# Generated by fbs for one DVD compose.");
    let _ = writeln!(c, "release_name = {}", py(&d.name));
    let _ = writeln!(
        c,
        "release_short = {}",
        py(if short.is_empty() { "FBS" } else { &short })
    );
    let _ = writeln!(c, "release_version = {}", py(&d.version));
    let _ = writeln!(c, "release_type = \"ga\"\nrelease_is_layered = False");
    let _ = writeln!(
        c,
        "variants_file = \"variants.xml\"\ncomps_file = \"comps.xml\""
    );
    let _ = writeln!(c, "sigkeys = [None]\npkgset_source = \"repos\"");
    let list: Vec<String> = repos.iter().map(|r| py(r)).collect();
    let _ = writeln!(c, "pkgset_repos = {{{}: [{}]}}", py(arch), list.join(", "));
    let _ = writeln!(
        c,
        "gather_method = \"deps\"\ngather_source = \"comps\"\ngreedy_method = \"none\"\ncheck_deps = False"
    );
    if !filtered.is_empty() {
        let list: Vec<String> = filtered.iter().map(|f| py(f)).collect();
        let _ = writeln!(
            c,
            "filter_packages = [(\"^.*$\", {{\"*\": [{}]}})]",
            list.join(", ")
        );
    }
    let _ = writeln!(
        c,
        "createrepo_checksum = \"sha256\"\nbootable = True\nbuildinstall_method = \"lorax\"\ncreate_jigdo = False\nhashed_directories = False"
    );
    if let Some(u) = d.bugurl.as_deref().filter(|u| !u.is_empty()) {
        let _ = writeln!(
            c,
            "lorax_options = [(\"^.*$\", {{\"*\": {{\"bugurl\": {}}}}})]",
            py(u)
        );
    }

    let mut v = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE variants PUBLIC \"-//Red Hat, Inc.//DTD Variants info//EN\" \"variants2012.dtd\">\n<variants>\n",
    );
    let _ = writeln!(
        v,
        "  <variant id=\"{0}\" name=\"{0}\" type=\"variant\">\n    <arches>\n      <arch>{arch}</arch>\n    </arches>\n    <groups>\n      <group default=\"true\">fbs-packages</group>",
        xml(&d.flavor)
    );
    for g in &groups {
        let _ = writeln!(v, "      <group default=\"true\">{}</group>", xml(g));
    }
    v.push_str("    </groups>\n  </variant>\n</variants>\n");

    let mut comps = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n<comps>\n  <group>\n    <id>fbs-packages</id>\n    <name>fbs packages</name>\n    <description>The kickstart's packages</description>\n    <default>true</default>\n    <uservisible>false</uservisible>\n    <packagelist>\n",
    );
    for p in &packages {
        let _ = writeln!(
            comps,
            "      <packagereq type=\"mandatory\">{}</packagereq>",
            xml(p)
        );
    }
    comps.push_str("    </packagelist>\n  </group>\n</comps>\n");
    if !groups.is_empty() {
        warnings.push(format!(
            "kickstart groups {} must be defined in comps.xml for pungi-koji; only fbs-packages is generated",
            groups.join(", ")
        ));
    }
    ComposeFiles {
        config: c,
        variants: v,
        comps,
        warnings,
    }
}

/// The ISOs productmd's `images.json` lists under `target` (searched for below it).
pub fn discover_compose(target: &Path) -> Result<Vec<BuiltArtifact>, BuildError> {
    let Some(meta) = tool::files_with_suffix(target, "images.json")
        .into_iter()
        .find(|p| p.parent().is_some_and(|d| d.ends_with("compose/metadata")))
    else {
        return Err(BuildError::Input(format!(
            "pungi-koji finished but left no compose/metadata/images.json under {}",
            target.display()
        )));
    };
    let text = std::fs::read_to_string(&meta).map_err(tool::io_err("read", &meta))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| BuildError::Input(format!("{} is not JSON: {e}", meta.display())))?;
    let base: PathBuf = meta
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut arts = Vec::new();
    let variants = doc["payload"]["images"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for arches in variants.values() {
        for images in arches.as_object().into_iter().flat_map(|m| m.values()) {
            for img in images.as_array().into_iter().flatten() {
                let (Some(path), Some("iso")) = (img["path"].as_str(), img["format"].as_str())
                else {
                    continue;
                };
                let full = base.join(path);
                if !full.starts_with(&base) || path.contains("..") || !full.is_file() {
                    continue;
                }
                let mut a = tool::iso_artifact(&full);
                if a.volume_id.is_none() {
                    a.volume_id = img["volume_id"].as_str().map(String::from);
                }
                if let Some(b) = img["bootable"].as_bool() {
                    a.bootable = Some(b);
                }
                arts.push(a);
            }
        }
    }
    if arts.is_empty() {
        return Err(BuildError::Input(format!(
            "{} lists no ISO image",
            meta.display()
        )));
    }
    arts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(arts)
}

#[async_trait]
impl Builder for PungiBuilder {
    fn name(&self) -> &'static str {
        "pungi"
    }

    fn available(&self) -> bool {
        tool::find("pungi-koji").is_some() || tool::find("pungi").is_some()
    }

    async fn version(&self) -> Option<String> {
        let p = tool::find("pungi-koji").or_else(|| tool::find("pungi"))?;
        let out = std::process::Command::new(&p)
            .arg("--version")
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let ImageOptions::Dvd(d) = &ctx.job.spec.image else {
            return Err(BuildError::Input(
                "pungi makes DVDs only; choose another builder for this image type".into(),
            ));
        };
        let modern = tool::find("pungi-koji");
        let program = match &modern {
            Some(p) => p.clone(),
            None => tool::require("pungi", INSTALL)?,
        };
        tool::require_root("pungi")?;
        let work = ctx.dirs.work.join("pungi");
        let ks_path = write_kickstart(ctx, &work)?;
        let out = tool::fresh_dir(&ctx.dirs.output.join("pungi"))?;
        if modern.is_none() {
            let args = legacy_argv(d, &ks_path, &out, &work.join("cache"));
            let cmd = tool::command(ctx, &program, &tool::os(args), &work);
            tool::run(ctx, &cmd, INSTALL).await?;
            return Ok(tool::iso_artifacts(&out, "pungi")?.into());
        }
        let text = ctx.job.kickstart.as_deref().unwrap_or_default();
        let ks = Kickstart::parse(text, "job.ks")
            .map_err(|e| BuildError::Input(format!("the kickstart cannot be read: {e}")))?;
        let files = compose_files(&ctx.job.spec, d, &ks);
        for w in &files.warnings {
            ctx.log.fbs(&format!("warning: pungi: {w}"));
        }
        for (name, body) in [
            ("pungi.conf", &files.config),
            ("variants.xml", &files.variants),
            ("comps.xml", &files.comps),
        ] {
            let p = work.join(name);
            std::fs::write(&p, body).map_err(tool::io_err("write", &p))?;
        }
        std::fs::create_dir_all(&out).map_err(tool::io_err("create", &out))?;
        let args = koji_argv(&work.join("pungi.conf"), &out);
        let cmd = tool::command(ctx, &program, &tool::os(args), &work);
        tool::run(ctx, &cmd, INSTALL).await?;
        Ok(discover_compose(&out)?.into())
    }
}
