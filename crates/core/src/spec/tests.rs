//! Unit tests of the spec readers (the samples and the malformed corpus are integration tests).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

/// The `[boot]` example of reference/fbs-formats.md.
const OLD_BOOT: &str = "[DEFAULT]
type=boot
arch=x86_64
release=17
staging=file:///tmp/staging
email=qa@example.org

[boot]
product=fedora
release=17
version=17
updates=0
updates-testing=0
17_url=http://download.fedoraproject.org/releases/17/Everything/x86_64/os
17_mirror=http://mirrors.fedoraproject.org/metalink?repo=fedora-17&arch=x86_64
proxy=
nvr=wget-1.13.4-4.fc17
bid=
outdir=/tmp/lorax_op
workdir=/tmp/lorax_work
";

fn ini(text: &str) -> Result<LoadedSpec, SpecErrors> {
    parse_spec(text.as_bytes(), Path::new("dir/t.conf"), SpecFormat::Ini)
}

fn toml(text: &str) -> Result<LoadedSpec, SpecErrors> {
    parse_spec(text.as_bytes(), Path::new("dir/t.toml"), SpecFormat::Toml)
}

fn errors(result: Result<LoadedSpec, SpecErrors>) -> Vec<String> {
    match result {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

fn loaded(result: Result<LoadedSpec, SpecErrors>) -> LoadedSpec {
    result.unwrap_or_else(|e| panic!("rejected:\n{e}"))
}

#[test]
fn the_2012_boot_example_reads_as_the_old_tool_did() {
    let l = loaded(ini(OLD_BOOT));
    let s = &l.spec;
    assert_eq!((s.arch, s.release.as_str()), (Arch::X86_64, "17"));
    assert_eq!(
        s.staging,
        Staging::File {
            path: "/tmp/staging".into()
        }
    );
    assert_eq!(s.koji.nvrs, ["wget-1.13.4-4.fc17"]);
    assert!(s.koji.build_ids.is_empty());
    let ImageOptions::Boot(b) = &s.image else {
        panic!("not boot: {s:?}")
    };
    assert_eq!((b.product.as_str(), b.version.as_str()), ("fedora", "17"));
    let repos: Vec<_> = b.repos.iter().map(|r| (r.name.as_str(), r.kind)).collect();
    assert_eq!(
        repos,
        [
            ("fedora", RepoKind::Baseurl),
            ("fedora", RepoKind::Mirrorlist)
        ]
    );
    assert_eq!(b.proxy, None);
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(l.warnings[0].contains("outdir (line 19), workdir (line 20)"));
    assert_eq!(
        s.summary(),
        "boot x86_64/17 fedora 17 → file:///tmp/staging"
    );
}

#[test]
fn defaults_aliases_and_bare_ftp_hosts() {
    let text = "[DEFAULT]\ntype=live\narch=i386\nrelease=rawhide\nstaging=ftp.example.org\n\
                email=a@b\n[live]\nlabel=L\nconfig=x.ks\nbid=1; 2;;\n";
    let s = loaded(ini(text)).spec;
    assert_eq!(s.arch, Arch::I686);
    assert_eq!(s.staging.redacted(), "ftp://ftp.example.org/pub/");
    assert_eq!(s.koji.build_ids, [1, 2]);
    let ImageOptions::Live(l) = &s.image else {
        panic!("not live")
    };
    assert_eq!((l.title.as_str(), l.product.as_str()), ("L", "Fedora"));
    assert_eq!(l.releasever, "rawhide");
    assert_eq!(
        l.kickstart,
        KickstartSource::Path(PathBuf::from("dir/x.ks"))
    );
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let text = "[DEFAULT]\ntype=dvd\narch=sparc\nrelease=17\nstaging=http://x/\n\
                email=nobody\n[dvd]\nstage=Z\nnosource=yes\nnvr=a-1-1;broken;\nbid=x\n";
    let errs = errors(ini(text));
    let expected = [
        "dir/t.conf:3: [DEFAULT] arch: `sparc` is not one of",
        "dir/t.conf:5: [DEFAULT] staging: scheme `http` is not file, ftp or ftps",
        "dir/t.conf:6: [DEFAULT] email: `nobody` is not a mail address",
        "dir/t.conf:10: [dvd] nvr: `broken` is not NAME-VERSION-RELEASE",
        "dir/t.conf:11: [dvd] bid: `x` is not a Koji build id",
        "dir/t.conf:9: [dvd] nosource: `yes` is not 0 or 1",
        "dir/t.conf:8: [dvd] stage: `Z` is not one of all, G, C, B, I",
        "dir/t.conf:7: [dvd] config: missing",
    ];
    for want in expected {
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "{want}\n{errs:#?}"
        );
    }
    assert_eq!(errs.len(), expected.len(), "{errs:#?}");
}

#[test]
fn updates_need_their_url_and_inherited_values_point_at_default() {
    let text = OLD_BOOT
        .replace("updates=0", "updates=1")
        .replace("nvr=wget", "nvr=w");
    let errs = errors(ini(&text));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("dir/t.conf:12: [boot] 17-updates_url: missing"))
    );
    let text = "[DEFAULT]\ntype=boot\narch=x86_64\nrelease=17\nstaging=file:///s\nemail=a@b\n\
                17_url=gopher://x\n[boot]\n";
    let errs = errors(ini(text));
    assert_eq!(
        errs,
        ["dir/t.conf:7: [DEFAULT] 17_url: scheme `gopher` is not http, https, ftp or file"]
    );
}

