//! Staging on real servers: a native live build staged by FTP through `fbs local` (files,
//! manifest, `sha256sum -c`, both mails); in `staging/inproc.rs` an FTP server that is down
//! when staging starts and comes back, a transfer cut in the middle and resumed, and explicit
//! FTPS; in `staging/fleet.rs` a staging failure redone with
//! `fbs retry --stage-only` on the worker that kept the artifacts, and the fleet notifier
//! riding out an SMTP outage. Every test ends by checking that no log it wrote holds the FTP
//! password.

mod fleet;
mod inproc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helper::ftp::{assert_no_secret, free_port, ftp};
use crate::helper::{fbs, fixtures::fixtures, mail};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn sha256sum_check(dir: &Path, file: &str) {
    let out = Command::new("sha256sum")
        .args(["-c", file])
        .current_dir(dir)
        .output()
        .expect("sha256sum");
    assert!(
        out.status.success(),
        "sha256sum -c {file} in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_live_build_is_staged_by_ftp_with_its_manifest_checksums_and_both_mails() {
    let (Some(fx), Some((smtp_port, maildir)), Some(ftp)) = (fixtures(), mail::smtp(), ftp())
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let area = format!("fbs-test-{}", free_port());
    write(
        dir,
        "live.ks",
        &format!(
            "lang en_US.UTF-8\nrepo --name=fixtures --baseurl=file://{}\npart / --size=1024\n\
             %packages\nfbs-test-app\nfbs-test-sh\nkernel\nfbs-test-initramfs\n%end\n",
            fx.repo().display()
        ),
    );
    let spec = write(
        dir,
        "live.toml",
        &format!(
            "type = \"live\"\narch = \"x86_64\"\nrelease = \"40\"\n\
             staging = \"ftp://127.0.0.1:{}/pub/{area}/\"\nemail = \"qa@example.org\"\n\n\
             [live]\nlabel = \"FBS-FTP-Test\"\nkickstart = \"live.ks\"\n",
            ftp.port
        ),
    );
    let password_file = write(dir, "ftp-password", &format!("{}\n", ftp.password));
    let config = write(
        dir,
        "fbs.toml",
        &format!(
            "[smtp]\nserver = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
             from = \"fbs@example.org\"\nretry_base = \"200ms\"\nretries = 2\n\n\
             [monitor]\npublic_url = \"https://fbs.example.org\"\n\n\
             [staging]\nftp_user = \"{}\"\nftp_password_file = \"{}\"\n\
             ftp_retry_base = \"200ms\"\nprogress_every = \"1s\"\n\n\
             [[staging.public]]\nprefix = \"ftp://127.0.0.1:{}/pub\"\n\
             url = \"https://files.example.org/a&b\"\n",
            ftp.user,
            password_file.display(),
            ftp.port
        ),
    );
    let out = fbs()
        .arg("-vv")
        .arg("local")
        .arg(&spec)
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env_remove("FBS_FTP_USER")
        .env_remove("FBS_FTP_PASSWORD")
        .output()
        .expect("fbs local");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::write(dir.join("fbs-local.stderr"), &stderr).expect("keep stderr");
    assert!(out.status.success(), "{stderr}");
    let id = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("job ")
                .and_then(|r| r.split_whitespace().next())
        })
        .expect("the job id")
        .to_owned();
    assert!(stderr.contains("as fbs-stager (config)"), "{stderr}");

    // The files on the server, byte for byte what the worker built.
    let staged = ftp.root.join("pub").join(&area).join(&id);
    let iso = staged.join("FBS-FTP-Test.iso");
    let built = dir
        .join("state/jobs")
        .join(&id)
        .join("output/FBS-FTP-Test.iso");
    let (a, b) = (
        std::fs::read(&iso).expect("staged ISO"),
        std::fs::read(&built).expect("built"),
    );
    assert!(a == b, "the staged ISO differs from the built one");
    let mut names: Vec<String> = std::fs::read_dir(&staged)
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["CHECKSUM", "FBS-FTP-Test.iso", "build.log", "manifest.json"]
    );
    sha256sum_check(&staged, "CHECKSUM");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(staged.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(m["schema_version"], 1);
    assert_eq!(m["job_id"], id.as_str());
    let art = &m["artifacts"][0];
    let sums = std::fs::read_to_string(staged.join("CHECKSUM")).expect("sums");
    let sha = art["sha256"].as_str().expect("sha256");
    assert!(sums.starts_with(sha), "{sums}");
    assert_eq!(art["size"].as_u64(), Some(a.len() as u64));
    let url = format!("https://files.example.org/a&b/{area}/{id}/FBS-FTP-Test.iso");
    assert_eq!(art["url"].as_str(), Some(url.as_str()));
    let location = m["location"].as_str().expect("location");
    assert_eq!(
        location,
        format!("ftp://127.0.0.1:{}/pub/{area}/{id}/", ftp.port)
    );
    assert_eq!(m["builder"]["name"], "native");
    assert!(m["packages"].as_array().is_some_and(|p| !p.is_empty()));
    let log = std::fs::read_to_string(staged.join("build.log")).expect("build.log");
    assert!(log.contains("ftp: sent FBS-FTP-Test.iso"), "{log}");

    // Both mails, read back from the SMTP server.
    let mails = mail::wait_for(&maildir, &id, 2, Duration::from_secs(30));
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let queued = mails
        .iter()
        .find(|m| m.message_id == format!("<{id}.submitted@fbs>"))
        .expect("the submitted mail");
    assert!(
        queued
            .subject
            .starts_with("[fbs] queued: live x86_64/40 FBS-FTP-Test")
    );
    assert!(
        queued
            .text
            .contains(&format!("https://fbs.example.org/jobs/{id}"))
    );
    assert!(
        queued
            .text
            .contains(&format!("ftp://127.0.0.1:{}/pub/{area}/", ftp.port))
    );
    let done = mails
        .iter()
        .find(|m| m.message_id == format!("<{id}.finished@fbs>"))
        .expect("the finished mail");
    assert!(
        done.subject.starts_with("[fbs] SUCCEEDED: "),
        "{}",
        done.subject
    );
    assert!(done.text.contains(&url), "{}", done.text);
    assert!(done.text.contains(sha), "{}", done.text);
    assert!(
        done.text.contains("job succeeded"),
        "log tail: {}",
        done.text
    );
    assert!(
        done.text.contains("ftp: sent FBS-FTP-Test.iso"),
        "{}",
        done.text
    );
    let escaped = url.replace('&', "&amp;");
    assert!(
        done.html.contains(&format!("href=\"{escaped}\"")),
        "{}",
        done.html
    );
    assert!(!done.html.contains("a&b"), "unescaped & in the HTML part");

    assert_no_secret(&[dir, &staged], &ftp.password);
}
