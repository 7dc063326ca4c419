//! Running a kickstart's `%post` scripts against an image root, as anaconda would: in order,
//! chrooted into the root unless `--nochroot`, with `--interpreter` (default `/bin/sh`),
//! failures fatal only with `--erroronfail`, output also appended to `--log`.
//!
//! Every script runs in the build's own mount and pid namespaces (runner
//! `Isolation::MountPidNs`) with the daemon's config hidden. A chrooted script gets a fresh
//! `/proc`, a read-only `/sys` and a private `/dev` (a small tmpfs with the usual device
//! nodes and its own devpts instance, never the host's `/dev`) mounted in that namespace
//! only: they are gone when the script ends, before anything is removed. The script file
//! itself is put in that private `/dev`, so nothing is written into the image for it.
//!
//! `--nochroot` scripts run on the host (in the namespace) with `INSTALL_ROOT` and
//! `ANA_INSTALL_PATH` naming the root and, for live images, `LIVE_ROOT` naming the ISO tree,
//! as livecd-creator and anaconda provide them.
//! `%pre` and the other script sections have no meaning without an installer; they are
//! reported and skipped.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use fbs_core::kickstart::{Kickstart, Script, ScriptKind};

use super::root::resolve_in_root;
use super::session::{Session, io_err, mkdir, write};
use crate::builder::BuildError;

/// The wrapper that mounts the chroot's API filesystems and runs the script in it
/// (arguments: root, script file, interpreter).
const CHROOT_WRAPPER: &str = r#"set -eu
root=$1 script=$2 interp=$3
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o nosuid,mode=0755,size=65536k fbs-dev "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mkdir -m 1777 "$root/dev/shm"
mkdir -m 0755 "$root/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
cp "$script" "$root/dev/.fbs-ks-script"
exec chroot "$root" "$interp" /dev/.fbs-ks-script 2>&1
"#;

/// The wrapper for `--nochroot` scripts (arguments: script file, interpreter).
const NOCHROOT_WRAPPER: &str = r#"set -eu
script=$1 interp=$2
exec "$interp" "$script" 2>&1
"#;

/// The directories a chrooted script gets mounts on; each must be a real directory of the
/// root, never a symlink out of it.
const API_DIRS: [&str; 3] = ["proc", "sys", "dev"];

/// Run the `%post` scripts of `ks` against `root`; `live_root` is the ISO tree of a live
/// image. Scripts of other sections are reported and skipped.
pub(crate) async fn run_post_scripts(
    s: &Session<'_>,
    ks: &Kickstart,
    root: &Path,
    live_root: Option<&Path>,
) -> Result<(), BuildError> {
    let dir = s.work("ks-scripts");
    mkdir(&dir)?;
    let chroot_wrapper = dir.join("chroot-wrapper.sh");
    let nochroot_wrapper = dir.join("nochroot-wrapper.sh");
    write(&chroot_wrapper, CHROOT_WRAPPER)?;
    write(&nochroot_wrapper, NOCHROOT_WRAPPER)?;
    for (n, script) in (1..).zip(ks.scripts()) {
        if script.kind != ScriptKind::Post {
            s.warn(&format!(
                "{} is not run: the native builder has no installer stage",
                script.kind.section()
            ));
            continue;
        }
        let file = dir.join(format!("post-{n}"));
        write(&file, script.body_text())?;
        let what = format!(
            "%post #{n}{}",
            if script.nochroot() { " --nochroot" } else { "" }
        );
        s.note(&format!("running {what} ({})", script.interpreter()));
        let result = run_one(
            s,
            script,
            root,
            live_root,
            &file,
            &chroot_wrapper,
            &nochroot_wrapper,
        )
        .await;
        match result {
            Ok(out) => append_log(s, script, root, &out)?,
            Err(BuildError::Canceled) => return Err(BuildError::Canceled),
            Err(e) if script.erroronfail() => {
                return Err(BuildError::Input(format!(
                    "{what} failed (--erroronfail): {e}"
                )));
            }
            Err(e) => s.warn(&format!(
                "{what} failed; going on as anaconda does without --erroronfail: {e}"
            )),
        }
    }
    Ok(())
}

async fn run_one(
    s: &Session<'_>,
    script: &Script,
    root: &Path,
    live_root: Option<&Path>,
    file: &Path,
    chroot_wrapper: &Path,
    nochroot_wrapper: &Path,
) -> Result<String, BuildError> {
    let interp = script.interpreter();
    if !interp.starts_with('/') || interp.contains(char::is_whitespace) {
        return Err(BuildError::Input(format!(
            "--interpreter={interp:?} is not an absolute path"
        )));
    }
    let cmd = if script.nochroot() {
        let mut c = s
            .isolated("sh")
            .arg(nochroot_wrapper)
            .arg(file)
            .arg(interp)
            .env("INSTALL_ROOT", root)
            .env("ANA_INSTALL_PATH", root);
        if let Some(l) = live_root {
            c = c.env("LIVE_ROOT", l);
        }
        c
    } else {
        if resolve_in_root(root, Path::new(interp)).is_none_or(|p| !p.is_file()) {
            return Err(BuildError::Input(format!(
                "the interpreter {interp} is not installed in the image"
            )));
        }
        for d in API_DIRS {
            api_dir(root, d)?;
        }
        s.isolated("sh")
            .arg(chroot_wrapper)
            .arg(root)
            .arg(file)
            .arg(interp)
            .env("HOME", "/root")
    };
    s.stdout(cmd.env("TERM", "dumb").name("%post")).await
}

/// Make sure `root/name` is a directory of the root itself (created when missing).
fn api_dir(root: &Path, name: &str) -> Result<(), BuildError> {
    let p = root.join(name);
    match std::fs::symlink_metadata(&p) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(BuildError::Input(format!(
            "/{name} in the image root is not a directory (a symlink?): refusing to mount on it"
        ))),
        Err(_) => mkdir(&p),
    }
}

/// Append a script's output to its `--log` file: inside the root for chrooted scripts; for
/// `--nochroot` only under `/mnt/sysimage` (anaconda's root), which maps to the root.
fn append_log(s: &Session<'_>, script: &Script, root: &Path, out: &str) -> Result<(), BuildError> {
    let Some(log) = script.log() else {
        return Ok(());
    };
    let inside: Option<PathBuf> = if script.nochroot() {
        log.strip_prefix("/mnt/sysimage").map(PathBuf::from)
    } else {
        Some(PathBuf::from(log))
    };
    let Some(rel) = inside.filter(|p| p.is_absolute()) else {
        s.warn(&format!(
            "%post --log={log} is outside the image; not written"
        ));
        return Ok(());
    };
    let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
        return Ok(());
    };
    let Some(dir) = resolve_in_root(root, parent).filter(|d| d.is_dir()) else {
        s.warn(&format!(
            "%post --log={log}: its directory does not exist in the image"
        ));
        return Ok(());
    };
    let path = dir.join(name);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io_err("open", &path))?;
    f.write_all(out.as_bytes()).map_err(io_err("write", &path))
}
