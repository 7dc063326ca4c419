//! Fetching one RPM into the cache: a verified cache entry is used as it is; otherwise the
//! file is downloaded to a temporary name (with retries and exponential backoff for network
//! errors and 5xx answers, none for 404), checked — HTTP status, then `size` and
//! `payloadhash` for an unsigned copy, or the SHA-256 from `getRPMChecksums` (and
//! `payloadhash`) for a signed copy — and renamed into the cache.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio_util::sync::CancellationToken;

use super::cache::{Cache, CacheKey};
use super::digest::{FileDigests, RpmDigester, digest_file};
use super::error::SideRepoError;
use crate::koji::error_chain;

/// How a file is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The unsigned copy: Koji's `size` and `payloadhash`.
    Unsigned {
        /// Bytes.
        size: u64,
        /// SIGMD5, lower-case hex.
        sigmd5: String,
    },
    /// A signed copy: its SHA-256 from `getRPMChecksums`, and `payloadhash`.
    Signed {
        /// Lower-case hex.
        sha256: String,
        /// SIGMD5, lower-case hex.
        sigmd5: String,
    },
}

impl Check {
    /// The cache key of the file this check accepts.
    pub fn key(&self) -> CacheKey {
        match self {
            Check::Unsigned { size, sigmd5 } => CacheKey::SigMd5 {
                sigmd5: sigmd5.clone(),
                size: *size,
            },
            Check::Signed { sha256, .. } => CacheKey::Sha256(sha256.clone()),
        }
    }

    /// True when the check needs the file's SHA-256.
    pub fn needs_sha256(&self) -> bool {
        matches!(self, Check::Signed { .. })
    }

    /// `None` when `d` passes, else what differs.
    pub fn problem(&self, d: &FileDigests) -> Option<String> {
        let want_md5 = match self {
            Check::Unsigned { size, sigmd5 } => {
                if d.size != *size {
                    return Some(format!("size {} bytes, Koji says {size}", d.size));
                }
                sigmd5
            }
            Check::Signed { sha256, sigmd5 } => {
                if d.sha256.as_deref() != Some(sha256.as_str()) {
                    return Some(format!(
                        "SHA-256 {}, getRPMChecksums says {sha256}",
                        d.sha256.as_deref().unwrap_or("not computed")
                    ));
                }
                sigmd5
            }
        };
        match &d.sigmd5 {
            None => Some("it is not an RPM file".into()),
            Some(m) if m != want_md5 => Some(format!(
                "header+payload MD5 {m}, Koji's payloadhash is {want_md5}"
            )),
            Some(_) => None,
        }
    }
}

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The build it belongs to (for messages).
    pub nvr: String,
    /// `NAME-VERSION-RELEASE.ARCH.rpm`.
    pub file_name: String,
    /// Where to download it from.
    pub url: String,
    /// How to check it.
    pub check: Check,
}

/// A file in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Its path in the cache.
    pub path: PathBuf,
    /// Bytes downloaded for it (0 when it came from the cache).
    pub downloaded: u64,
}

/// Downloads into a [`Cache`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The cache.
    pub cache: Cache,
    /// Tries after the first, for retryable failures.
    pub retries: u32,
    /// The first pause between tries; doubled each time.
    pub backoff: Duration,
    /// Use only the cache.
    pub offline: bool,
}

