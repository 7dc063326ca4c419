//! The client config (`~/.config/fbs/client.toml`): where `fbs submit` and friends find the
//! broker and the monitor. Written by `fbs deploy setup-cli`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::Arch;

/// What the client commands read.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// The default broker URL.
    pub broker: Option<String>,
    /// Per-arch brokers holding those arches' queues (as `[broker]` in deploy.conf).
    pub brokers: BTreeMap<Arch, String>,
    /// The monitor's URL.
    pub monitor_url: Option<String>,
    /// API token for writes through the monitor. Never printed.
    pub token: Option<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("broker", &self.broker.as_deref().map(super::redact_url))
            .field(
                "brokers",
                &self
                    .brokers
                    .iter()
                    .map(|(a, u)| (a, super::redact_url(u)))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("monitor_url", &self.monitor_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}
