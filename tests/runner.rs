//! Integration tests: the process runner against real processes — streaming, exit codes,
//! process-group kill on cancel and timeout, mount/pid namespace isolation, missing tools.

use std::path::Path;
use std::time::{Duration, Instant};

use fbs_core::joblog::{LogStream, MemorySink};
use fbs_core::runner::{CancellationToken, Cmd, Isolation, Output, RunError, run};

use crate::helper;

mod procs;
use procs::{alive, live_group_members, pgid_sid, pids_with_cmdline, proc_state, recorded_pids};

/// Upper bound for anything that should be prompt (never a tight timing assertion).
const PROMPT: Duration = Duration::from_secs(20);

/// The grace period tests use between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// Poll `cond` until it holds; panic after [`PROMPT`].
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PROMPT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// True when namespace tests can run (we are root); false only when opted out.
fn need_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned));
    if euid.as_deref() == Some("0") {
        return true;
    }
    assert!(
        helper::opted_out(),
        "namespace isolation tests need root (unshare --mount); run them as root, or set FBS_TEST_OPTOUT=1 to skip them"
    );
    eprintln!("skipped: not root");
    false
}

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").arg("-c").arg(script).grace(GRACE)
}

#[tokio::test]
async fn streams_stdout_and_stderr_lines_as_they_arrive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let go = dir.path().join("go");
    let cmd = sh(r#"echo first; echo err-first >&2
        i=0; while [ ! -e "$1" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done
        echo second; echo err-second >&2; printf 'last-no-newline'"#)
    .arg("streamer")
    .arg(&go)
    .timeout(Duration::from_secs(60));
    let (sink, cancel) = (MemorySink::new(1000), CancellationToken::new());
    let (res, ()) = tokio::join!(run(&cmd, &sink, &cancel), async {
        // Lines arrive while the command still runs: it waits for us to see them.
        wait_until("the first lines are logged", || {
            let t = sink.texts();
            t.contains(&"first".into()) && t.contains(&"err-first".into())
        })
        .await;
        std::fs::write(&go, "").expect("write go");
    });
    let out: Output = res.expect("runs");
    assert!(out.status.success());
    let lines = sink.lines();
    assert_eq!(lines[0].stream, LogStream::Fbs);
    assert!(lines[0].text.starts_with("$ sh -c "), "{}", lines[0].text);
    let of = |s: LogStream| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.stream == s)
            .map(|l| l.text.clone())
            .collect()
    };
    assert_eq!(
        of(LogStream::Stdout),
        ["first", "second", "last-no-newline"]
    );
    assert_eq!(of(LogStream::Stderr), ["err-first", "err-second"]);
    assert_eq!(out.tail.len(), 5);
}

#[tokio::test]
async fn awkward_output_is_logged_sensibly() {
    let cmd = sh(
        r"printf 'a\377b\n'; printf '10%%\r50%%\r100%%\r\n'; head -c 150000 /dev/zero | tr '\0' x; echo",
    );
    let sink = MemorySink::new(100);
    run(&cmd, &sink, &CancellationToken::new())
        .await
        .expect("runs");
    let out: Vec<String> = sink
        .lines()
        .into_iter()
        .filter(|l| l.stream == LogStream::Stdout)
        .map(|l| l.text)
        .collect();
    let lens: Vec<usize> = out[2..].iter().map(String::len).collect();
    assert_eq!(out[..2], ["a\u{fffd}b", "100%"]);
    assert_eq!(lens, [65536, 65536, 150000 - 2 * 65536]);
}

