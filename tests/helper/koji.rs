//! A Koji hub stand-in: real XML-RPC over HTTP (axum, in the test process) answering
//! `getBuild`, `listRPMs` and `getRPMChecksums` with every member named and typed as Koji's
//! hub sends it (`<nil/>` for None, `<i8>` past 32 bits, faults as `GenericError` does), and
//! the RPM files under `/kojifiles` at `koji.PathInfo`'s layout, including signed copies.
//!
//! Its data are the RPMs `scripts/fixtures/make-koji.sh` builds (`FBS_TEST_KOJI_FIXTURES`),
//! read with `rpm -qp`. Tests change it through [`StandIn::with`] to make a build FAILED, a
//! file 404, a size or checksum wrong; [`closed_port_url`] is a hub that is down.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dxr::{Fault, FaultResponse, MethodCall, MethodResponse, Value};

use super::opted_out;

/// The signing key whose copies the stand-in serves under `data/signed/`.
pub const SIGNING_KEY: &str = "deadbeef";

/// The build id of `kojidep-1.0-1.fc40`: past 32 bits, so it travels as `<i8>`.
pub const KOJIDEP_ID: i64 = 5_000_000_001;

/// The directory of the Koji fixtures, or `None` only when the developer opted out.
pub fn fixtures() -> Option<PathBuf> {
    match std::env::var_os("FBS_TEST_KOJI_FIXTURES") {
        Some(d) => {
            let d = PathBuf::from(d);
            assert!(
                d.join(".done").is_file(),
                "{} is not built: run scripts/testenv.sh up",
                d.display()
            );
            Some(d)
        }
        None if opted_out() => None,
        None => panic!(
            "FBS_TEST_KOJI_FIXTURES is not set: run scripts/testenv.sh up and source .testenv/env \
             (or set FBS_TEST_OPTOUT=1 to skip tests that need the test environment)"
        ),
    }
}

/// One RPM as the hub knows it.
#[derive(Debug, Clone)]
pub struct HubRpm {
    /// RPM id.
    pub id: i64,
    /// Subpackage name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The RPM's own release.
    pub release: String,
    /// Arch (`src` for source RPMs).
    pub arch: String,
    /// What `listRPMs` says the size is.
    pub size: i64,
    /// What `listRPMs` says the payloadhash is.
    pub payloadhash: String,
    /// The file on disk.
    pub file: PathBuf,
}

impl HubRpm {
    /// `NAME-VERSION-RELEASE.ARCH.rpm`.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.{}.rpm",
            self.name, self.version, self.release, self.arch
        )
    }
}

/// One build.
#[derive(Debug, Clone)]
pub struct HubBuild {
    /// Build id.
    pub id: i64,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release (a draft build's is `R,draft_ID`).
    pub release: String,
    /// 0 BUILDING, 1 COMPLETE, 2 DELETED, 3 FAILED, 4 CANCELED.
    pub state: i64,
    /// Storage volume.
    pub volume: String,
    /// Draft build.
    pub draft: bool,
    /// Its RPMs.
    pub rpms: Vec<HubRpm>,
}

impl HubBuild {
    /// `name-version-release`.
    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }

    /// The build directory path under `/kojifiles`, as PathInfo lays it out.
    pub fn dir(&self) -> String {
        let vol = if self.volume == "DEFAULT" {
            String::new()
        } else {
            format!("/vol/{}", self.volume)
        };
        format!(
            "{vol}/packages/{}/{}/{}",
            self.name, self.version, self.release
        )
    }
}

/// What a file URL answers.
#[derive(Debug, Clone)]
pub enum Serve {
    /// The file's bytes.
    File(PathBuf),
    /// Only this HTTP status.
    Status(u16),
}

/// The stand-in's data and counters.
#[derive(Debug, Default)]
pub struct HubState {
    /// The builds.
    pub builds: Vec<HubBuild>,
    /// URL path under `/kojifiles` → answer.
    pub files: BTreeMap<String, Serve>,
    /// Bytes of RPM files sent.
    pub bytes_served: u64,
    /// Paths of every file request, in order.
    pub file_requests: Vec<String>,
    /// Method names of every hub call, in order.
    pub calls: Vec<String>,
}

