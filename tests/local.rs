//! Integration tests: `fbs local` as a user runs it — old-format specs against the RPM
//! fixtures, the staged results, the two mails read back from the SMTP server, failures,
//! SMTP being down, and Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helper::{fbs, fixtures::fixtures, mail};

mod formats;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        Case {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, text).expect("write");
        p
    }

    /// A live spec in the 2012 format with a kickstart using `repo`.
    fn live_spec(&self, repo: &Path, post: &str) -> PathBuf {
        self.write(
            "live.ks",
            &format!(
                "lang en_US.UTF-8\nrepo --name=fixtures --baseurl=file://{}\npart / --size=1024\n\
                 %packages\nfbs-test-app\nfbs-test-sh\nkernel\nfbs-test-initramfs\n%end\n\
                 %post\n{post}\n%end\n",
                repo.display()
            ),
        );
        self.write(
            "live_imagebuild.conf",
            &format!(
                "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\nstaging=file://{}\n\
                 email=qa@example.org\n\n[live]\nlabel=FBS-Local-Test\nconfig=live.ks\n\
                 tmpdir=/tmp/ignored\n",
                self.path("staging").display()
            ),
        )
    }

    fn boot_spec(&self, repo: &Path) -> PathBuf {
        self.write(
            "boot_imagebuild.conf",
            &format!(
                "[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\nstaging=file://{}\n\
                 email=qa@example.org\n\n[boot]\nproduct=Fedora\n40_url=file://{}\n",
                self.path("staging").display(),
                repo.display()
            ),
        )
    }

    fn config(&self, smtp_port: u16) -> PathBuf {
        self.write(
            "fbs.toml",
            &format!(
                "[smtp]\nserver = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
                 from = \"fbs@example.org\"\nretry_base = \"200ms\"\nretries = 2\n\n\
                 [monitor]\npublic_url = \"https://fbs.example.org\"\n"
            ),
        )
    }

    fn local(&self, spec: &Path, config: &Path) -> Command {
        let mut c = fbs();
        c.arg("local")
            .arg(spec)
            .arg("--config")
            .arg(config)
            .arg("--state-dir")
            .arg(self.path("state"));
        c
    }
}

fn run(mut c: Command) -> (i32, String, String) {
    let out: Output = c.output().expect("run fbs local");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn job_id(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("job ")
                .and_then(|r| r.split_whitespace().next())
        })
        .expect("fbs local prints the job id")
        .to_owned()
}

#[test]
fn an_old_format_live_spec_builds_stages_and_mails() {
    let (Some(fx), Some((port, maildir))) = (fixtures(), mail::smtp()) else {
        return;
    };
    let case = Case::new();
    let spec = case.live_spec(&fx.repo(), "echo ks-post-ran > /etc/fbs-ks-post-ran");
    let (code, out, err) = run(case.local(&spec, &case.config(port)));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let id = job_id(&err);
    let iso = PathBuf::from(out.lines().next().expect("the ISO path").trim());
    assert!(iso.ends_with("FBS-Local-Test.iso"), "{out}");
    assert!(err.contains("warning: ignored keys: tmpdir"), "{err}");

    let check = Command::new("checkisomd5")
        .arg(&iso)
        .output()
        .expect("checkisomd5");
    assert!(check.status.success(), "checkisomd5 failed");
    let staged = iso.parent().expect("job dir");
    let sums = Command::new("sha256sum")
        .args(["-c", "CHECKSUM"])
        .current_dir(staged)
        .output()
        .expect("sha256sum");
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(staged.join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest is JSON");
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["job_id"], id.as_str());
    let sha = manifest["artifacts"][0]["sha256"].as_str().expect("sha256");
    let actual = Command::new("sha256sum")
        .arg(&iso)
        .output()
        .expect("sha256sum");
    assert!(String::from_utf8_lossy(&actual.stdout).starts_with(sha));
    let log = std::fs::read_to_string(staged.join("build.log")).expect("build.log");
    assert!(log.contains("== stage"), "{log}");

    let mails = mail::wait_for(&maildir, &id, 2, Duration::from_secs(30));
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let queued = mails
        .iter()
        .find(|m| m.message_id == format!("<{id}.submitted@fbs>"))
        .expect("the submitted mail");
    assert!(
        queued
            .subject
            .starts_with("[fbs] queued: live x86_64/40 FBS-Local-Test")
    );
    assert!(queued.text.contains("fbs:x86_64:40"), "{}", queued.text);
    assert!(
        queued
            .text
            .contains(&format!("https://fbs.example.org/jobs/{id}")),
        "{}",
        queued.text
    );
    assert_eq!(queued.to, "qa@example.org");
    assert!(queued.from.contains("fbs@example.org"));
    assert!(!queued.date.is_empty());
    let done = mails
        .iter()
        .find(|m| m.message_id == format!("<{id}.finished@fbs>"))
        .expect("the finished mail");
    assert!(
        done.subject.starts_with("[fbs] SUCCEEDED: "),
        "{}",
        done.subject
    );
    assert!(done.text.contains(sha), "{}", done.text);
    assert!(done.html.contains(sha));
    assert!(
        done.text.contains("job succeeded"),
        "log tail: {}",
        done.text
    );
}

#[test]
fn a_boot_spec_without_a_kernel_fails_saying_so_and_mails_why() {
    let (Some(fx), Some((port, maildir))) = (fixtures(), mail::smtp()) else {
        return;
    };
    let case = Case::new();
    let spec = case.boot_spec(&fx.repo_nokernel());
    let (code, _, err) = run(case.local(&spec, &case.config(port)));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("kernel"), "{err}");
    let id = job_id(&err);
    let mails = mail::wait_for(&maildir, &id, 2, Duration::from_secs(30));
    let done = mails
        .iter()
        .find(|m| m.subject.starts_with("[fbs] FAILED: "))
        .expect("a FAILED mail");
    assert!(done.text.contains("Why: "), "{}", done.text);
    assert!(done.text.contains("kernel"), "{}", done.text);
}

#[test]
fn smtp_down_never_fails_the_build() {
    let Some(fx) = fixtures() else {
        return;
    };
    let case = Case::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let spec = case.live_spec(&fx.repo(), "true");
    let (code, out, err) = run(case.local(&spec, &case.config(closed)));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("not sent"), "{err}");
    assert!(err.contains("succeeded"), "{err}");
}

#[test]
fn ctrl_c_cancels_and_leaves_nothing_running_or_mounted() {
    let (Some(fx), Some((port, _))) = (fixtures(), mail::smtp()) else {
        return;
    };
    let case = Case::new();
    let spec = case.live_spec(&fx.repo(), "sleep 600");
    let mut child = case
        .local(&spec, &case.config(port))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fbs local");
    let state = case.path("state");
    let start = Instant::now();
    while !proc_cmdlines().iter().any(|c| c.contains("sleep 600")) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the %post never started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "fbs local did not stop"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("canceled"), "{err}");
    assert!(
        !proc_cmdlines().iter().any(|c| c.contains("sleep 600")),
        "the build's %post survived Ctrl-C"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let state_text = state.display().to_string();
    assert!(
        !mounts.contains(&state_text),
        "mounts left under {state_text}"
    );
}

fn proc_cmdlines() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let state = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .next()?
                .to_owned();
            if state == "Z" {
                return None;
            }
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            Some(String::from_utf8_lossy(&raw).replace('\0', " "))
        })
        .collect()
}
