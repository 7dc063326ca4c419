//! In-process router tests (tower `oneshot`) on an SQLite store in a temp dir.

mod api_jobs;
mod api_submit;
mod auth;
mod logs;
mod traversal;
mod ui;

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::Utc;
use fbs_core::config::MonitorConfig;
use fbs_core::job::JobRecord;
use fbs_core::queue::tokens::{ApiToken, token_hash};
use fbs_core::queue::{JobStore, SqliteStore, TokenStore};
use fbs_core::spec::{self, BuildSpec, SpecFormat};
use tower::ServiceExt;

use crate::state::{AppState, Backend, Role};

/// A boot spec as TOML.
pub fn boot_toml(release: &str) -> String {
    format!(
        "type = \"boot\"\narch = \"x86_64\"\nrelease = \"{release}\"\nstaging = \"file:///tmp/fbs-test-staging\"\nemail = \"qa@example.org\"\n\n[boot]\nrepos = [{{ name = \"fedora\", url = \"http://example.org/os/\" }}]\n"
    )
}

/// A live spec as TOML naming `live.ks`.
pub fn live_toml(label: &str) -> String {
    format!(
        "type = \"live\"\narch = \"x86_64\"\nrelease = \"40\"\nstaging = \"file:///tmp/fbs-test-staging\"\nemail = \"qa@example.org\"\n\n[live]\nlabel = \"{label}\"\nkickstart = \"live.ks\"\n"
    )
}

pub fn boot_spec(release: &str) -> BuildSpec {
    spec::parse_spec(
        boot_toml(release).as_bytes(),
        std::path::Path::new("t.toml"),
        SpecFormat::Toml,
    )
    .expect("valid spec")
    .spec
}

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub state: AppState,
    /// A valid API token.
    pub token: String,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(|_| {}, Role::Webapp).await
    }

    pub async fn with(edit: impl FnOnce(&mut MonitorConfig), role: Role) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("jobs.db"), Default::default())
            .await
            .expect("store");
        let token = crate::auth::new_token();
        store
            .add_token(&ApiToken {
                name: "tester".into(),
                hash: token_hash(&token),
                created_at: Utc::now(),
            })
            .await
            .expect("token");
        let mut cfg = MonitorConfig::default();
        edit(&mut cfg);
        let work = dir.path().join("jobs");
        std::fs::create_dir_all(&work).expect("work dir");
        let state = AppState::new(
            role,
            Backend::sqlite(store.clone(), "sqlite:test"),
            cfg,
            work,
            b"test-secret".to_vec(),
        );
        TestApp {
            dir,
            store,
            state,
            token,
        }
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("jobs")
    }

    pub async fn call(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let resp = crate::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible");
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 20).await.expect("body");
        (parts.status, parts.headers, bytes)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, Bytes) {
        self.call(Request::get(uri).body(Body::empty()).expect("req"))
            .await
    }

    pub async fn get_json(&self, uri: &str) -> (StatusCode, serde_json::Value) {
        let (s, _, b) = self.get(uri).await;
        (
            s,
            serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
        )
    }

    /// POST with an optional bearer token.
    pub async fn post(
        &self,
        uri: &str,
        ctype: &str,
        body: impl Into<Body>,
        bearer: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut b = Request::post(uri).header("content-type", ctype);
        if let Some(t) = bearer {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let (s, _, bytes) = self.call(b.body(body.into()).expect("req")).await;
        (
            s,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn add_job(&self, spec: BuildSpec) -> JobRecord {
        let job = JobRecord::new(spec, None);
        self.store.submit(job.clone()).await.expect("submit");
        job
    }
}

/// An error body's message.
pub fn error_of(v: &serde_json::Value) -> &str {
    v["error"].as_str().unwrap_or("")
}