impl HubState {
    /// The RPM with file name `file`, in any build.
    pub fn rpm_mut(&mut self, file: &str) -> &mut HubRpm {
        self.builds
            .iter_mut()
            .flat_map(|b| b.rpms.iter_mut())
            .find(|r| r.file_name() == file)
            .unwrap_or_else(|| panic!("no RPM {file} on the stand-in"))
    }

    /// The URL path of `file` in build `nvr`.
    pub fn path_of(&self, nvr: &str, file: &str) -> String {
        let b = self
            .builds
            .iter()
            .find(|b| b.nvr() == nvr)
            .unwrap_or_else(|| panic!("no build {nvr}"));
        let r = b
            .rpms
            .iter()
            .find(|r| r.file_name() == file)
            .unwrap_or_else(|| panic!("no {file} in {nvr}"));
        format!("{}/{}/{file}", b.dir(), r.arch)
    }

    fn index_files(&mut self) {
        let mut files = BTreeMap::new();
        for b in &self.builds {
            for r in &b.rpms {
                let rel = format!("{}/{}", r.arch, r.file_name());
                files.insert(format!("{}/{rel}", b.dir()), Serve::File(r.file.clone()));
                files.insert(
                    format!("{}/data/signed/{SIGNING_KEY}/{rel}", b.dir()),
                    Serve::File(r.file.clone()),
                );
            }
        }
        self.files = files;
    }
}

/// A running stand-in; stops when dropped.
#[derive(Debug)]
pub struct StandIn {
    /// The hub URL.
    pub hub: String,
    /// The download root.
    pub topurl: String,
    state: Arc<Mutex<HubState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `rpm -qp` facts of the RPMs in `dir`, with RPM ids from `first_id`.
pub fn read_rpms(dir: &Path, first_id: i64) -> Vec<HubRpm> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rpm"))
        .collect();
    files.sort();
    files
        .into_iter()
        .enumerate()
        .map(|(n, file)| {
            let out = Command::new("rpm")
                .args(["-qp", "--nosignature", "--nodigest", "--qf"])
                .arg("%{NAME}\t%{VERSION}\t%{RELEASE}\t%|SOURCERPM?{%{ARCH}}:{src}|\t%{SIGMD5}")
                .arg(&file)
                .output()
                .expect("rpm runs");
            assert!(out.status.success(), "rpm -qp {}", file.display());
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let f: Vec<&str> = text.trim().split('\t').collect();
            HubRpm {
                id: first_id + n as i64,
                name: f[0].into(),
                version: f[1].into(),
                release: f[2].into(),
                arch: f[3].into(),
                size: std::fs::metadata(&file).expect("size").len() as i64,
                payloadhash: f[4].into(),
                file,
            }
        })
        .collect()
}

impl StandIn {
    /// The hub with the fixtures' builds: `kojipkg-2.0-1.fc40` (id 1001, COMPLETE),
    /// `kojidep-1.0-1.fc40` (id [`KOJIDEP_ID`], on volume `archive`), `failpkg-1.0-1.fc40`
    /// (FAILED) and a draft build of kojipkg (`2.0-1.fc40,draft_1003`).
    pub async fn start(fx: &Path) -> StandIn {
        let kojipkg = read_rpms(&fx.join("build-kojipkg"), 100);
        let kojidep = read_rpms(&fx.join("build-kojidep"), 5_000_000_100);
        let build =
            |id, name: &str, version: &str, release: &str, state, volume: &str, draft, rpms| {
                HubBuild {
                    id,
                    name: name.into(),
                    version: version.into(),
                    release: release.into(),
                    state,
                    volume: volume.into(),
                    draft,
                    rpms,
                }
            };
        let draft_rpms: Vec<HubRpm> = kojipkg
            .iter()
            .map(|r| HubRpm {
                id: r.id + 500,
                ..r.clone()
            })
            .collect();
        let builds = vec![
            build(
                1001, "kojipkg", "2.0", "1.fc40", 1, "DEFAULT", false, kojipkg,
            ),
            build(
                KOJIDEP_ID, "kojidep", "1.0", "1.fc40", 1, "archive", false, kojidep,
            ),
            build(
                1002,
                "failpkg",
                "1.0",
                "1.fc40",
                3,
                "DEFAULT",
                false,
                Vec::new(),
            ),
            build(
                1003,
                "kojipkg",
                "2.0",
                "1.fc40,draft_1003",
                1,
                "DEFAULT",
                true,
                draft_rpms,
            ),
        ];
        Self::with_builds(builds).await
    }

