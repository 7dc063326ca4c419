//! The build-spec model both readers (FBS INI and TOML) produce, and that travels in jobs.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

/// The kind of image a job builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    /// A boot (netinstall) ISO, lorax's product.
    Boot,
    /// An installation DVD with packages, pungi's product.
    Dvd,
    /// A live ISO with a squashed root filesystem.
    Live,
}

impl ImageType {
    /// The name used in specs, queues and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Boot => "boot",
            ImageType::Dvd => "dvd",
            ImageType::Live => "live",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "boot" => Ok(ImageType::Boot),
            "dvd" => Ok(ImageType::Dvd),
            "live" => Ok(ImageType::Live),
            _ => Err(format!("`{s}` is not one of boot, dvd, live")),
        }
    }
}

/// A target architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// 32-bit x86 (`i386` is accepted as an alias).
    I686,
    /// 64-bit x86.
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit ARM.
    Aarch64,
    /// 64-bit little-endian POWER.
    Ppc64le,
    /// IBM Z.
    S390x,
}

impl Arch {
    /// Every architecture fbs knows, in a stable order.
    pub const ALL: [Arch; 5] = [
        Arch::I686,
        Arch::X86_64,
        Arch::Aarch64,
        Arch::Ppc64le,
        Arch::S390x,
    ];

    /// The canonical name (`x86_64`, `i686`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::I686 => "i686",
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
        }
    }

    /// The architecture of the machine fbs runs on, when it is one fbs builds for.
    pub fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "x86" => Some(Arch::I686),
            "aarch64" => Some(Arch::Aarch64),
            "powerpc64" if cfg!(target_endian = "little") => Some(Arch::Ppc64le),
            "s390x" => Some(Arch::S390x),
            _ => None,
        }
    }

    /// RPM architectures whose packages an image of this architecture can install
    /// (besides `noarch`).
    pub fn rpm_arches(self) -> &'static [&'static str] {
        match self {
            Arch::I686 => &["i686", "i586", "i386"],
            Arch::X86_64 => &["x86_64"],
            Arch::Aarch64 => &["aarch64"],
            Arch::Ppc64le => &["ppc64le"],
            Arch::S390x => &["s390x"],
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "i686" | "i386" => Ok(Arch::I686),
            "x86_64" => Ok(Arch::X86_64),
            "aarch64" => Ok(Arch::Aarch64),
            "ppc64le" => Ok(Arch::Ppc64le),
            "s390x" => Ok(Arch::S390x),
            _ => Err(format!(
                "`{s}` is not one of i686, x86_64, aarch64, ppc64le, s390x (i386 = i686)"
            )),
        }
    }
}

/// Where the results of a job are put.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase")]
pub enum Staging {
    /// A directory on the machine that stages (`file:///path`).
    File {
        /// The absolute directory.
        path: PathBuf,
    },
    /// An FTP (or explicit FTPS) server: `ftp://[user[:pass]@]host[:port]/path`. A bare host in
    /// an old spec becomes `ftp://host/pub/` (anonymous upload).
    Ftp {
        /// The full URL (credentials, if any, are never printed; see [`Staging::redacted`]).
        url: Url,
    },
}

impl Staging {
    /// The location with any password removed, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            Staging::File { path } => format!("file://{}", path.display()),
            Staging::Ftp { url } => {
                let mut u = url.clone();
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
        }
    }
}

/// How staged files are named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StagingLayout {
    /// `<staging>/<job-id>/` holding the artifacts under their own names, `manifest.json`,
    /// `CHECKSUM` and `build.log`.
    #[default]
    Job,
    /// The 2012 service's flat naming, for users who script against it: every artifact as
    /// `<stem>-<arch>-<UTC timestamp>.<ext>` directly in `<staging>/`, beside
    /// `<job-id>.manifest.json`, `<job-id>.CHECKSUM` and `<job-id>.build.log`.
    Flat,
}

impl StagingLayout {
    /// The name used in specs.
    pub fn as_str(self) -> &'static str {
        match self {
            StagingLayout::Job => "job",
            StagingLayout::Flat => "flat",
        }
    }
}

impl FromStr for StagingLayout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "job" => Ok(StagingLayout::Job),
            "flat" => Ok(StagingLayout::Flat),
            _ => Err(format!("`{s}` is not one of job, flat")),
        }
    }
}

/// Builds from Koji whose packages go into the job's side repo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KojiBuilds {
    /// Builds by `NAME-VERSION-RELEASE`.
    #[serde(default)]
    pub nvrs: Vec<String>,
    /// Builds by numeric build id.
    #[serde(default)]
    pub build_ids: Vec<i64>,
}

impl KojiBuilds {
    /// True when no Koji build is asked for.
    pub fn is_empty(&self) -> bool {
        self.nvrs.is_empty() && self.build_ids.is_empty()
    }
}

/// Which tool builds the image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuilderChoice {
    /// The Fedora tool for the image type when it is installed, else `native`.
    #[default]
    Auto,
    /// fbs's own builder from tools every distribution ships.
    Native,
    /// lorax (boot).
    Lorax,
    /// pungi / pungi-koji (dvd).
    Pungi,
    /// kiwi-ng (live).
    Kiwi,
    /// livemedia-creator (live).
    LivemediaCreator,
    /// livecd-creator (live, legacy hosts).
    LivecdCreator,
}

impl FromStr for BuilderChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "native" => Ok(Self::Native),
            "lorax" => Ok(Self::Lorax),
            "pungi" => Ok(Self::Pungi),
            "kiwi" => Ok(Self::Kiwi),
            "livemedia-creator" => Ok(Self::LivemediaCreator),
            "livecd-creator" => Ok(Self::LivecdCreator),
            _ => Err(format!(
                "`{s}` is not one of auto, native, lorax, pungi, kiwi, livemedia-creator, livecd-creator"
            )),
        }
    }
}

