//! The two mails of a job — "submitted" and "succeeded"/"failed"/"canceled" — as plain text
//! and escaped HTML, with a stable Message-ID per event so a resend is recognisably the same.

use crate::job::{JobRecord, JobState};

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The job was queued.
    Submitted,
    /// The job ended (its state says how).
    Finished,
}

impl MailKind {
    /// The word used in Message-IDs and sent-records.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Submitted => "submitted",
            MailKind::Finished => "finished",
        }
    }
}

/// A rendered mail, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line; the status comes first for finished jobs.
    pub subject: String,
    /// Stable per job and kind: `<JOB-ID.KIND@fbs>`.
    pub message_id: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (every job-supplied string escaped).
    pub html: String,
}

/// Where links in mails point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The monitor's public URL (`https://fbs.example.org`), for the live log link.
    pub monitor_url: Option<String>,
    /// The monitor's server secret, when its reads need a token: links then carry the job's
    /// read token (`?t=`, see [`read_token`]).
    pub read_key: Option<Vec<u8>>,
}

impl Links {
    fn log_url(&self, job: &JobRecord) -> Option<String> {
        let url = self
            .monitor_url
            .as_ref()
            .map(|m| format!("{}/jobs/{}", m.trim_end_matches('/'), job.id))?;
        Some(match &self.read_key {
            Some(k) => format!("{url}?t={}", read_token(k, job.id)),
            None => url,
        })
    }
}

/// The read token of job `id` under the monitor's server secret `key`:
/// `r1.` + hex HMAC-SHA256(key, "read:" + id). It opens that one job's page and log.
pub fn read_token(key: &[u8], id: crate::job::JobId) -> String {
    use hmac::{Hmac, Mac};
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("read:{id}").as_bytes());
    format!("r1.{}", hex::encode(mac.finalize().into_bytes()))
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The Message-ID of `kind` for `job`: `<JOB-ID.KIND@fbs>`; a job that ends again after a
/// retry (attempt 2 and later) gets `<JOB-ID.finished.ATTEMPT@fbs>`, so the new result is
/// mailed too while a resend of the same result is still recognisably the same mail.
pub fn message_id(job: &JobRecord, kind: MailKind) -> String {
    match kind {
        MailKind::Finished if job.attempt > 1 => {
            format!("<{}.{}.{}@fbs>", job.id, kind.as_str(), job.attempt)
        }
        _ => format!("<{}.{}@fbs>", job.id, kind.as_str()),
    }
}

/// The "submitted" mail.
pub fn submitted(job: &JobRecord, links: &Links) -> Mail {
    let subject = format!("[fbs] queued: {} ({})", job.spec.summary_short(), job.id);
    let mut text = format!(
        "Your build was queued.\n\nJob:    {}\nQueue:  {}\nSpec:   {}\n",
        job.id,
        job.queue,
        job.spec.summary()
    );
    let mut html = format!(
        "<p>Your build was queued.</p>\n<table>\n<tr><th align=left>Job</th><td>{}</td></tr>\n\
         <tr><th align=left>Queue</th><td>{}</td></tr>\n<tr><th align=left>Spec</th><td>{}</td></tr>\n</table>\n",
        escape_html(&job.id.to_string()),
        escape_html(job.queue.as_str()),
        escape_html(&job.spec.summary())
    );
    if let Some(url) = links.log_url(job) {
        text.push_str(&format!("Log:    {url}  (live while it builds)\n"));
        html.push_str(&format!(
            "<p>Live log: <a href=\"{0}\">{0}</a></p>\n",
            escape_html(&url)
        ));
    }
    Mail {
        to: job.submitter.clone(),
        subject,
        message_id: message_id(job, MailKind::Submitted),
        text,
        html,
    }
}

