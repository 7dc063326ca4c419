//! The FTP upload driver: connects (plain FTP, or explicit FTPS for `ftps://`), sends the
//! files in order, and on a retryable error starts a new connection after an exponential
//! backoff, up to `ftp_retries` more tries per file.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use fbs_core::config::StagingConfig;
use fbs_core::joblog::LogSink;
use suppaftp::tokio::{AsyncFtpStream, AsyncNoTlsStream, ImplAsyncFtpStream};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::creds::{self, Credentials};
use super::ftp::{Ctx, Session, dirs};
use super::{StageFailure, Upload};

/// A session over plain FTP or FTPS.
enum AnySession {
    Plain(Session<AsyncNoTlsStream>),
    Tls(Session<suppaftp::tokio::AsyncRustlsStream>),
}

/// An FTP staging in progress: one connection (re-opened after errors) for every file.
pub struct FtpStage<'a> {
    ctx: Ctx<'a>,
    creds: Credentials,
    host: String,
    port: u16,
    path: Vec<String>,
    secure: bool,
    session: Option<AnySession>,
    started: HashSet<String>,
}

impl<'a> FtpStage<'a> {
    /// Stage into `dir` under the FTP target `url` (no connection yet).
    pub fn begin(
        url: &Url,
        dir: &str,
        cfg: &'a StagingConfig,
        log: &'a dyn LogSink,
        cancel: &'a CancellationToken,
    ) -> Result<Self, StageFailure> {
        let creds = creds::resolve(url, cfg, &creds::process_env)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port().unwrap_or(21);
        let ctx = Ctx {
            server: format!("{host}:{port}"),
            cfg,
            log,
            cancel,
        };
        log.fbs(&format!(
            "ftp: staging to {} as {} ({})",
            ctx.server, creds.user, creds.source
        ));
        Ok(FtpStage {
            path: dirs(url, dir),
            secure: url.scheme() == "ftps",
            ctx,
            creds,
            host,
            port,
            session: None,
            started: HashSet::new(),
        })
    }

    /// Upload `uploads`, in order; each file is tried up to `ftp_retries` more times.
    pub async fn put(&mut self, uploads: &[Upload]) -> Result<(), StageFailure> {
        let cfg = self.ctx.cfg;
        for u in uploads {
            let mut tries = 0u32;
            loop {
                if self.ctx.cancel.is_cancelled() {
                    return Err(StageFailure::Canceled);
                }
                let e = match self.put_one(u).await {
                    Ok(()) => break,
                    Err(e) => e,
                };
                self.session = None;
                if !e.is_retryable() || tries >= cfg.ftp_retries {
                    return Err(e);
                }
                let wait = cfg
                    .ftp_retry_base
                    .saturating_mul(1 << tries.min(16))
                    .min(Duration::from_secs(60));
                tries += 1;
                self.ctx.log.fbs(&format!(
                    "ftp: {e}; try {} of {} in {}",
                    tries + 1,
                    cfg.ftp_retries + 1,
                    humantime::format_duration(wait)
                ));
                tokio::select! {
                    _ = self.ctx.cancel.cancelled() => return Err(StageFailure::Canceled),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        Ok(())
    }

    async fn put_one(&mut self, u: &Upload) -> Result<(), StageFailure> {
        if self.session.is_none() {
            let s = open(
                &self.host,
                self.port,
                self.secure,
                &self.creds,
                &self.path,
                &self.ctx,
            )
            .await?;
            self.session = Some(s);
        }
        match self.session.as_mut() {
            Some(AnySession::Plain(s)) => s.put(u, &mut self.started, &self.ctx).await,
            Some(AnySession::Tls(s)) => s.put(u, &mut self.started, &self.ctx).await,
            None => Ok(()),
        }
    }

    /// Say goodbye to the server.
    pub async fn finish(self) {
        match self.session {
            Some(AnySession::Plain(s)) => s.quit().await,
            Some(AnySession::Tls(s)) => s.quit().await,
            None => {}
        }
    }
}

async fn resolve(host: &str, port: u16, ctx: &Ctx<'_>) -> Result<SocketAddr, StageFailure> {
    let found = tokio::time::timeout(ctx.cfg.ftp_timeout, tokio::net::lookup_host((host, port)))
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|mut a| a.next());
    found.ok_or_else(|| StageFailure::Ftp {
        server: ctx.server.clone(),
        action: "resolve the host".into(),
        message: "no address found".into(),
        retryable: true,
    })
}

async fn open(
    host: &str,
    port: u16,
    secure: bool,
    creds: &Credentials,
    path: &[String],
    ctx: &Ctx<'_>,
) -> Result<AnySession, StageFailure> {
    let addr = resolve(host, port, ctx).await?;
    let t = ctx.cfg.ftp_timeout;
    if !secure {
        let ftp = ctx
            .bounded("connect", AsyncFtpStream::connect_timeout(addr, t))
            .await?;
        return Ok(AnySession::Plain(
            Session::start(ftp, creds, path, ctx).await?,
        ));
    }
    let ftp = ctx
        .bounded(
            "connect",
            ImplAsyncFtpStream::<suppaftp::tokio::AsyncRustlsStream>::connect_timeout(addr, t),
        )
        .await?;
    let connector = super::tls::connector(ctx.cfg).map_err(StageFailure::Config)?;
    let ftp = ctx
        .bounded("start TLS (AUTH TLS)", ftp.into_secure(connector, host))
        .await?;
    Ok(AnySession::Tls(
        Session::start(ftp, creds, path, ctx).await?,
    ))
}
