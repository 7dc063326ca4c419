//! A monitor started in-process on 127.0.0.1:0 (stopped on drop), with an API token.

use std::net::SocketAddr;
use std::time::Duration;

use fbs_core::config::DaemonConfig;
use fbs_monitor::{Backend, MonitorOptions, Role};
use tokio_util::sync::CancellationToken;

pub struct Monitor {
    pub addr: SocketAddr,
    pub token: String,
    stop: CancellationToken,
    handle: Option<tokio::task::JoinHandle<Result<(), fbs_monitor::MonitorError>>>,
}

impl Monitor {
    pub async fn start(config: DaemonConfig, backend: Backend) -> Monitor {
        Self::start_with(config, backend, false).await
    }

    /// With `notifier`, the monitor also sends mail (webapp role with SMTP settings).
    pub async fn start_with(config: DaemonConfig, backend: Backend, notifier: bool) -> Monitor {
        let token = fbs_monitor::token::create(&backend, "test")
            .await
            .expect("create a token");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stop = CancellationToken::new();
        let options = MonitorOptions {
            listen: Some("127.0.0.1:0".into()),
            role: Role::Webapp,
            stop: stop.clone(),
            bound: Some(tx),
            backend: Some(backend),
            notifier,
            ..Default::default()
        };
        let handle = tokio::spawn(fbs_monitor::run(config, options));
        let addr = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("the monitor listens")
            .expect("address");
        Monitor {
            addr,
            token,
            stop,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(h) = self.handle.take() {
            let r = tokio::time::timeout(Duration::from_secs(30), h)
                .await
                .expect("the monitor stops")
                .expect("join");
            r.expect("the monitor ran cleanly");
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