#[test]
fn syntax_errors_and_missing_sections() {
    let errs = errors(ini("[DEFAULT]\ntype=boot\ntype=dvd\n[boot]\n[boot]\n"));
    assert_eq!(
        errs[0],
        "dir/t.conf:3: [DEFAULT] type: set twice (first on line 2)"
    );
    assert_eq!(
        errs[1],
        "dir/t.conf:5: [boot] section appears twice (first on line 4)"
    );
    let errs = errors(ini(
        "[DEFAULT]\ntype=live\narch=x86_64\nrelease=17\nstaging=h\nemail=a@b\n",
    ));
    assert_eq!(
        errs,
        ["dir/t.conf:2: [DEFAULT] type: type live needs a [live] section, and the file has none"]
    );
    let errs = errors(ini("[live]\nlabel=x\n"));
    assert!(
        errs[0].starts_with("dir/t.conf:1: [DEFAULT] type: missing"),
        "{errs:?}"
    );
}

#[test]
fn unknown_ini_keys_are_one_warning() {
    let text = format!("{OLD_BOOT}label=x\n18_url=http://x/\n");
    let l = loaded(ini(&text));
    assert_eq!(l.warnings.len(), 2);
    assert_eq!(
        l.warnings[1],
        "unknown keys, ignored: [boot] label (line 21), [boot] 18_url (line 22)"
    );
}

#[test]
fn builder_must_suit_the_type() {
    let errs = errors(ini(&format!("{OLD_BOOT}builder=kiwi\n")));
    assert_eq!(
        errs,
        ["dir/t.conf:21: [boot] builder: `kiwi` builds live images, not boot"]
    );
    let l = loaded(ini(&format!(
        "{OLD_BOOT}builder=native\nsource_date_epoch=0\n"
    )));
    assert_eq!(
        (l.spec.builder, l.spec.source_date_epoch),
        (BuilderChoice::Native, Some(0))
    );
}

#[test]
fn toml_infers_the_type_and_takes_integers_for_releases() {
    let text = "arch = \"x86_64\"\nrelease = 40\nstaging = \"ftps://u:pw@h/up\"\nemail = \"a@b.c\"\n\
                [live]\nlabel = \"L\"\nkickstart = \"https://h/x.ks\"\n";
    let s = loaded(toml(text)).spec;
    assert_eq!(s.release, "40");
    assert_eq!(s.staging.redacted(), "ftps://u:***@h/up");
    assert!(matches!(s.kickstart(), Some(KickstartSource::Url(_))));
}

