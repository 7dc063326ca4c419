//! `POST /api/v1/jobs`: auth, body types, validation errors with line and key, size limits.

use axum::http::StatusCode;
use fbs_core::queue::JobStore;

use super::{TestApp, boot_toml, error_of, live_toml};

const JOBS: &str = "/api/v1/jobs";

#[tokio::test]
async fn a_toml_spec_is_queued_with_a_token() {
    let app = TestApp::new().await;
    let (s, v) = app
        .post(JOBS, "application/toml", boot_toml("17"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, v) = app
        .post(JOBS, "application/toml", boot_toml("17"), Some("fbs_nope"))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let read = crate::auth::sign::read_token(b"test-secret", fbs_core::job::JobId::new());
    let (s, v) = app
        .post(JOBS, "application/toml", boot_toml("17"), Some(&read))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app
        .post(JOBS, "application/toml", boot_toml("17"), Some(&app.token))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id: fbs_core::job::JobId = v["id"].as_str().expect("id").parse().expect("uuid");
    let rec = app.store.get(id).await.expect("get").expect("stored");
    assert_eq!(rec.queue.as_str(), "fbs:x86_64:17");
    assert_eq!(rec.submitter, "qa@example.org");
}

#[tokio::test]
async fn spec_errors_name_line_and_key_as_fbs_validate_does() {
    let app = TestApp::new().await;
    let bad = boot_toml("17").replace("x86_64", "sparc");
    let (s, v) = app
        .post(JOBS, "application/toml", bad.clone(), Some(&app.token))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The same reader `fbs validate` uses, so the same message.
    let expected = fbs_core::spec::parse_spec(
        bad.as_bytes(),
        std::path::Path::new("spec.toml"),
        fbs_core::spec::SpecFormat::Toml,
    )
    .expect_err("invalid")
    .to_string();
    assert_eq!(error_of(&v), expected);
    assert!(error_of(&v).starts_with("spec.toml:2: arch: "), "{v}");
    assert_eq!(v["field"].as_str(), Some("arch"));
    let (s, v) = app
        .post(
            JOBS,
            "application/toml",
            "type = \"live\"\n",
            Some(&app.token),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test]
async fn json_bodies_carry_ini_or_toml_and_the_kickstart() {
    let app = TestApp::new().await;
    let ini = "[DEFAULT]\ntype = boot\narch = x86_64\nrelease = 17\nstaging = file:///tmp/s\nemail = qa@example.org\n\n[boot]\nfedora_url = http://example.org/os/\n";
    let body = serde_json::json!({ "spec_ini": ini }).to_string();
    let (s, v) = app
        .post(JOBS, "application/json", body, Some(&app.token))
        .await;
    assert!(
        s == StatusCode::CREATED || s == StatusCode::UNPROCESSABLE_ENTITY,
        "{s}: {v}"
    );
    let live = serde_json::json!({ "spec_toml": live_toml("Test-Live") }).to_string();
    let (s, v) = app
        .post(JOBS, "application/json", live, Some(&app.token))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kickstart")),
        "{v}"
    );
    assert!(error_of(&v).contains("`live.ks`"), "{v}");
    let ks = "lang en_US.UTF-8\n%packages\nbash\n%end\n";
    let live = serde_json::json!({ "spec_toml": live_toml("Test-Live"), "kickstart": ks });
    let (s, v) = app
        .post(JOBS, "application/json", live.to_string(), Some(&app.token))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().expect("id").parse().expect("uuid");
    let rec = app.store.get(id).await.expect("get").expect("stored");
    assert_eq!(rec.kickstart.as_deref(), Some(ks));
    let incl =
        serde_json::json!({ "spec_toml": live_toml("L"), "kickstart": "%include base.ks\n" });
    let (s, v) = app
        .post(JOBS, "application/json", incl.to_string(), Some(&app.token))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(error_of(&v).contains("fbs ks flatten"), "{v}");
    let boot_ks = serde_json::json!({ "spec_toml": boot_toml("17"), "kickstart": ks });
    let (s, _) = app
        .post(
            JOBS,
            "application/json",
            boot_ks.to_string(),
            Some(&app.token),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn malformed_unsupported_and_oversized_bodies_are_refused() {
    let app = TestApp::with(|c| c.max_body_bytes = 4096, crate::state::Role::Webapp).await;
    let t = Some(app.token.as_str());
    let (s, v) = app.post(JOBS, "application/json", "{not json", t).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body"))
    );
    let (s, _) = app
        .post(
            JOBS,
            "application/json",
            r#"{"spec_toml":"a","spec_ini":"b"}"#,
            t,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .post(JOBS, "application/json", r#"{"other":1}"#, t)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app.post(JOBS, "application/xml", "<spec/>", t).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!("{}# {}\n", boot_toml("17"), "x".repeat(8192));
    let (s, v) = app.post(JOBS, "application/toml", big, t).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(error_of(&v).contains("4096"));
    let (s, _) = app
        .post(JOBS, "application/toml", vec![0xff, 0xfe, 0x00], t)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn kickstart_urls_are_fetched_only_from_the_allow_list() {
    let app = TestApp::new().await;
    let spec = live_toml("L").replace("\"live.ks\"", "\"http://127.0.0.1:9/ks/live.ks\"");
    let (s, v) = app
        .post(JOBS, "application/toml", spec, Some(&app.token))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"].as_str(), Some("kickstart_url"));
    assert!(error_of(&v).contains("allow-list"), "{v}");
}
