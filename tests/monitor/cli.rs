//! `fbs token create|list|revoke` and `fbs monitor` as a user runs them, on the SQLite store
//! of a state directory: the token works on the API until revoked; SIGTERM stops the monitor.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helper;

fn fbs(state: &std::path::Path) -> Command {
    let mut c = helper::fbs();
    c.env_remove("FBS_CONFIG")
        .env_remove("FBS_BROKER")
        .env("FBS_STATE_DIR", state);
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_and_the_monitor_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path();
    let out = fbs(state)
        .args(["token", "create", "--name", "ci"])
        .output()
        .expect("fbs token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("fbs_"), "{token}");
    let out = fbs(state)
        .args(["token", "create", "--name", "ci"])
        .output()
        .expect("fbs token");
    assert_eq!(out.status.code(), Some(2), "a second `ci` is refused");
    let out = fbs(state)
        .args(["token", "list"])
        .output()
        .expect("fbs token list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("ci") && !listed.contains(&token),
        "{listed}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut child = fbs(state)
        .args(["monitor", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fbs monitor");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let t = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the monitor did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cancel = format!("{base}/api/v1/jobs/00000000-0000-7000-8000-000000000000/cancel");
    let r = client
        .post(&cancel)
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404, "a valid token reaches the handler");
    let out = fbs(state)
        .args(["token", "revoke", "ci"])
        .output()
        .expect("revoke");
    assert!(out.status.success());
    let r = client
        .post(&cancel)
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401, "a revoked token is refused");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status}");
}
