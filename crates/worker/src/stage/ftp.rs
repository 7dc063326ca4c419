//! Staging to an FTP server: `ftp://[user[:pass]@]host[:port]/path` (credentials: see
//! [`super::creds`]).
//!
//! - Passive data connections: extended passive (`EPSV`) when the server offers it, else
//!   `PASV` (with `ftp_nat_workaround`, `PASV` always, connecting to the control connection's
//!   address).
//! - Binary transfer type, always: the ASCII default would rewrite line endings.
//! - The directories of the path and the job directory are created as needed, one at a time
//!   from the login directory (as `curl --ftp-create-dirs` does).
//! - Each file is sent as `.<name>.part` and renamed when the server confirms its size, so no
//!   partial file ever appears under its final name. Artifacts first, then `manifest.json`,
//!   `CHECKSUM`, and `build.log` last.
//! - A connection or transient (4xx) error is retried with exponential backoff on a new
//!   connection; a transfer this run started resumes with `REST` where the server supports it
//!   (`REST STREAM` in `FEAT`). A permanent (5xx) refusal fails at once.
//! - Progress lines go to the job log at most every `progress_every`.
//!
//! Every exchange is bounded by `ftp_timeout`. The password is sent in `PASS` only; messages
//! name the server without it.

use std::collections::HashSet;
use std::time::Duration;

use fbs_core::config::StagingConfig;
use fbs_core::joblog::LogSink;
use suppaftp::Mode;
use suppaftp::tokio::{ImplAsyncFtpStream, TokioTlsStream};
use suppaftp::types::{FileType, FtpError};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::creds::Credentials;
use super::progress::Progress;
use super::{Source, StageFailure, Upload};

/// What every exchange with one server shares.
pub(super) struct Ctx<'a> {
    /// `host:port`, for messages.
    pub server: String,
    pub cfg: &'a StagingConfig,
    pub log: &'a dyn LogSink,
    pub cancel: &'a CancellationToken,
}

impl Ctx<'_> {
    pub fn fail(&self, action: impl Into<String>, e: FtpError) -> StageFailure {
        let retryable = match &e {
            FtpError::UnexpectedResponse(r) => (400..500).contains(&r.status.code()),
            FtpError::ConnectionError(_)
            | FtpError::BadResponse
            | FtpError::DataConnectionAlreadyOpen => true,
            _ => false,
        };
        let message = match &e {
            FtpError::UnexpectedResponse(r) => format!(
                "server replied {} {}",
                r.status.code(),
                String::from_utf8_lossy(&r.body).trim()
            ),
            other => other.to_string(),
        };
        StageFailure::Ftp {
            server: self.server.clone(),
            action: action.into(),
            message,
            retryable,
        }
    }

    fn timed_out(&self, action: impl Into<String>) -> StageFailure {
        StageFailure::Ftp {
            server: self.server.clone(),
            action: action.into(),
            message: format!(
                "no answer within {}",
                humantime::format_duration(self.cfg.ftp_timeout)
            ),
            retryable: true,
        }
    }

    /// Run one exchange under `ftp_timeout`.
    pub async fn bounded<T>(
        &self,
        action: &str,
        f: impl Future<Output = Result<T, FtpError>>,
    ) -> Result<T, StageFailure> {
        match tokio::time::timeout(self.cfg.ftp_timeout, f).await {
            Err(_) => Err(self.timed_out(action)),
            Ok(r) => r.map_err(|e| self.fail(action, e)),
        }
    }
}

/// One logged-in connection, in binary mode, sitting in the job's directory.
pub(super) struct Session<T: TokioTlsStream + Send> {
    ftp: ImplAsyncFtpStream<T>,
    rest: bool,
    size: bool,
}

