//! SMTP delivery through lettre: TLS mode chosen explicitly (none, STARTTLS required, or TLS
//! from the first byte — never a silent downgrade), the password from the config, a file or
//! `FBS_SMTP_PASSWORD`, and never printed.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Mail;
use crate::config::{SmtpConfig, SmtpTls};

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings cannot work (bad address, unreadable password file, …). Not retryable.
    #[error("mail settings: {0}")]
    Config(String),
    /// The server could not be reached or refused the mail.
    #[error("SMTP {server}: {message}")]
    Send {
        /// The server.
        server: String,
        /// What it said.
        message: String,
        /// A permanent (5xx) refusal.
        permanent: bool,
    },
}

impl MailError {
    /// True when a later try may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            MailError::Send {
                permanent: false,
                ..
            }
        )
    }
}

/// Sends rendered mails through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `cfg`.
    pub fn new(cfg: &SmtpConfig) -> Result<Self, MailError> {
        let builder = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.server),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.server)
                .map_err(|e| MailError::Config(format!("server {}: {e}", cfg.server)))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.server)
                .map_err(|e| MailError::Config(format!("server {}: {e}", cfg.server)))?,
        };
        let mut builder = builder
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(login) = &cfg.login {
            builder = builder.credentials(Credentials::new(login.clone(), password(cfg)?));
        }
        let from_text = cfg
            .from
            .clone()
            .or_else(|| cfg.login.clone().filter(|l| l.contains('@')))
            .unwrap_or_else(|| "fbs@localhost".to_owned());
        let from = from_text
            .parse::<Mailbox>()
            .map_err(|e| MailError::Config(format!("from address `{from_text}`: {e}")))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", cfg.server, cfg.port),
        })
    }

    /// Send one mail.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| MailError::Config(format!("recipient `{}`: {e}", mail.to)))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(mail.message_id.clone()))
            .date_now()
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Config(e.to_string()))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Send {
                server: self.server.clone(),
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }
}

fn password(cfg: &SmtpConfig) -> Result<String, MailError> {
    if let Ok(p) = std::env::var("FBS_SMTP_PASSWORD")
        && !p.is_empty()
    {
        return Ok(p);
    }
    if let Some(p) = &cfg.password {
        return Ok(p.clone());
    }
    if let Some(f) = &cfg.password_file {
        return std::fs::read_to_string(f)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|e| MailError::Config(format!("password file {}: {e}", f.display())));
    }
    Err(MailError::Config(
        "a login is set but no password (password, password_file or FBS_SMTP_PASSWORD)".into(),
    ))
}
