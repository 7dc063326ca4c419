//! The web UI: escaping, login with CSRF, the submit form with server-side validation.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};

use super::{TestApp, boot_spec};

fn cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// Log in through the form; returns the Cookie header for later requests.
async fn login(app: &TestApp) -> String {
    let (_, h, _) = app.get("/login").await;
    let csrf = cookie(&h, "fbs_csrf").expect("csrf cookie");
    let body = format!("csrf={csrf}&token={}", app.token);
    let bad = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "fbs_csrf=other")
        .body(Body::from(body.clone()))
        .expect("req");
    assert_eq!(
        app.call(bad).await.0,
        StatusCode::FORBIDDEN,
        "CSRF mismatch"
    );
    let req = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("fbs_csrf={csrf}"))
        .body(Body::from(body))
        .expect("req");
    let (s, h, _) = app.call(req).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let set = h["set-cookie"].to_str().expect("cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = cookie(&h, "fbs_session").expect("session");
    format!("fbs_csrf={csrf}; fbs_session={session}")
}

fn multipart(fields: &[(&str, &str)], csrf: &str) -> (String, String) {
    let b = "XfbsBoundary";
    let mut body =
        format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
    for (k, v) in fields {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}--\r\n"));
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn pages_escape_everything_a_job_supplies() {
    let app = TestApp::new().await;
    let mut spec = boot_spec("17");
    spec.release = "<script>alert(1)</script>".into();
    let j = app.add_job(spec).await;
    for page in ["/".to_owned(), format!("/jobs/{}", j.id), "/queues".into()] {
        let (s, h, body) = app.get(&page).await;
        let html = String::from_utf8_lossy(&body);
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(!html.contains("<script>alert"), "{page}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(html.contains("name=\"viewport\""));
        assert!(
            h["content-security-policy"]
                .to_str()
                .is_ok_and(|c| c.contains("script-src 'self'"))
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    let (s, _, body) = app.get("/workers").await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("No worker is alive"));
    let (s, h, _) = app.get("/static/app.js").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .is_ok_and(|c| c.contains("javascript"))
    );
}

#[tokio::test]
async fn the_form_needs_a_session_and_the_csrf_token() {
    let app = TestApp::new().await;
    let fields = [
        ("type", "boot"),
        ("arch", "x86_64"),
        ("release", "17"),
        ("repos", "fedora http://example.org/os/"),
        ("staging", "file:///tmp/s"),
        ("email", "qa@example.org"),
    ];
    let (ctype, body) = multipart(&fields, "abc");
    let req = Request::post("/submit")
        .header("content-type", &ctype)
        .header("cookie", "fbs_csrf=abc")
        .body(Body::from(body.clone()))
        .expect("req");
    assert_eq!(app.call(req).await.0, StatusCode::UNAUTHORIZED);
    let cookies = login(&app).await;
    let req = Request::post("/submit")
        .header("content-type", &ctype)
        .header("cookie", cookies.replace("fbs_csrf=", "fbs_csrf=x"))
        .body(Body::from(body))
        .expect("req");
    assert_eq!(app.call(req).await.0, StatusCode::FORBIDDEN);
    let csrf = cookies
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("fbs_csrf="))
        .expect("csrf");
    let (ctype, body) = multipart(&fields, csrf);
    let req = Request::post("/submit")
        .header("content-type", &ctype)
        .header("cookie", &cookies)
        .body(Body::from(body))
        .expect("req");
    let (s, h, _) = app.call(req).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = h["location"].to_str().expect("location");
    assert!(to.starts_with("/jobs/"), "{to}");
    let (s, _, html) = app.get(to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&html).contains("boot x86_64/17"));
}

#[tokio::test]
async fn the_form_shows_the_validators_messages() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = cookies
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("fbs_csrf="))
        .expect("csrf");
    let fields = [
        ("type", "live"),
        ("arch", "x86_64"),
        ("release", "40"),
        ("label", "x".repeat(40).leak() as &str),
        ("staging", "file:///tmp/s"),
        ("email", "not-a-mail"),
    ];
    let (ctype, body) = multipart(&fields, csrf);
    let req = Request::post("/submit")
        .header("content-type", &ctype)
        .header("cookie", &cookies)
        .body(Body::from(body))
        .expect("req");
    let (s, _, html) = app.call(req).await;
    let html = String::from_utf8_lossy(&html);
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("id=\"errors\""), "{html}");
    assert!(html.contains("email"), "{html}");
    assert!(html.contains("label"), "{html}");
    assert!(
        !html.contains("spec.toml:"),
        "form errors carry no generated line numbers"
    );
    // The values stay in the form.
    assert!(html.contains("value=\"not-a-mail\""));
}
