//! Path traversal through the job-id segment: `../`, percent- and double-encoded, absolute,
//! NUL — nothing but a 4xx, never a file's contents.

use axum::body::Body;
use axum::http::Request;

use super::TestApp;

#[tokio::test]
async fn the_job_id_segment_never_reaches_the_file_system() {
    let app = TestApp::new().await;
    // A secret beside the job directories, and one a level up.
    std::fs::write(app.work_dir().join("secret.log"), "TOP-SECRET-1\n").expect("write");
    std::fs::write(app.dir.path().join("build.log"), "TOP-SECRET-2\n").expect("write");
    let attempts = [
        "..",
        "../secret.log",
        "..%2Fsecret.log",
        "..%2f..%2fbuild.log",
        "%2e%2e%2fsecret.log",
        "%252e%252e%252fsecret.log",
        "..%252fsecret.log",
        "%2Fetc%2Fpasswd",
        "%2F",
        "/etc/passwd",
        "secret.log%00",
        "%00",
        "00000000-0000-7000-8000-000000000000%00.log",
        "00000000-0000-7000-8000-000000000000%2F..%2F..%2Fbuild.log",
        "..%5c..%5cbuild.log",
        "%C0%AE%C0%AE%2Fsecret.log",
        "%ff%fe",
    ];
    for a in attempts {
        for tail in ["", "/log", "/log?follow=1", "/cancel", "/retry"] {
            let uri = format!("/api/v1/jobs/{a}{tail}");
            let method = if tail == "/cancel" || tail == "/retry" {
                "POST"
            } else {
                "GET"
            };
            let Ok(req) = Request::builder()
                .method(method)
                .uri(&uri)
                .header("authorization", format!("Bearer {}", app.token))
                .body(Body::empty())
            else {
                continue; // Not even a valid request target.
            };
            let (s, _, body) = app.call(req).await;
            let text = String::from_utf8_lossy(&body);
            assert!(s.is_client_error(), "{method} {uri}: {s} {text}");
            assert!(!text.contains("TOP-SECRET"), "{uri} leaked: {text}");
            assert!(!text.contains("root:"), "{uri} leaked: {text}");
        }
        let (s, _, body) = app.get(&format!("/jobs/{a}")).await;
        assert!(s.is_client_error(), "/jobs/{a}: {s}");
        assert!(!String::from_utf8_lossy(&body).contains("TOP-SECRET"));
    }
}
