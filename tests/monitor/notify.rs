//! The notifier in the webapp role: events on the broker become mails through the test SMTP
//! server, each exactly once even when an event is delivered twice, and with reads locked the
//! mailed link carries the job's read token, which opens that job's page.

use std::time::Duration;

use fbs_core::config::{DaemonConfig, SmtpConfig, SmtpTls};
use fbs_core::job::{EventKind, NotifyEvent};

use super::server::Monitor;
use crate::fleet::rig::{Rig, shared_redis};
use crate::helper::mail;

#[tokio::test(flavor = "multi_thread")]
async fn events_are_mailed_once_with_links_that_open_the_job() {
    let Some(url) = shared_redis() else { return };
    let Some((port, maildir)) = mail::smtp() else {
        return;
    };
    let rig = Rig::new(&url).await;
    let mut config = DaemonConfig::default();
    config.monitor.public_url = Some("https://fbs.example.org/".into());
    config.monitor.read_token_required = true;
    config.smtp = Some(SmtpConfig {
        server: "127.0.0.1".into(),
        port,
        login: None,
        password: None,
        password_file: None,
        tls: SmtpTls::None,
        from: Some("fbs@example.org".into()),
        retry_base: Duration::from_millis(200),
        retries: 3,
    });
    let monitor =
        Monitor::start_with(config, fbs_monitor::Backend::redis(rig.store.clone()), true).await;
    let client = reqwest::Client::new();
    let spec = std::fs::read_to_string(rig.spec_file("x86_64", "17")).expect("spec");
    let resp = client
        .post(monitor.url("/api/v1/jobs"))
        .bearer_auth(&monitor.token)
        .header("content-type", "application/toml")
        .body(spec)
        .send()
        .await
        .expect("submit");
    assert_eq!(resp.status(), 201);
    let job: serde_json::Value = resp.json().await.expect("json");
    let id = job["id"].as_str().expect("id").to_owned();
    let resp = client
        .post(monitor.url(&format!("/api/v1/jobs/{id}/cancel")))
        .bearer_auth(&monitor.token)
        .send()
        .await
        .expect("cancel");
    assert_eq!(resp.status(), 200);
    // Ending the job queued its "finished" event; here it comes twice more, as redeliveries.
    let ev = NotifyEvent {
        job_id: id.parse().expect("uuid"),
        kind: EventKind::Finished,
        attempt: 1,
        at: chrono::Utc::now(),
    };
    for _ in 0..2 {
        rig.store.push_event(&ev).await.expect("push");
    }
    let (md, needle) = (maildir.clone(), id.clone());
    let mails = tokio::task::spawn_blocking(move || {
        mail::wait_for(&md, &needle, 2, Duration::from_secs(60))
    })
    .await
    .expect("join");
    assert_eq!(mails.len(), 2, "{mails:#?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = mail::mails_about(&maildir, &id);
    let ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(mails.len(), 2, "one mail per event kind: {ids:?}");
    assert!(
        ids.contains(&format!("<{id}.submitted@fbs>").as_str()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&format!("<{id}.finished@fbs>").as_str()),
        "{ids:?}"
    );
    let finished = mails
        .iter()
        .find(|m| m.message_id.contains("finished"))
        .expect("finished");
    assert!(
        finished.subject.starts_with("[fbs] CANCELED"),
        "{}",
        finished.subject
    );
    let submitted = mails
        .iter()
        .find(|m| m.message_id.contains("submitted"))
        .expect("submitted");
    let link = submitted
        .text
        .split_whitespace()
        .find(|w| w.starts_with("https://fbs.example.org/jobs/"))
        .expect("a job link")
        .to_owned();
    assert!(link.contains("?t=r1."), "{link}");
    assert!(
        submitted.html.contains(&link.replace('&', "&amp;")),
        "{}",
        submitted.html
    );
    // The link opens the job on this monitor; without its token the job stays closed.
    let local = link.replace("https://fbs.example.org", &monitor.url(""));
    assert_eq!(reqwest::get(&local).await.expect("get").status(), 200);
    let api = local.replace("/jobs/", "/api/v1/jobs/");
    assert_eq!(reqwest::get(&api).await.expect("get").status(), 200);
    let bare = monitor.url(&format!("/api/v1/jobs/{id}"));
    assert_eq!(reqwest::get(&bare).await.expect("get").status(), 401);
    monitor.stop().await;
}
