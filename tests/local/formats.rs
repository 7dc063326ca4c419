//! `fbs local` on boot, dvd and live specs, each in the 2012 INI format and in TOML, built
//! from the RPM fixtures.

use std::path::{Path, PathBuf};

use super::{Case, job_id, run};
use crate::helper::fixtures::fixtures;

fn ini(case: &Case, kind: &str, repo: &Path) -> PathBuf {
    let staging = case.path("staging");
    let section = match kind {
        "boot" => format!("[boot]\nproduct=Fedora\n40_url=file://{}\n", repo.display()),
        "dvd" => "[dvd]\nname=FBS\nconfig=dvd.ks\ndestdir=/tmp/ignored\n".to_owned(),
        _ => "[live]\nlabel=FBS-Formats-Live\nconfig=live.ks\n".to_owned(),
    };
    case.write(
        &format!("{kind}.conf"),
        &format!(
            "[DEFAULT]\ntype={kind}\narch=x86_64\nrelease=40\nstaging=file://{}\n\
             email=qa@example.org\n\n{section}",
            staging.display()
        ),
    )
}

fn toml(case: &Case, kind: &str, repo: &Path) -> PathBuf {
    let staging = case.path("staging");
    let table = match kind {
        "boot" => format!(
            "[boot]\nproduct = \"Fedora\"\nrepos = [{{ name = \"fixtures\", url = \"file://{}\" }}]\n",
            repo.display()
        ),
        "dvd" => "[dvd]\nname = \"FBS\"\nkickstart = \"dvd.ks\"\n".to_owned(),
        _ => "[live]\nlabel = \"FBS-Formats-Live\"\nkickstart = \"live.ks\"\n".to_owned(),
    };
    case.write(
        &format!("{kind}.toml"),
        &format!(
            "type = \"{kind}\"\narch = \"x86_64\"\nrelease = \"40\"\nstaging = \"file://{}\"\n\
             email = \"qa@example.org\"\n\n{table}",
            staging.display()
        ),
    )
}

#[test]
fn boot_dvd_and_live_build_from_both_formats() {
    let Some(fx) = fixtures() else {
        return;
    };
    let case = Case::new();
    let repo = fx.repo();
    let ks = |packages: &str| {
        format!(
            "repo --name=fixtures --baseurl=file://{}\npart / --size=1024\n%packages\n{packages}\n%end\n",
            repo.display()
        )
    };
    case.write(
        "live.ks",
        &ks("fbs-test-app\nfbs-test-sh\nkernel\nfbs-test-initramfs"),
    );
    case.write("dvd.ks", &ks("fbs-test-app\nfbs-test-sh"));
    let config = case.write("fbs.toml", "[worker]\nbuilder = \"native\"\n");
    for kind in ["boot", "dvd", "live"] {
        for spec in [ini(&case, kind, &repo), toml(&case, kind, &repo)] {
            let (code, out, err) = run(case.local(&spec, &config));
            assert_eq!(
                code,
                0,
                "{}:\nstdout:\n{out}\nstderr:\n{err}",
                spec.display()
            );
            let id = job_id(&err);
            let iso = PathBuf::from(out.lines().next().expect("an artifact path").trim());
            assert!(iso.extension().is_some_and(|e| e == "iso"), "{out}");
            assert!(iso.to_string_lossy().contains(&id), "{out}");
            let check = std::process::Command::new("checkisomd5")
                .arg(&iso)
                .output()
                .expect("checkisomd5");
            assert!(
                check.status.success(),
                "{} fails checkisomd5",
                iso.display()
            );
        }
    }
}
