//! Turning a submission (API body or web form) into a job: the spec is read by the same
//! readers as `fbs validate` (so the errors read the same, naming line and key), the kickstart
//! comes as text (uploaded, flattened) or from a URL on `monitor.kickstart_url_allow` — the
//! monitor never reads a path named by a spec.

use std::path::Path;

use fbs_core::job::JobRecord;
use fbs_core::kickstart::{self, Item, Kickstart};
use fbs_core::spec::{self, BuildSpec, KickstartSource, SpecFormat};
use url::Url;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The largest kickstart a job may carry (as `fbs submit`).
pub const KICKSTART_LIMIT: u64 = 4 * 1024 * 1024;

/// A submission before validation.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The spec text.
    pub spec: Vec<u8>,
    /// Its format.
    pub format: SpecFormat,
    /// The kickstart text, when uploaded.
    pub kickstart: Option<String>,
    /// A kickstart URL to fetch (web form), checked against the allow-list.
    pub kickstart_url: Option<String>,
}

/// A validated job, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The spec.
    pub spec: BuildSpec,
    /// Its kickstart.
    pub kickstart: Option<String>,
    /// Warnings from reading the spec.
    pub warnings: Vec<String>,
}

/// The name the spec is given in error messages.
pub fn spec_name(format: SpecFormat) -> &'static str {
    match format {
        SpecFormat::Toml => "spec.toml",
        SpecFormat::Ini => "spec.conf",
    }
}

/// Validate a submission (see the module docs).
pub async fn prepare(state: &AppState, sub: Submission) -> ApiResult<Prepared> {
    let name = spec_name(sub.format);
    let loaded = spec::parse_spec(&sub.spec, Path::new(name), sub.format).map_err(|errs| {
        let first = errs.errors().first();
        let field = first.and_then(|e| match (&e.section, &e.key) {
            (Some(s), Some(k)) => Some(format!("{s}.{k}")),
            (None, Some(k)) => Some(k.clone()),
            (Some(s), None) => Some(s.clone()),
            (None, None) => None,
        });
        let mut err = ApiError::invalid(errs.to_string());
        err.field = field.or_else(|| Some("spec".into()));
        err
    })?;
    let url = sub.kickstart_url.filter(|u| !u.trim().is_empty());
    let kickstart = match (loaded.spec.kickstart(), sub.kickstart, url) {
        (None, None, None) => None,
        (None, _, _) => {
            return Err(ApiError::invalid(format!(
                "a {} spec takes no kickstart",
                loaded.spec.image_type()
            ))
            .field("kickstart"));
        }
        (Some(_), Some(_), Some(_)) => {
            return Err(
                ApiError::invalid("give the kickstart as text or as a URL, not both")
                    .field("kickstart"),
            );
        }
        (Some(_), Some(text), None) => Some(check_kickstart(&text)?),
        (Some(_), None, Some(u)) => Some(fetch_allowed(state, u.trim()).await?),
        (Some(KickstartSource::Url(u)), None, None) => {
            Some(fetch_allowed(state, u.as_str()).await?)
        }
        (Some(KickstartSource::Path(p)), None, None) => {
            return Err(ApiError::invalid(format!(
                "the spec names the kickstart file `{}`, which the server cannot read: send its text (flattened with `fbs ks flatten`) as `kickstart`",
                p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
            ))
            .field("kickstart"));
        }
    };
    Ok(Prepared {
        spec: loaded.spec,
        kickstart,
        warnings: loaded.warnings,
    })
}

