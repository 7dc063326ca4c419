//! `kiwi-ng` → live ISO (type = live; Fedora 42 and later build their live media with it):
//! `kiwi-ng --profile Live system build --description DIR --target-dir OUT`, run in
//! `work/kiwi`, with a description generated from the spec and the job's kickstart
//! ([`description`]): `config.kiwi` (repositories, packages, an `iso` type with the spec's
//! volume id) and `config.sh` (the kickstart's chroot `%post` scripts, in order).
//!
//! **Side repo.** kiwi has no per-repository package exclusion, so the side repo gets
//! repository priority 1 and the others 99: dnf prefers a package from the higher-priority
//! repository even when another has a newer version. `%post --nochroot` scripts have no kiwi
//! equivalent and are left out (the job log says so). Output: `*.iso` in OUT, by listing.

use std::fmt::Write as _;
use std::path::Path;

use async_trait::async_trait;
use fbs_core::kickstart::{Kickstart, PackageEntry, RepoSource, ScriptKind};
use fbs_core::spec::{BuildSpec, ImageOptions, LiveOptions};

use super::tool;
use crate::builder::{BuildContext, BuildError, BuildReport, Builder};
use crate::siderepo::SideRepo;

const INSTALL: &str =
    "kiwi (Fedora: dnf install kiwi-cli; Debian: apt-get install kiwi; PyPI: kiwi)";

/// The kiwi profile fbs generates and builds.
pub const PROFILE: &str = "Live";

/// The kiwi-ng adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct KiwiBuilder;

/// kiwi-ng's arguments (without the program).
pub fn argv(description: &Path, target: &Path) -> Vec<String> {
    vec![
        "--profile".into(),
        PROFILE.into(),
        "system".into(),
        "build".into(),
        "--description".into(),
        description.display().to_string(),
        "--target-dir".into(),
        target.display().to_string(),
    ]
}

/// A generated kiwi description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// `config.kiwi`.
    pub config: String,
    /// `config.sh`.
    pub script: String,
    /// What the job log should say.
    pub warnings: Vec<String>,
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The description for `live` from `ks` (whose `fbs-side` repo, if any, gets priority 1).
pub fn description(spec: &BuildSpec, live: &LiveOptions, ks: &Kickstart) -> Description {
    let mut warnings = Vec::new();
    let mut c = String::new();
    let name = tool::volume_id(&live.label);
    let _ = writeln!(c, "<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let _ = writeln!(c, "<image schemaversion=\"7.5\" name=\"{}\">", xml(&name));
    let _ = writeln!(
        c,
        "  <description type=\"system\">\n    <author>fbs</author>\n    <contact>{}</contact>\n    <specification>{}</specification>\n  </description>",
        xml(&spec.email),
        xml(&live.title)
    );
    let _ = writeln!(
        c,
        "  <profiles>\n    <profile name=\"{PROFILE}\" description=\"Live ISO\"/>\n  </profiles>"
    );
    let _ = writeln!(
        c,
        "  <preferences>\n    <version>1.0.0</version>\n    <packagemanager>dnf</packagemanager>\n    <release-version>{}</release-version>\n    <locale>en_US</locale>\n    <timezone>UTC</timezone>\n  </preferences>",
        xml(&live.releasever)
    );
    let _ = writeln!(
        c,
        "  <preferences profiles=\"{PROFILE}\">\n    <type image=\"iso\" primary=\"true\" flags=\"dmsquash\" volid=\"{}\" mediacheck=\"false\" firmware=\"uefi\"/>\n  </preferences>",
        xml(&tool::volume_id(&live.label))
    );
    for r in ks.repos() {
        let Some(src) = &r.source else {
            warnings.push(format!("repo {} names no location; left out", r.name));
            continue;
        };
        let (path, kind) = match src {
            RepoSource::Baseurl(u) => (u.replacen("file://", "dir://", 1), None),
            RepoSource::Mirrorlist(u) => (u.clone(), Some("mirrorlist")),
            RepoSource::Metalink(u) => (u.clone(), Some("metalink")),
        };
        let path = tool::expand_vars(&path, &live.releasever, spec.arch);
        let priority = if r.name == SideRepo::NAME { 1 } else { 99 };
        let kind = kind
            .map(|k| format!(" sourcetype=\"{k}\""))
            .unwrap_or_default();
        let _ = writeln!(
            c,
            "  <repository type=\"rpm-md\" alias=\"{}\" priority=\"{priority}\"{kind}>\n    <source path=\"{}\"/>\n  </repository>",
            xml(&r.name),
            xml(&path)
        );
    }
    let _ = writeln!(c, "  <packages type=\"image\">");
    for p in ks.packages() {
        for e in p.entries() {
            let line = match e {
                PackageEntry::Package(n) => format!("<package name=\"{}\"/>", xml(n)),
                PackageEntry::Group { name, .. } => {
                    format!("<namedCollection name=\"{}\"/>", xml(name))
                }
                PackageEntry::Environment(n) => {
                    format!("<namedCollection name=\"{}\"/>", xml(n))
                }
                PackageEntry::Exclude(n) => format!("<ignore name=\"{}\"/>", xml(n)),
                PackageEntry::ExcludeGroup(n) => {
                    warnings.push(format!("-@{n}: kiwi cannot exclude a group; ignored"));
                    continue;
                }
                PackageEntry::Blank | PackageEntry::Include(_) => continue,
            };
            let _ = writeln!(c, "    {line}");
        }
    }
    let _ = writeln!(c, "  </packages>");
    let _ = writeln!(
        c,
        "  <packages type=\"bootstrap\">\n    <package name=\"filesystem\"/>\n    <package name=\"basesystem\"/>\n  </packages>\n</image>"
    );

    let mut s =
        String::from("#!/bin/bash\n# The kickstart's %post scripts, generated by fbs.\nset -e\n");
    let mut n = 0;
    for script in ks.scripts().filter(|x| x.kind == ScriptKind::Post) {
        if script.nochroot() {
            warnings.push("a %post --nochroot script has no kiwi equivalent; left out".into());
            continue;
        }
        n += 1;
        let marker = format!("FBS_POST_{n}_END");
        let _ = write!(
            s,
            "cat > /tmp/fbs-post-{n} <<'{marker}'\n{}{}{marker}\n{} /tmp/fbs-post-{n}\nrm -f /tmp/fbs-post-{n}\n",
            script.body_text(),
            if script.body_text().ends_with('\n') || script.body.is_empty() {
                ""
            } else {
                "\n"
            },
            script.interpreter()
        );
    }
    Description {
        config: c,
        script: s,
        warnings,
    }
}

