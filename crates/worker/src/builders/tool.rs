//! What the Fedora-tool adapters (lorax, pungi, kiwi-ng, livemedia-creator, livecd-creator)
//! share: finding a tool, the root check, running it through the runner with the job's log
//! and cancel token, fresh output directories, output discovery by listing, and reading an
//! ISO's volume id and El Torito record.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fbs_core::runner::{self, Cmd, Output, RunError};

use crate::builder::{BuildContext, BuildError, BuiltArtifact};

/// The `PATH` tools are looked up in and run with.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The longest one tool run may take (the job timeout usually ends it first).
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// The media type of ISO images.
pub const ISO_MEDIA_TYPE: &str = "application/vnd.efi.iso";

/// `program` in [`PATH`] (or the worker's own `PATH`), when installed.
pub fn find(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let own = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&own)
        .chain(std::env::split_paths(PATH))
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `program`, or [`BuildError::ToolMissing`] saying what to install.
pub fn require(program: &str, install: &str) -> Result<PathBuf, BuildError> {
    find(program).ok_or_else(|| BuildError::ToolMissing {
        tool: program.to_owned(),
        hint: format!("install {install}, or choose builder = \"native\""),
    })
}

/// [`BuildError::NotRoot`] unless the worker runs as root.
pub fn require_root(tool: &str) -> Result<(), BuildError> {
    let uid = nix::unistd::geteuid().as_raw();
    if uid == 0 {
        Ok(())
    } else {
        Err(BuildError::NotRoot {
            tool: tool.to_owned(),
            uid,
        })
    }
}

