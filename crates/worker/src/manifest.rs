//! `manifest.json`: the machine-readable record staged beside a job's artifacts — what was
//! asked for, what was made (with sizes, checksums and ISO volume ids), which packages went
//! in, which builder made it on which host, and how long each stage took.
//!
//! The format is versioned by [`SCHEMA_VERSION`]; fields are only ever added within a
//! version, so readers should ignore fields they do not know. Every field is described in
//! `docs/manifest.md`.

use std::time::Duration;

use fbs_core::job::JobId;
use fbs_core::spec::{BuildSpec, ImageOptions};
use serde::{Deserialize, Serialize};

use crate::builder::{BuildReport, StepTiming};

/// The schema version written by this version of fbs.
pub const SCHEMA_VERSION: u32 = 1;

/// The file name of the manifest in the staging directory.
pub const FILE_NAME: &str = "manifest.json";

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The format version, [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The job that made the artifacts.
    pub job_id: JobId,
    /// What the spec asked for.
    pub spec: SpecSummary,
    /// The staged images, in the order the builder listed them.
    pub artifacts: Vec<ManifestArtifact>,
    /// The packages in the images, `NAME-EPOCH:VERSION-RELEASE.ARCH`, sorted.
    pub packages: Vec<String>,
    /// The Koji builds the spec asked for (their packages went into the side repo).
    pub koji_builds: KojiBuildsUsed,
    /// The builder that made the images.
    pub builder: BuilderInfo,
    /// The host of the worker that built and staged them.
    pub worker_host: String,
    /// When staging started (UTC, RFC 3339).
    #[serde(default)]
    pub staged_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the files were staged, credentials removed (`ftp://host/pub/<job-id>/`,
    /// `file:///srv/staging/<job-id>/`).
    #[serde(default)]
    pub location: Option<String>,
    /// The `SOURCE_DATE_EPOCH` the images were built with, when the builder used one:
    /// building the same spec from the same packages with it gives the same bytes.
    pub source_date_epoch: Option<i64>,
    /// How long each stage and each builder step took, in order.
    pub timings: Vec<Timing>,
}

/// The parts of the spec a reader of the manifest needs to know what the images are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecSummary {
    /// `boot`, `dvd` or `live`.
    #[serde(rename = "type")]
    pub image_type: String,
    /// Target architecture (`x86_64`, …).
    pub arch: String,
    /// Target release (`40`, `rawhide`, …).
    pub release: String,
    /// The product (boot, live) or DVD name.
    pub product: String,
    /// The product version (boot: `-v`, dvd: `--ver`, live: the release version).
    pub version: String,
    /// The live label, for live images.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    /// The DVD flavor, for DVDs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flavor: Option<String>,
    /// The spec's own one-line summary.
    pub summary: String,
}

impl SpecSummary {
    /// The summary of `spec`.
    pub fn of(spec: &BuildSpec) -> Self {
        let (product, version, label, flavor) = match &spec.image {
            ImageOptions::Boot(b) => (b.product.clone(), b.version.clone(), None, None),
            ImageOptions::Dvd(d) => (
                d.name.clone(),
                d.version.clone(),
                None,
                Some(d.flavor.clone()),
            ),
            ImageOptions::Live(l) => (
                l.product.clone(),
                l.releasever.clone(),
                Some(l.label.clone()),
                None,
            ),
        };
        SpecSummary {
            image_type: spec.image_type().as_str().to_owned(),
            arch: spec.arch.as_str().to_owned(),
            release: spec.release.clone(),
            product,
            version,
            label,
            flavor,
            summary: spec.summary(),
        }
    }
}

/// One staged image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestArtifact {
    /// Its file name, relative to the manifest.
    pub path: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The hex SHA-256 of its bytes (the same as in `CHECKSUM`).
    pub sha256: String,
    /// The ISO volume id, for ISOs.
    pub volume_id: Option<String>,
    /// Whether the image boots (El Torito), for ISOs.
    pub bootable: Option<bool>,
    /// Where users can download it, when the staging target has a public URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// The Koji builds a spec named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KojiBuildsUsed {
    /// Builds named by `NAME-VERSION-RELEASE`.
    pub nvrs: Vec<String>,
    /// Builds named by numeric id.
    pub build_ids: Vec<i64>,
}

/// Which builder made the images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderInfo {
    /// Its short name (`native`, `lorax`, …).
    pub name: String,
    /// Its version and those of the tools it ran, when known.
    pub version: Option<String>,
}

/// How long one stage or step took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// `prepare`, `build`, `stage`, or a builder step as `build.<step>` (`build.install`, …).
    pub stage: String,
    /// Seconds, with millisecond precision.
    pub seconds: f64,
}

impl Timing {
    /// A timing for `stage`.
    pub fn new(stage: impl Into<String>, d: Duration) -> Self {
        Timing {
            stage: stage.into(),
            seconds: (d.as_secs_f64() * 1000.0).round() / 1000.0,
        }
    }

    /// The timing of a builder step, named `build.<step>`.
    pub fn of_step(s: &StepTiming) -> Self {
        Timing::new(format!("build.{}", s.step), s.duration)
    }
}

