//! `POST /submit`: the form's submission. Needs a session and the CSRF token; the fields are
//! turned into a TOML spec and checked by the same reader as `fbs validate`, whose messages
//! are shown beside the form on failure.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fbs_core::spec::SpecFormat;

use super::submit_form::{FormValues, render};
use super::{Page, error_page};
use crate::auth::{Access, session};
use crate::error::ApiError;
use crate::state::AppState;
use crate::submit::{self, Submission};

/// Handle a form post.
pub async fn submit_post(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let who = access.session.clone().or(access.token.clone());
    if who.is_none() {
        let e = ApiError::unauthorized("submitting needs a login with an API token");
        return error_page(&e, None);
    }
    let (values, kickstart, csrf) = match read(multipart).await {
        Ok(v) => v,
        Err(e) => return error_page(&e, who.as_deref()),
    };
    if let Err(e) = session::check_csrf(&headers, csrf.as_deref()) {
        return error_page(&e, who.as_deref());
    }
    let csrf = csrf.unwrap_or_default();
    let refuse = |status: StatusCode, errors: Vec<(Option<String>, String)>| {
        let mut p = Page::ok(render(&state, &access, &values, &csrf, &errors));
        p.status = status;
        p.into_response()
    };
    let spec = match to_toml(&values) {
        Ok(s) => s,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, vec![e]),
    };
    let sub = Submission {
        spec: spec.into_bytes(),
        format: SpecFormat::Toml,
        kickstart,
        kickstart_url: Some(values.kickstart_url.clone()).filter(|u| !u.trim().is_empty()),
    };
    let prepared = match submit::prepare(&state, sub).await {
        Ok(p) => p,
        Err(e) => {
            let errors = e
                .error
                .lines()
                .map(|l| (e.field.clone(), strip_location(l)))
                .collect();
            return refuse(e.status, errors);
        }
    };
    match submit::submit(&state, prepared).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.id)).into_response(),
        Err(e) => error_page(&e, who.as_deref()),
    }
}

/// `spec.toml:7: [live] label: missing` → `[live] label: missing` (the line is of the spec
/// made from the form, which the user never sees).
fn strip_location(line: &str) -> String {
    match line.strip_prefix("spec.toml:") {
        Some(rest) => rest
            .split_once(": ")
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            .map_or(rest, |(_, m)| m)
            .to_owned(),
        None => line.to_owned(),
    }
}

type FormParts = (FormValues, Option<String>, Option<String>);

async fn read(mut mp: Multipart) -> Result<FormParts, ApiError> {
    let mut v = FormValues::default();
    let mut ks = None;
    let mut csrf = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), format!("the form: {}", e.body_text()))
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "kickstart" {
            let bytes = field.bytes().await.map_err(bad)?;
            if !bytes.is_empty() {
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ApiError::invalid("the kickstart file is not UTF-8 text").field("kickstart")
                })?;
                ks = Some(text);
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let slot = match name.as_str() {
            "csrf" => {
                csrf = Some(text);
                continue;
            }
            "type" => &mut v.image_type,
            "arch" => &mut v.arch,
            "release" => &mut v.release,
            "repos" => &mut v.repos,
            "nvr" => &mut v.nvr,
            "bid" => &mut v.bid,
            "label" => &mut v.label,
            "kickstart_url" => &mut v.kickstart_url,
            "staging" => &mut v.staging,
            "email" => &mut v.email,
            _ => continue,
        };
        *slot = text;
    }
    Ok((v, ks, csrf))
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
}

/// The TOML spec the form describes; empty fields are left out so the reader names them.
pub fn to_toml(v: &FormValues) -> Result<String, (Option<String>, String)> {
    use toml::{Table, Value};
    let mut t = Table::new();
    let put = |t: &mut Table, k: &str, val: &str| {
        if !val.trim().is_empty() {
            t.insert(k.into(), Value::String(val.trim().to_owned()));
        }
    };
    put(&mut t, "type", &v.image_type);
    put(&mut t, "arch", &v.arch);
    put(&mut t, "release", &v.release);
    put(&mut t, "staging", &v.staging);
    put(&mut t, "email", &v.email);
    let nvrs: Vec<Value> = words(&v.nvr).map(|w| Value::String(w.into())).collect();
    let mut ids = Vec::new();
    for w in words(&v.bid) {
        let n: i64 = w.parse().map_err(|_| {
            (
                Some("bid".to_owned()),
                format!("Koji build id `{w}` is not a number"),
            )
        })?;
        ids.push(Value::Integer(n));
    }
    if !nvrs.is_empty() || !ids.is_empty() {
        let mut k = Table::new();
        k.insert("nvrs".into(), Value::Array(nvrs));
        k.insert("build_ids".into(), Value::Array(ids));
        t.insert("koji".into(), Value::Table(k));
    }
    let mut section = Table::new();
    let kickstart = if v.kickstart_url.trim().is_empty() {
        "uploaded.ks"
    } else {
        v.kickstart_url.trim()
    };
    match v.image_type.as_str() {
        "boot" => {
            let mut repos = Vec::new();
            for (i, line) in v.repos.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                let w: Vec<&str> = line.split_whitespace().collect();
                let (name, url) = match w.as_slice() {
                    [url] => (format!("repo{}", i + 1), *url),
                    [name, url, ..] => ((*name).to_owned(), *url),
                    [] => continue,
                };
                let mut r = Table::new();
                r.insert("name".into(), Value::String(name));
                r.insert("url".into(), Value::String(url.to_owned()));
                repos.push(Value::Table(r));
            }
            section.insert("repos".into(), Value::Array(repos));
        }
        "live" => {
            put(&mut section, "label", &v.label);
            section.insert("kickstart".into(), Value::String(kickstart.into()));
        }
        _ => {
            section.insert("kickstart".into(), Value::String(kickstart.into()));
        }
    }
    let key = match v.image_type.as_str() {
        "dvd" | "live" | "boot" => v.image_type.clone(),
        other => {
            return Err((
                Some("type".into()),
                format!("`{other}` is not boot, dvd or live"),
            ));
        }
    };
    t.insert(key, Value::Table(section));
    toml::to_string(&t).map_err(|e| (None, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_locations_are_stripped_and_toml_is_escaped() {
        assert_eq!(
            strip_location("spec.toml:7: [live] label: missing"),
            "[live] label: missing"
        );
        assert_eq!(strip_location("release: bad"), "release: bad");
        let v = FormValues {
            image_type: "live".into(),
            arch: "x86_64".into(),
            release: "40\"\n[evil]".into(),
            label: "L".into(),
            ..FormValues::default()
        };
        let t = to_toml(&v).expect("toml");
        let parsed: toml::Table = toml::from_str(&t).expect("parses back");
        assert_eq!(parsed["release"].as_str(), Some("40\"\n[evil]"));
        assert!(parsed.get("evil").is_none());
    }
}
