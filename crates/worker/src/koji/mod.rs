//! A small anonymous Koji client: `getBuild` (by NVR or build id), `listRPMs` (with Koji's
//! keyword-argument convention) and `getRPMChecksums`, over XML-RPC with dxr, plus the
//! download layout ([`PathInfo`]). Facts about the protocol: the module docs of [`value`]
//! (tolerant decoding, `<int>`/`<i8>`, `<nil/>`) and [`paths`] (URLs).
//!
//! Errors say what failed in words a submitter can act on ("build foo-1.0-1.fc40 not found
//! on HUB", "build … is FAILED, not COMPLETE") and whether trying again may help.

pub mod paths;
pub mod types;
pub mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use dxr::Value;
use url::Url;

pub use paths::PathInfo;
pub use types::{BuildInfo, BuildState, RpmInfo};
pub use value::{DecodeError, KojiInt};

use value::{Members, int_value, kwargs};

/// Koji's fault code for a hub that is offline for maintenance.
const SERVER_OFFLINE: i32 = 1014;

/// How long one hub call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A build named by a spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BuildRef {
    /// By `NAME-VERSION-RELEASE`.
    Nvr(String),
    /// By numeric build id.
    Id(i64),
}

impl fmt::Display for BuildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildRef::Nvr(n) => f.write_str(n),
            BuildRef::Id(id) => write!(f, "id {id}"),
        }
    }
}