#[async_trait]
impl Builder for KiwiBuilder {
    fn name(&self) -> &'static str {
        "kiwi"
    }

    fn available(&self) -> bool {
        tool::find("kiwi-ng").is_some()
    }

    async fn version(&self) -> Option<String> {
        let out = std::process::Command::new(tool::find("kiwi-ng")?)
            .arg("--version")
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    async fn build(&self, ctx: &BuildContext) -> Result<BuildReport, BuildError> {
        let ImageOptions::Live(live) = &ctx.job.spec.image else {
            return Err(BuildError::Input(
                "kiwi makes live ISOs only here; choose another builder for this image type".into(),
            ));
        };
        let program = tool::require("kiwi-ng", INSTALL)?;
        tool::require_root("kiwi-ng")?;
        let text = ctx
            .job
            .kickstart
            .as_deref()
            .ok_or_else(|| BuildError::Input("the job carries no kickstart".into()))?;
        let ks = Kickstart::parse(text, "job.ks")
            .map_err(|e| BuildError::Input(format!("the kickstart cannot be read: {e}")))?;
        let work = ctx.dirs.work.join("kiwi");
        let desc_dir = work.join("description");
        std::fs::create_dir_all(&desc_dir).map_err(tool::io_err("create", &desc_dir))?;
        let d = description(&ctx.job.spec, live, &ks);
        for w in &d.warnings {
            ctx.log.fbs(&format!("warning: kiwi: {w}"));
        }
        for (name, body) in [("config.kiwi", &d.config), ("config.sh", &d.script)] {
            let p = desc_dir.join(name);
            std::fs::write(&p, body).map_err(tool::io_err("write", &p))?;
        }
        let out = tool::fresh_dir(&ctx.dirs.output.join("kiwi"))?;
        let cmd = tool::command(ctx, &program, &tool::os(argv(&desc_dir, &out)), &work);
        tool::run(ctx, &cmd, INSTALL).await?;
        Ok(tool::iso_artifacts(&out, "kiwi-ng")?.into())
    }
}
