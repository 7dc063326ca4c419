//! `fbs deploy --dry-run`: what each host would get, without connecting — the files with their
//! sizes and checksums (a config's contents are never shown), the exact package-manager
//! commands for each distribution family, and the service commands with and without systemd.

use std::fmt::Write;

use crate::inventory::Host;
use crate::layout::Layout;
use crate::packages::{self, Family, Set};
use crate::remote::files;
use crate::run::{DeployError, DeployOptions, artifacts, inventory};
use crate::services::{self, Service};
use crate::tasks::Task;

/// The plan, as text.
pub fn plan(opts: &DeployOptions) -> Result<String, DeployError> {
    let full = inventory(&opts.config, None)?;
    let inv = inventory(&opts.config, opts.hosts.as_deref())?;
    let art = artifacts(&full, opts.binary.as_deref())?;
    let tasks = if opts.tasks.is_empty() {
        Task::DEFAULT.to_vec()
    } else {
        opts.tasks.clone()
    };
    let broker = full.broker_host().map(Host::name);
    let l = match &opts.local_root {
        Some(r) if tasks == [Task::DeployLocal] => Layout::under(r),
        _ => Layout::system(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dry run: nothing is changed; steps marked * happen only where the host differs"
    );
    for h in &inv.hosts {
        let mine: Vec<Task> = tasks.iter().copied().filter(|t| t.applies_to(h)).collect();
        if mine.is_empty() {
            continue;
        }
        let via = if mine == [Task::DeployLocal] {
            "this machine"
        } else {
            "ssh"
        };
        let _ = writeln!(out, "\n{} [{}] via {via}", h.name(), h.roles());
        let workers = mine.iter().any(|t| {
            matches!(
                t,
                Task::CopyFilesWorkers | Task::DeployWorkers | Task::DeployLocal
            )
        }) && !h.queues.is_empty();
        let webapp = mine.iter().any(|t| {
            matches!(
                t,
                Task::CopyFilesWebapp | Task::DeployWebapp | Task::DeployLocal
            )
        }) && h.master;
        let mut svcs: Vec<Service> = Vec::new();
        for s in services::of(h) {
            let keep = match s {
                Service::Worker(_) => workers,
                Service::Monitor | Service::Notify => webapp,
            };
            if keep {
                svcs.push(s);
            }
        }
        if workers || webapp {
            let dirs: Vec<String> = l.dirs().iter().map(|d| d.display().to_string()).collect();
            let _ = writeln!(
                out,
                "  * mkdir -p {} && chmod 0700 {}",
                dirs.join(" "),
                l.etc_dir().display()
            );
            let _ = writeln!(
                out,
                "  * put {} mode 0755 ({} bytes, sha256 {}; temp file, checked, renamed)",
                l.binary().display(),
                art.binary_len,
                &art.binary_sha
            );
            let cfg = art.configs.get(&h.name()).map(String::as_str).unwrap_or("");
            let _ = writeln!(
                out,
                "  * put {} mode 0600 ({} bytes, sha256 {}; contents not shown{})",
                l.config().display(),
                cfg.len(),
                files::sha256(cfg.as_bytes()),
                if h.master && inv.smtp.is_some() {
                    ", includes SMTP"
                } else {
                    ""
                }
            );
            let mut seen = Vec::new();
            let mut units = svcs.clone();
            if webapp {
                units.extend([Service::Monitor, Service::Notify]);
            }
            for s in &units {
                let (p, _) = s.unit_file(&l);
                if !seen.contains(&p) {
                    let _ = writeln!(out, "  * put {} mode 0644", p.display());
                    seen.push(p);
                }
            }
        }
        let mut sets = Vec::new();
        let pk_workers = mine.iter().any(|t| {
            matches!(
                t,
                Task::InstallPackagesWorkers | Task::DeployWorkers | Task::DeployLocal
            )
        }) && !h.queues.is_empty();
        let pk_webapp = mine.iter().any(|t| {
            matches!(
                t,
                Task::InstallPackagesWebapp | Task::DeployWebapp | Task::DeployLocal
            )
        }) && h.master;
        if pk_workers {
            sets.push(Set::Builder);
        }
        if pk_webapp {
            sets.push(Set::Webapp);
        }
        if (pk_workers || pk_webapp) && broker.as_deref() == Some(h.name().as_str()) {
            sets.push(Set::Broker);
        }
        if !sets.is_empty() && !l.is_rooted() {
            for f in Family::ALL {
                let pk = packages::packages(f, &sets);
                let _ = writeln!(out, "  packages on {} (os-release ID/ID_LIKE):", f.as_str());
                let _ = writeln!(out, "    check:     {}", packages::missing_script(f, &pk));
                let _ = writeln!(
                    out,
                    "    * install: {}   (only the missing ones)",
                    packages::install_command(f, &pk)
                );
            }
        }
        let starts = mine.iter().any(|t| {
            matches!(
                t,
                Task::DeployWorkers | Task::DeployWebapp | Task::DeployLocal
            )
        });
        if starts {
            for s in svcs.iter().filter(|s| match s {
                Service::Worker(_) => mine
                    .iter()
                    .any(|t| matches!(t, Task::DeployWorkers | Task::DeployLocal)),
                Service::Monitor | Service::Notify => mine
                    .iter()
                    .any(|t| matches!(t, Task::DeployWebapp | Task::DeployLocal)),
            }) {
                let _ = writeln!(
                    out,
                    "  service {} (restarted only when its binary, config or unit changed, or it is not running):",
                    s.name()
                );
                if !l.is_rooted() {
                    let u = s.unit();
                    let _ = writeln!(
                        out,
                        "    * with systemd:    systemctl daemon-reload && systemctl enable --quiet {u} && systemctl restart {u}"
                    );
                }
                let _ = writeln!(out, "    * without systemd: {}", s.start_command(&l));
            }
        }
    }
    if tasks.contains(&Task::SetupCli) {
        let path = opts
            .client_config
            .clone()
            .unwrap_or_else(crate::tasks::setup_cli::default_path);
        let _ = writeln!(
            out,
            "\nthis machine: * write {} mode 0600 (brokers, monitor URL{})",
            path.display(),
            if opts.token.is_some() {
                ", API token"
            } else {
                ""
            }
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hosts_config_does_not_depend_on_the_hosts_filter() {
        let dir = tempfile::tempdir().expect("tmp");
        let conf = dir.path().join("deploy.conf");
        std::fs::write(
            &conf,
            "[broker]\ndefault=redis://w1:6379/0\n[releases]\nreleases=17\n[master]\nhost=root@m1\n\
             [workers-17]\nx86_64=root@w1;root@w2\n",
        )
        .expect("conf");
        let bin = dir.path().join("fbs");
        std::fs::write(&bin, "binary").expect("bin");
        let opts = |hosts: Option<&str>| DeployOptions {
            config: conf.clone(),
            hosts: hosts.map(str::to_owned),
            binary: Some(bin.clone()),
            ..DeployOptions::default()
        };
        let line = |text: &str, host: &str| -> String {
            let start = text.find(&format!("{host} [")).expect("host");
            text[start..]
                .lines()
                .find(|l| l.contains("/etc/fbs/fbs.toml"))
                .expect("config line")
                .to_owned()
        };
        let all = plan(&opts(None)).expect("plan");
        let one = plan(&opts(Some("w2"))).expect("plan");
        assert_eq!(line(&all, "root@w2"), line(&one, "root@w2"));
        assert!(!one.contains("root@w1 ["), "{one}");
        let w1 = plan(&opts(Some("w1"))).expect("plan");
        assert!(
            w1.contains("redis-server"),
            "the broker's host, filtered alone: {w1}"
        );
    }
}
