//! Mail to the submitter: rendering of the "submitted" and "finished" mails, and delivery over
//! SMTP with an explicit TLS mode. Only the notifier's host holds SMTP settings; a mail failure
//! is retried and reported but never fails or delays a build.
//!
//! With the `redis` feature too, [`run_notifier`] is the fleet's notifier loop: it mails the
//! events that `fbs submit` and the workers leave on the default broker (`fbs notify`, and the
//! master's `fbs monitor`, run it).

#[cfg(feature = "redis")]
mod notifier;
mod render;
mod smtp;

#[cfg(feature = "redis")]
pub use notifier::{NotifierOptions, run_notifier};
pub use render::{Links, Mail, MailKind, escape_html, finished, message_id, read_token, submitted};
pub use smtp::{MailError, Mailer};
