//! Making one side repo: resolve the builds, fetch their RPMs (bounded parallelism), link
//! them into the job's directory, run `createrepo_c`. See the parent module for the steps.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use fbs_core::joblog::LogSink;
use fbs_core::runner::{self, Cmd};
use fbs_core::spec::{Arch, BuildSpec};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::cache::{BuildRecord, Cache, safe};
use super::fetch::{Check, Fetched, Fetcher, Wanted};
use super::{SideRepo, SideRepoError, SideRepoSettings, select};
use crate::koji::{BuildRef, KojiClient, KojiError, PathInfo};

/// Make the side repo for `spec`'s Koji builds in `dir` (emptied first).
pub async fn make(
    settings: &SideRepoSettings,
    spec: &BuildSpec,
    dir: &Path,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<SideRepo, SideRepoError> {
    let refs = build_refs(spec);
    let cache = Cache::new(&settings.cache_dir);
    cache
        .create()
        .map_err(SideRepoError::io("create", cache.root()))?;
    cache.sweep_tmp();
    let koji = &settings.koji;
    log.fbs(&format!(
        "koji: {} build(s) for {} from {}{}",
        refs.len(),
        spec.arch,
        koji.hub,
        if koji.offline {
            " (offline: cache only)"
        } else {
            ""
        }
    ));
    let client = KojiClient::new(&koji.hub)?;

    let mut records: Vec<BuildRecord> = Vec::new();
    for r in &refs {
        let rec = resolve(settings, &client, &cache, r, spec.arch, cancel).await?;
        if !records.iter().any(|x| x.build.id == rec.build.id) {
            records.push(rec);
        }
    }

    let paths = PathInfo::new(&koji.topurl);
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    for rec in &records {
        let kept: Vec<_> = rec
            .rpms
            .iter()
            .filter(|r| select::keep(r, spec.arch))
            .collect();
        log.fbs(&format!(
            "koji: build {} (id {}): {} of {} RPMs for {}",
            rec.build.nvr,
            rec.build.id,
            kept.len(),
            rec.rpms.len(),
            select::arches(spec.arch).join("/")
        ));
        if kept.is_empty() {
            return Err(SideRepoError::NoRpms {
                nvr: rec.build.nvr.clone(),
                arches: select::arches(spec.arch).join(", "),
            });
        }
        for rpm in kept {
            let file = rpm.file_name();
            let unverifiable = |problem: &str| SideRepoError::Unverifiable {
                file: file.clone(),
                nvr: rec.build.nvr.clone(),
                problem: problem.to_owned(),
            };
            let sigmd5 = rpm
                .payloadhash
                .clone()
                .map(|h| h.to_ascii_lowercase())
                .ok_or_else(|| unverifiable("Koji gives no payloadhash to check it against"))?;
            let (url, check) = match &koji.signing_key {
                Some(key) => {
                    let sha256 = rec.sha256.get(&rpm.id).cloned().ok_or_else(|| {
                        unverifiable(&format!("it is not signed with key {key} on {}", koji.hub))
                    })?;
                    (
                        paths.signed_url(&rec.build, rpm, key),
                        Check::Signed { sha256, sigmd5 },
                    )
                }
                None => {
                    let size = rpm
                        .size
                        .ok_or_else(|| unverifiable("Koji gives no size to check it against"))?;
                    (
                        paths.rpm_url(&rec.build, rpm),
                        Check::Unsigned { size, sigmd5 },
                    )
                }
            };
            wanted.entry(file.clone()).or_insert(Wanted {
                nvr: rec.build.nvr.clone(),
                file_name: file,
                url,
                check,
            });
        }
    }

    let fetcher = Fetcher {
        http: http_client()?,
        cache,
        retries: settings.retries,
        backoff: settings.backoff,
        offline: koji.offline,
    };
    let fetched = fetch_all(&fetcher, wanted.values(), settings.parallel, log, cancel).await?;

    let started = Instant::now();
    if dir.exists() {
        crate::dirs::remove_tree(dir).map_err(SideRepoError::io("empty", dir))?;
    }
    std::fs::create_dir_all(dir).map_err(SideRepoError::io("create", dir))?;
    let mut packages = BTreeSet::new();
    for (w, f) in wanted.values().zip(&fetched) {
        let link = dir.join(safe(&w.file_name));
        place(&f.path, &link)?;
    }
    for rec in &records {
        for rpm in rec.rpms.iter().filter(|r| select::keep(r, spec.arch)) {
            packages.insert(rpm.name.clone());
        }
    }
    createrepo(settings, dir, log, cancel).await?;
    let downloaded_bytes = fetched.iter().map(|f| f.downloaded).sum();
    let from_cache = fetched.iter().filter(|f| f.downloaded == 0).count();
    log.fbs(&format!(
        "koji: side repo {} ready: {} RPMs of {} package(s); downloaded {} bytes, {} from the cache; repodata in {:.1} s",
        dir.display(),
        fetched.len(),
        packages.len(),
        downloaded_bytes,
        from_cache,
        started.elapsed().as_secs_f64()
    ));
    Ok(SideRepo {
        dir: dir.to_path_buf(),
        builds: records.iter().map(|r| r.build.nvr.clone()).collect(),
        packages: packages.into_iter().collect(),
        files: wanted.keys().cloned().collect(),
        downloaded_bytes,
        from_cache,
    })
}

/// The spec's builds: NVRs (blank items of an old `a;b;` list skipped) then ids, each once.
fn build_refs(spec: &BuildSpec) -> Vec<BuildRef> {
    let mut v: Vec<BuildRef> = Vec::new();
    let nvrs = spec
        .koji
        .nvrs
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|n| BuildRef::Nvr(n.to_owned()));
    for r in nvrs.chain(spec.koji.build_ids.iter().map(|&id| BuildRef::Id(id))) {
        if !v.contains(&r) {
            v.push(r);
        }
    }
    v
}