/// What went wrong talking to Koji.
#[derive(Debug, thiserror::Error)]
pub enum KojiError {
    /// The hub URL is not a URL.
    #[error("invalid Koji hub URL {hub:?}: {message}")]
    BadUrl {
        /// The configured hub.
        hub: String,
        /// Why it does not parse.
        message: String,
    },
    /// The hub could not be reached, or answered with an HTTP error.
    #[error("Koji hub {hub} is unreachable ({method}): {message}")]
    Unreachable {
        /// The hub.
        hub: String,
        /// The call.
        method: &'static str,
        /// What the network said.
        message: String,
    },
    /// The hub answered with an XML-RPC fault.
    #[error("Koji hub {hub}: {method} failed with fault {code}: {message}")]
    Fault {
        /// The hub.
        hub: String,
        /// The call.
        method: &'static str,
        /// Koji's fault code.
        code: i32,
        /// Koji's message.
        message: String,
    },
    /// The hub answered with something that is not the expected XML-RPC value.
    #[error("Koji hub {hub}: {method} returned an unreadable answer: {message}")]
    BadResponse {
        /// The hub.
        hub: String,
        /// The call.
        method: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No such build.
    #[error("build {build} not found on {hub}")]
    NotFound {
        /// The build as the spec named it.
        build: BuildRef,
        /// The hub.
        hub: String,
    },
    /// The build exists but is not usable.
    #[error("build {nvr} is {state}, not COMPLETE")]
    NotComplete {
        /// The build.
        nvr: String,
        /// Its state.
        state: BuildState,
    },
}

impl KojiError {
    /// True when the same call may succeed later (network trouble, an offline hub, a build
    /// still building); false for answers that will not change (no such build, a failed
    /// build, a fault).
    pub fn is_retryable(&self) -> bool {
        match self {
            KojiError::Unreachable { .. } | KojiError::BadResponse { .. } => true,
            KojiError::Fault { code, .. } => *code == SERVER_OFFLINE,
            KojiError::NotComplete { state, .. } => *state == BuildState::Building,
            KojiError::BadUrl { .. } | KojiError::NotFound { .. } => false,
        }
    }
}

/// An anonymous client of one Koji hub.
#[derive(Debug)]
pub struct KojiClient {
    hub: String,
    rpc: dxr_client::Client,
}

impl KojiClient {
    /// A client of `hub` (`https://koji.fedoraproject.org/kojihub`).
    pub fn new(hub: &str) -> Result<Self, KojiError> {
        let bad = |message: String| KojiError::BadUrl {
            hub: hub.to_owned(),
            message,
        };
        let url = Url::parse(hub).map_err(|e| bad(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("only http and https hubs are supported".into()));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("text/xml"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("fbs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(KojiClient {
            hub: hub.to_owned(),
            rpc: dxr_client::Client::with_client(url, http),
        })
    }

    /// The hub URL.
    pub fn hub(&self) -> &str {
        &self.hub
    }

    async fn call(&self, method: &'static str, params: Vec<Value>) -> Result<Value, KojiError> {
        match self.rpc.call::<Vec<Value>, Value>(method, params).await {
            Ok(v) => Ok(v),
            Err(dxr_client::Error::Fault { fault }) => Err(KojiError::Fault {
                hub: self.hub.clone(),
                method,
                code: fault.code(),
                message: fault.string().to_owned(),
            }),
            Err(dxr_client::Error::Net { error }) => Err(KojiError::Unreachable {
                hub: self.hub.clone(),
                method,
                message: error_chain(&error),
            }),
            Err(dxr_client::Error::RPC { error }) => Err(KojiError::BadResponse {
                hub: self.hub.clone(),
                method,
                message: shorten(&error.to_string()),
            }),
        }
    }

    fn bad(&self, method: &'static str, e: DecodeError) -> KojiError {
        KojiError::BadResponse {
            hub: self.hub.clone(),
            method,
            message: e.to_string(),
        }
    }

    /// `getBuild(buildInfo)`: the build, or `None` when the hub has no such build.
    pub async fn get_build(&self, build: &BuildRef) -> Result<Option<BuildInfo>, KojiError> {
        let arg = match build {
            BuildRef::Nvr(n) => Value::String(n.clone()),
            BuildRef::Id(id) => int_value(*id),
        };
        let v = self.call("getBuild", vec![arg]).await?;
        if v == Value::Nil {
            return Ok(None);
        }
        BuildInfo::from_value(&v)
            .map(Some)
            .map_err(|e| self.bad("getBuild", e))
    }

    /// The build if it exists and is COMPLETE, else the error a submitter reads.
    pub async fn complete_build(&self, build: &BuildRef) -> Result<BuildInfo, KojiError> {
        let info = self
            .get_build(build)
            .await?
            .ok_or_else(|| KojiError::NotFound {
                build: build.clone(),
                hub: self.hub.clone(),
            })?;
        if info.state != BuildState::Complete {
            return Err(KojiError::NotComplete {
                nvr: info.nvr,
                state: info.state,
            });
        }
        Ok(info)
    }

    /// `listRPMs(buildID=…, arches=[…])`.
    pub async fn list_rpms(
        &self,
        build_id: i64,
        arches: &[&str],
    ) -> Result<Vec<RpmInfo>, KojiError> {
        let arches = Value::Array(
            arches
                .iter()
                .map(|a| Value::String((*a).to_owned()))
                .collect(),
        );
        let args = kwargs([("buildID", int_value(build_id)), ("arches", arches)]);
        let v = self.call("listRPMs", vec![args]).await?;
        let Value::Array(items) = &v else {
            return Err(self.bad(
                "listRPMs",
                DecodeError {
                    what: "listRPMs result".into(),
                    problem: format!("expected an array, got {}", value::kind(&v)),
                },
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| RpmInfo::from_value(item, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.bad("listRPMs", e))
    }

    /// `getRPMChecksums(rpm_id, checksum_types=[…])`: checksums of the signed copies, by
    /// signing key (lower-case) and then by checksum type.
    pub async fn get_rpm_checksums(
        &self,
        rpm_id: i64,
        types: &[&str],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, KojiError> {
        let types = Value::Array(
            types
                .iter()
                .map(|t| Value::String((*t).to_owned()))
                .collect(),
        );
        let args = kwargs([("checksum_types", types)]);
        let v = self
            .call("getRPMChecksums", vec![int_value(rpm_id), args])
            .await?;
        let decode = |v: &Value| -> Result<_, DecodeError> {
            let what = "getRPMChecksums result";
            let Value::Struct(keys) = v else {
                return Err(DecodeError {
                    what: what.into(),
                    problem: format!("expected a struct, got {}", value::kind(v)),
                });
            };
            let mut out = BTreeMap::new();
            for (key, sums) in keys {
                let m = Members::of(sums, what)?;
                let mut by_type = BTreeMap::new();
                for t in ["md5", "sha1", "sha256", "sha512"] {
                    if let Some(s) = m.opt_string(t)? {
                        by_type.insert(t.to_owned(), s.to_ascii_lowercase());
                    }
                }
                out.insert(key.to_ascii_lowercase(), by_type);
            }
            Ok(out)
        };
        decode(&v).map_err(|e| self.bad("getRPMChecksums", e))
    }
}

/// An error with its sources, one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// At most 300 characters of a message (an HTML error page is not worth more).
fn shorten(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_well_and_know_whether_to_retry() {
        let e = KojiError::NotFound {
            build: BuildRef::Nvr("foo-1.0-1.fc40".into()),
            hub: "http://127.0.0.1:1/kojihub".into(),
        };
        assert_eq!(
            e.to_string(),
            "build foo-1.0-1.fc40 not found on http://127.0.0.1:1/kojihub"
        );
        assert!(!e.is_retryable());
        let e = KojiError::NotComplete {
            nvr: "foo-1.0-1.fc40".into(),
            state: BuildState::Failed,
        };
        assert_eq!(
            e.to_string(),
            "build foo-1.0-1.fc40 is FAILED, not COMPLETE"
        );
        assert!(!e.is_retryable());
        let building = KojiError::NotComplete {
            nvr: "x".into(),
            state: BuildState::Building,
        };
        assert!(building.is_retryable());
        assert_eq!(BuildRef::Id(7).to_string(), "id 7");
    }

    #[test]
    fn hub_urls_are_checked() {
        assert!(matches!(
            KojiClient::new("not a url"),
            Err(KojiError::BadUrl { .. })
        ));
        assert!(matches!(
            KojiClient::new("ftp://h/x"),
            Err(KojiError::BadUrl { .. })
        ));
        assert!(KojiClient::new("http://127.0.0.1:9/kojihub").is_ok());
    }

    #[test]
    fn long_messages_are_cut() {
        let s = "x ".repeat(400);
        assert!(shorten(&s).chars().count() <= 301);
    }
}
