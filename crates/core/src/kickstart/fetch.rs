//! Fetching a kickstart named by URL (http, https, ftp), with timeouts and a size limit
//! enforced on the bytes actually received, and flattening it.
//!
//! Includes in a fetched kickstart: pykickstart fetches an `%include` that is a full URL,
//! but resolves a relative one against its own working directory, which only works by
//! accident. fbs resolves a relative include against the including kickstart's URL and
//! fetches it too, under the same size limit, from the same server (scheme, host and port)
//! only. An absolute path in a fetched kickstart names a local file of the installer: it is
//! kept when a `%pre` script writes it (see [`super::flatten`]) and refused otherwise.

use std::collections::HashMap;
use std::time::Duration;

use suppaftp::tokio::AsyncFtpStream;
use suppaftp::types::FileType;
use tokio::io::AsyncReadExt;
use url::Url;

use super::error::{KsError, Loc};
use super::flatten::{Doc, Flattened, Limits, LoadError, Loader, Place, Unresolved, walk};

/// Time allowed to connect to a server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for a whole fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// The URL without its password, for messages.
fn shown(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

/// Fetches the kickstart at `url` (http, https or ftp) as text, refusing more than `limit`
/// bytes however the server announces the size.
pub async fn fetch_url(url: &Url, limit: u64) -> Result<String, KsError> {
    let bytes = match url.scheme() {
        "http" | "https" => fetch_http(url, limit).await?,
        "ftp" => {
            let fail = |message: String| KsError::Fetch {
                url: shown(url),
                message,
            };
            tokio::time::timeout(FETCH_TIMEOUT, fetch_ftp(url, limit))
                .await
                .map_err(|_| fail(format!("timed out after {FETCH_TIMEOUT:?}")))??
        }
        _ => return Err(KsError::UnsupportedScheme { url: shown(url) }),
    };
    super::flatten::decode(bytes, &shown(url))
}

async fn fetch_http(url: &Url, limit: u64) -> Result<Vec<u8>, KsError> {
    let fail = |e: reqwest::Error| KsError::Fetch {
        url: shown(url),
        message: error_chain(&e),
    };
    let too_large = || KsError::FetchTooLarge {
        url: shown(url),
        limit,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("fbs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(fail)?;
    let mut resp = client.get(url.clone()).send().await.map_err(fail)?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(KsError::HttpStatus {
            url: shown(url),
            status: status.as_u16(),
        });
    }
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(fail)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error and its sources, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// `%XX` escapes decoded; invalid UTF-8 replaced.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user, password and path an ftp URL names (anonymous when it names no user). The
/// path is relative to the login directory (RFC 1738).
pub(crate) fn ftp_parts(url: &Url) -> (String, String, String) {
    let (user, pass) = match url.username() {
        "" => ("anonymous".to_string(), "anonymous@".to_string()),
        u => (
            percent_decode(u),
            url.password().map(percent_decode).unwrap_or_default(),
        ),
    };
    let path = percent_decode(url.path().trim_start_matches('/'));
    (user, pass, path)
}

async fn fetch_ftp(url: &Url, limit: u64) -> Result<Vec<u8>, KsError> {
    let fail = |what: &str, e: suppaftp::FtpError| KsError::Fetch {
        url: shown(url),
        message: format!("{what}: {e}"),
    };
    let host = url.host_str().unwrap_or_default();
    let port = url.port().unwrap_or(21);
    let (user, pass, path) = ftp_parts(url);
    let mut ftp = tokio::time::timeout(CONNECT_TIMEOUT, AsyncFtpStream::connect((host, port)))
        .await
        .map_err(|_| KsError::Fetch {
            url: shown(url),
            message: format!("connect timed out after {CONNECT_TIMEOUT:?}"),
        })?
        .map_err(|e| fail("connect", e))?;
    ftp.login(user.as_str(), pass.as_str())
        .await
        .map_err(|e| fail("login", e))?;
    // ASCII mode (the default) rewrites line endings; the kickstart must arrive as stored.
    ftp.transfer_type(FileType::Binary)
        .await
        .map_err(|e| fail("TYPE I", e))?;
    let stream = ftp
        .retr_as_stream(&path)
        .await
        .map_err(|e| fail("RETR", e))?;
    let mut body = Vec::new();
    let mut reader = stream.take(limit.saturating_add(1));
    reader
        .read_to_end(&mut body)
        .await
        .map_err(|e| fail("read", suppaftp::FtpError::ConnectionError(e)))?;
    if body.len() as u64 > limit {
        // Dropping the connection abandons the transfer.
        return Err(KsError::FetchTooLarge {
            url: shown(url),
            limit,
        });
    }
    reader
        .into_inner()
        .finish()
        .await
        .map_err(|e| fail("transfer", e))?;
    let _ = ftp.quit().await;
    Ok(body)
}

/// Fetches the kickstart at `url` and the kickstarts it includes (same server only), and
/// flattens them; `limit` bounds the bytes read in all.
pub async fn flatten_url(url: &Url, limit: u64) -> Result<Flattened, KsError> {
    let limits = Limits {
        max_bytes: limit,
        ..Limits::default()
    };
    let top = Doc {
        key: url.to_string(),
        display: shown(url),
        place: Place::Url(url.clone()),
    };
    let mut loader = UrlLoader {
        origin: url.clone(),
        fetched: HashMap::new(),
    };
    // The walk stops at the first document not fetched yet; fetch it and walk again. Each
    // round fetches one more document, and the include limit bounds the rounds.
    for _ in 0..=limits.max_includes {
        match walk(&top, &mut loader, limits) {
            Ok(f) => return Ok(f),
            Err(LoadError::Ks(e)) => return Err(e),
            Err(LoadError::NeedFetch(u)) => {
                let used: u64 = loader.fetched.values().map(|b| b.len() as u64).sum();
                let text = fetch_url(&u, limit.saturating_sub(used)).await?;
                loader.fetched.insert(u.to_string(), text.into_bytes());
            }
        }
    }
    Err(KsError::TooManyIncludes {
        at: Loc::new(shown(url), 0),
        what: "too many documents to fetch",
        limit: limits.max_includes,
    })
}

struct UrlLoader {
    origin: Url,
    fetched: HashMap<String, Vec<u8>>,
}

impl Loader for UrlLoader {
    fn resolve(&self, from: &Doc, include: &str, at: &Loc) -> Result<Doc, Unresolved> {
        let refused = |reason: String| KsError::IncludeRefused {
            at: at.clone(),
            include: include.to_string(),
            reason,
        };
        if include.starts_with('/') {
            return Err(Unresolved::Absent(refused(
                "a kickstart fetched from a URL cannot include a local file".to_string(),
            )));
        }
        let Place::Url(base) = &from.place else {
            return Err(Unresolved::Fatal(refused(
                "not a fetched kickstart".to_string(),
            )));
        };
        let target = base
            .join(include)
            .map_err(|e| Unresolved::Fatal(refused(format!("not a URL: {e}"))))?;
        if target.origin() != self.origin.origin() {
            return Err(Unresolved::Fatal(refused(format!(
                "{} is not on the server the kickstart came from ({})",
                shown(&target),
                self.origin.origin().ascii_serialization()
            ))));
        }
        Ok(Doc {
            key: target.to_string(),
            display: shown(&target),
            place: Place::Url(target),
        })
    }

    fn read(
        &mut self,
        doc: &Doc,
        _budget: u64,
        _via: Option<(&Loc, &str)>,
    ) -> Result<Vec<u8>, LoadError> {
        let Place::Url(u) = &doc.place else {
            return Ok(Vec::new());
        };
        match self.fetched.get(u.as_str()) {
            Some(bytes) => Ok(bytes.clone()),
            None => Err(LoadError::NeedFetch(u.clone())),
        }
    }
}