/// The key a build's answers are cached under.
fn meta_key(r: &BuildRef) -> String {
    match r {
        BuildRef::Nvr(n) => n.clone(),
        BuildRef::Id(id) => format!("id-{id}"),
    }
}

/// The build and its RPM list (and signed checksums), from the hub or, offline, the cache.
async fn resolve(
    settings: &SideRepoSettings,
    client: &KojiClient,
    cache: &Cache,
    r: &BuildRef,
    arch: Arch,
    cancel: &CancellationToken,
) -> Result<BuildRecord, SideRepoError> {
    let hub = &settings.koji.hub;
    if settings.koji.offline {
        return cache
            .load_build(hub, &meta_key(r))
            .ok_or_else(|| SideRepoError::Offline {
                what: format!("what {hub} says about build {r}"),
                cache: cache.root().to_path_buf(),
            });
    }
    let build = retrying(settings, cancel, || client.complete_build(r)).await?;
    let arches = select::arches(arch);
    let rpms = retrying(settings, cancel, || client.list_rpms(build.id, &arches)).await?;
    let mut sha256 = BTreeMap::new();
    if let Some(key) = &settings.koji.signing_key {
        let key = key.to_ascii_lowercase();
        for rpm in rpms.iter().filter(|x| select::keep(x, arch)) {
            let sums = retrying(settings, cancel, || {
                client.get_rpm_checksums(rpm.id, &["sha256"])
            })
            .await?;
            if let Some(s) = sums.get(&key).and_then(|by| by.get("sha256")) {
                sha256.insert(rpm.id, s.clone());
            }
        }
    }
    let rec = BuildRecord {
        build,
        rpms,
        sha256,
    };
    if let Err(e) = cache.store_build(hub, &meta_key(r), &rec) {
        tracing::warn!(error = %e, "cannot cache the hub's answer about build {r}");
    }
    Ok(rec)
}

