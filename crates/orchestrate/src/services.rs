//! The daemons fbs runs on a host — one `fbs worker` per queue (`fbs-worker@ARCH:RELEASE`) and
//! on the master the webapp: `fbs monitor` (which also sends the mail) when this build of fbs
//! has it, else `fbs notify` — and the scripts that query, start and stop them: through
//! systemd where it runs (`/run/systemd/system` exists), else as `--daemon` processes with a
//! pid file in /var/lib/fbs and a log file in /var/log/fbs.
//!
//! Each service has a stamp file (`/var/lib/fbs/NAME.deployed`) holding the hash of what it was
//! last started with (binary, config, unit, command line): deploy restarts a service only when
//! that hash changed or the service is not running.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::inventory::Host;
use crate::layout::Layout;
use crate::remote::{qpath, quote};

/// The worker unit template, as shipped in `deploy/`.
pub const WORKER_UNIT: &str = include_str!("../../../deploy/fbs-worker@.service");
/// The monitor unit, as shipped in `deploy/`.
pub const MONITOR_UNIT: &str = include_str!("../../../deploy/fbs-monitor.service");
/// The notifier unit, as shipped in `deploy/`.
pub const NOTIFY_UNIT: &str = include_str!("../../../deploy/fbs-notify.service");

static WEBAPP: OnceLock<Service> = OnceLock::new();

/// Say which daemon serves the master's webapp role in this build of fbs ([`Service::Monitor`]
/// once `fbs monitor` exists, else [`Service::Notify`]); set once, by the command line.
pub fn set_webapp(s: Service) {
    let _ = WEBAPP.set(s);
}

/// The daemon of the master's webapp role (default [`Service::Notify`]).
pub fn webapp() -> Service {
    WEBAPP.get().cloned().unwrap_or(Service::Notify)
}

/// One daemon on a host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// `fbs worker --queue ARCH:RELEASE`.
    Worker(String),
    /// `fbs monitor` (the master's web UI, REST API and notifier).
    Monitor,
    /// `fbs notify` (the master's notifier, when there is no monitor).
    Notify,
}

/// What a service is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Running (with its pid when known).
    Running(Option<u32>),
    /// Should be running but is not: its pid file names a dead process, or systemd says failed.
    Dead(Option<u32>),
    /// Not started (no pid file; systemd: inactive).
    Stopped,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Running(Some(p)) => write!(f, "running (pid {p})"),
            State::Running(None) => f.write_str("running"),
            State::Dead(Some(p)) => write!(f, "dead (pid {p} is gone)"),
            State::Dead(None) => f.write_str("dead"),
            State::Stopped => f.write_str("stopped"),
        }
    }
}

/// The services `host` runs.
pub fn of(host: &Host) -> Vec<Service> {
    let mut v: Vec<Service> = host
        .queues
        .iter()
        .map(|q| Service::Worker(q.spec()))
        .collect();
    if host.master {
        v.push(webapp());
    }
    v
}

impl Service {
    /// The daemon's name: `worker-x86_64-17`, `monitor` (pid, log and stamp files).
    pub fn name(&self) -> String {
        match self {
            Service::Worker(q) => format!("worker-{}", q.replace([':', '/'], "-")),
            Service::Monitor => "monitor".into(),
            Service::Notify => "notify".into(),
        }
    }

    /// The systemd unit.
    pub fn unit(&self) -> String {
        match self {
            Service::Worker(q) => format!("fbs-worker@{q}.service"),
            Service::Monitor => "fbs-monitor.service".into(),
            Service::Notify => "fbs-notify.service".into(),
        }
    }

    /// The unit file it is started from, and that file's text.
    pub fn unit_file(&self, layout: &Layout) -> (PathBuf, &'static str) {
        match self {
            Service::Worker(_) => (layout.unit_dir().join("fbs-worker@.service"), WORKER_UNIT),
            Service::Monitor => (layout.unit_dir().join("fbs-monitor.service"), MONITOR_UNIT),
            Service::Notify => (layout.unit_dir().join("fbs-notify.service"), NOTIFY_UNIT),
        }
    }

    /// The pid file.
    pub fn pid_file(&self, layout: &Layout) -> PathBuf {
        layout.state_dir().join(format!("{}.pid", self.name()))
    }

    /// The log file.
    pub fn log_file(&self, layout: &Layout) -> PathBuf {
        layout.log_dir().join(format!("{}.log", self.name()))
    }

    /// The stamp file.
    pub fn stamp_file(&self, layout: &Layout) -> PathBuf {
        layout.state_dir().join(format!("{}.deployed", self.name()))
    }

    /// The `--daemon` start command (after the environment file is read).
    pub fn start_command(&self, layout: &Layout) -> String {
        let role = match self {
            Service::Worker(q) => format!("worker --queue {}", quote(q)),
            Service::Monitor => "monitor".into(),
            Service::Notify => "notify".into(),
        };
        format!(
            "{bin} {role} --config {cfg} --daemon --pid-file {pid} --log-file {log}",
            bin = qpath(&layout.binary()),
            cfg = qpath(&layout.config()),
            pid = qpath(&self.pid_file(layout)),
            log = qpath(&self.log_file(layout)),
        )
    }

