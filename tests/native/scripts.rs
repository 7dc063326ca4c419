//! Kickstart `%post` scripts: the hidden config dir, `--log`, `--erroronfail`, and the
//! namespace-only chroot mounts.

use std::path::Path;

use fbs_worker::BuildError;
use fbs_worker::builders::native::NativeOptions;

use super::{build_direct, fx, live, spec};

#[tokio::test(flavor = "multi_thread")]
async fn a_post_script_cannot_see_the_hidden_config_dir() {
    let Some(fx) = fx() else { return };
    let secret_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(secret_dir.path().join("secret"), "hunter2\n").expect("secret");
    let secret = secret_dir.path().join("secret");
    let ks = format!(
        "repo --name=fixtures --baseurl=file://{repo}\n\
         %packages\nfbs-test-app\n%end\n\
         %post --nochroot\n\
         if cat {secret} > \"$INSTALL_ROOT/leaked\" 2>/dev/null; then echo seen; else rm -f \"$INSTALL_ROOT/leaked\"; echo hidden > \"$INSTALL_ROOT/secret-check\"; fi\n\
         %end\n\
         %post --log=/ks-post.log\n\
         if [ -e {secret} ]; then echo seen > /chroot-check; else echo hidden > /chroot-check; fi\n\
         echo chrooted post says hello\n\
         %end\n",
        repo = fx.repo_nokernel().display(),
        secret = secret.display()
    );
    let opts = NativeOptions {
        hide: vec![secret_dir.path().to_path_buf()],
        ..NativeOptions::default()
    };
    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Secret")),
        Some(ks),
        opts,
    )
    .await;
    let r = d.report();
    // No kernel in that repo: the ISO is made, marked not bootable, with a warning.
    assert_eq!(r.artifacts[0].bootable, Some(false));
    assert!(d.log().contains("the ISO will not boot"), "{}", d.log());
    let root = d.dirs.work.join("root");
    assert!(
        !root.join("leaked").exists(),
        "the %post read the hidden secret"
    );
    let check = std::fs::read_to_string(root.join("secret-check")).expect("the %post ran");
    assert_eq!(check.trim(), "hidden");
    let check = std::fs::read_to_string(root.join("chroot-check")).expect("the %post ran");
    assert_eq!(check.trim(), "hidden");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret").trim(),
        "hunter2",
        "the secret itself is untouched"
    );
    let log = std::fs::read_to_string(root.join("ks-post.log")).expect("--log written");
    assert!(log.contains("chrooted post says hello"), "{log}");
    // The chroot's /proc, /sys and /dev were mounted in the script's namespace only.
    assert!(
        std::fs::read_dir(root.join("proc"))
            .expect("proc")
            .next()
            .is_none()
    );
    assert!(
        std::fs::read_dir(root.join("dev"))
            .expect("dev")
            .next()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_post_stops_the_build_only_with_erroronfail() {
    let Some(fx) = fx() else { return };
    let ks = |flag: &str| {
        format!(
            "repo --name=fixtures --baseurl=file://{}\n%packages\nfbs-test-app\n%end\n\
             %post {flag}\necho about to fail\nexit 7\n%end\n",
            fx.repo_nokernel().display()
        )
    };
    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Fail")),
        Some(ks("--erroronfail")),
        NativeOptions::default(),
    )
    .await;
    let Err(e) = &d.result else {
        panic!("a failing %post --erroronfail did not fail the build")
    };
    assert!(matches!(e, BuildError::Input(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("%post #1 failed (--erroronfail)"), "{msg}");
    assert!(
        msg.contains("exit code 7") && msg.contains("about to fail"),
        "{msg}"
    );

    let d = build_direct(
        spec(Path::new("/nonexistent"), live("Fail")),
        Some(ks("")),
        NativeOptions::default(),
    )
    .await;
    d.report();
    assert!(d.log().contains("warning: %post #1 failed"), "{}", d.log());
}
