//! HMAC-SHA256 signatures with the server secret: per-job read tokens and session cookies.

use fbs_core::job::JobId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of per-job read tokens.
pub const READ_PREFIX: &str = "r1.";

/// 256 random bits from the OS, as 64 hex digits.
pub fn random_hex() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    let c = uuid::Uuid::new_v4();
    // Version and variant bits are fixed in each UUID: three give 366 random bits; keep 256.
    let mut bytes = Vec::with_capacity(48);
    bytes.extend_from_slice(a.as_bytes());
    bytes.extend_from_slice(b.as_bytes());
    bytes.extend_from_slice(c.as_bytes());
    let digest = <Sha256 as sha2::Digest>::digest(&bytes);
    hex::encode(digest)
}

fn mac(secret: &[u8], msg: &str) -> HmacSha256 {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(msg.as_bytes());
    m
}

/// Hex HMAC of `msg`.
pub fn sign(secret: &[u8], msg: &str) -> String {
    hex::encode(mac(secret, msg).finalize().into_bytes())
}

/// True when `sig_hex` is the HMAC of `msg` (constant-time comparison).
pub fn verify(secret: &[u8], msg: &str, sig_hex: &str) -> bool {
    match hex::decode(sig_hex) {
        Ok(sig) => mac(secret, msg).verify_slice(&sig).is_ok(),
        Err(_) => false,
    }
}

/// The read token of `job`: `r1.` + HMAC(secret, "read:" + id), the same that mailed links
/// carry (`fbs_core::notify::read_token`).
pub fn read_token(secret: &[u8], job: JobId) -> String {
    fbs_core::notify::read_token(secret, job)
}

/// True when `token` is `job`'s read token.
pub fn verify_read_token(secret: &[u8], job: JobId, token: &str) -> bool {
    token
        .strip_prefix(READ_PREFIX)
        .is_some_and(|sig| verify(secret, &format!("read:{job}"), sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_tokens_open_only_their_job() {
        let (a, b) = (JobId::new(), JobId::new());
        let t = read_token(b"secret", a);
        assert!(verify_read_token(b"secret", a, &t));
        assert!(!verify_read_token(b"secret", b, &t));
        assert!(!verify_read_token(b"other", a, &t));
        assert!(!verify_read_token(b"secret", a, "r1.zz"));
        assert!(!verify_read_token(b"secret", a, &t[3..]));
        assert_eq!(random_hex().len(), 64);
        assert_ne!(random_hex(), random_hex());
    }
}
