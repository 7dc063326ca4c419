//! The value rules both spec readers share (reference: fbs-formats.md, "Validation"). Each
//! check takes the text of one value and returns the typed value or a message; the readers add
//! the file, line and key.

use std::path::{Path, PathBuf};

use url::Url;

use super::model::{BuilderChoice, DvdStage, ImageType, KickstartSource, Staging, StagingLayout};

/// The longest live label: the ISO volume id is made from it and holds 32 characters.
pub(super) const MAX_LABEL: usize = 32;

/// `0` or `1`.
pub(super) fn flag(s: &str) -> Result<bool, String> {
    match s {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("{} is not 0 or 1", quote(s))),
    }
}

/// A release: `17`, `rawhide`, `f40`, `9.4` — it names queues and keys, so only letters,
/// digits, `.`, `_` and `-`.
pub(super) fn release(s: &str) -> Result<String, String> {
    let ok = s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{} is not a release (letters, digits, `.`, `_`, `-`; e.g. 17 or rawhide)",
            quote(s)
        ))
    }
}

/// One mail address, `local@domain`.
pub(super) fn email(s: &str) -> Result<String, String> {
    let bad = || {
        Err(format!(
            "{} is not a mail address (user@example.org)",
            quote(s)
        ))
    };
    let Some((local, domain)) = s.split_once('@') else {
        return bad();
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"@<>()[]\\,;:\"".contains(c));
    let domain_ok = domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(s.to_owned())
    } else {
        bad()
    }
}

/// `file:///path`, `ftp://[user[:pass]@]host[:port]/path`, `ftps://…`, or a bare host (the old
/// form: anonymous FTP upload to `pub/`).
pub(super) fn staging(s: &str) -> Result<Staging, String> {
    const FORMS: &str = "file:///path, ftp://host/path, ftps://host/path or an FTP host name";
    if !s.contains("://") {
        return bare_ftp_host(s).ok_or_else(|| {
            let hint = if s.starts_with('/') {
                format!(" (for a directory write file://{s})")
            } else {
                String::new()
            };
            format!("{} is not {FORMS}{hint}", quote(s))
        });
    }
    let url = Url::parse(s).map_err(|e| format!("{} is not a URL: {e}", quote(s)))?;
    match url.scheme() {
        "file" => {
            if url
                .host_str()
                .is_some_and(|h| !h.is_empty() && h != "localhost")
            {
                return Err(format!(
                    "{} names a host; a file:// staging directory is local (file:///path)",
                    quote(s)
                ));
            }
            let path = url
                .to_file_path()
                .map_err(|()| format!("{} is not a local directory", quote(s)))?;
            Ok(Staging::File { path })
        }
        "ftp" | "ftps" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Staging::Ftp { url }),
        "ftp" | "ftps" => Err(format!("{} has no host", quote(s))),
        other => Err(format!(
            "scheme `{other}` is not file, ftp or ftps ({FORMS})"
        )),
    }
}

/// `job` (one directory per job, the default) or `flat` (the 2012 service's file names).
pub(super) fn staging_layout(s: &str) -> Result<StagingLayout, String> {
    s.parse()
        .map_err(|_| format!("{} is not one of job, flat", quote(s)))
}

/// `host` or `host:port` → `ftp://host[:port]/pub/`.
fn bare_ftp_host(s: &str) -> Option<Staging> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (s, None),
    };
    let host_ok = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !host_ok {
        return None;
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    let url = Url::parse(&format!("ftp://{host}{port}/pub/")).ok()?;
    Some(Staging::Ftp { url })
}

/// `all`, `G`, `C`, `B` or `I`.
pub(super) fn stage(s: &str) -> Result<DvdStage, String> {
    match s {
        "all" => Ok(DvdStage::All),
        "G" => Ok(DvdStage::G),
        "C" => Ok(DvdStage::C),
        "B" => Ok(DvdStage::B),
        "I" => Ok(DvdStage::I),
        _ => Err(format!("{} is not one of all, G, C, B, I", quote(s))),
    }
}