/// How a repository is located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// A base URL holding `repodata/`.
    Baseurl,
    /// A mirror list or metalink URL.
    Mirrorlist,
}

/// A package repository an image is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    /// Short name (`fedora`, `updates`, …).
    pub name: String,
    /// Where it is (http, https, ftp or file).
    pub url: Url,
    /// Whether `url` is a base URL or a mirror list.
    #[serde(default = "default_repo_kind")]
    pub kind: RepoKind,
}

fn default_repo_kind() -> RepoKind {
    RepoKind::Baseurl
}

/// A kickstart named by a spec: a file next to the spec, or a URL the client fetches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KickstartSource {
    /// A file, already resolved relative to the spec's directory.
    Path(PathBuf),
    /// An http, https or ftp URL.
    Url(Url),
}

/// `[boot]`: lorax's boot ISO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootOptions {
    /// Product name (`-p`), default `Fedora`.
    pub product: String,
    /// Version (`-v`), default the spec's release.
    pub version: String,
    /// Release (`-r`), default the spec's release.
    pub release: String,
    /// Include the updates repository.
    pub updates: bool,
    /// Include the updates-testing repository.
    pub updates_testing: bool,
    /// The repositories, base first, then updates and updates-testing when asked for.
    pub repos: Vec<Repo>,
    /// An HTTP proxy for the build's downloads.
    pub proxy: Option<String>,
}

/// The stages of the legacy pungi run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DvdStage {
    /// Every stage.
    #[default]
    #[serde(rename = "all")]
    All,
    /// Gather.
    G,
    /// Createrepo.
    C,
    /// Buildinstall.
    B,
    /// Create ISO.
    I,
}

/// `[dvd]`: an installation DVD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DvdOptions {
    /// Product name (`--name`), default `Fedora`.
    pub name: String,
    /// Version (`--ver`), default the spec's release.
    pub version: String,
    /// Flavor, default `Fedora`.
    pub flavor: String,
    /// Bug-report URL shown by the installer.
    pub bugurl: Option<String>,
    /// Leave out source packages.
    pub nosource: bool,
    /// Also make source ISOs.
    pub sourceisos: bool,
    /// Overwrite an existing destination.
    pub force: bool,
    /// Which pungi stage(s) to run.
    pub stage: DvdStage,
    /// The kickstart naming repos and packages.
    pub kickstart: KickstartSource,
}

/// `[live]`: a live ISO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOptions {
    /// File-system label and ISO name stem (`-f`); the volume id comes from it (≤ 32 chars).
    pub label: String,
    /// Boot-menu title, default the label.
    pub title: String,
    /// Product name, default `Fedora`.
    pub product: String,
    /// Release version, default the spec's release.
    pub releasever: String,
    /// The kickstart naming repos, packages and `%post` scripts.
    pub kickstart: KickstartSource,
}

/// The options of the image type the spec asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ImageOptions {
    /// A boot ISO.
    Boot(BootOptions),
    /// A DVD.
    Dvd(DvdOptions),
    /// A live ISO.
    Live(LiveOptions),
}

/// A validated request for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSpec {
    /// Target architecture; with `release` it selects the queue.
    pub arch: Arch,
    /// Target release (`17`, `40`, `rawhide`, …).
    pub release: String,
    /// Where the results go.
    pub staging: Staging,
    /// How the staged files are named (default: one directory per job).
    #[serde(default)]
    pub staging_layout: StagingLayout,
    /// Who gets the mails.
    pub email: String,
    /// Koji builds for the side repo.
    #[serde(default)]
    pub koji: KojiBuilds,
    /// Which builder to use.
    #[serde(default)]
    pub builder: BuilderChoice,
    /// Fixed timestamp for reproducible images; default: the newest package's build time.
    #[serde(default)]
    pub source_date_epoch: Option<i64>,
    /// The image type and its options.
    pub image: ImageOptions,
}

impl BuildSpec {
    /// The image type.
    pub fn image_type(&self) -> ImageType {
        match self.image {
            ImageOptions::Boot(_) => ImageType::Boot,
            ImageOptions::Dvd(_) => ImageType::Dvd,
            ImageOptions::Live(_) => ImageType::Live,
        }
    }

    /// The kickstart this spec names, if its type uses one.
    pub fn kickstart(&self) -> Option<&KickstartSource> {
        match &self.image {
            ImageOptions::Boot(_) => None,
            ImageOptions::Dvd(d) => Some(&d.kickstart),
            ImageOptions::Live(l) => Some(&l.kickstart),
        }
    }

    /// A few words for mail subjects: `live x86_64/17 Fedora-Live`.
    pub fn summary_short(&self) -> String {
        let what = match &self.image {
            ImageOptions::Boot(b) => b.product.clone(),
            ImageOptions::Dvd(d) => d.name.clone(),
            ImageOptions::Live(l) => l.label.clone(),
        };
        format!(
            "{} {}/{} {}",
            self.image_type(),
            self.arch,
            self.release,
            what
        )
    }

    /// A one-line human summary: `live x86_64/17 label=Fedora-Live → file:///srv/staging`.
    pub fn summary(&self) -> String {
        let what = match &self.image {
            ImageOptions::Boot(b) => format!("{} {}", b.product, b.version),
            ImageOptions::Dvd(d) => format!("{} {} {}", d.name, d.version, d.flavor),
            ImageOptions::Live(l) => format!("label={}", l.label),
        };
        format!(
            "{} {}/{} {} → {}",
            self.image_type(),
            self.arch,
            self.release,
            what,
            self.staging.redacted()
        )
    }
}
