//! Turning a [`Cmd`] into a process: its own process group, piped output, and for the
//! isolated variants the `unshare` wrapper with a small `sh` prelude that hides paths and
//! then runs the tool.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::cmd::{Cmd, Isolation};
use super::error::RunError;
use super::quote::quote_bytes;

/// The shell that runs the isolation prelude (POSIX `sh`; never looked up in `PATH`).
const SH: &str = "/bin/sh";

/// `PATH` as `sh` and glibc use it when the environment has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Covers one path: an empty read-only tmpfs over a directory, `/dev/null` over anything
/// else; a path that does not exist is left alone. Failing to hide stops everything (exit
/// code 125, and the tool is not run).
const HIDE_FN: &str = r#"fbs_hide() {
  if [ -d "$1" ]; then
    mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=0700 fbs-hidden "$1"
  elif [ -e "$1" ]; then
    mount --bind /dev/null "$1"
  else
    return 0
  fi || { echo "fbs: cannot hide $1 from the command" >&2; exit 125; }
}
"#;

/// The `sh -c` script run inside the namespaces; the tool and its arguments follow as
/// `"$@"`. In a pid namespace `sh` stays as its init (pid 1) and reaps orphans, and the tool
/// runs as pid 2 in the same process group, so SIGTERM to the group reaches it (an init
/// ignores signals it has no handler for); when the tool ends, `sh` exits with its status
/// and the kernel kills whatever is left in the namespace.
pub(crate) fn prelude(isolation: Isolation, hidden: &[PathBuf]) -> OsString {
    let mut s = Vec::new();
    if !hidden.is_empty() {
        s.extend_from_slice(HIDE_FN.as_bytes());
        for p in hidden {
            s.extend_from_slice(b"fbs_hide ");
            s.extend_from_slice(&quote_bytes(p.as_os_str().as_bytes()));
            s.push(b'\n');
        }
    }
    match isolation {
        Isolation::MountPidNs => {
            // A background command gets /dev/null as stdin unless redirected explicitly.
            s.extend_from_slice(b"exec 3<&0\n\"$@\" <&3 3<&- &\nexec 3<&-\nwait $!\n");
        }
        Isolation::MountNs | Isolation::None => s.extend_from_slice(b"exec \"$@\"\n"),
    }
    OsString::from_vec(s)
}

/// The argv actually executed: the tool's own, or the `unshare` wrapper around it.
pub(crate) fn argv(cmd: &Cmd) -> Vec<OsString> {
    let tool = std::iter::once(cmd.program.clone()).chain(cmd.args.iter().cloned());
    let mut argv: Vec<OsString> = Vec::new();
    match cmd.isolation {
        Isolation::None => return tool.collect(),
        Isolation::MountNs => {
            argv.extend(["unshare", "--mount", "--propagation", "private"].map(OsString::from));
        }
        Isolation::MountPidNs => argv.extend(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
            ]
            .map(OsString::from),
        ),
    }
    argv.extend([SH, "-c"].map(OsString::from));
    argv.push(prelude(cmd.isolation, &cmd.hidden));
    argv.push(OsString::from("fbs-isolate"));
    argv.extend(tool);
    argv
}

/// Check what can be checked before starting: isolation needs root, hidden paths need
/// isolation, and (behind `unshare`, where a missing tool would only be a shell error) the
/// program must exist.
pub(crate) fn preflight(cmd: &Cmd) -> Result<(), RunError> {
    let name = cmd.display_name();
    if !cmd.hidden.is_empty() && !cmd.isolation.is_isolated() {
        return Err(RunError::Spawn {
            program: name,
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "paths can only be hidden in a mount namespace (Isolation::MountNs or MountPidNs)",
            ),
        });
    }
    if !cmd.isolation.is_isolated() {
        return Ok(());
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(RunError::Spawn {
            program: name,
            source: io::Error::new(
                io::ErrorKind::PermissionDenied,
                "running in a mount namespace needs root",
            ),
        });
    }
    if find_program(cmd).is_none() {
        return Err(RunError::Spawn {
            program: name,
            source: io::Error::from(io::ErrorKind::NotFound),
        });
    }
    Ok(())
}