/// What the pipeline knows about a job that the builder does not: fills the manifest in
/// together with the [`BuildReport`] and the staged files' sizes and checksums.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestInput {
    /// The job.
    pub job_id: JobId,
    /// Its spec.
    pub spec: BuildSpec,
    /// The builder's name.
    pub builder: String,
    /// The builder's version, used when the report has none.
    pub builder_version: Option<String>,
    /// The worker's host.
    pub worker_host: String,
    /// The pipeline stages timed so far (`prepare`, `build`).
    pub timings: Vec<Timing>,
}

impl Manifest {
    /// The manifest for a build reported as `report` whose artifacts were staged as
    /// `staged` (same order; size and sha256 taken from there), staging having taken
    /// `stage_time` so far.
    pub fn new(
        input: &ManifestInput,
        report: &BuildReport,
        staged: &[fbs_core::job::Artifact],
        stage_time: Duration,
    ) -> Self {
        let artifacts = staged
            .iter()
            .zip(&report.artifacts)
            .map(|(s, b)| ManifestArtifact {
                path: s.path.clone(),
                media_type: s.media_type.clone(),
                size: s.size,
                sha256: s.sha256.clone(),
                volume_id: b.volume_id.clone(),
                bootable: b.bootable,
                url: s.url.clone(),
            })
            .collect();
        let mut timings = Vec::new();
        for t in &input.timings {
            timings.push(t.clone());
            if t.stage == "build" {
                timings.extend(report.steps.iter().map(Timing::of_step));
            }
        }
        timings.push(Timing::new("stage", stage_time));
        Manifest {
            schema_version: SCHEMA_VERSION,
            job_id: input.job_id,
            spec: SpecSummary::of(&input.spec),
            artifacts,
            packages: report.packages.clone(),
            koji_builds: KojiBuildsUsed {
                nvrs: input.spec.koji.nvrs.clone(),
                build_ids: input.spec.koji.build_ids.clone(),
            },
            builder: BuilderInfo {
                name: input.builder.clone(),
                version: report
                    .builder_version
                    .clone()
                    .or_else(|| input.builder_version.clone()),
            },
            worker_host: input.worker_host.clone(),
            staged_at: chrono::Duration::from_std(stage_time)
                .ok()
                .map(|d| chrono::Utc::now() - d),
            location: None,
            source_date_epoch: report.source_date_epoch,
            timings,
        }
    }

    /// The manifest as pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Serializing plain strings and numbers cannot fail; keep a valid document anyway.
            format!("{{\"schema_version\": {SCHEMA_VERSION}, \"error\": \"{e}\"}}")
        });
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::BuiltArtifact;
    use fbs_core::job::Artifact;
    use fbs_core::spec::{Arch, BootOptions, BuilderChoice, ImageOptions, KojiBuilds, Staging};

    fn spec() -> BuildSpec {
        BuildSpec {
            arch: Arch::X86_64,
            release: "40".into(),
            staging: Staging::File {
                path: "/srv/staging".into(),
            },
            staging_layout: Default::default(),
            email: "qa@example.org".into(),
            koji: KojiBuilds {
                nvrs: vec!["bash-5.2-1.fc40".into()],
                build_ids: vec![42],
            },
            builder: BuilderChoice::Native,
            source_date_epoch: None,
            image: ImageOptions::Boot(BootOptions {
                product: "Fedora".into(),
                version: "40".into(),
                release: "40".into(),
                updates: false,
                updates_testing: false,
                repos: vec![],
                proxy: None,
            }),
        }
    }

    #[test]
    fn combines_the_report_the_staged_files_and_the_pipeline_timings() {
        let input = ManifestInput {
            job_id: JobId::new(),
            spec: spec(),
            builder: "native".into(),
            builder_version: Some("fallback".into()),
            worker_host: "w1".into(),
            timings: vec![
                Timing::new("prepare", Duration::from_millis(12)),
                Timing::new("build", Duration::from_secs(3)),
            ],
        };
        let report = BuildReport {
            artifacts: vec![BuiltArtifact {
                path: "/x/boot.iso".into(),
                media_type: "application/vnd.efi.iso".into(),
                volume_id: Some("FEDORA-40-X86_64".into()),
                bootable: Some(true),
            }],
            packages: vec!["kernel-0:6.1-1.x86_64".into()],
            builder_version: Some("native 0.1.0".into()),
            source_date_epoch: Some(1_700_000_000),
            steps: vec![StepTiming {
                step: "install".into(),
                duration: Duration::from_millis(1500),
            }],
        };
        let staged = [Artifact {
            path: "boot.iso".into(),
            media_type: "application/vnd.efi.iso".into(),
            size: 5,
            sha256: "ab".into(),
            url: None,
        }];
        let m = Manifest::new(&input, &report, &staged, Duration::from_millis(250));
        assert_eq!(m.schema_version, 1);
        assert_eq!(
            m.artifacts[0].volume_id.as_deref(),
            Some("FEDORA-40-X86_64")
        );
        assert_eq!(m.artifacts[0].size, 5);
        assert_eq!(m.builder.version.as_deref(), Some("native 0.1.0"));
        assert_eq!(m.koji_builds.build_ids, [42]);
        let stages: Vec<&str> = m.timings.iter().map(|t| t.stage.as_str()).collect();
        assert_eq!(stages, ["prepare", "build", "build.install", "stage"]);
        let json = m.to_json();
        let back: Manifest = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, m);
        let v: serde_json::Value = serde_json::from_str(&json).expect("parses");
        assert_eq!(v["spec"]["type"], "boot");
        assert_eq!(v["artifacts"][0]["bootable"], true);
    }
}
