//! Mail from the process that runs the job (`fbs local`): the "submitted" mail when the job is
//! queued and the completion mail when it ends, each retried with backoff on transient SMTP
//! errors. A mail that cannot be sent is reported and never changes the job's result.

use std::time::Duration;

use async_trait::async_trait;
use fbs_core::config::SmtpConfig;
use fbs_core::job::JobRecord;
use fbs_core::notify::{self, Links, Mail, MailError, Mailer};

use crate::pipeline::Notifier;

/// Sends a job's mails directly over SMTP.
#[derive(Debug, Clone)]
pub struct DirectMail {
    mailer: Mailer,
    links: Links,
    retry_delays: Vec<Duration>,
}

impl DirectMail {
    /// A notifier for `smtp`; links in mails point at `monitor_url` when given.
    pub fn new(smtp: &SmtpConfig, monitor_url: Option<String>) -> Result<Self, MailError> {
        Ok(DirectMail {
            mailer: Mailer::new(smtp)?,
            links: Links {
                monitor_url,
                ..Links::default()
            },
            retry_delays: (0..smtp.retries)
                .map(|i| smtp.retry_base.saturating_mul(1 << i.min(16)))
                .collect(),
        })
    }

    /// Send the "submitted" mail for `job`.
    pub async fn submitted(&self, job: &JobRecord) {
        self.deliver(&notify::submitted(job, &self.links)).await;
    }

    async fn deliver(&self, mail: &Mail) {
        let mut waits = self.retry_delays.iter();
        loop {
            match self.mailer.send(mail).await {
                Ok(()) => {
                    tracing::info!(to = %mail.to, id = %mail.message_id, "mail sent");
                    return;
                }
                Err(e) if e.is_retryable() => match waits.next() {
                    Some(w) => {
                        tracing::warn!(error = %e, retry_in = ?w, "mail not sent yet");
                        tokio::time::sleep(*w).await;
                    }
                    None => {
                        eprintln!("fbs: mail {} to {} not sent: {e}", mail.message_id, mail.to);
                        return;
                    }
                },
                Err(e) => {
                    eprintln!("fbs: mail {} to {} not sent: {e}", mail.message_id, mail.to);
                    return;
                }
            }
        }
    }
}

#[async_trait]
impl Notifier for DirectMail {
    async fn job_finished(&self, job: &JobRecord, log_tail: &[String]) {
        self.deliver(&notify::finished(job, &self.links, log_tail))
            .await;
    }
}