#[test]
fn toml_errors_name_line_table_and_key() {
    let base = "type = \"live\"\narch = \"x86_64\"\nrelease = \"17\"\nstaging = \"file:///s\"\n\
                email = \"a@b\"\n\n[live]\nlabel = \"L\"\nkickstart = \"k.ks\"\n";
    let errs = errors(toml(&format!("{base}bogus = 1\n")));
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("dir/t.toml:10: [live] bogus: unknown field `bogus`"),
        "{errs:?}"
    );
    let errs = errors(toml(&base.replace("label = \"L\"", "label = 3")));
    assert!(
        errs[0].starts_with("dir/t.toml:8: [live] label: invalid type: integer"),
        "{errs:?}"
    );
    let errs = errors(toml(
        &base
            .replace("label = \"L\"\n", "")
            .replace("\"x86_64\"", "\"vax\""),
    ));
    assert!(errs[0].starts_with("dir/t.toml:2: arch: `vax`"), "{errs:?}");
    assert_eq!(errs[1], "dir/t.toml:7: [live] label: missing");
    let errs = errors(toml(&format!("{base}[boot]\nrepos = []\n")));
    assert_eq!(
        errs,
        ["dir/t.toml:10: [boot] table given, but the spec's type is live"]
    );
}

#[test]
fn toml_update_flags_agree_with_the_repos() {
    let text = "type = \"boot\"\narch = \"x86_64\"\nrelease = \"17\"\nstaging = \"h\"\nemail = \"a@b\"\n\
                [boot]\nupdates_testing = true\nrepos = [{ name = \"fedora\", url = \"http://h/\" },\n\
                { name = \"updates\", url = \"http://h/u/\" }]\n";
    let errs = errors(toml(text));
    assert_eq!(
        errs,
        [
            "dir/t.toml:7: [boot] updates_testing: true, but no repo named `updates-testing` is listed"
        ]
    );
    let s = loaded(toml(&text.replace("updates_testing = true\n", ""))).spec;
    let ImageOptions::Boot(b) = s.image else {
        panic!("not boot")
    };
    assert!(b.updates && !b.updates_testing);
}

#[test]
fn load_spec_reports_unreadable_files() {
    let e = load_spec(Path::new("/nonexistent/x.toml"))
        .err()
        .map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.starts_with("/nonexistent/x.toml: cannot open")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn readers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_spec(&bytes, Path::new("p.conf"), SpecFormat::Ini);
        let _ = parse_spec(&bytes, Path::new("p.toml"), SpecFormat::Toml);
    }

    #[test]
    fn readers_never_panic_on_spec_like_text(lines in proptest::collection::vec(
        prop_oneof![
            Just("[DEFAULT]"), Just("[boot]"), Just("[dvd]"), Just("[live]"), Just("[koji]"),
            Just("type=boot"), Just("type=live"), Just("type = \"dvd\""), Just("arch=i386"),
            Just("release=17"), Just("release = 17"), Just("staging=h"), Just("email=a@b"),
            Just("17_url=http://h/"), Just("updates=1"), Just("nvr=a-1-1;;"), Just("bid=;x;"),
            Just("label=L"), Just("config=k.ks"), Just("repos = [{ url = \"x\" }]"),
            Just("  continued"), Just("label = \"\""), Just("= x"), Just("stage=G"),
        ],
        0..20,
    )) {
        let text = lines.join("\n");
        let _ = parse_spec(text.as_bytes(), Path::new("p.conf"), SpecFormat::Ini);
        let _ = parse_spec(text.as_bytes(), Path::new("p.toml"), SpecFormat::Toml);
    }
}
