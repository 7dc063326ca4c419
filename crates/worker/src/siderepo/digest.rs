//! Streaming digests of a downloaded RPM: its size, its SHA-256, and the MD5 of its header
//! and payload — the value rpm stores as `SIGMD5` and Koji reports as `payloadhash`.
//!
//! An RPM file is a 96-byte lead, a signature header, then the main header and the payload.
//! A header is an 8-byte magic (`8e ad e8 01` + 4 reserved bytes), a big-endian index entry
//! count and data size (4 bytes each), 16 bytes per index entry and the data; the signature
//! header is padded to a multiple of 8 bytes. SIGMD5 covers everything after that padding,
//! so signing a package (which rewrites only the signature header) does not change it.

use md5::{Digest as _, Md5};
use sha2::Digest as _;
use sha2::Sha256;

/// Size of the RPM lead.
const LEAD: usize = 96;
/// The lead's magic.
const LEAD_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
/// A header's magic.
const HEADER_MAGIC: [u8; 3] = [0x8e, 0xad, 0xe8];
/// Sanity limits for the signature header (rpm's own are similar).
const MAX_INDEX_ENTRIES: u32 = 0x0001_0000;
const MAX_DATA: u32 = 0x0400_0000;

/// The digests of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lower-case hex, when asked for ([`RpmDigester::with_sha256`]).
    pub sha256: Option<String>,
    /// MD5 of header+payload (SIGMD5), lower-case hex; `None` when the data is not an RPM.
    pub sigmd5: Option<String>,
}

/// Feeds bytes as they arrive; [`RpmDigester::finish`] gives the digests.
#[derive(Debug, Clone, Default)]
pub struct RpmDigester {
    size: u64,
    sha256: Option<Sha256>,
    md5: Md5,
    /// The bytes seen until the start of the main header is known.
    prefix: Vec<u8>,
    /// Where the main header starts, once known; `Some(usize::MAX)` when this is no RPM.
    header_start: Option<usize>,
}

impl RpmDigester {
    /// A digester at the start of a file: size and SIGMD5.
    pub fn new() -> Self {
        Self::default()
    }

    /// A digester that also computes the SHA-256 of the whole file (for signed copies).
    pub fn with_sha256() -> Self {
        RpmDigester {
            sha256: Some(Sha256::new()),
            ..Self::default()
        }
    }

    /// Feed the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(s) = &mut self.sha256 {
            s.update(data);
        }
        self.size += data.len() as u64;
        match self.header_start {
            Some(usize::MAX) => {}
            Some(_) => self.md5.update(data),
            None => {
                self.prefix.extend_from_slice(data);
                match header_start(&self.prefix) {
                    Ok(Some(start)) if self.prefix.len() >= start => {
                        self.md5.update(&self.prefix[start..]);
                        self.header_start = Some(start);
                        self.prefix = Vec::new();
                    }
                    Ok(_) => {}
                    Err(()) => {
                        self.header_start = Some(usize::MAX);
                        self.prefix = Vec::new();
                    }
                }
            }
        }
    }

    /// The digests of everything fed.
    pub fn finish(self) -> FileDigests {
        let sigmd5 = match self.header_start {
            Some(s) if s != usize::MAX => Some(hex::encode(self.md5.finalize())),
            _ => None,
        };
        FileDigests {
            size: self.size,
            sha256: self.sha256.map(|s| hex::encode(s.finalize())),
            sigmd5,
        }
    }
}

/// Where the main header starts in a file beginning with `prefix`: `Ok(None)` when more bytes
/// are needed, `Err(())` when this is not an RPM.
fn header_start(prefix: &[u8]) -> Result<Option<usize>, ()> {
    if prefix.len() >= LEAD_MAGIC.len() && prefix[..LEAD_MAGIC.len()] != LEAD_MAGIC {
        return Err(());
    }
    let Some(sig) = prefix.get(LEAD..LEAD + 16) else {
        return Ok(None);
    };
    if sig[..3] != HEADER_MAGIC {
        return Err(());
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (entries, data) = (be(&sig[8..12]), be(&sig[12..16]));
    if entries > MAX_INDEX_ENTRIES || data > MAX_DATA {
        return Err(());
    }
    let len = 16 + 16 * entries as usize + data as usize;
    let padded = len.div_ceil(8) * 8;
    Ok(Some(LEAD + padded))
}

/// The digests of the file at `path` (read in 256 KiB pieces); the SHA-256 only when
/// `sha256` is set.
pub fn digest_file(path: &std::path::Path, sha256: bool) -> std::io::Result<FileDigests> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut d = if sha256 {
        RpmDigester::with_sha256()
    } else {
        RpmDigester::new()
    };
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(d.finish());
        }
        d.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic RPM: lead, a signature header of `entries` index entries and `data` bytes
    /// (padded to 8), then `rest`.
    fn fake_rpm(entries: u32, data: u32, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; LEAD];
        v[..4].copy_from_slice(&LEAD_MAGIC);
        v.extend_from_slice(&[0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
        v.extend_from_slice(&entries.to_be_bytes());
        v.extend_from_slice(&data.to_be_bytes());
        let body = 16 * entries as usize + data as usize;
        v.extend(std::iter::repeat_n(0x55, body));
        let pad = (16 + body).div_ceil(8) * 8 - (16 + body);
        v.extend(std::iter::repeat_n(0, pad));
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn sigmd5_covers_what_follows_the_padded_signature_header_in_any_chunking() {
        let rest = b"main header and payload".repeat(1000);
        let want = hex::encode(Md5::digest(&rest));
        let file = fake_rpm(3, 13, &rest);
        for chunk in [1, 7, 100, 113, 4096, file.len()] {
            let mut d = RpmDigester::with_sha256();
            for c in file.chunks(chunk) {
                d.update(c);
            }
            let got = d.finish();
            assert_eq!(got.sigmd5.as_deref(), Some(want.as_str()), "chunk {chunk}");
            assert_eq!(got.size, file.len() as u64);
            assert_eq!(got.sha256, Some(hex::encode(Sha256::digest(&file))));
        }
    }

    #[test]
    fn what_is_not_an_rpm_has_no_sigmd5() {
        for data in [
            b"<html>404 Not Found</html>".repeat(10),
            vec![0xed, 0xab, 0xee, 0xdb],
            Vec::new(),
        ] {
            let mut d = RpmDigester::new();
            d.update(&data);
            assert_eq!(d.finish().sigmd5, None);
        }
        let mut bad = fake_rpm(1, 1, b"x");
        bad[LEAD] = 0;
        let mut d = RpmDigester::new();
        d.update(&bad);
        assert_eq!(d.finish().sigmd5, None);
    }
}