/// A command for `program` with `args`, run in `cwd`, with a plain environment
/// (`PATH`, `HOME`, `LC_ALL`, `TZ`, `SOURCE_DATE_EPOCH` when the spec sets one).
pub fn command(ctx: &BuildContext, program: &Path, args: &[OsString], cwd: &Path) -> Cmd {
    let mut c = Cmd::new(program)
        .args(args.iter().cloned())
        .cwd(cwd)
        .env_clear()
        .env("PATH", PATH)
        .env("HOME", ctx.dirs.work.join("home"))
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .timeout(TOOL_TIMEOUT)
        .name(
            program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    if let Some(t) = ctx.job.spec.source_date_epoch {
        c = c.env("SOURCE_DATE_EPOCH", t.to_string());
    }
    c
}

/// Run `cmd` into the job log. A failure carries the tool's last lines.
pub async fn run(ctx: &BuildContext, cmd: &Cmd, install: &str) -> Result<Output, BuildError> {
    std::fs::create_dir_all(ctx.dirs.work.join("home"))
        .map_err(io_err("create", &ctx.dirs.work.join("home")))?;
    match runner::run(cmd, ctx.log.as_ref(), &ctx.cancel).await {
        Ok(o) => Ok(o),
        Err(RunError::Canceled { .. }) => Err(BuildError::Canceled),
        Err(e) if e.is_not_found() => Err(BuildError::ToolMissing {
            tool: e.program().to_owned(),
            hint: format!("install {install}"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Map an I/O error on `path`.
pub fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}

/// `path` made ready for a tool that insists on creating its output directory itself: any
/// leftover removed, the parent created, `path` itself not created.
pub fn fresh_dir(path: &Path) -> Result<PathBuf, BuildError> {
    if std::fs::symlink_metadata(path).is_ok() {
        crate::dirs::remove_tree(path).map_err(io_err("remove", path))?;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err("create", parent))?;
    }
    Ok(path.to_path_buf())
}

/// Every regular file under `dir` whose name ends with `suffix`, sorted (symlinks are not
/// followed).
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let Ok(t) = e.file_type() else { continue };
            let p = e.path();
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() && e.file_name().to_string_lossy().ends_with(suffix) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// The ISOs under `dir` as artifacts, or an error naming the tool when there is none.
pub fn iso_artifacts(dir: &Path, tool: &str) -> Result<Vec<BuiltArtifact>, BuildError> {
    let isos = files_with_suffix(dir, ".iso");
    if isos.is_empty() {
        return Err(BuildError::Input(format!(
            "{tool} finished but left no .iso under {}",
            dir.display()
        )));
    }
    Ok(isos.into_iter().map(|p| iso_artifact(&p)).collect())
}

/// An ISO as an artifact, with the volume id and El Torito flag read from the image.
pub fn iso_artifact(path: &Path) -> BuiltArtifact {
    let (volume_id, bootable) = read_iso_header(path).unwrap_or((None, None));
    BuiltArtifact {
        path: path.to_path_buf(),
        media_type: ISO_MEDIA_TYPE.into(),
        volume_id,
        bootable,
    }
}

/// The volume id (primary volume descriptor, sector 16) and whether sector 17 is an
/// El Torito boot record.
fn read_iso_header(path: &Path) -> std::io::Result<(Option<String>, Option<bool>)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    f.seek(SeekFrom::Start(16 * 2048))?;
    f.read_exact(&mut buf)?;
    let (pvd, boot) = buf.split_at(2048);
    if pvd[0] != 1 || &pvd[1..6] != b"CD001" {
        return Ok((None, None));
    }
    let volid = String::from_utf8_lossy(&pvd[40..72]).trim_end().to_owned();
    let torito = boot[0] == 0 && &boot[1..6] == b"CD001" && boot[7..].starts_with(b"EL TORITO");
    Ok((Some(volid).filter(|v| !v.is_empty()), Some(torito)))
}

/// A volume id from `text`: upper-cased, characters outside `A-Z 0-9 _ -` turned into `-`,
/// at most 32 characters (`FBS` when nothing is left) — the rule the native builder uses.
pub fn volume_id(text: &str) -> String {
    let v: String = text
        .trim()
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    if v.trim_matches('-').is_empty() {
        "FBS".into()
    } else {
        v
    }
}

/// `url` with dnf's `$releasever` and `$basearch` filled in, for tools that do not expand
/// them (pungi-koji's repo list, kiwi's repository paths).
pub fn expand_vars(url: &str, releasever: &str, arch: fbs_core::spec::Arch) -> String {
    let basearch = match arch {
        fbs_core::spec::Arch::I686 => "i386",
        a => a.as_str(),
    };
    url.replace("${releasever}", releasever)
        .replace("$releasever", releasever)
        .replace("${basearch}", basearch)
        .replace("$basearch", basearch)
}

/// Strings to argv items.
pub fn os(args: Vec<String>) -> Vec<OsString> {
    args.into_iter().map(OsString::from).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fake ISO: a primary volume descriptor with `volid`, and an El Torito record when
    /// `bootable`.
    pub(crate) fn fake_iso(path: &Path, volid: &str, bootable: bool) {
        let mut img = vec![0u8; 18 * 2048];
        let pvd = &mut img[16 * 2048..17 * 2048];
        pvd[0] = 1;
        pvd[1..6].copy_from_slice(b"CD001");
        let mut id = [b' '; 32];
        id[..volid.len()].copy_from_slice(volid.as_bytes());
        pvd[40..72].copy_from_slice(&id);
        if bootable {
            let br = &mut img[17 * 2048..18 * 2048];
            br[1..6].copy_from_slice(b"CD001");
            br[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, img).expect("write iso");
    }

    #[test]
    fn isos_are_found_by_listing_with_their_volume_ids() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fake_iso(&tmp.path().join("a/b/x.iso"), "FBS-X", true);
        fake_iso(&tmp.path().join("y.iso"), "FBS-Y", false);
        std::fs::write(tmp.path().join("a/x.iso.log"), b"no").expect("write");
        let arts = iso_artifacts(tmp.path(), "tool").expect("found");
        assert_eq!(arts.len(), 2);
        assert_eq!(arts[0].volume_id.as_deref(), Some("FBS-X"));
        assert_eq!(arts[0].bootable, Some(true));
        assert_eq!(arts[1].bootable, Some(false));
        let empty = tempfile::tempdir().expect("tempdir");
        let e = iso_artifacts(empty.path(), "lorax").expect_err("none");
        assert!(
            e.to_string().contains("lorax finished but left no .iso"),
            "{e}"
        );
    }

    #[test]
    fn fresh_dirs_do_not_exist_and_tools_are_found() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("p/out");
        std::fs::create_dir_all(d.join("old")).expect("mkdir");
        fresh_dir(&d).expect("fresh");
        assert!(!d.exists() && d.parent().is_some_and(Path::exists));
        assert!(find("sh").is_some());
        let e = require("fbs-no-such-tool", "the lorax package").expect_err("missing");
        assert!(matches!(e, BuildError::ToolMissing { .. }));
        assert!(e.to_string().contains("install the lorax package"), "{e}");
        assert_eq!(volume_id("Fedora 17 x86_64"), "FEDORA-17-X86_64");
        assert_eq!(volume_id("???"), "FBS");
    }
}
