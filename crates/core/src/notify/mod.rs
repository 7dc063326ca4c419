//! Mail to the submitter: rendering of the "submitted" and "finished" mails, and delivery over
//! SMTP with an explicit TLS mode. Only the notifier's host holds SMTP settings; a mail failure
//! is retried and reported but never fails or delays a build.

mod render;
mod smtp;

pub use render::{Links, Mail, MailKind, escape_html, finished, message_id, submitted};
pub use smtp::{MailError, Mailer};