/// A Koji `NAME-VERSION-RELEASE`.
pub(super) fn nvr(s: &str) -> Result<String, String> {
    let chars_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._+~^-".contains(c));
    let mut parts = s.rsplitn(3, '-');
    let shape_ok = parts.by_ref().take(3).filter(|p| !p.is_empty()).count() == 3;
    if chars_ok && shape_ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{} is not NAME-VERSION-RELEASE (e.g. wget-1.13.4-4.fc17)",
            quote(s)
        ))
    }
}

/// A Koji build id: a positive integer.
pub(super) fn build_id(s: &str) -> Result<i64, String> {
    s.parse::<i64>()
        .ok()
        .filter(|&n| n > 0 && s.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| format!("{} is not a Koji build id (a positive integer)", quote(s)))
}

/// A positive build id given as a number (TOML).
pub(super) fn build_id_number(n: i64) -> Result<i64, String> {
    build_id(&n.to_string())
}

/// `SOURCE_DATE_EPOCH`: seconds since 1970, not negative.
pub(super) fn epoch(n: i64) -> Result<i64, String> {
    if n >= 0 {
        Ok(n)
    } else {
        Err(format!("{n} is not a time (seconds since 1970, ≥ 0)"))
    }
}

/// The items of an old `;`-separated list; empty items (a trailing `;`) are dropped.
pub(super) fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(';')
        .map(|item| item.trim_matches(crate::ini::is_py_space))
        .filter(|item| !item.is_empty())
}

/// A repository or mirror-list URL: http, https, ftp or file.
pub(super) fn repo_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{} is not a URL: {e}", quote(s)))?;
    match url.scheme() {
        "file" => Ok(url),
        "http" | "https" | "ftp" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" | "ftp" => Err(format!("{} has no host", quote(s))),
        other => Err(format!("scheme `{other}` is not http, https, ftp or file")),
    }
}

/// A kickstart: an http, https or ftp URL (fetched by the client), a `file://` URL, or a path
/// relative to the spec's directory.
pub(super) fn kickstart(s: &str, spec_dir: &Path) -> Result<KickstartSource, String> {
    if !s.contains("://") {
        return Ok(KickstartSource::Path(spec_dir.join(s)));
    }
    let url = Url::parse(s).map_err(|e| format!("{} is not a URL: {e}", quote(s)))?;
    match url.scheme() {
        "http" | "https" | "ftp" if url.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(KickstartSource::Url(url))
        }
        "file" => url
            .to_file_path()
            .map(KickstartSource::Path)
            .map_err(|()| format!("{} is not a local file", quote(s))),
        "http" | "https" | "ftp" => Err(format!("{} has no host", quote(s))),
        other => Err(format!(
            "scheme `{other}` is not http, https or ftp (or give a path)"
        )),
    }
}

/// A live label: an ISO file-name stem and the source of the volume id.
pub(super) fn label(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_LABEL {
        return Err(format!(
            "{} is longer than {MAX_LABEL} characters (the ISO volume id is made from it)",
            quote(s)
        ));
    }
    if s.chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{} cannot name a file (no spaces or `/`)",
            quote(s)
        ));
    }
    Ok(s.to_owned())
}

/// A builder, which must be able to build the image type.
pub(super) fn builder(s: &str, ty: Option<ImageType>) -> Result<BuilderChoice, String> {
    let choice: BuilderChoice = s.parse()?;
    let builds = match choice {
        BuilderChoice::Auto | BuilderChoice::Native => None,
        BuilderChoice::Lorax => Some(ImageType::Boot),
        BuilderChoice::Pungi => Some(ImageType::Dvd),
        BuilderChoice::Kiwi | BuilderChoice::LivemediaCreator | BuilderChoice::LivecdCreator => {
            Some(ImageType::Live)
        }
    };
    match (builds, ty) {
        (Some(b), Some(t)) if b != t => Err(format!("`{s}` builds {b} images, not {t}")),
        _ => Ok(choice),
    }
}

/// A one-line text value (product names, versions, titles).
pub(super) fn text(s: &str) -> Result<String, String> {
    if s.chars().any(char::is_control) {
        Err(format!("{} must be one line of text", quote(s)))
    } else {
        Ok(s.to_owned())
    }
}

/// The directory a spec's relative paths are resolved against.
pub(super) fn spec_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A value in backquotes, shortened and with control characters escaped.
pub(super) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    let mut out = String::from("`");
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}