/// The mail sent when a job ends; `log_tail` is the last lines of its log (about 50).
pub fn finished(job: &JobRecord, links: &Links, log_tail: &[String]) -> Mail {
    let status = match job.state {
        JobState::Succeeded => "SUCCEEDED",
        JobState::Failed => "FAILED",
        JobState::Canceled => "CANCELED",
        _ => "ENDED",
    };
    let subject = format!("[fbs] {status}: {} ({})", job.spec.summary_short(), job.id);
    let mut text = format!(
        "Build {status}.\n\nJob:    {}\nSpec:   {}\nAttempt: {}\n",
        job.id,
        job.spec.summary(),
        job.attempt
    );
    let mut html = format!(
        "<p><strong>Build {status}.</strong></p>\n<table>\n<tr><th align=left>Job</th><td>{}</td></tr>\n\
         <tr><th align=left>Spec</th><td>{}</td></tr>\n<tr><th align=left>Attempt</th><td>{}</td></tr>\n</table>\n",
        escape_html(&job.id.to_string()),
        escape_html(&job.spec.summary()),
        job.attempt
    );
    if let Some(err) = &job.error {
        text.push_str(&format!("\nWhy: {err}\n"));
        html.push_str(&format!(
            "<p><strong>Why:</strong> <code>{}</code></p>\n",
            escape_html(err)
        ));
    }
    if !job.artifacts.is_empty() {
        text.push_str("\nArtifacts (sha256):\n");
        html.push_str("<h3>Artifacts</h3>\n<ul>\n");
        for a in &job.artifacts {
            let loc = a
                .url
                .clone()
                .unwrap_or_else(|| artifact_location(job, &a.path));
            text.push_str(&format!("  {loc}\n    {}  {} bytes\n", a.sha256, a.size));
            html.push_str(&format!(
                "<li><a href=\"{0}\">{0}</a><br><code>sha256 {1}</code> ({2} bytes)</li>\n",
                escape_html(&loc),
                escape_html(&a.sha256),
                a.size
            ));
        }
        html.push_str("</ul>\n");
    }
    if let Some(url) = links.log_url(job) {
        text.push_str(&format!("\nFull log: {url}\n"));
        html.push_str(&format!(
            "<p>Full log: <a href=\"{0}\">{0}</a></p>\n",
            escape_html(&url)
        ));
    }
    if !log_tail.is_empty() {
        text.push_str(&format!("\nLast {} log lines:\n", log_tail.len()));
        html.push_str(&format!(
            "<h3>Last {} log lines</h3>\n<pre>",
            log_tail.len()
        ));
        for l in log_tail {
            text.push_str(&format!("  {l}\n"));
            html.push_str(&escape_html(l));
            html.push('\n');
        }
        html.push_str("</pre>\n");
    }
    Mail {
        to: job.submitter.clone(),
        subject,
        message_id: message_id(job, MailKind::Finished),
        text,
        html,
    }
}

fn artifact_location(job: &JobRecord, path: &str) -> String {
    job.staged_location(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Artifact;

    fn job() -> JobRecord {
        let spec = crate::queue::tests::live_spec(crate::spec::Arch::X86_64, "40");
        JobRecord::new(spec, None)
    }

    #[test]
    fn submitted_mail_names_the_job_queue_and_log() {
        let j = job();
        let links = Links {
            monitor_url: Some("https://fbs.example.org/".into()),
            ..Links::default()
        };
        let m = submitted(&j, &links);
        assert!(m.subject.starts_with("[fbs] queued: "), "{}", m.subject);
        assert!(m.text.contains(&j.id.to_string()));
        assert!(m.text.contains("fbs:x86_64:40"));
        assert!(
            m.text
                .contains(&format!("https://fbs.example.org/jobs/{}", j.id))
        );
        assert_eq!(m.message_id, format!("<{}.submitted@fbs>", j.id));
        assert_eq!(m.to, "qa@example.org");
    }

    #[test]
    fn finished_mail_puts_status_first_and_escapes_html() {
        let mut j = job();
        j.state = JobState::Failed;
        j.error = Some("build: `sh` failed: <b>nothing provides kernel</b>".into());
        j.artifacts.push(Artifact {
            path: "a.iso".into(),
            media_type: "application/vnd.efi.iso".into(),
            size: 5,
            sha256: "ab".repeat(32),
            url: None,
        });
        let tail = vec!["<script>alert(1)</script> & more".to_string()];
        let m = finished(&j, &Links::default(), &tail);
        assert!(m.subject.starts_with("[fbs] FAILED: "), "{}", m.subject);
        assert!(
            m.text.contains("<script>alert(1)</script>"),
            "text stays verbatim"
        );
        assert!(!m.html.contains("<script>"), "{}", m.html);
        assert!(
            m.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more")
        );
        assert!(
            m.html
                .contains("&lt;b&gt;nothing provides kernel&lt;/b&gt;")
        );
        assert!(m.text.contains(&"ab".repeat(32)));
        assert!(
            m.text
                .contains(&format!("file:///tmp/fbs-staging/{}/a.iso", j.id))
        );
    }
}
