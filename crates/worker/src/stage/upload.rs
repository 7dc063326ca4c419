//! The FTP upload driver: connects (plain FTP, or explicit FTPS for `ftps://`), sends the
//! files in order, and on a retryable error starts a new connection after an exponential
//! backoff, up to `ftp_retries` tries per file.

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

/// Upload `uploads`, in order, into `dir` under the FTP target `url`.
pub async fn put_all(
    url: &Url,
    dir: &str,
    uploads: &[Upload],
    cfg: &StagingConfig,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<(), StageFailure> {
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
    let path = dirs(url, dir);
    let secure = url.scheme() == "ftps";
    let mut session: Option<AnySession> = None;
    let mut started = HashSet::new();
    for u in uploads {
        let mut tries = 0u32;
        loop {
            if cancel.is_cancelled() {
                return Err(StageFailure::Canceled);
            }
            let r = async {
                if session.is_none() {
                    session = Some(open(&host, port, secure, &creds, &path, &ctx).await?);
                }
                match session.as_mut() {
                    Some(AnySession::Plain(s)) => s.put(u, &mut started, &ctx).await,
                    Some(AnySession::Tls(s)) => s.put(u, &mut started, &ctx).await,
                    None => Ok(()),
                }
            }
            .await;
            let e = match r {
                Ok(()) => break,
                Err(e) => e,
            };
            session = None;
            if !e.is_retryable() || tries >= cfg.ftp_retries {
                return Err(e);
            }
            let wait = cfg
                .ftp_retry_base
                .saturating_mul(1 << tries.min(16))
                .min(Duration::from_secs(60));
            tries += 1;
            log.fbs(&format!(
                "ftp: {e}; try {} of {} in {}",
                tries + 1,
                cfg.ftp_retries + 1,
                humantime::format_duration(wait)
            ));
            tokio::select! {
                _ = cancel.cancelled() => return Err(StageFailure::Canceled),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
    match session {
        Some(AnySession::Plain(s)) => s.quit().await,
        Some(AnySession::Tls(s)) => s.quit().await,
        None => {}
    }
    Ok(())
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