    /// The script printing `state NAME running|dead|stopped PID` and `stamp NAME HASH`.
    pub fn query_script(&self, layout: &Layout, systemd: bool) -> String {
        let n = self.name();
        let stamp = qpath(&self.stamp_file(layout));
        let state = if systemd {
            format!(
                "s=$(systemctl is-active {u} 2>/dev/null); pid=$(systemctl show -p MainPID --value {u} 2>/dev/null)\n\
                 case \"$s\" in active|activating|reloading) echo \"state {n} running ${{pid:--}}\";; failed) echo \"state {n} dead -\";; *) echo \"state {n} stopped -\";; esac\n",
                u = quote(self.unit()),
            )
        } else {
            format!(
                "p={pf}\nif [ -f \"$p\" ]; then pid=$(cat \"$p\")\n\
                 if [ -r \"/proc/$pid/stat\" ] && [ \"$(sed 's/.*) //' \"/proc/$pid/stat\" | cut -c1)\" != Z ]; then echo \"state {n} running $pid\"; else echo \"state {n} dead $pid\"; fi\n\
                 else echo \"state {n} stopped -\"; fi\n",
                pf = qpath(&self.pid_file(layout)),
            )
        };
        format!(
            "{state}if [ -f {stamp} ]; then echo \"stamp {n} $(cat {stamp})\"; else echo \"stamp {n} -\"; fi\n"
        )
    }

    /// The script stopping the service (waits up to `wait_s` seconds, then kills).
    pub fn stop_script(&self, layout: &Layout, systemd: bool, wait_s: u32) -> String {
        if systemd {
            return format!("systemctl stop {}\n", quote(self.unit()));
        }
        let ticks = wait_s * 10;
        format!(
            "p={pf}\nif [ -f \"$p\" ]; then pid=$(cat \"$p\")\n\
             alive() {{ [ -r \"/proc/$pid/stat\" ] && [ \"$(sed 's/.*) //' \"/proc/$pid/stat\" | cut -c1)\" != Z ]; }}\n\
             if alive; then kill -TERM \"$pid\" 2>/dev/null || true; i=0; while alive && [ $i -lt {ticks} ]; do sleep 0.1; i=$((i+1)); done\n\
             if alive; then kill -KILL \"$pid\" 2>/dev/null || true; sleep 0.2; fi; fi\nrm -f \"$p\"; fi\n",
            pf = qpath(&self.pid_file(layout)),
        )
    }

    /// The script (re)starting the service and recording `stamp` (when given).
    pub fn start_script(&self, layout: &Layout, systemd: bool, stamp: Option<&str>) -> String {
        let record = match stamp {
            Some(stamp) => format!(
                "printf '%s\\n' {s} > {f}\n",
                s = quote(stamp),
                f = qpath(&self.stamp_file(layout))
            ),
            None => String::new(),
        };
        if systemd {
            let u = quote(self.unit());
            return format!(
                "set -e\nsystemctl daemon-reload\nsystemctl enable --quiet {u}\nsystemctl restart {u}\n{record}"
            );
        }
        format!(
            "set -e\n{stop}if [ -r {env} ]; then set -a; . {env}; set +a; fi\n{start}\n{record}",
            stop = self.stop_script(layout, false, 30),
            env = qpath(&layout.env_file()),
            start = self.start_command(layout),
        )
    }
}

/// Parse the output of [`Service::query_script`]s: name → (state, stamp).
pub fn parse_states(out: &str) -> std::collections::BTreeMap<String, (State, Option<String>)> {
    let mut m: std::collections::BTreeMap<String, (State, Option<String>)> = Default::default();
    for line in out.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["state", name, st, pid] => {
                let pid = pid.parse().ok();
                let s = match *st {
                    "running" => State::Running(pid),
                    "dead" => State::Dead(pid),
                    _ => State::Stopped,
                };
                m.entry((*name).to_owned())
                    .or_insert((State::Stopped, None))
                    .0 = s;
            }
            ["stamp", name, h] => {
                m.entry((*name).to_owned())
                    .or_insert((State::Stopped, None))
                    .1 = (*h != "-").then(|| (*h).to_owned());
            }
            _ => {}
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_cli_daemon_names() {
        let s = Service::Worker("x86_64:17".into());
        assert_eq!(s.name(), "worker-x86_64-17");
        assert_eq!(s.unit(), "fbs-worker@x86_64:17.service");
        let l = Layout::system();
        assert_eq!(
            s.pid_file(&l),
            PathBuf::from("/var/lib/fbs/worker-x86_64-17.pid")
        );
        assert!(s.start_command(&l).starts_with(
            "/opt/fbs/bin/fbs worker --queue x86_64:17 --config /etc/fbs/fbs.toml --daemon"
        ));
    }

    #[test]
    fn states_are_read_back() {
        let m = parse_states(
            "state worker-x86_64-17 running 42\nstamp worker-x86_64-17 abc\nstate monitor dead 7\nstamp monitor -\n",
        );
        assert_eq!(
            m["worker-x86_64-17"],
            (State::Running(Some(42)), Some("abc".into()))
        );
        assert_eq!(m["monitor"], (State::Dead(Some(7)), None));
    }

    #[test]
    fn the_query_script_tells_running_dead_and_stopped_apart() {
        let dir = tempfile::tempdir().expect("tmp");
        let l = Layout::under(dir.path());
        std::fs::create_dir_all(l.state_dir()).expect("dir");
        let s = Service::Monitor;
        let run = |script: String| {
            let o = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .output()
                .expect("sh");
            parse_states(&String::from_utf8_lossy(&o.stdout))["monitor"]
                .0
                .clone()
        };
        assert_eq!(run(s.query_script(&l, false)), State::Stopped);
        std::fs::write(s.pid_file(&l), format!("{}\n", std::process::id())).expect("pid");
        assert_eq!(
            run(s.query_script(&l, false)),
            State::Running(Some(std::process::id()))
        );
        std::fs::write(s.pid_file(&l), "999999999\n").expect("pid");
        assert_eq!(run(s.query_script(&l, false)), State::Dead(Some(999999999)));
    }
}