/// Where the program would be found, with the `PATH` the command gets.
fn find_program(cmd: &Cmd) -> Option<PathBuf> {
    let program = Path::new(&cmd.program);
    if cmd.program.as_bytes().contains(&b'/') {
        let p = match &cmd.cwd {
            Some(cwd) if program.is_relative() => cwd.join(program),
            _ => program.to_path_buf(),
        };
        return is_executable(&p).then_some(p);
    }
    let set = cmd
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let path = match set {
        Some(v) => v,
        None if cmd.env_clear => None,
        None => std::env::var_os("PATH"),
    }
    .unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The process to start: in its own process group, stdout and stderr piped, stdin piped
/// only when there is input for it.
pub(crate) fn command(cmd: &Cmd) -> tokio::process::Command {
    let argv = argv(cmd);
    let mut c = tokio::process::Command::new(&argv[0]);
    c.args(&argv[1..]);
    if let Some(cwd) = &cmd.cwd {
        c.current_dir(cwd);
    }
    if cmd.env_clear {
        c.env_clear();
    }
    for (k, v) in &cmd.env {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.stdin(if cmd.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped());
    c.stderr(Stdio::piped());
    c.process_group(0);
    c.kill_on_drop(true);
    c
}

/// The error for a failed spawn, naming the program that is actually missing (`unshare`
/// for the isolated variants). A `PATH` search that met an unreadable directory reports
/// EACCES even when the program is simply absent; that is reported as not found.
pub(crate) fn spawn_error(cmd: &Cmd, source: io::Error) -> RunError {
    if cmd.isolation.is_isolated() {
        return RunError::Spawn {
            program: "unshare (util-linux)".to_owned(),
            source,
        };
    }
    let source = if source.kind() == io::ErrorKind::PermissionDenied && find_program(cmd).is_none()
    {
        io::Error::new(io::ErrorKind::NotFound, source)
    } else {
        source
    };
    RunError::Spawn {
        program: cmd.display_name(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_commands_run_as_given() {
        let c = Cmd::new("echo").arg("hi");
        assert_eq!(argv(&c), ["echo", "hi"]);
    }

    #[test]
    fn mount_ns_wraps_with_unshare_and_execs_the_tool() {
        let c = Cmd::new("dnf")
            .arg("it's")
            .isolation(Isolation::MountNs)
            .hide("/etc/fbs")
            .hide("/var/lib/my fbs");
        let a = argv(&c);
        assert_eq!(a[0], "unshare");
        assert_eq!(a[1..4], ["--mount", "--propagation", "private"]);
        assert_eq!(a[4..6], [SH, "-c"]);
        let script = a[6].to_string_lossy();
        assert!(script.contains("fbs_hide /etc/fbs\n"), "{script}");
        assert!(script.contains("fbs_hide '/var/lib/my fbs'\n"), "{script}");
        assert!(script.ends_with("exec \"$@\"\n"), "{script}");
        assert_eq!(a[7..], ["fbs-isolate", "dnf", "it's"]);
    }

    #[test]
    fn pid_ns_keeps_sh_as_init() {
        let c = Cmd::new("lorax").isolation(Isolation::MountPidNs);
        let a = argv(&c);
        assert!(a.iter().any(|w| w == "--kill-child"));
        assert!(a.iter().any(|w| w == "--mount-proc"));
        let script = a[10].to_string_lossy();
        assert!(!script.contains("fbs_hide"), "{script}");
        assert!(script.ends_with("wait $!\n"), "{script}");
    }

    #[test]
    fn hiding_without_isolation_is_refused() {
        let c = Cmd::new("true").hide("/etc/fbs");
        let e = preflight(&c).expect_err("refused");
        assert!(e.to_string().contains("cannot start `true`"), "{e}");
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_denied_path_search_for_a_missing_program_is_not_found() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let e = spawn_error(&Cmd::new("fbs-no-such-tool"), denied);
        assert!(e.is_not_found(), "{e:?}");
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let e = spawn_error(&Cmd::new("sh"), denied);
        assert!(!e.is_not_found(), "{e:?}");
    }

    #[test]
    fn programs_are_found_with_the_commands_path() {
        assert!(find_program(&Cmd::new("sh")).is_some());
        assert!(
            find_program(&Cmd::new("sh").env_clear()).is_some(),
            "default PATH"
        );
        assert!(find_program(&Cmd::new("sh").env("PATH", "/nonexistent")).is_none());
        assert!(find_program(&Cmd::new("/bin/sh")).is_some());
        assert!(find_program(&Cmd::new("fbs-no-such-tool")).is_none());
    }
}