impl Fetcher {
    /// The file `w` names, from the cache or downloaded.
    pub async fn fetch(
        &self,
        w: &Wanted,
        cancel: &CancellationToken,
    ) -> Result<Fetched, SideRepoError> {
        let path = self.cache.path(&w.check.key());
        if let Some(hit) = self.cached(w, &path).await? {
            return Ok(hit);
        }
        if self.offline {
            return Err(SideRepoError::Offline {
                what: format!("{} of build {}", w.file_name, w.nvr),
                cache: self.cache.root().to_path_buf(),
            });
        }
        let mut pause = self.backoff;
        let mut tries = 0;
        loop {
            let attempt = tokio::select! {
                _ = cancel.cancelled() => return Err(SideRepoError::Canceled),
                r = self.download(w, &path) => r,
            };
            match attempt {
                Ok(n) => {
                    return Ok(Fetched {
                        path,
                        downloaded: n,
                    });
                }
                Err(e) if e.is_retryable() && tries < self.retries => {
                    tries += 1;
                    tracing::debug!(file = %w.file_name, error = %e, tries, "download failed; retrying");
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(SideRepoError::Canceled),
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = pause.saturating_mul(2);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The cache entry at `path` if it is there and still passes the check; a damaged entry
    /// is removed.
    async fn cached(
        &self,
        w: &Wanted,
        path: &std::path::Path,
    ) -> Result<Option<Fetched>, SideRepoError> {
        if !path.is_file() {
            return Ok(None);
        }
        let p = path.to_path_buf();
        let sha = w.check.needs_sha256();
        let digests = tokio::task::spawn_blocking(move || digest_file(&p, sha))
            .await
            .map_err(|e| SideRepoError::io("verify", path)(std::io::Error::other(e)))?
            .map_err(SideRepoError::io("verify", path))?;
        if w.check.problem(&digests).is_none() {
            return Ok(Some(Fetched {
                path: path.to_path_buf(),
                downloaded: 0,
            }));
        }
        tracing::warn!(path = %path.display(), "damaged cache entry removed");
        std::fs::remove_file(path).map_err(SideRepoError::io("remove", path))?;
        Ok(None)
    }

    /// One try: download to a temporary file, check it, rename it to `dest`.
    async fn download(&self, w: &Wanted, dest: &std::path::Path) -> Result<u64, SideRepoError> {
        let fail = |message: String, retryable: bool| SideRepoError::Download {
            file: w.file_name.clone(),
            nvr: w.nvr.clone(),
            url: w.url.clone(),
            message,
            retryable,
        };
        let resp = self
            .http
            .get(&w.url)
            .send()
            .await
            .map_err(|e| fail(error_chain(&e), true))?;
        let status = resp.status();
        if !status.is_success() {
            let retryable = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            return Err(fail(format!("HTTP {status}"), retryable));
        }
        let tmp = self.cache.temp_file(&w.file_name);
        let file = tokio::fs::File::create(&tmp.path)
            .await
            .map_err(SideRepoError::io("create", &tmp.path))?;
        let mut file = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut digester = if w.check.needs_sha256() {
            RpmDigester::with_sha256()
        } else {
            RpmDigester::new()
        };
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| fail(error_chain(&e), true))?;
            digester.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(SideRepoError::io("write", &tmp.path))?;
        }
        // No fsync: a cache entry is verified again each time it is used, so one damaged by
        // a crash is found and replaced, never used.
        file.flush()
            .await
            .map_err(SideRepoError::io("write", &tmp.path))?;
        drop(file);
        let digests = digester.finish();
        if let Some(problem) = w.check.problem(&digests) {
            return Err(SideRepoError::Mismatch {
                file: w.file_name.clone(),
                nvr: w.nvr.clone(),
                url: w.url.clone(),
                problem,
            });
        }
        tmp.persist(dest)
            .map_err(SideRepoError::io("store", dest))?;
        Ok(digests.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(size: u64, sha: &str, md5: Option<&str>) -> FileDigests {
        FileDigests {
            size,
            sha256: Some(sha.into()),
            sigmd5: md5.map(String::from),
        }
    }

    #[test]
    fn checks_name_what_differs() {
        let c = Check::Unsigned {
            size: 10,
            sigmd5: "aa".into(),
        };
        assert_eq!(c.problem(&digests(10, "x", Some("aa"))), None);
        assert_eq!(
            c.problem(&digests(9, "x", Some("aa"))).as_deref(),
            Some("size 9 bytes, Koji says 10")
        );
        assert_eq!(
            c.problem(&digests(10, "x", Some("bb"))).as_deref(),
            Some("header+payload MD5 bb, Koji's payloadhash is aa")
        );
        assert_eq!(
            c.problem(&digests(10, "x", None)).as_deref(),
            Some("it is not an RPM file")
        );
        let s = Check::Signed {
            sha256: "s1".into(),
            sigmd5: "aa".into(),
        };
        assert_eq!(s.problem(&digests(99, "s1", Some("aa"))), None);
        assert!(s.problem(&digests(99, "s2", Some("aa"))).is_some());
        assert_eq!(s.key(), CacheKey::Sha256("s1".into()));
    }
}