/// Check uploaded kickstart text: size, syntax, and no `%include` of a relative file.
fn check_kickstart(text: &str) -> ApiResult<String> {
    if text.len() as u64 > KICKSTART_LIMIT {
        return Err(ApiError::too_large(format!(
            "the kickstart is larger than {} MiB",
            KICKSTART_LIMIT >> 20
        ))
        .field("kickstart"));
    }
    if text.trim().is_empty() {
        return Err(ApiError::invalid("the kickstart is empty").field("kickstart"));
    }
    let ks = Kickstart::parse(text, "kickstart")
        .map_err(|e| ApiError::invalid(e.to_string()).field("kickstart"))?;
    for item in &ks.items {
        if let Item::Include(inc) = item
            && !inc.path.starts_with('/')
        {
            return Err(ApiError::invalid(format!(
                "kickstart: `{}`: the server does not resolve includes; upload the flattened kickstart (`fbs ks flatten`)",
                inc.text().trim()
            ))
            .field("kickstart"));
        }
    }
    Ok(text.to_owned())
}

/// True when `url` lies under one of the allowed prefixes (same scheme, host and port, and a
/// path below the prefix's directory).
pub fn url_allowed(allow: &[String], url: &Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return false;
    }
    allow.iter().any(|p| {
        let Ok(prefix) = Url::parse(p) else {
            return false;
        };
        let mut dir = prefix.path().to_owned();
        if !dir.ends_with('/') {
            dir.push('/');
        }
        prefix.scheme() == url.scheme()
            && prefix.host_str() == url.host_str()
            && prefix.port_or_known_default() == url.port_or_known_default()
            && url.path().starts_with(&dir)
    })
}

async fn fetch_allowed(state: &AppState, raw: &str) -> ApiResult<String> {
    let url = Url::parse(raw).map_err(|e| {
        ApiError::invalid(format!("kickstart URL `{raw}`: {e}")).field("kickstart_url")
    })?;
    let allow = &state.config().kickstart_url_allow;
    if !url_allowed(allow, &url) {
        return Err(ApiError::invalid(format!(
            "kickstart URL {url} is not on this monitor's allow-list (monitor.kickstart_url_allow){}",
            if allow.is_empty() { "; upload the kickstart instead" } else { "" }
        ))
        .field("kickstart_url"));
    }
    let flat = kickstart::flatten_url(&url, KICKSTART_LIMIT)
        .await
        .map_err(|e| ApiError::invalid(e.to_string()).field("kickstart_url"))?;
    if let Some(u) = flat.urls.iter().find(|u| !url_allowed(allow, u)) {
        return Err(ApiError::invalid(format!(
            "kickstart URL {url} includes {u}, which is not on the allow-list"
        ))
        .field("kickstart_url"));
    }
    Ok(flat.text)
}

/// Store the job and queue it (the Redis store also queues its "submitted" mail).
pub async fn submit(state: &AppState, prepared: Prepared) -> ApiResult<JobRecord> {
    let job = JobRecord::new(prepared.spec, prepared.kickstart);
    // The Redis store queues the "submitted" notification with the record.
    state.jobs().submit(job.clone()).await?;
    tracing::info!(job = %job.id, queue = %job.queue, "job submitted");
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_matches_whole_origins_and_directories() {
        let allow = vec!["https://ks.example.org/fedora".to_string()];
        let ok = |u: &str| url_allowed(&allow, &Url::parse(u).expect("url"));
        assert!(ok("https://ks.example.org/fedora/live.ks"));
        assert!(!ok("https://ks.example.org/fedora-evil/live.ks"));
        assert!(!ok("https://ks.example.org.evil.net/fedora/live.ks"));
        assert!(!ok("http://ks.example.org/fedora/live.ks"));
        assert!(!ok("https://ks.example.org:8443/fedora/live.ks"));
        assert!(!ok("https://u@ks.example.org/fedora/live.ks"));
        assert!(!ok("https://ks.example.org/fedora/../etc/passwd"));
        assert!(!ok("file:///fedora/live.ks"));
    }

    #[test]
    fn uploaded_kickstarts_may_not_include_relative_files() {
        assert!(check_kickstart("%include base.ks\n").is_err());
        assert!(check_kickstart("%include /tmp/part.ks\n%packages\n%end\n").is_ok());
        assert!(check_kickstart("   \n").is_err());
    }
}
