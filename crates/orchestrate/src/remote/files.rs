//! Files on a host, built on [`Remote::exec`]: the state of many files in one round trip, and
//! an upload that streams into a temp file beside the target, checks its sha256 on the host,
//! sets the mode and renames it into place (readers never see a partial file; a secret is
//! never readable by others, since `mktemp` creates it 0600).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Input, Remote, RemoteError, check, qpath, quote};

/// What a host has at a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// Its sha256 (hex), when it is a regular file.
    pub sha256: Option<String>,
    /// Its permission bits, when it exists.
    pub mode: Option<u32>,
}

/// sha256 of bytes, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a local file, hex (read in chunks).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The script printing `file SHA MODE PATH` (or `-`) for each path and `dir MODE PATH` for
/// each directory.
pub fn state_script(files: &[PathBuf], dirs: &[PathBuf]) -> String {
    let mut s = String::new();
    for f in files {
        let q = qpath(f);
        let side = qpath(&sidecar(f));
        // A sidecar `SIZE MTIME SHA` written at upload spares hashing a large file again.
        s.push_str(&format!(
            "if [ -f {q} ]; then h=; if [ -f {side} ] && [ \"$(cut -d' ' -f1,2 {side})\" = \"$(stat -c '%s %Y' {q})\" ]; then h=$(cut -d' ' -f3 {side}); fi\n\
             [ -n \"$h\" ] || h=$(sha256sum < {q} | cut -c1-64); echo \"file $h $(stat -c %a {q}) \"{q}; else echo \"file - - \"{q}; fi\n"
        ));
    }
    for d in dirs {
        let q = qpath(d);
        s.push_str(&format!(
            "if [ -d {q} ]; then echo \"dir $(stat -c %a {q}) \"{q}; else echo \"dir - \"{q}; fi\n"
        ));
    }
    s
}

/// The checksum cache beside a large file (`fbs` → `.fbs.sha256`).
pub fn sidecar(p: &Path) -> PathBuf {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    p.with_file_name(format!(".{name}.sha256"))
}

/// Read what [`state_script`] printed.
pub fn parse_state(out: &str) -> (BTreeMap<PathBuf, FileState>, BTreeMap<PathBuf, Option<u32>>) {
    let mut files = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("file ") {
            let mut it = rest.splitn(3, ' ');
            let (Some(h), Some(m), Some(p)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            files.insert(
                PathBuf::from(p),
                FileState {
                    sha256: (h != "-").then(|| h.to_owned()),
                    mode: u32::from_str_radix(m, 8).ok(),
                },
            );
        } else if let Some((m, p)) = line.strip_prefix("dir ").and_then(|r| r.split_once(' ')) {
            dirs.insert(PathBuf::from(p), u32::from_str_radix(m, 8).ok());
        }
    }
    (files, dirs)
}

/// Upload `input` (whose sha256 is `sha`) to `dest` with `mode`: temp file, checksum on the
/// host, chmod, rename; with `cache`, also the [`sidecar`] (for large files).
pub async fn put(
    remote: &dyn Remote,
    input: Input<'_>,
    sha: &str,
    dest: &Path,
    mode: u32,
    cache: bool,
) -> Result<(), RemoteError> {
    let dir = dest.parent().unwrap_or(Path::new("/"));
    let script = format!(
        "set -e\numask 077\nmkdir -p {d}\ntmp=$(mktemp {d}/.fbs-new.XXXXXX)\ntrap 'rm -f \"$tmp\"' EXIT\n\
         cat > \"$tmp\"\nh=$(sha256sum < \"$tmp\" | cut -c1-64)\n\
         if [ \"$h\" != {sha} ]; then echo \"checksum mismatch after upload: got $h, want {sha}\" >&2; exit 3; fi\n\
         chmod {mode:o} \"$tmp\"\nmv -f \"$tmp\" {dest}\ntrap - EXIT\n{cache}",
        d = qpath(dir),
        sha = quote(sha),
        dest = qpath(dest),
        cache = if cache {
            format!(
                "printf '%s %s\\n' \"$(stat -c '%s %Y' {})\" {} > {}\n",
                qpath(dest),
                quote(sha),
                qpath(&sidecar(dest))
            )
        } else {
            format!("rm -f {}\n", qpath(&sidecar(dest)))
        },
    );
    check(
        remote,
        &format!("writing {}", dest.display()),
        &script,
        input,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::remote::Local;

    #[tokio::test]
    async fn put_then_state_round_trips_and_a_wrong_checksum_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("sub dir/fbs.toml");
        let local = Local::new("local");
        let body = b"secret = 1\n";
        put(
            &local,
            Input::Bytes(body),
            &sha256(body),
            &dest,
            0o600,
            false,
        )
        .await
        .expect("put");
        assert_eq!(std::fs::read(&dest).expect("read"), body);
        let mode = std::fs::metadata(&dest).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let big = dir.path().join("bin");
        put(
            &local,
            Input::Bytes(b"binary"),
            &sha256(b"binary"),
            &big,
            0o755,
            true,
        )
        .await
        .expect("put with sidecar");
        assert!(sidecar(&big).exists());
        let script = state_script(
            &[dest.clone(), big.clone(), dir.path().join("none")],
            &[dir.path().to_path_buf()],
        );
        let out = local.exec(&script, Input::None).await.expect("state");
        let (files, dirs) = parse_state(&out.stdout);
        assert_eq!(files[&dest].sha256.as_deref(), Some(sha256(body).as_str()));
        assert_eq!(files[&dest].mode, Some(0o600));
        assert_eq!(
            files[&big].sha256.as_deref(),
            Some(sha256(b"binary").as_str())
        );
        assert_eq!(files[&dir.path().join("none")], FileState::default());
        assert!(dirs[dir.path()].is_some());

        let e = put(
            &local,
            Input::Bytes(b"other"),
            &sha256(body),
            &dest,
            0o600,
            false,
        )
        .await
        .expect_err("checksum mismatch");
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        assert_eq!(
            std::fs::read(&dest).expect("read"),
            body,
            "the old file stays"
        );
        let leftovers = std::fs::read_dir(dest.parent().expect("dir"))
            .expect("ls")
            .count();
        assert_eq!(leftovers, 1, "no temp file left behind");
    }
}
