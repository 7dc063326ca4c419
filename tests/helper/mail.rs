//! The test SMTP server's Maildir (aiosmtpd, started by scripts/testenv.sh): find the mails a
//! test caused, decoded by Python's `email` package so MIME encodings do not matter.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The SMTP server's port and Maildir, or `None` when the developer opted out.
pub fn smtp() -> Option<(u16, PathBuf)> {
    let port = match std::env::var("FBS_TEST_SMTP_PORT") {
        Ok(p) => p.parse().expect("FBS_TEST_SMTP_PORT is a port"),
        Err(_) if super::opted_out() => return None,
        Err(_) => panic!("FBS_TEST_SMTP_PORT is not set: run scripts/testenv.sh up"),
    };
    let dir = std::env::var("FBS_TEST_MAILDIR").expect("FBS_TEST_MAILDIR");
    Some((port, PathBuf::from(dir)))
}

/// One decoded mail.
#[derive(Debug, Clone)]
pub struct Received {
    /// Subject header.
    pub subject: String,
    /// Message-ID header.
    pub message_id: String,
    /// To header.
    pub to: String,
    /// Date header.
    pub date: String,
    /// From header.
    pub from: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

const DUMP: &str = r#"
import email, email.policy, json, mailbox, sys
out = []
for key, msg in mailbox.Maildir(sys.argv[1], create=False).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    text = m.get_body(('plain',)); html = m.get_body(('html',))
    out.append({k: str(m.get(k, '')) for k in ('Subject', 'Message-ID', 'To', 'Date', 'From')}
               | {'text': text.get_content() if text else '', 'html': html.get_content() if html else ''})
print(json.dumps(out))
"#;

/// Every mail in the Maildir whose subject or body mentions `needle`.
pub fn mails_about(maildir: &PathBuf, needle: &str) -> Vec<Received> {
    let out = Command::new("python3")
        .args(["-c", DUMP])
        .arg(maildir)
        .output()
        .expect("python3 reads the Maildir");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    all.into_iter()
        .filter(|m| m.to_string().contains(needle))
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            Received {
                subject: s("Subject"),
                message_id: s("Message-ID"),
                to: s("To"),
                date: s("Date"),
                from: s("From"),
                text: s("text"),
                html: s("html"),
            }
        })
        .collect()
}

/// Wait (up to `limit`) until at least `n` mails mention `needle`.
pub fn wait_for(maildir: &PathBuf, needle: &str, n: usize, limit: Duration) -> Vec<Received> {
    let start = Instant::now();
    loop {
        let got = mails_about(maildir, needle);
        if got.len() >= n || start.elapsed() > limit {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
