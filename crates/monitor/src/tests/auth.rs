//! Reads behind tokens: API tokens, per-job read tokens (the mailed link), sessions.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{TestApp, boot_spec};
use crate::auth::sign;
use crate::state::Role;

async fn locked() -> TestApp {
    TestApp::with(|c| c.read_token_required = true, Role::Webapp).await
}

#[tokio::test]
async fn with_read_tokens_required_lists_need_a_token() {
    let app = locked().await;
    for p in ["/api/v1/jobs", "/api/v1/workers", "/api/v1/queues"] {
        assert_eq!(app.get(p).await.0, StatusCode::UNAUTHORIZED, "{p}");
        let req = Request::get(p)
            .header("authorization", format!("Bearer {}", app.token))
            .body(Body::empty())
            .expect("req");
        assert_eq!(app.call(req).await.0, StatusCode::OK, "{p}");
    }
    let req = Request::get("/api/v1/jobs")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .expect("req");
    assert_eq!(app.call(req).await.0, StatusCode::UNAUTHORIZED);
    let (s, _, body) = app.get("/").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(&body).contains("/login"));
    // Health and metrics stay open for probes.
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_per_job_read_token_opens_that_job_only() {
    let app = locked().await;
    let a = app.add_job(boot_spec("17")).await;
    let b = app.add_job(boot_spec("17")).await;
    let ta = sign::read_token(b"test-secret", a.id);
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{}", a.id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{}?t={ta}", a.id)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{}/log?t={ta}", a.id))
            .await
            .0,
        StatusCode::OK
    );
    let (s, _, body) = app.get(&format!("/jobs/{}?t={ta}", a.id)).await;
    assert_eq!(s, StatusCode::OK);
    // The page's own log requests carry the token.
    assert!(String::from_utf8_lossy(&body).contains(&format!("t={ta}")));
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{}?t={ta}", b.id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/v1/jobs?t={ta}")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let last = if ta.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &ta[..ta.len() - 1]);
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{}?t={forged}", a.id))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // A read token never writes.
    let (s, _) = app
        .post(
            &format!("/api/v1/jobs/{}/cancel?t={ta}", a.id),
            "",
            "",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let app = TestApp::new().await;
    let (s, _) = app
        .post(
            "/api/v1/jobs/00000000-0000-7000-8000-000000000000/cancel",
            "",
            "",
            Some(&app.token),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let backend = app.state.backend().clone();
    assert!(
        crate::token::revoke(&backend, "tester")
            .await
            .expect("revoke")
    );
    let (s, _) = app
        .post(
            "/api/v1/jobs/00000000-0000-7000-8000-000000000000/cancel",
            "",
            "",
            Some(&app.token),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let t = crate::token::create(&backend, "ci").await.expect("create");
    assert!(t.starts_with("fbs_") && t.len() == 68, "{t}");
    assert!(
        crate::token::create(&backend, "ci").await.is_err(),
        "names are unique"
    );
    assert!(crate::token::create(&backend, "bad name").await.is_err());
    let listed = crate::token::list(&backend).await.expect("list");
    assert!(listed.iter().all(|x| x.hash != t), "only hashes are stored");
}