    /// A stand-in serving `builds`.
    pub async fn with_builds(builds: Vec<HubBuild>) -> StandIn {
        let mut state = HubState {
            builds,
            ..HubState::default()
        };
        state.index_files();
        let state = Arc::new(Mutex::new(state));
        let app = axum::Router::new()
            .route("/kojihub", axum::routing::post(rpc))
            .route("/kojifiles/{*path}", axum::routing::get(file))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            hub: format!("http://{addr}/kojihub"),
            topurl: format!("http://{addr}/kojifiles"),
            state,
            task,
        }
    }

    /// Read or change the hub's data.
    pub fn with<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }
}

/// A hub URL on a loopback port nothing listens on.
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}/kojihub")
}

fn int(v: i64) -> Value {
    match i32::try_from(v) {
        Ok(i) => Value::Integer(i),
        Err(_) => Value::Long(v),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn strukt(members: Vec<(&str, Value)>) -> Value {
    Value::Struct(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn build_value(b: &HubBuild) -> Value {
    strukt(vec![
        ("id", int(b.id)),
        ("build_id", int(b.id)),
        ("package_id", int(b.id % 1000 + 1)),
        ("package_name", s(&b.name)),
        ("name", s(&b.name)),
        ("version", s(&b.version)),
        ("release", s(&b.release)),
        ("epoch", Value::Nil),
        ("nvr", s(&b.nvr())),
        ("draft", Value::Boolean(b.draft)),
        ("state", int(b.state)),
        ("task_id", Value::Nil),
        ("owner_id", int(7)),
        ("owner_name", s("fbs-test")),
        ("volume_id", int(if b.volume == "DEFAULT" { 0 } else { 1 })),
        ("volume_name", s(&b.volume)),
        ("creation_event_id", int(3_000_000_000)),
        ("creation_time", s("2023-11-14 22:13:20.000000+00:00")),
        ("creation_ts", Value::Double(1_700_000_000.0)),
        ("start_time", s("2023-11-14 22:10:00.000000+00:00")),
        ("start_ts", Value::Double(1_699_999_800.0)),
        ("completion_time", s("2023-11-14 22:13:20.000000+00:00")),
        ("completion_ts", Value::Double(1_700_000_000.0)),
        ("promotion_time", Value::Nil),
        ("promotion_ts", Value::Nil),
        ("promoter_id", Value::Nil),
        ("promoter_name", Value::Nil),
        ("source", Value::Nil),
        ("extra", Value::Nil),
        ("cg_id", Value::Nil),
        ("cg_name", Value::Nil),
    ])
}

fn rpm_value(b: &HubBuild, r: &HubRpm) -> Value {
    strukt(vec![
        ("id", int(r.id)),
        ("name", s(&r.name)),
        ("version", s(&r.version)),
        ("release", s(&r.release)),
        ("nvr", s(&format!("{}-{}-{}", r.name, r.version, r.release))),
        ("arch", s(&r.arch)),
        ("epoch", Value::Nil),
        ("draft", Value::Boolean(b.draft)),
        ("payloadhash", s(&r.payloadhash)),
        ("size", Value::Long(r.size)),
        ("buildtime", int(1_700_000_000)),
        ("build_id", int(b.id)),
        ("buildroot_id", int(42)),
        ("external_repo_id", int(0)),
        ("external_repo_name", s("INTERNAL")),
        ("metadata_only", Value::Boolean(false)),
        ("extra", Value::Nil),
    ])
}

fn fault(message: String) -> Response {
    let body = FaultResponse {
        fault: Fault::new(1000, message),
    }
    .to_xml()
    .unwrap_or_default();
    xml_response(body)
}

fn xml_response(body: String) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml")],
        format!("<?xml version='1.0'?>\n{body}"),
    )
        .into_response()
}

/// Positional arguments and keyword arguments (Koji's trailing `__starstar` struct).
fn split_args(params: &[Value]) -> (Vec<Value>, BTreeMap<String, Value>) {
    let mut pos = params.to_vec();
    if let Some(Value::Struct(m)) = pos.last()
        && m.get("__starstar") == Some(&Value::Boolean(true))
    {
        let mut kw = m.clone();
        kw.remove("__starstar");
        pos.pop();
        return (pos, kw);
    }
    (pos, BTreeMap::new())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Long(l) => Some(*l),
        _ => None,
    }
}

async fn rpc(State(state): State<Arc<Mutex<HubState>>>, body: String) -> Response {
    let call = match MethodCall::from_xml(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    st.calls.push(call.name.to_string());
    let (pos, kw) = split_args(&call.params);
    let arg = |i: usize, name: &str| pos.get(i).or_else(|| kw.get(name)).cloned();
    let value = match call.name.as_ref() {
        "getBuild" => {
            let found = match arg(0, "buildInfo") {
                Some(Value::String(nvr)) => {
                    if nvr.matches('-').count() < 2 {
                        return fault(format!("koji.GenericError: invalid format: {nvr}"));
                    }
                    st.builds.iter().find(|b| b.nvr() == nvr)
                }
                Some(v) => match as_i64(&v) {
                    Some(id) => st.builds.iter().find(|b| b.id == id),
                    None => return fault("koji.GenericError: Invalid type for build info".into()),
                },
                None => return fault("TypeError: getBuild() missing buildInfo".into()),
            };
            let strict = matches!(arg(1, "strict"), Some(Value::Boolean(true)));
            match found {
                Some(b) => build_value(b),
                None if strict => return fault("koji.GenericError: No such build".into()),
                None => Value::Nil,
            }
        }
        "listRPMs" => {
            let build_id = arg(0, "buildID").as_ref().and_then(as_i64);
            let arches: Option<Vec<String>> = match arg(5, "arches") {
                Some(Value::String(a)) => Some(vec![a]),
                Some(Value::Array(v)) => Some(
                    v.iter()
                        .filter_map(|x| match x {
                            Value::String(a) => Some(a.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            };
            let mut out = Vec::new();
            for b in st
                .builds
                .iter()
                .filter(|b| build_id.is_none_or(|id| id == b.id))
            {
                for r in &b.rpms {
                    if arches.as_ref().is_none_or(|a| a.contains(&r.arch)) {
                        out.push(rpm_value(b, r));
                    }
                }
            }
            Value::Array(out)
        }
        "getRPMChecksums" => {
            let Some(id) = arg(0, "rpm_id").as_ref().and_then(as_i64) else {
                return fault("koji.GenericError: rpm_id is required".into());
            };
            let Some(r) = st.builds.iter().flat_map(|b| &b.rpms).find(|r| r.id == id) else {
                return fault(format!("koji.GenericError: No such rpm: {id}"));
            };
            let data = std::fs::read(&r.file).unwrap_or_default();
            use sha2::Digest as _;
            let sha = hex::encode(sha2::Sha256::digest(&data));
            let md5 = hex::encode(<md5::Md5 as md5::Digest>::digest(&data));
            strukt(vec![(
                SIGNING_KEY,
                strukt(vec![("md5", s(&md5)), ("sha256", s(&sha))]),
            )])
        }
        other => return fault(format!("koji.GenericError: Invalid method: {other}")),
    };
    xml_response(MethodResponse { value }.to_xml().unwrap_or_default())
}

async fn file(
    State(state): State<Arc<Mutex<HubState>>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let path = format!("/{path}");
    let serve = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.file_requests.push(path.clone());
        st.files.get(&path).cloned()
    };
    match serve {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Serve::Status(code)) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(Serve::File(p)) => match tokio::fs::read(&p).await {
            Ok(bytes) => {
                let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                st.bytes_served += bytes.len() as u64;
                bytes.into_response()
            }
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
    }
}
