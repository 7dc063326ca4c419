//! `fbs fleet status|stop|restart|logs`: a killed daemon shows dead and restart revives it.

use super::rig::{Hosts, row};

#[test]
fn fleet_status_stop_restart_and_logs() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf("");
    let c = conf.to_str().expect("utf-8");
    hosts.deploy(&conf, &["deploy-workers"], 0);
    let (code, out, err, _) = hosts.fbs(&["fleet", "status", "-c", c]);
    assert_eq!(code, 0, "{out}{err}");
    for h in ["h1", "h2", "h3", "h4"] {
        assert!(
            row(&out, &format!("root@{h}")).contains("running (pid"),
            "{out}"
        );
    }

    // kill -9: the pid file stays behind, naming a process that is gone.
    let pid = hosts.pid("h1", "worker-x86_64-17");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (code, out, _, _) = hosts.fbs(&["fleet", "status", "-c", c]);
    assert_eq!(code, 1, "{out}");
    let r = row(&out, "root@h1");
    assert!(
        r.contains("worker-x86_64-17") && r.contains(&format!("dead (pid {pid} is gone)")),
        "{out}"
    );

    let (code, out, err, _) = hosts.fbs(&["fleet", "restart", "-c", c, "--hosts", "h1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(row(&out, "root@h1").contains("running"), "{out}");
    assert_ne!(hosts.pid("h1", "worker-x86_64-17"), pid);
    let (code, out, _, _) = hosts.fbs(&["fleet", "status", "-c", c]);
    assert_eq!(code, 0, "{out}");
    // A restart is not a deployment: the next deploy still changes nothing.
    let (out, _) = hosts.deploy(&conf, &["deploy-workers"], 0);
    assert!(out.contains("nothing changed"), "{out}");

    let (code, out, err, _) = hosts.fbs(&["fleet", "stop", "-c", c, "--hosts", "h4"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(row(&out, "root@h4").contains("stopped"), "{out}");
    assert!(
        !hosts
            .upper("h4", "var/lib/fbs/worker-i686-rawhide.pid")
            .exists()
    );
    let (code, out, _, _) = hosts.fbs(&["fleet", "status", "-c", c, "--hosts", "h4"]);
    assert_eq!(code, 1, "{out}");

    let (code, out, err, _) = hosts.fbs(&["fleet", "logs", "h1", "-c", c]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("==> /var/log/fbs/worker-x86_64-17.log <=="),
        "{out}"
    );
    assert!(out.contains("starting /opt/fbs/bin/fbs"), "{out}");

    // A queue moved off a host: its old worker is stopped, the new one started.
    let moved = hosts.tmp.path().join("moved.conf");
    let text = std::fs::read_to_string(&conf)
        .expect("conf")
        .replace("i686=root@h4", "i686=root@h2")
        .replace(
            "[workers-17]\nx86_64=root@h1\ni686=root@h2",
            "[workers-17]\nx86_64=root@h1\ni686=root@h4",
        );
    std::fs::write(&moved, text).expect("conf");
    let (out, _) = hosts.deploy(&moved, &["deploy-workers", "--hosts", "h[24]"], 0);
    // (h4's old worker was stopped above; h2's runs until this deploy.)
    assert!(
        row(&out, "root@h4").contains("started worker-i686-17"),
        "{out}"
    );
    let h2 = row(&out, "root@h2");
    assert!(
        h2.contains("started worker-i686-rawhide") && h2.contains("stopped worker-i686-17"),
        "{out}"
    );
    assert!(
        !hosts
            .upper("h4", "var/lib/fbs/worker-i686-rawhide.pid")
            .exists()
    );
}
