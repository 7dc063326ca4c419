//! Four hosts from nothing: every file lands on the right host, a worker runs on each one
//! connected to Redis on the bridge, a job for each queue is built on a host of that queue and
//! staged there; a second deploy changes nothing, says so, and is fast.

use std::time::{Duration, Instant};

use fbs_core::job::{JobRecord, JobState};
use fbs_core::queue::JobStore;

use super::rig::{Hosts, mode, row};

const QUEUES: [(&str, &str, &str); 4] = [
    ("h1", "x86_64", "17"),
    ("h2", "i686", "17"),
    ("h3", "x86_64", "rawhide"),
    ("h4", "i686", "rawhide"),
];

fn spec(hosts: &Hosts, arch: &str, release: &str) -> fbs_core::spec::BuildSpec {
    let p = hosts.tmp.path().join(format!("{arch}-{release}.toml"));
    let text = format!(
        "type = \"boot\"\narch = \"{arch}\"\nrelease = \"{release}\"\nstaging = \"file:///srv/staging\"\n\
         email = \"qa@example.org\"\n\n[boot]\nrepos = [{{ name = \"fedora\", url = \"http://example.org/os/\" }}]\n"
    );
    std::fs::write(&p, text).expect("spec");
    fbs_core::spec::load_spec(&p).expect("spec").spec
}

#[tokio::test(flavor = "multi_thread")]
async fn four_hosts_converge_build_their_queues_and_a_redeploy_changes_nothing() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf("");
    let (out, first) = hosts.deploy(&conf, &[], 0);
    let binary = std::fs::read(env!("CARGO_BIN_EXE_fbs")).expect("fbs binary");
    for (h, arch, release) in QUEUES {
        let r = row(&out, &format!("root@{h}"));
        assert!(
            r.contains("changed") && r.contains("binary") && r.contains("config"),
            "{r}"
        );
        assert!(
            r.contains(&format!("started worker-{arch}-{release}")),
            "{r}"
        );
        // The packages are on the shared /usr: detected, nothing installed.
        assert!(!r.contains("installed"), "{r}");
        let bin = hosts.upper(h, "opt/fbs/bin/fbs");
        assert_eq!(
            std::fs::read(&bin).expect("binary on the host"),
            binary,
            "{h}"
        );
        assert_eq!(mode(&bin), 0o755);
        let cfg = hosts.upper(h, "etc/fbs/fbs.toml");
        assert_eq!(mode(&cfg), 0o600, "{h}");
        assert_eq!(mode(&hosts.upper(h, "etc/fbs")), 0o700, "{h}");
        let text = std::fs::read_to_string(&cfg).expect("config");
        let (parsed, _) = fbs_core::config::load_daemon(Some(&cfg)).expect("the config parses");
        assert_eq!(parsed.worker.queues, [format!("{arch}:{release}")], "{h}");
        assert_eq!(
            parsed.broker.default.as_deref(),
            Some(hosts.redis_url.as_str())
        );
        assert!(parsed.smtp.is_none(), "a worker got SMTP settings: {text}");
        assert!(
            hosts
                .upper(h, &format!("var/lib/fbs/worker-{arch}-{release}.pid"))
                .exists()
        );
        // The unit deploy wrote passes systemd's own check, run on the host.
        let v = hosts.script(&[
            "exec",
            h,
            "systemd-analyze",
            "verify",
            "/etc/systemd/system/fbs-worker@.service",
        ]);
        assert!(
            v.status.success(),
            "{h}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
    }
    assert!(out.contains("client config"), "{out}");
    eprintln!("first deploy of 4 hosts: {:.1} s", first.as_secs_f64());

    // A worker on each host, connected to Redis on the bridge address.
    let store = hosts.store().await;
    let t = Instant::now();
    loop {
        let mut seen: Vec<String> = store
            .workers()
            .await
            .expect("workers")
            .into_iter()
            .map(|w| w.host)
            .collect();
        seen.sort();
        if seen == ["h1", "h2", "h3", "h4"] {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "workers: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // One job per queue, built and staged on the host of that queue.
    let mut jobs = Vec::new();
    for (h, arch, release) in QUEUES {
        let job = JobRecord::new(spec(&hosts, arch, release), None);
        store.submit(job.clone()).await.expect("submit");
        jobs.push((h, job.id));
    }
    for (h, id) in jobs {
        let t = Instant::now();
        let rec = loop {
            let r = store.get(id).await.expect("get").expect("job");
            if r.state.is_final() {
                break r;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "job {id} still {:?}",
                r.state
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(rec.state, JobState::Succeeded, "{rec:?}");
        assert_eq!(rec.worker_host.as_deref(), Some(h), "{rec:?}");
        let staged = hosts.upper(h, &format!("srv/staging/{id}/test.iso"));
        assert!(staged.exists(), "{} missing", staged.display());
    }

    // Again: nothing changes, the summary says so, and it is quick.
    let (out, again) = hosts.deploy(&conf, &[], 0);
    for (h, ..) in QUEUES {
        assert!(
            row(&out, &format!("root@{h}")).contains("unchanged"),
            "{out}"
        );
    }
    assert!(out.contains("nothing changed"), "{out}");
    eprintln!(
        "no-change redeploy of 4 hosts: {:.1} s",
        again.as_secs_f64()
    );
    assert!(again < Duration::from_secs(30), "redeploy took {again:?}");
    assert!(
        again < first,
        "redeploy {again:?} not faster than the first {first:?}"
    );
}

#[test]
fn dry_run_shows_the_package_commands_per_distribution_without_connecting() {
    let Some(hosts) = Hosts::get() else { return };
    let conf = hosts.conf("");
    hosts.script_ok(&["stop-sshd", "h1"]);
    let (out, _) = hosts.deploy(&conf, &["install-packages-workers", "--dry-run"], 0);
    hosts.script_ok(&["start-sshd", "h1"]);
    assert!(out.contains("root@h1 [worker x86_64:17]"), "{out}");
    assert!(out.contains("dpkg-query -W"), "{out}");
    assert!(
        out.contains("apt-get install -y -qq --no-install-recommends util-linux rpm createrepo-c"),
        "{out}"
    );
    assert!(out.contains("dnf install -y --setopt=install_weak_deps=False lorax pungi lorax-lmc-novirt createrepo_c"), "{out}");
    assert!(
        !hosts.upper("h1", "opt/fbs").exists(),
        "a dry run changed h1"
    );

    // The default broker's host also gets the Redis server; the others do not.
    let conf = hosts.tmp.path().join("broker-on-h1.conf");
    let text = std::fs::read_to_string(hosts.conf(""))
        .expect("conf")
        .replace(&hosts.redis_url, "redis://h1:6379/0");
    std::fs::write(&conf, text).expect("conf");
    let (out, _) = hosts.deploy(&conf, &["install-packages-workers", "--dry-run"], 0);
    let section = |h: &str| {
        let start = out.find(&format!("root@{h} [")).expect("host section");
        let rest = &out[start..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
    };
    assert!(section("h1").contains("redis-server"), "{out}");
    assert!(section("h1").contains(" redis"), "{out}");
    assert!(!section("h2").contains("redis"), "{out}");
}