#[tokio::test]
async fn stdin_env_and_captured_stdout_without_leaking_env_values() {
    let cmd = sh(r#"cat; echo "[$FBS_T_SECRET]"; echo "home=${HOME-unset}""#)
        .stdin("in1\nin2")
        .env("FBS_T_SECRET", "hunter2")
        .env_remove("HOME")
        .capture_stdout();
    let sink = MemorySink::new(100);
    let out = run(&cmd, &sink, &CancellationToken::new())
        .await
        .expect("runs");
    assert_eq!(
        out.stdout.as_deref(),
        Some("in1\nin2[hunter2]\nhome=unset\n")
    );
    for l in sink.lines().iter().filter(|l| l.stream == LogStream::Fbs) {
        assert!(!l.text.contains("hunter2"), "env value logged: {}", l.text);
    }
}

#[tokio::test]
async fn a_nonzero_exit_is_failed_with_code_and_tail() {
    let cmd = sh("for i in $(seq 1 60); do echo line$i; done; exit 3").name("tool");
    let sink = MemorySink::new(100);
    let e = run(&cmd, &sink, &CancellationToken::new())
        .await
        .expect_err("fails");
    let RunError::Failed {
        program,
        status,
        tail,
    } = &e
    else {
        panic!("expected Failed, got {e:?}");
    };
    assert_eq!(program, "tool");
    assert_eq!(status.code(), Some(3));
    assert_eq!(tail.len(), 50);
    assert_eq!((tail[0].as_str(), tail[49].as_str()), ("line11", "line60"));
    let msg = e.to_string();
    assert!(
        msg.starts_with("`tool` failed with exit code 3; last 20 lines"),
        "{msg}"
    );
    assert!(
        msg.ends_with("  | line60") && msg.contains("  | line41\n"),
        "{msg}"
    );
    assert!(!msg.contains("  | line40\n"), "{msg}");
    assert!(!e.is_retryable());
}

/// Background children, a grandchild, a child ignoring SIGTERM, and a leader that ignores
/// SIGTERM too; every pid is recorded in `$1`, then "ready" is printed.
const STUBBORN: &str = r#"f="$1"
echo $$ >> "$f"
sleep 1000 & echo $! >> "$f"
( sleep 1000 & echo $! >> "$f" )
sh -c 'trap "" TERM; echo $$ >> "$1"; exec sleep 1000' ignorer "$f" &
trap '' TERM
while [ "$(wc -l < "$f")" -lt 4 ]; do sleep 0.02; done
echo ready
exec sleep 1000"#;

/// The recorded pids must all be gone, and nothing may be left in the leader's group.
fn assert_all_gone(pids: &[i32]) {
    assert_eq!(pids.len(), 4, "all pids recorded: {pids:?}");
    for &pid in pids {
        assert!(
            !alive(pid),
            "pid {pid} survived (state {:?})",
            proc_state(pid)
        );
    }
    assert_eq!(
        live_group_members(pids[0]),
        Vec::<i32>::new(),
        "group members left"
    );
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pids = dir.path().join("pids");
    let cmd = sh(STUBBORN).arg("stubborn").arg(&pids);
    let (sink, cancel) = (MemorySink::new(100), CancellationToken::new());
    let mut canceled_at = None;
    let (res, ()) = tokio::join!(run(&cmd, &sink, &cancel), async {
        wait_until("the script is ready", || {
            sink.texts().contains(&"ready".into())
        })
        .await;
        let leader = recorded_pids(&pids)[0];
        assert_eq!(
            pgid_sid(leader).map(|(g, _)| g),
            Some(leader),
            "own process group"
        );
        assert!(recorded_pids(&pids).iter().all(|&p| alive(p)));
        canceled_at = Some(Instant::now());
        cancel.cancel();
    });
    let took = canceled_at.expect("canceled").elapsed();
    eprintln!("cancel to clean return: {took:?}");
    assert!(matches!(res, Err(RunError::Canceled { .. })), "{res:?}");
    assert!(took < PROMPT);
    assert_all_gone(&recorded_pids(&pids));
    assert!(
        sink.texts().iter().any(|t| t.contains("SIGKILL")),
        "{:?}",
        sink.texts()
    );
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pids = dir.path().join("pids");
    let limit = Duration::from_secs(5);
    let cmd = sh(STUBBORN).arg("stubborn").arg(&pids).timeout(limit);
    let sink = MemorySink::new(100);
    let start = Instant::now();
    let res = run(&cmd, &sink, &CancellationToken::new()).await;
    eprintln!("timeout {limit:?}, returned after {:?}", start.elapsed());
    match &res {
        Err(e @ RunError::Timeout { after, tail, .. }) => {
            assert_eq!(*after, limit);
            assert_eq!(tail.last().map(String::as_str), Some("ready"));
            assert!(
                e.to_string().starts_with("`sh` timed out after 5.0 s"),
                "{e}"
            );
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(start.elapsed() >= limit && start.elapsed() < limit + PROMPT);
    assert_all_gone(&recorded_pids(&pids));
}

#[tokio::test]
async fn background_processes_left_after_a_successful_run_are_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pids = dir.path().join("pids");
    let cmd = sh(r#"sleep 1000 & echo $! > "$1"; echo done"#)
        .arg("x")
        .arg(&pids);
    let sink = MemorySink::new(100);
    let out = tokio::time::timeout(PROMPT, run(&cmd, &sink, &CancellationToken::new()))
        .await
        .expect("returns promptly")
        .expect("succeeds");
    assert!(out.status.success());
    let left = recorded_pids(&pids);
    assert_eq!(left.len(), 1);
    assert!(!alive(left[0]), "background sleep survived");
    assert!(
        sink.texts()
            .iter()
            .any(|t| t.contains("left processes behind"))
    );
}

#[tokio::test]
async fn a_missing_program_is_a_clear_spawn_error() {
    let sink = MemorySink::new(10);
    let cancel = CancellationToken::new();
    let e = run(&Cmd::new("fbs-no-such-tool"), &sink, &cancel)
        .await
        .expect_err("fails");
    assert!(
        matches!(e, RunError::Spawn { .. }) && e.is_not_found(),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "`fbs-no-such-tool` is not installed (not found)"
    );
    assert!(!e.is_retryable());
    if need_root() {
        let cmd = Cmd::new("fbs-no-such-tool").isolation(Isolation::MountNs);
        let e = run(&cmd, &sink, &cancel).await.expect_err("fails");
        assert_eq!(
            e.to_string(),
            "`fbs-no-such-tool` is not installed (not found)"
        );
    }
}

#[tokio::test]
async fn mount_namespace_hides_paths_and_keeps_mounts_inside() {
    if !need_root() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).expect("mkdir");
    std::fs::write(secrets.join("token"), "s3cret").expect("write");
    let lone = dir.path().join("lone-secret");
    std::fs::write(&lone, "s3cret2").expect("write");
    let inner = dir.path().join("inner-mount");
    let script = r#"cat "$1/token"; echo; cat "$2"; echo; mkdir -p "$3"; mount -t tmpfs none "$3"; grep -c " $3 " /proc/self/mountinfo"#;
    let cmd = |iso: Isolation| {
        sh(script)
            .args([Path::new("t"), &secrets, &lone, &inner])
            .isolation(iso)
            .capture_stdout()
    };
    let (sink, cancel) = (MemorySink::new(100), CancellationToken::new());

    for iso in [Isolation::MountNs, Isolation::MountPidNs] {
        let mut hidden = cmd(iso)
            .hide(&secrets)
            .hide(&lone)
            .hide(dir.path().join("absent"));
        if iso == Isolation::MountPidNs {
            hidden = hidden.env_clear(); // `unshare`, `sh` and `mount` are still found
        }
        let out = run(&hidden, &sink, &cancel).await.expect("runs isolated");
        assert_eq!(
            out.stdout.as_deref(),
            Some("\n\n1\n"),
            "{iso:?}: {:?}",
            sink.texts()
        );
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        let d = dir.path().to_str().expect("utf-8 temp path");
        assert!(
            !mountinfo.contains(d),
            "{iso:?}: a mount leaked out:\n{mountinfo}"
        );
        assert_eq!(
            std::fs::read_to_string(secrets.join("token")).expect("read"),
            "s3cret"
        );
    }
    // Without a namespace the same command sees the secrets (and mounts for real: undo).
    let plain = Cmd::new("sh")
        .arg("-c")
        .arg("cat \"$1/token\"; echo; cat \"$2\"")
        .args([Path::new("t"), &secrets, &lone]);
    let out = run(&plain.capture_stdout(), &sink, &cancel)
        .await
        .expect("runs");
    assert_eq!(out.stdout.as_deref(), Some("s3cret\ns3cret2\n"));
}

#[tokio::test]
async fn pid_namespace_sees_itself_low_and_kills_setsid_escapees() {
    if !need_root() {
        return;
    }
    let (sink, cancel) = (MemorySink::new(100), CancellationToken::new());
    let cmd = sh("echo $$")
        .isolation(Isolation::MountPidNs)
        .capture_stdout();
    let out = run(&cmd, &sink, &cancel).await.expect("runs");
    let pid = out.stdout.as_deref().unwrap_or_default().trim().to_owned();
    assert!(pid == "1" || pid == "2", "pid inside the namespace: {pid}");

    let marker = format!("1000.{}", std::process::id());
    let cmd = sh("setsid -f sleep \"$1\"; echo ready; exec sleep 1000")
        .arg("escapee")
        .arg(&marker)
        .isolation(Isolation::MountPidNs);
    let mut escapee = 0;
    let (res, ()) = tokio::join!(run(&cmd, &sink, &cancel), async {
        wait_until("the escapee runs", || {
            escapee = pids_with_cmdline(&["sleep", &marker])
                .first()
                .copied()
                .unwrap_or(0);
            escapee != 0 && sink.texts().contains(&"ready".into())
        })
        .await;
        assert_eq!(
            pgid_sid(escapee),
            Some((escapee, escapee)),
            "left the group and session"
        );
        cancel.cancel();
    });
    assert!(matches!(res, Err(RunError::Canceled { .. })), "{res:?}");
    assert!(!alive(escapee), "the setsid escapee survived");
}

#[tokio::test]
async fn dropping_the_run_future_kills_the_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pids = dir.path().join("pids");
    let cmd = sh(STUBBORN).arg("stubborn").arg(&pids);
    let (sink, cancel) = (MemorySink::new(100), CancellationToken::new());
    tokio::select! {
        res = run(&cmd, &sink, &cancel) => panic!("ended by itself: {res:?}"),
        () = wait_until("the script is ready", || sink.texts().contains(&"ready".into())) => {}
    }
    // The run future is gone: its group got SIGKILL (no grace period on drop).
    let recorded = recorded_pids(&pids);
    wait_until("every recorded process is gone", || {
        recorded.iter().all(|&p| !alive(p))
    })
    .await;
    assert_all_gone(&recorded);
}