/// `call` with the settings' retries and backoff for retryable hub errors.
async fn retrying<T, F, Fut>(
    settings: &SideRepoSettings,
    cancel: &CancellationToken,
    mut call: F,
) -> Result<T, SideRepoError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, KojiError>>,
{
    let mut pause = settings.backoff;
    let mut tries = 0;
    loop {
        let r = tokio::select! {
            _ = cancel.cancelled() => return Err(SideRepoError::Canceled),
            r = call() => r,
        };
        match r {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && tries < settings.retries => {
                tries += 1;
                tracing::debug!(error = %e, tries, "hub call failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return Err(SideRepoError::Canceled),
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = pause.saturating_mul(2);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn http_client() -> Result<reqwest::Client, SideRepoError> {
    reqwest::Client::builder()
        .user_agent(concat!("fbs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| SideRepoError::Io {
            action: "set up the HTTP client for",
            path: "downloads".into(),
            source: std::io::Error::other(e),
        })
}

/// Fetch every file, `parallel` at a time, logging each; in the order given.
async fn fetch_all<'a>(
    fetcher: &Fetcher,
    wanted: impl Iterator<Item = &'a Wanted>,
    parallel: usize,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<Vec<Fetched>, SideRepoError> {
    let wanted: Vec<&Wanted> = wanted.collect();
    let total = wanted.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let jobs: Vec<_> = wanted
        .iter()
        .map(|w| fetch_one(fetcher, w, total, &done, log, cancel))
        .collect();
    // In order. Every download runs to its end, even after one failed: dropping a download
    // mid-write could let a file operation still in flight recreate its temporary file after
    // the cleanup removed it. The first failure is what the job reports.
    let results: Vec<Result<Fetched, SideRepoError>> = futures::stream::iter(jobs)
        .buffered(parallel.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// Fetch `w` and log how.
async fn fetch_one(
    fetcher: &Fetcher,
    w: &Wanted,
    total: usize,
    done: &std::sync::atomic::AtomicUsize,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<Fetched, SideRepoError> {
    let started = Instant::now();
    let f = fetcher.fetch(w, cancel).await?;
    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let how = if f.downloaded == 0 {
        "from the cache".to_owned()
    } else {
        format!(
            "downloaded {} bytes in {:.1} s",
            f.downloaded,
            started.elapsed().as_secs_f64()
        )
    };
    log.fbs(&format!(
        "koji: [{n}/{total}] {} {how}, verified",
        w.file_name
    ));
    Ok(f)
}

/// Put the cached file at `to`: a hard link, or a copy across filesystems.
fn place(from: &Path, to: &Path) -> Result<(), SideRepoError> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(SideRepoError::io("copy into the side repo", from))
}

/// `createrepo_c` (or, on old hosts, `createrepo`) over `dir`.
async fn createrepo(
    settings: &SideRepoSettings,
    dir: &Path,
    log: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<(), SideRepoError> {
    let program = ["createrepo_c", "createrepo"]
        .into_iter()
        .find(|p| on_path(p))
        .ok_or(SideRepoError::NoCreaterepo)?;
    let cmd = Cmd::new(program)
        .arg("--no-database")
        .arg(dir)
        .timeout(settings.tool_timeout);
    match runner::run(&cmd, log, cancel).await {
        Ok(_) => Ok(()),
        Err(runner::RunError::Canceled { .. }) => Err(SideRepoError::Canceled),
        Err(e) if e.is_not_found() => Err(SideRepoError::NoCreaterepo),
        Err(e) => Err(SideRepoError::Createrepo(e)),
    }
}

/// True when `program` is an executable file in `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fbs_core::spec::KojiBuilds;

    #[test]
    fn build_refs_skip_blanks_and_repeats() {
        let toml = r#"
            type = "boot"
            arch = "x86_64"
            release = "40"
            staging = "file:///tmp/s"
            email = "a@b.c"
            [boot]
            repos = [{ name = "f", url = "file:///r" }]
        "#;
        let mut spec = fbs_core::spec::parse_spec(
            toml.as_bytes(),
            Path::new("t.toml"),
            fbs_core::spec::SpecFormat::Toml,
        )
        .expect("spec")
        .spec;
        spec.koji = KojiBuilds {
            nvrs: vec!["a-1-1".into(), "".into(), " a-1-1 ".into(), "b-2-1".into()],
            build_ids: vec![7, 7],
        };
        assert_eq!(
            build_refs(&spec),
            [
                BuildRef::Nvr("a-1-1".into()),
                BuildRef::Nvr("b-2-1".into()),
                BuildRef::Id(7)
            ]
        );
        assert_eq!(meta_key(&BuildRef::Id(7)), "id-7");
    }
}
