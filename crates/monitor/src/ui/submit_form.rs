//! `GET /submit`: the submit form — type, arch, release, repositories (boot), Koji builds,
//! live label, kickstart (upload, or a URL on the allow-list), staging and email — and its
//! rendering with the values and errors of a refused post.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::Page;
use super::layout::page;
use crate::auth::{Access, session};
use crate::state::AppState;

/// What the form holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormValues {
    /// boot | dvd | live.
    pub image_type: String,
    /// The arch.
    pub arch: String,
    /// The release.
    pub release: String,
    /// Boot repositories, one `NAME URL` per line.
    pub repos: String,
    /// Koji NVRs, separated by spaces, commas or `;`.
    pub nvr: String,
    /// Koji build ids, likewise.
    pub bid: String,
    /// The live label.
    pub label: String,
    /// A kickstart URL.
    pub kickstart_url: String,
    /// file:///… or ftp://…
    pub staging: String,
    /// The submitter's mail.
    pub email: String,
}

/// The form page.
pub async fn submit_form(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Response {
    let (csrf, set) = session::csrf_token(&state, &headers);
    let values = FormValues {
        image_type: "boot".into(),
        arch: "x86_64".into(),
        ..FormValues::default()
    };
    let mut p = Page::ok(render(&state, &access, &values, &csrf, &[]));
    p.cookies.extend(set);
    p.into_response()
}

/// The form with `values` and `errors` (each `(field, message)`).
pub fn render(
    state: &AppState,
    access: &Access,
    v: &FormValues,
    csrf: &str,
    errors: &[(Option<String>, String)],
) -> Markup {
    let who = access.session.as_deref();
    let allow = &state.config().kickstart_url_allow;
    let sel = |a: &str, b: &str| a == b;
    let body = html! {
        h1 { "Submit a build" }
        @if who.is_none() {
            p.notice { "Submitting needs a login: " a href="/login" { "log in with an API token" } "." }
        }
        @if !errors.is_empty() {
            div.errors #errors role="alert" {
                p { strong { "The spec is not valid:" } }
                ul { @for (f, m) in errors { li data-field=[f.as_deref()] { (m) } } }
            }
        }
        form #submit method="post" action="/submit" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            div.grid {
                label { "Type"
                    select name="type" {
                        @for t in ["boot", "dvd", "live"] {
                            option value=(t) selected[sel(&v.image_type, t)] { (t) }
                        }
                    }
                }
                label { "Arch"
                    select name="arch" {
                        @for a in ["x86_64", "i686", "aarch64", "ppc64le", "s390x"] {
                            option value=(a) selected[sel(&v.arch, a)] { (a) }
                        }
                    }
                }
                label { "Release" input name="release" value=(v.release) placeholder="40"; }
                label { "Live label" input name="label" value=(v.label) placeholder="Fedora-40-Live" maxlength="32"; }
            }
            label { "Repositories (boot: one “NAME URL” per line)"
                textarea name="repos" rows="3" placeholder="fedora http://mirror.example.org/fedora/40/os/" { (v.repos) }
            }
            div.grid {
                label { "Koji NVRs" input name="nvr" value=(v.nvr) placeholder="wget-1.21-1.fc40"; }
                label { "Koji build ids" input name="bid" value=(v.bid) placeholder="123456"; }
            }
            div.grid {
                label { "Kickstart file (dvd, live)" input type="file" name="kickstart"; }
                label { "…or kickstart URL"
                    input name="kickstart_url" value=(v.kickstart_url) placeholder=(allow.first().map(String::as_str).unwrap_or("no URLs allowed here")) disabled[allow.is_empty()];
                }
            }
            div.grid {
                label { "Staging" input name="staging" value=(v.staging) placeholder="file:///srv/staging or ftp://host/pub/"; }
                label { "Email" input name="email" type="email" value=(v.email) placeholder="you@example.org"; }
            }
            button type="submit" { "Submit" }
        }
    };
    page("Submit", who, body)
}
