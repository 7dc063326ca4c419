//! Table-driven tests of the adapters: the exact argv for every sample spec in
//! `conf/examples`, output discovery on fake output trees, and `auto` selection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use fbs_core::kickstart::{Kickstart, flatten_file};
use fbs_core::spec::{BuildSpec, ImageOptions, ImageType, load_spec};

use super::tool::tests::fake_iso;
use super::*;
use crate::builder::{BuildContext, BuildError, BuildReport};
use crate::siderepo::{SideRepo, inject};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/examples")
}

fn spec(name: &str) -> BuildSpec {
    load_spec(&examples().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .spec
}

fn side() -> SideRepo {
    SideRepo {
        dir: "/j/work/siderepo".into(),
        builds: vec!["wget-1.13.4-4.fc17".into()],
        packages: vec!["curl".into(), "wget".into()],
        files: Vec::new(),
        downloaded_bytes: 0,
        from_cache: 0,
    }
}

fn kickstart(example: &str) -> Kickstart {
    let path = examples().join(example);
    let flat = flatten_file(&path, &examples()).expect("flattens");
    let with_side = inject::kickstart(&flat.text, &side()).expect("injects");
    Kickstart::parse(&with_side.text, example).expect("parses")
}

#[test]
fn lorax_argv_for_the_boot_samples() {
    for name in ["boot.conf", "boot.toml"] {
        let s = spec(name);
        let ImageOptions::Boot(b) = &s.image else {
            panic!("{name} is boot")
        };
        let (out, work) = (Path::new("/j/output/lorax"), Path::new("/j/work/lorax"));
        let mut input = lorax::LoraxInput {
            spec: &s,
            boot: b,
            out,
            work,
            side: None,
            repo_file: None,
        };
        let argv = lorax::argv(&input);
        let want: Vec<&str> = vec![
            "-p",
            "fedora",
            "-v",
            "17",
            "-r",
            "17",
            "-s",
            "http://archives.fedoraproject.org/pub/archive/fedora/linux/releases/17/Everything/x86_64/os/",
            "-m",
            "https://mirrors.fedoraproject.org/metalink?repo=fedora-17&arch=x86_64",
            "-s",
            "http://archives.fedoraproject.org/pub/archive/fedora/linux/updates/17/x86_64/",
            "--buildarch=x86_64",
            "--volid=FEDORA-17-X86_64",
            "--nomacboot",
            "--tmp=/j/work/lorax/tmp",
            "/j/output/lorax",
        ];
        assert_eq!(argv, want, "{name}");
        assert!(
            !argv.iter().any(|a| a == "--buildarch="),
            "{name}: split --buildarch"
        );

        let side = side();
        input.side = Some(&side);
        let argv = lorax::argv(&input);
        let tail: Vec<&str> = argv[6..10].iter().map(String::as_str).collect();
        assert_eq!(
            tail[..2],
            [
                "-s",
                "http://archives.fedoraproject.org/pub/archive/fedora/linux/releases/17/Everything/x86_64/os/"
            ],
            "{name}"
        );
        assert!(
            argv.windows(2)
                .any(|w| w[0] == "-s" && w[1] == "file:///j/work/siderepo"),
            "{argv:?}"
        );
        let repo = Path::new("/j/work/lorax/base.repo");
        input.repo_file = Some(repo);
        let argv = lorax::argv(&input);
        assert_eq!(argv[6], "--repo=/j/work/lorax/base.repo");
        assert_eq!(argv[7..9], ["-s", "file:///j/work/siderepo"]);
        let text = lorax::repo_file(b, &side);
        assert_eq!(text.matches("excludepkgs=curl,wget\n").count(), 3, "{text}");
        assert!(
            text.contains(
                "mirrorlist=https://mirrors.fedoraproject.org/metalink?repo=fedora-17&arch=x86_64\n"
            ),
            "{text}"
        );
    }
    assert_eq!(lorax::major_version("lorax-39.5\n"), Some(39));
    assert_eq!(lorax::major_version("lorax-18.31"), Some(18));
}

#[test]
fn livemedia_and_livecd_argv_for_the_live_samples() {
    for name in ["live.conf", "live.toml"] {
        let s = spec(name);
        let ImageOptions::Live(l) = &s.image else {
            panic!("{name} is live")
        };
        let ks = Path::new("/j/work/x/job.ks");
        let argv = livemedia::argv(
            l,
            ks,
            Path::new("/j/output/livemedia"),
            Path::new("/j/work/livemedia"),
        );
        assert_eq!(
            argv,
            [
                "--make-iso",
                "--no-virt",
                "--ks=/j/work/x/job.ks",
                "--resultdir=/j/output/livemedia",
                "--project=Fedora",
                "--releasever=17",
                "--volid=FEDORA-17-FBS-LIVE",
                "--iso-only",
                "--iso-name=FEDORA-17-FBS-LIVE.iso",
                "--title=Fedora 17 FBS Live",
                "--logfile=/j/work/livemedia/livemedia.log",
                "--tmp=/j/work/livemedia/tmp",
                "--nomacboot",
            ],
            "{name}"
        );
        let argv = livecd::argv(l, ks, Path::new("/j/work/livecd"));
        assert_eq!(
            argv,
            [
                "-c",
                "/j/work/x/job.ks",
                "-f",
                "FEDORA-17-FBS-LIVE",
                "--title",
                "Fedora 17 FBS Live",
                "--product",
                "Fedora",
                "--releasever",
                "17",
                "-t",
                "/j/work/livecd/tmp",
                "--cache",
                "/j/work/livecd/cache",
                "--logfile",
                "/j/work/livecd/livecd.log",
            ],
            "{name}"
        );
        assert_eq!(
            kiwi::argv(
                Path::new("/j/work/kiwi/description"),
                Path::new("/j/output/kiwi")
            ),
            [
                "--profile",
                "Live",
                "system",
                "build",
                "--description",
                "/j/work/kiwi/description",
                "--target-dir",
                "/j/output/kiwi"
            ]
        );
    }
}

#[test]
fn pungi_argv_for_the_dvd_samples() {
    for name in ["dvd.conf", "dvd.toml"] {
        let s = spec(name);
        let ImageOptions::Dvd(d) = &s.image else {
            panic!("{name} is dvd")
        };
        let argv = pungi::legacy_argv(
            d,
            Path::new("/j/work/pungi/job.ks"),
            Path::new("/j/output/pungi"),
            Path::new("/j/work/pungi/cache"),
        );
        assert_eq!(
            argv,
            [
                "-c",
                "/j/work/pungi/job.ks",
                "--name",
                "Fedora",
                "--ver",
                "17",
                "--flavor",
                "Fedora",
                "--destdir",
                "/j/output/pungi",
                "--cachedir",
                "/j/work/pungi/cache",
                "--bugurl",
                "https://bugzilla.redhat.com",
                "--nosource",
                "--force",
                "--all-stages",
            ],
            "{name}"
        );
        assert_eq!(
            pungi::koji_argv(
                Path::new("/j/work/pungi/pungi.conf"),
                Path::new("/j/output/pungi")
            ),
            [
                "--config=/j/work/pungi/pungi.conf",
                "--target-dir=/j/output/pungi",
                "--test"
            ]
        );
    }
}

#[test]
fn generated_pungi_and_kiwi_configs_carry_the_side_repo_and_packages() {
    let s = spec("dvd.conf");
    let ImageOptions::Dvd(d) = &s.image else {
        panic!("dvd")
    };
    let f = pungi::compose_files(&s, d, &kickstart("fbs-dvd.ks"));
    assert!(
        f.config.contains("pkgset_source = \"repos\"\n"),
        "{}",
        f.config
    );
    assert!(
        f.config.contains("pkgset_repos = {\"x86_64\": [\"file:///j/work/siderepo\", \"http://archives.fedoraproject.org/pub/archive/fedora/linux/releases/17/Everything/x86_64/os/\""),
        "{}",
        f.config
    );
    assert!(
        f.config.contains(
            "filter_packages = [(\"^.*$\", {\"*\": [\"fprintd-pam\", \"gnome-initial-setup\"]"
        ),
        "{}",
        f.config
    );
    assert!(
        f.comps
            .contains("<packagereq type=\"mandatory\">anaconda</packagereq>"),
        "{}",
        f.comps
    );
    assert!(
        f.variants
            .contains("<group default=\"true\">standard</group>"),
        "{}",
        f.variants
    );
    assert!(
        f.warnings.iter().any(|w| w.contains("newer package")),
        "{:?}",
        f.warnings
    );

    let s = spec("live.conf");
    let ImageOptions::Live(l) = &s.image else {
        panic!("live")
    };
    let k = kiwi::description(&s, l, &kickstart("fbs-live.ks"));
    assert!(
        k.config.contains(
            "alias=\"fbs-side\" priority=\"1\">\n    <source path=\"dir:///j/work/siderepo\"/>"
        ),
        "{}",
        k.config
    );
    assert!(k.config.contains("alias=\"fedora\" priority=\"99\">\n    <source path=\"http://archives.fedoraproject.org/pub/archive/fedora/linux/releases/17/Everything/x86_64/os/\"/>"), "{}", k.config);
    assert!(
        k.config.contains("<package name=\"dracut-live\"/>"),
        "{}",
        k.config
    );
    assert!(
        k.config.contains("<ignore name=\"man-pages\"/>"),
        "{}",
        k.config
    );
    assert!(
        k.config.contains("<namedCollection name=\"core\"/>"),
        "{}",
        k.config
    );
    assert!(
        k.config.contains("volid=\"FEDORA-17-FBS-LIVE\""),
        "{}",
        k.config
    );
    assert!(
        k.script
            .contains("echo \"image: live\" >> /etc/fbs-release"),
        "{}",
        k.script
    );
    assert!(
        k.warnings.iter().any(|w| w.contains("--nochroot")),
        "{:?}",
        k.warnings
    );
}

#[test]
fn outputs_are_discovered_in_fake_trees() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lorax_out = tmp.path().join("lorax");
    assert!(lorax::discover(&lorax_out).is_err());
    fake_iso(&lorax_out.join("images/boot.iso"), "FEDORA-17-X86_64", true);
    fake_iso(&lorax_out.join("images/other.iso"), "X", false);
    let r = lorax::discover(&lorax_out).expect("boot.iso");
    assert_eq!(r.artifacts.len(), 1);
    assert_eq!(
        r.artifacts[0].volume_id.as_deref(),
        Some("FEDORA-17-X86_64")
    );

    // Legacy pungi: DESTDIR/VERSION/FLAVOR/ARCH/iso/.
    let pungi_out = tmp.path().join("pungi");
    fake_iso(
        &pungi_out.join("17/Fedora/i386/iso/Fedora-17-i386-DVD.iso"),
        "Fedora 17 i386",
        true,
    );
    fake_iso(
        &pungi_out.join("17/Fedora/i386/iso/Fedora-17-i386-netinst.iso"),
        "Fedora 17 i386",
        true,
    );
    std::fs::write(
        pungi_out.join("17/Fedora/i386/iso/Fedora-17-i386-CHECKSUM"),
        "x",
    )
    .expect("write");
    let arts = tool::iso_artifacts(&pungi_out, "pungi").expect("isos");
    let names: Vec<String> = arts
        .iter()
        .map(|a| {
            a.path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        ["Fedora-17-i386-DVD.iso", "Fedora-17-i386-netinst.iso"]
    );

    // pungi-koji: productmd images.json, paths relative to compose/.
    let compose = tmp.path().join("koji/Fedora-40-20260101.t.0/compose");
    fake_iso(
        &compose.join("Everything/x86_64/iso/Fedora-dvd.iso"),
        "Fedora-E-dvd-x86_64-40",
        true,
    );
    std::fs::create_dir_all(compose.join("metadata")).expect("mkdir");
    let images = serde_json::json!({
        "header": {"type": "productmd.images", "version": "1.2"},
        "payload": {"images": {"Everything": {"x86_64": [
            {"path": "Everything/x86_64/iso/Fedora-dvd.iso", "format": "iso", "type": "dvd",
             "volume_id": "Fedora-E-dvd-x86_64-40", "bootable": true, "arch": "x86_64"},
            {"path": "Everything/x86_64/images/efiboot.img", "format": "img", "type": "efi"},
            {"path": "../../../etc/passwd", "format": "iso"}
        ]}}}
    });
    std::fs::write(compose.join("metadata/images.json"), images.to_string()).expect("write");
    let arts = pungi::discover_compose(&tmp.path().join("koji")).expect("compose");
    assert_eq!(arts.len(), 1);
    assert!(
        arts[0]
            .path
            .ends_with("Everything/x86_64/iso/Fedora-dvd.iso")
    );
    assert_eq!(arts[0].bootable, Some(true));
    assert!(pungi::discover_compose(&tmp.path().join("lorax")).is_err());
}

#[derive(Debug)]
struct Fake(&'static str, bool);

#[async_trait]
impl Builder for Fake {
    fn name(&self) -> &'static str {
        self.0
    }
    fn available(&self) -> bool {
        self.1
    }
    async fn version(&self) -> Option<String> {
        None
    }
    async fn build(&self, _: &BuildContext) -> Result<BuildReport, BuildError> {
        Ok(BuildReport::default())
    }
}

#[test]
fn auto_takes_the_installed_fedora_tool_else_native() {
    let mut m: BTreeMap<&'static str, Arc<dyn Builder>> = BTreeMap::new();
    for (n, on) in [
        ("native", true),
        ("lorax", false),
        ("kiwi", true),
        ("livecd-creator", true),
    ] {
        m.insert(n, Arc::new(Fake(n, on)));
    }
    assert_eq!(auto_choice(&m, ImageType::Boot), "native");
    assert_eq!(auto_choice(&m, ImageType::Live), "kiwi");
    assert_eq!(auto_choice(&m, ImageType::Dvd), "native");
    let all = default_builders();
    let names: Vec<&str> = all.keys().copied().collect();
    assert_eq!(
        names,
        [
            "kiwi",
            "livecd-creator",
            "livemedia-creator",
            "lorax",
            "native",
            "pungi"
        ]
    );
}
