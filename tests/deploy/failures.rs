//! One host down: the other three converge, the exit code is non-zero and the summary names
//! the failure; once the host is back, a rerun converges. A host whose key changed is refused
//! with a message naming it.

use super::rig::{Hosts, row};

#[test]
fn a_host_down_fails_alone_and_a_rerun_converges() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf("");
    hosts.script_ok(&["stop-sshd", "h3"]);
    let (out, _) = hosts.deploy(&conf, &["deploy-workers"], 1);
    hosts.script_ok(&["start-sshd", "h3"]);
    for h in ["h1", "h2", "h4"] {
        assert!(row(&out, &format!("root@{h}")).contains("changed"), "{out}");
        assert!(hosts.upper(h, "opt/fbs/bin/fbs").exists(), "{h}");
    }
    let r = row(&out, "root@h3");
    assert!(
        r.contains("failed") && r.contains("Connection refused"),
        "{r}"
    );
    assert!(out.contains("3 changed, 0 unchanged, 1 failed"), "{out}");
    assert!(!hosts.upper("h3", "opt/fbs").exists(), "h3 was down");

    let (out, _) = hosts.deploy(&conf, &["deploy-workers"], 0);
    assert!(
        row(&out, "root@h3").contains("started worker-x86_64-rawhide"),
        "{out}"
    );
    for h in ["h1", "h2", "h4"] {
        assert!(
            row(&out, &format!("root@{h}")).contains("unchanged"),
            "{out}"
        );
    }
    assert!(
        hosts
            .upper("h3", "var/lib/fbs/worker-x86_64-rawhide.pid")
            .exists()
    );
}

#[test]
fn a_changed_host_key_is_refused_naming_the_host() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf("");
    hosts.script_ok(&["rekey", "h2"]);
    let (out, _) = hosts.deploy(&conf, &["copy-files-workers", "--hosts", "h[12]"], 1);
    // accept-new adds unknown keys but never accepts a changed one.
    let conf_new = hosts.conf("\n[ssh]\nhost_key_check=accept-new\n");
    let (out_new, _) = hosts.deploy(&conf_new, &["copy-files-workers", "--hosts", "h2"], 1);
    hosts.script_ok(&["restore-key", "h2"]);
    let r = row(&out, "root@h2");
    assert!(r.contains("failed"), "{r}");
    assert!(
        r.contains("root@h2: host key verification failed: the key root@h2 offers does not match known_hosts"),
        "{r}"
    );
    assert!(row(&out, "root@h1").contains("changed"), "{out}");
    assert!(
        !hosts.upper("h2", "opt/fbs").exists(),
        "h2 got files despite its key"
    );
    assert!(
        row(&out_new, "root@h2").contains("does not match known_hosts"),
        "{out_new}"
    );
}

#[test]
fn only_the_master_gets_smtp_and_secrets_are_never_printed() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf(
        "\n[master]\nhost=root@h4\n\n[SMTP]\nserver='smtp.example.org'\nlogin='bot@example.org'\npassword='pw-never-shown'\n",
    );
    let (code, out, err, _) = hosts.fbs(&[
        "deploy",
        "--plain",
        "-c",
        conf.to_str().expect("utf-8"),
        "copy-files-workers",
        "deploy-webapp",
        "setup-cli",
        "--token",
        "token-never-shown",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    for text in [&out, &err] {
        assert!(
            !text.contains("pw-never-shown") && !text.contains("token-never-shown"),
            "{text}"
        );
    }
    let master =
        std::fs::read_to_string(hosts.upper("h4", "etc/fbs/fbs.toml")).expect("master config");
    assert!(
        master.contains("pw-never-shown") && master.contains("smtp.example.org"),
        "{master}"
    );
    for unit in ["fbs-monitor.service", "fbs-notify.service"] {
        let path = format!("/etc/systemd/system/{unit}");
        let v = hosts.script(&["exec", "h4", "systemd-analyze", "verify", &path]);
        assert!(
            v.status.success(),
            "{unit}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
    }
    // The master's mail daemon runs (the notifier while this build has no monitor).
    let daemon = if out.contains("started monitor") {
        "monitor"
    } else {
        "notify"
    };
    assert!(
        row(&out, "root@h4").contains(&format!("started {daemon}")),
        "{out}"
    );
    assert!(
        hosts
            .upper("h4", &format!("var/lib/fbs/{daemon}.pid"))
            .exists()
    );
    for h in ["h1", "h2", "h3"] {
        let w = std::fs::read_to_string(hosts.upper(h, "etc/fbs/fbs.toml")).expect("worker config");
        assert!(
            !w.contains("pw-never-shown") && !w.contains("smtp"),
            "{h}: {w}"
        );
        assert!(w.contains("public_url = \"http://h4:8080/\""), "{h}: {w}");
    }
    let client =
        std::fs::read_to_string(hosts.tmp.path().join("client.toml")).expect("client config");
    assert!(
        client.contains("token-never-shown") && client.contains(&hosts.redis_url),
        "{client}"
    );
    assert!(
        client.contains("monitor_url = \"http://h4:8080/\""),
        "{client}"
    );
    let (out, _) = hosts.deploy(&conf, &["--dry-run", "copy-files-webapp"], 0);
    assert!(
        !out.contains("pw-never-shown") && out.contains("includes SMTP"),
        "{out}"
    );
}
