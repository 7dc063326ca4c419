//! `deploy-local`: the roles of the hosts that are this machine, deployed without ssh (here
//! under a root directory), with the worker started as a `--daemon` and found by its pid file.

use std::time::{Duration, Instant};

use crate::helper;

#[test]
fn deploy_local_installs_and_starts_a_worker_here() {
    let url = match std::env::var("FBS_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ if helper::opted_out() => {
            eprintln!("skipped: FBS_TEST_REDIS_URL is not set and FBS_TEST_OPTOUT=1");
            return;
        }
        _ => panic!("FBS_TEST_REDIS_URL is not set: run the tests through scripts/test.sh"),
    };
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("root");
    let conf = dir.path().join("deploy.conf");
    std::fs::write(
        &conf,
        format!("[broker]\ndefault={url}\n[releases]\nreleases=17\n[workers-17]\nx86_64=root@localhost\n"),
    )
    .expect("conf");
    std::fs::create_dir_all(root.join("etc/fbs")).expect("etc");
    std::fs::write(
        root.join("etc/fbs/environment"),
        format!(
            "FBS_TEST_BUILD_SCRIPT='true'\nFBS_REDIS_PREFIX=dl-{}:\n",
            std::process::id()
        ),
    )
    .expect("env");
    let run = || {
        helper::fbs()
            .args(["deploy", "--plain", "deploy-local", "--local-root"])
            .arg(&root)
            .arg("-c")
            .arg(&conf)
            .output()
            .expect("fbs deploy")
    };
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("local:root@localhost") && out.contains("started worker-x86_64-17"),
        "{out}"
    );
    assert!(root.join("opt/fbs/bin/fbs").exists());
    let pid_file = root.join("var/lib/fbs/worker-x86_64-17.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(fbs_core::daemonize::alive(pid as u32));
    let o = run();
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing changed"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("stop");
    let t = Instant::now();
    while fbs_core::daemonize::alive(pid as u32) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the worker did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!pid_file.exists(), "the pid file outlived the daemon");
}
