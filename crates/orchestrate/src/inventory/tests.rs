//! The shipped samples parse (so they cannot drift) and agree; errors name file:line:key.

use std::path::Path;

use super::*;

const SAMPLE_INI: &str = include_str!("../../../../conf/deploy.conf");
const SAMPLE_TOML: &str = include_str!("../../../../conf/deploy.toml");

fn ini(text: &str) -> Result<Inventory, ConfigError> {
    Inventory::parse(Path::new("deploy.conf"), text)
}

fn summary(inv: &Inventory) -> Vec<(String, bool, Vec<String>)> {
    inv.hosts
        .iter()
        .map(|h| {
            (
                h.name(),
                h.master,
                h.queues.iter().map(Queue::spec).collect(),
            )
        })
        .collect()
}

#[test]
fn the_sample_deploy_conf_parses() {
    let inv = ini(SAMPLE_INI).expect("conf/deploy.conf");
    assert_eq!(inv.releases, ["17", "rawhide"]);
    assert_eq!(
        inv.brokers.default.as_deref(),
        Some("redis://10.0.0.27:6379/0")
    );
    assert_eq!(
        inv.brokers.for_arch(Arch::I686),
        Some("redis://10.0.0.30:6379/0")
    );
    let s = summary(&inv);
    assert_eq!(s[0], ("gene@localhost".into(), true, vec![]));
    assert_eq!(
        s[1],
        ("root@10.0.0.30".into(), false, vec!["i686:17".into()])
    );
    assert_eq!(s[2].2, ["x86_64:17"]);
    assert_eq!(s.len(), 6);
    assert_eq!(
        inv.smtp.as_ref().map(|m| m.server.as_str()),
        Some("smtp.example.org")
    );
    assert_eq!(inv.ssh.host_keys, HostKeyPolicy::Strict);
    assert_eq!(
        inv.master().map(Host::name).as_deref(),
        Some("gene@localhost")
    );
    assert_eq!(
        inv.broker_host().map(Host::name).as_deref(),
        Some("root@10.0.0.27")
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(
        inv.hosts[1].workdir.as_deref(),
        Some(Path::new("/tmp/imagebuilder_worker"))
    );
}

#[test]
fn the_sample_deploy_toml_describes_the_same_fleet() {
    let a = ini(SAMPLE_INI).expect("ini");
    let b = Inventory::parse(Path::new("conf/deploy.toml"), SAMPLE_TOML).expect("toml");
    assert_eq!(summary(&a), summary(&b));
    assert_eq!(a.brokers, b.brokers);
    assert_eq!(a.koji, b.koji);
    assert_eq!(a.releases, b.releases);
    assert!(b.daemon.contains_key("lease"));
    let pf = b.smtp.as_ref().and_then(|s| s.password_file.clone());
    assert_eq!(pf.as_deref(), Some(Path::new("conf/smtp-password")));
}

#[test]
fn a_host_in_two_releases_serves_both_queues() {
    let text = "[broker]\ndefault=redis://h1:6379/0\n[releases]\nreleases=17;rawhide\n\
        [workers-17]\nx86_64=root@h1\n[worker-rawhide]\nx86_64=root@h1;root@h2;\n";
    let inv = ini(text).expect("valid");
    let s = summary(&inv);
    assert_eq!(s[0].2, ["x86_64:17", "x86_64:rawhide"]);
    assert_eq!(s[1].2, ["x86_64:rawhide"]);
    assert!(inv.master().is_none());
    assert_eq!(
        inv.broker_host().map(Host::name).as_deref(),
        Some("root@h1")
    );
}

#[test]
fn errors_name_file_line_and_key() {
    let base = "[broker]\ndefault=\"redis://h1:6379/0\"\n[releases]\nreleases=17\n";
    for (text, want) in [
        (
            "[broker]\ndefault=\"amqp://guest@h1//\"\n[releases]\nreleases=17\n[workers-17]\nx86_64=h1\n".to_owned(),
            "deploy.conf:2: [broker] default: AMQP",
        ),
        (
            format!("{base}[workers-17]\nx86_64=root@h1;root@h2:99999\n"),
            "deploy.conf:6: [workers-17] x86_64: `root@h2:99999`",
        ),
        (
            format!("{base}[workers-17]\nsparc=root@h1\n"),
            "deploy.conf:6: [workers-17] sparc:",
        ),
        (
            format!("{base}[workers-rawhide]\nx86_64=root@h1\n"),
            "deploy.conf:4: [releases] releases: release 17 has no [workers-17]",
        ),
        (
            format!("{base}[workers-17]\nx86_64=h1\n[workers-18]\nx86_64=h2\n"),
            "deploy.conf:7: [workers-18]: release 18 is not listed",
        ),
        (
            format!("{base}[workers-17]\nx86_64=h1\n[ssh]\nhost_key_check=no\n"),
            "deploy.conf:8: [ssh] host_key_check: `no` is not a host key policy",
        ),
        (
            format!("{base}[master]\nhost=root@\n[workers-17]\nx86_64=h1\n"),
            "deploy.conf:6: [master] host:",
        ),
    ] {
        let e = ini(&text).expect_err(&text).to_string();
        assert!(e.starts_with(want), "got {e:?}, want {want:?}");
    }
}

#[test]
fn toml_errors_name_file_line_and_key() {
    let p = Path::new("deploy.toml");
    let head = "releases = [\"17\"]\n[broker]\ndefault = \"redis://h1:6379/0\"\n";
    for (text, want) in [
        (
            format!("{head}[workers.17]\nx86_64 = [\"root@h1\", \"root@h2:0\"]\n"),
            "deploy.toml:5: workers.17.x86_64: `root@h2:0`",
        ),
        (
            "releases = [\"17\"]\n[broker]\ndefault = \"amqp://h1\"\n[workers.17]\nx86_64 = \"h1\"\n"
                .to_owned(),
            "deploy.toml:3: [broker] default: AMQP",
        ),
        (
            format!("{head}[workers.17]\nx86_64 = [\"h1\"]\n[ssh]\nhost_key_check = \"no\"\n"),
            "deploy.toml:7: ssh.host_key_check:",
        ),
        (
            format!("{head}[workers.17]\nx86_64 = [\"h1\"]\nbogus = 1\n"),
            "deploy.toml:6: workers.17.bogus:",
        ),
    ] {
        let e = Inventory::parse(p, &text).expect_err(&text).to_string();
        assert!(e.starts_with(want), "got {e:?}, want {want:?}");
    }
}

#[test]
fn hosts_filter_by_glob_on_name_or_login() {
    let mut inv = ini(SAMPLE_INI).expect("valid");
    assert_eq!(inv.retain_matching("10.0.0.2*"), 2);
    let mut inv = ini(SAMPLE_INI).expect("valid");
    assert_eq!(inv.retain_matching("gene@*"), 1);
    let mut inv = ini(SAMPLE_INI).expect("valid");
    assert_eq!(inv.retain_matching("10.0.0.4[0-9]"), 1);
    let mut inv = ini(SAMPLE_INI).expect("valid");
    assert_eq!(inv.retain_matching("nothing"), 0);
}