impl<T: TokioTlsStream + Send + 'static> Session<T> {
    /// Log in (after TLS, for FTPS: the caller secures `ftp` first), choose the passive mode,
    /// switch to binary and walk into `dirs`, creating what is missing.
    pub async fn start(
        mut ftp: ImplAsyncFtpStream<T>,
        creds: &Credentials,
        dirs: &[String],
        ctx: &Ctx<'_>,
    ) -> Result<Self, StageFailure> {
        ftp.set_passive_nat_workaround(ctx.cfg.ftp_nat_workaround);
        ctx.bounded(
            &format!("log in as {}", creds.user),
            ftp.login(creds.user.as_str(), creds.password.expose()),
        )
        .await?;
        // FEAT is optional (RFC 2389): a server without it gets the plain choices.
        let feat = tokio::time::timeout(ctx.cfg.ftp_timeout, ftp.feat())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let has = |k: &str| feat.keys().any(|f| f.eq_ignore_ascii_case(k));
        let rest = feat.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("REST")
                && v.as_deref()
                    .is_some_and(|v| v.to_ascii_uppercase().contains("STREAM"))
        });
        let mode = if has("EPSV") && !ctx.cfg.ftp_nat_workaround {
            Mode::ExtendedPassive
        } else {
            Mode::Passive
        };
        ftp.set_mode(mode);
        ctx.bounded("set binary mode", ftp.transfer_type(FileType::Binary))
            .await?;
        for d in dirs {
            if ftp.cwd(d).await.is_ok() {
                continue;
            }
            // Another worker may create it meanwhile: only the CWD after MKD decides.
            let _ = tokio::time::timeout(ctx.cfg.ftp_timeout, ftp.mkdir(d)).await;
            ctx.bounded(&format!("enter directory {d}"), ftp.cwd(d))
                .await?;
        }
        Ok(Session {
            ftp,
            rest,
            size: has("SIZE"),
        })
    }

    /// Send `u` as `.<name>.part`, then rename it. `started` holds the parts this run began,
    /// the only ones it may resume.
    pub async fn put(
        &mut self,
        u: &Upload,
        started: &mut HashSet<String>,
        ctx: &Ctx<'_>,
    ) -> Result<(), StageFailure> {
        let u = &u.snapshot();
        let part = format!(".{}.part", u.name);
        let mut offset = 0u64;
        if self.rest
            && started.contains(&part)
            && let Ok(Ok(n)) = tokio::time::timeout(ctx.cfg.ftp_timeout, self.ftp.size(&part)).await
            && (n as u64) <= u.size
        {
            offset = n as u64;
        }
        // A part this run already sent whole needs only the rename.
        if offset == 0 || offset < u.size {
            if offset > 0 {
                ctx.log.fbs(&format!(
                    "ftp: resuming {} at byte {offset} of {}",
                    u.name, u.size
                ));
                let _ = self.ftp.resume_transfer(offset as usize).await;
            }
            started.insert(part.clone());
            self.send(u, &part, offset, ctx).await?;
        }
        if self.size {
            let n = ctx
                .bounded(&format!("check the size of {part}"), self.ftp.size(&part))
                .await? as u64;
            if n != u.size {
                return Err(StageFailure::Ftp {
                    server: ctx.server.clone(),
                    action: format!("upload {}", u.name),
                    message: format!("the server holds {n} of {} bytes", u.size),
                    retryable: true,
                });
            }
        }
        let renamed = tokio::time::timeout(ctx.cfg.ftp_timeout, self.ftp.rename(&part, &u.name))
            .await
            .map_err(|_| ctx.timed_out(format!("rename {part}")))?;
        if let Err(FtpError::UnexpectedResponse(r)) = &renamed
            && r.status.code() >= 500
        {
            // Servers that refuse to rename over a file: remove the old one (an earlier
            // attempt's) first.
            let _ = tokio::time::timeout(ctx.cfg.ftp_timeout, self.ftp.rm(&u.name)).await;
            return ctx
                .bounded(
                    &format!("rename {part} to {}", u.name),
                    self.ftp.rename(&part, &u.name),
                )
                .await;
        }
        renamed.map_err(|e| ctx.fail(format!("rename {part} to {}", u.name), e))
    }

    async fn send(
        &mut self,
        u: &Upload,
        part: &str,
        offset: u64,
        ctx: &Ctx<'_>,
    ) -> Result<(), StageFailure> {
        let action = format!("upload {}", u.name);
        let mut stream = ctx.bounded(&action, self.ftp.put_with_stream(part)).await?;
        let mut progress = Progress::new(&u.name, u.size, offset, ctx.cfg.progress_every);
        let write = |e: std::io::Error| ctx.fail(&action, FtpError::ConnectionError(e));
        match &u.source {
            Source::Bytes(b) => {
                let rest = b.get(offset as usize..).unwrap_or_default();
                for chunk in rest.chunks(256 << 10) {
                    self.write(&mut stream, chunk, ctx, &action).await?;
                    progress.advance(chunk.len() as u64, ctx.log);
                }
            }
            Source::File(path) | Source::Snapshot(path) => {
                let io = |source| StageFailure::Io {
                    action: "read",
                    path: path.clone(),
                    source,
                };
                let mut f = tokio::fs::File::open(path).await.map_err(io)?;
                f.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    if ctx.cancel.is_cancelled() {
                        return Err(StageFailure::Canceled);
                    }
                    let n = f.read(&mut buf).await.map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    self.write(&mut stream, &buf[..n], ctx, &action).await?;
                    progress.advance(n as u64, ctx.log);
                }
            }
        }
        match tokio::time::timeout(ctx.cfg.ftp_timeout, stream.finish()).await {
            Err(_) => Err(ctx.timed_out(&action)),
            Ok(Err(FtpError::ConnectionError(e))) => Err(write(e)),
            Ok(r) => r.map_err(|e| ctx.fail(&action, e)),
        }?;
        progress.done(ctx.log);
        Ok(())
    }

    async fn write<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        w: &mut W,
        chunk: &[u8],
        ctx: &Ctx<'_>,
        action: &str,
    ) -> Result<(), StageFailure> {
        match tokio::time::timeout(ctx.cfg.ftp_timeout, w.write_all(chunk)).await {
            Err(_) => Err(ctx.timed_out(action)),
            Ok(r) => r.map_err(|e| ctx.fail(action, FtpError::ConnectionError(e))),
        }
    }

    /// Say goodbye (best effort).
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.ftp.quit()).await;
    }
}

/// The directories to walk into: the URL's path (decoded) and then `dir`.
pub(super) fn dirs(url: &Url, dir: &str) -> Vec<String> {
    let mut out: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(super::creds::decode)
        .collect();
    if !dir.is_empty() {
        out.push(dir.to_owned());
    }
    out
}
