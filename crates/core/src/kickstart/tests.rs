//! Unit tests: round-trip rendering, what is parsed, edits, and the reader's errors.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use super::*;

const SAMPLE: &str = "\
#version=DEVEL
# System language
lang en_US.UTF-8
keyboard --vckeymap=us --xlayouts='us'
timezone Europe/Prague --utc
url --mirrorlist=\"https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch\"
repo --name=fedora --baseurl=http://dl.example.org/pub/fedora/linux/releases/40/Everything/x86_64/os/
repo --name=\"updates test\" --metalink=https://m.example.org/metalink?repo=updates --cost 50 --excludepkgs=kernel*,dracut # pinned
part / --size=4096

%packages --excludedocs --nocore --instLangs=en
@core
@X Window System --optional
@^workstation-product-environment
bash   # the shell
kernel-*
-gnome-tour
-@printing

%end

%pre --interpreter=/usr/bin/python3 --log=/tmp/pre.log
print('%not a section')
%end
%post --nochroot --erroronfail
# a comment inside a script stays
echo done > $INSTALL_ROOT/etc/fbs-marker
%end
%addon com_redhat_kdump --disable
%end
";

#[test]
fn round_trip_is_exact() {
    let ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    assert_eq!(ks.to_string(), SAMPLE);
    for text in [
        "",
        "\n",
        "lang C",
        "lang C\r\npart / --size=1\r\n",
        "  \n\t# x\n%post\necho\n%end",
    ] {
        assert_eq!(Kickstart::parse(text, "t.ks").unwrap().to_string(), text);
    }
}

#[test]
fn parses_repos_and_url() {
    let ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    let repos: Vec<&Repo> = ks.repos().collect();
    assert_eq!(repos.len(), 2);
    assert_eq!(repos[0].name, "fedora");
    assert!(matches!(&repos[0].source, Some(RepoSource::Baseurl(u)) if u.ends_with("/os/")));
    assert_eq!(repos[1].name, "updates test");
    assert_eq!(repos[1].cost, Some(50));
    assert_eq!(repos[1].excludepkgs, ["kernel*", "dracut"]);
    let url = ks.url().unwrap();
    assert!(
        matches!(&url.source, Some(RepoSource::Mirrorlist(u)) if u.contains("$releasever&arch"))
    );
    let other: Vec<&str> = ks.commands().map(Command::name).collect();
    assert_eq!(
        other,
        [
            "lang", "keyboard", "timezone", "url", "repo", "repo", "part"
        ]
    );
}

#[test]
fn parses_packages() {
    let ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    let p = ks.packages().next().unwrap();
    assert!(p.header.flag("excludedocs") && p.header.flag("nocore"));
    assert_eq!(p.header.value("instLangs"), Some("en"));
    use PackageEntry::*;
    let e: Vec<&PackageEntry> = p.entries().collect();
    assert_eq!(
        e,
        [
            &Group {
                name: "core".into(),
                optional: false,
                nodefaults: false
            },
            &Group {
                name: "X Window System".into(),
                optional: true,
                nodefaults: false
            },
            &Environment("workstation-product-environment".into()),
            &Package("bash".into()),
            &Package("kernel-*".into()),
            &Exclude("gnome-tour".into()),
            &ExcludeGroup("printing".into()),
        ]
    );
}

#[test]
fn parses_scripts() {
    let ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    let s: Vec<&Script> = ks.scripts().collect();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].kind, ScriptKind::Pre);
    assert_eq!(s[0].interpreter(), "/usr/bin/python3");
    assert_eq!(s[0].log(), Some("/tmp/pre.log"));
    assert_eq!(s[0].body_text(), "print('%not a section')\n");
    assert_eq!(s[1].kind, ScriptKind::Post);
    assert!(s[1].nochroot() && s[1].erroronfail());
    assert_eq!(s[1].interpreter(), "/bin/sh");
    assert!(
        s[1].body_text()
            .starts_with("# a comment inside a script stays\n")
    );
    assert!(matches!(ks.items.last(), Some(Item::Section(o)) if o.header.name == "%addon"));
}

#[test]
fn includes_are_kept_when_parsing() {
    let text = "%include a.ks\n%packages\n%include pkgs.ks\n%end\n%post\n%include /tmp/x\n%end\n";
    let ks = Kickstart::parse(text, "t.ks").unwrap();
    assert!(matches!(&ks.items[0], Item::Include(i) if i.path == "a.ks" && !i.ksappend));
    let p = ks.packages().next().unwrap();
    assert_eq!(p.lines[0].entry, PackageEntry::Include("pkgs.ks".into()));
    assert_eq!(ks.to_string(), text);
}

fn err(text: &str) -> String {
    Kickstart::parse(text, "t.ks").unwrap_err().to_string()
}

#[test]
fn reader_errors_name_file_and_line() {
    assert_eq!(
        err("lang C\n%packages\nbash\n"),
        "t.ks:2: %packages is not closed by %end before the end of the file"
    );
    assert_eq!(
        err("lang C\n%foo\n%end\n"),
        "t.ks:2: unknown kickstart section %foo"
    );
    assert_eq!(
        err("lang C\nrepo --name='x\n"),
        "t.ks:2: bad quoting: no closing quotation"
    );
    assert_eq!(
        err("%post\n%packages\n%end\n"),
        "t.ks:2: %packages starts before the %post opened at t.ks:1 is closed by %end"
    );
    assert_eq!(err("%end\n"), "t.ks:1: %end without an open section");
    assert_eq!(
        err("\n\nrepo --baseurl=http://x\n"),
        "t.ks:3: repo needs --name=NAME"
    );
    assert_eq!(err("%include\n"), "t.ks:1: %include needs a file name");
    assert!(err("%packages\n@a --optional --nodefaults\n%end\n").starts_with("t.ks:2: "));
    // A quote inside a script body is the script's business.
    assert!(Kickstart::parse("%post\necho \"it's\n%end\n", "t.ks").is_ok());
    // But a section line inside a script is read as pykickstart reads it.
    assert_eq!(
        err("%post\n%end 'x\n"),
        "t.ks:2: bad quoting: no closing quotation"
    );
}

#[test]
fn add_repo_goes_after_the_last_repo() {
    let mut ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    let side = Repo {
        name: "fbs-side".into(),
        source: Some(RepoSource::Baseurl(
            "file:///var/lib/fbs/jobs/01J/side repo".into(),
        )),
        cost: Some(10),
        ..Repo::default()
    };
    ks.add_repo(&side).unwrap();
    let text = ks.to_string();
    let line =
        "repo --name=fbs-side --baseurl='file:///var/lib/fbs/jobs/01J/side repo' --cost=10\n";
    assert!(text.contains(&format!("# pinned\n{line}part /")), "{text}");
    let back = Kickstart::parse(&text, "s.ks").unwrap();
    assert_eq!(back.repos().nth(2), Some(&side));
    assert!(matches!(
        ks.add_repo(&side),
        Err(KsError::DuplicateRepo { .. })
    ));
    // No repo line yet, and no final newline: the new line still starts a line of its own.
    let mut ks = Kickstart::parse("lang C", "t.ks").unwrap();
    ks.add_repo(&side).unwrap();
    assert!(ks.to_string().starts_with("lang C\nrepo --name=fbs-side "));
}

#[test]
fn excludes_edit_only_their_line() {
    let mut ks = Kickstart::parse(SAMPLE, "s.ks").unwrap();
    ks.set_repo_excludes("fedora", &["wget", "curl"]).unwrap();
    ks.set_repo_excludes("updates test", &["wget"]).unwrap();
    let text = ks.to_string();
    let before: Vec<&str> = SAMPLE.lines().collect();
    let after: Vec<&str> = text.lines().collect();
    let changed: Vec<(&str, &str)> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed[0].1.ends_with("/os/ --excludepkgs=wget,curl"));
    assert!(
        changed[1]
            .1
            .ends_with("--cost 50 --excludepkgs=wget # pinned")
    );
    ks.add_repo_excludes("updates test", &["curl", "wget"])
        .unwrap();
    let r: Vec<Repo> = ks.repos().cloned().collect();
    assert_eq!(r[0].excludepkgs, ["wget", "curl"]);
    assert_eq!(r[1].excludepkgs, ["wget", "curl"]);
    // Globs are quoted so pykickstart reads them back; an empty list removes the option.
    ks.set_repo_excludes("fedora", &["kernel*"]).unwrap();
    assert!(ks.to_string().contains("/os/ --excludepkgs='kernel*'\n"));
    ks.set_repo_excludes::<&str>("fedora", &[]).unwrap();
    assert!(ks.to_string().contains("/os/\n"));
    assert!(matches!(
        ks.set_repo_excludes("nope", &["x"]),
        Err(KsError::NoSuchRepo { .. })
    ));
}

#[test]
fn an_option_given_twice_is_replaced_once() {
    let ks = Kickstart::parse(
        "repo --name=a --baseurl=x --excludepkgs a --excludepkgs=b\n",
        "t",
    )
    .unwrap();
    let Some(Item::Command(c)) = ks.items.first() else {
        panic!()
    };
    let c = c.with_option("excludepkgs", Some("z")).unwrap();
    assert_eq!(c.text(), "repo --name=a --baseurl=x --excludepkgs=z\n");
    assert_eq!(c.repo().unwrap().excludepkgs, ["z"]);
}

#[test]
fn decode_rejects_binary() {
    use super::flatten::decode;
    let e = decode(b"lang C\npart /\n\xff\xfe\n".to_vec(), "b.ks").unwrap_err();
    assert_eq!(e.to_string(), "b.ks:3: not a text file (invalid UTF-8)");
    let e = decode(b"lang C\n\0\n".to_vec(), "b.ks").unwrap_err();
    assert_eq!(e.to_string(), "b.ks:2: not a text file (NUL byte)");
    assert_eq!(e.exit_code(), crate::exit::INVALID_INPUT);
}

#[test]
fn ftp_urls() {
    let u = url::Url::parse("ftp://ftp.example.org/pub/ks/fedora%20live.ks").unwrap();
    assert_eq!(
        super::fetch::ftp_parts(&u),
        (
            "anonymous".into(),
            "anonymous@".into(),
            "pub/ks/fedora live.ks".into()
        )
    );
    let u = url::Url::parse("ftp://qa:s%40cret@h:2121/ks.ks").unwrap();
    assert_eq!(
        super::fetch::ftp_parts(&u),
        ("qa".into(), "s@cret".into(), "ks.ks".into())
    );
}

#[tokio::test]
async fn unsupported_schemes_are_refused() {
    let u = url::Url::parse("file:///etc/passwd").unwrap();
    let e = fetch_url(&u, 10).await.unwrap_err();
    assert!(matches!(e, KsError::UnsupportedScheme { .. }), "{e}");
}

mod flatten_tests;
mod ftp_tests;

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    /// Lines built from the pieces kickstarts are made of, quoting and section words included.
    fn line() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "%packages",
            "%post",
            "%pre",
            "%end",
            "%include",
            "%ksappend",
            "%addon",
            "%foo",
            "repo",
            "url",
            "--name=",
            "--baseurl=",
            "--cost=",
            "--excludepkgs",
            "x",
            "@core",
            "-bash",
            "@^env",
            "#",
            "'",
            "\"",
            "\\",
            " ",
            "\t",
            "=",
            ",",
            "é",
            "\r",
            "\0",
        ]);
        prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn parse_round_trips_or_errs(lines in prop::collection::vec(line(), 0..12), last_nl: bool) {
            let mut text = lines.join("\n");
            if last_nl {
                text.push('\n');
            }
            if let Ok(ks) = Kickstart::parse(&text, "p.ks") {
                prop_assert_eq!(ks.to_string(), text);
            }
        }

        #[test]
        fn edits_keep_other_lines(names in prop::collection::vec("[a-z ]{1,6}", 1..4), pkgs in prop::collection::vec("[a-z*'\" ]{0,5}", 0..4)) {
            let text: String = names
                .iter()
                .map(|n| format!("lang C\nrepo --name={} --baseurl=http://x/\n", lex::quote(n)))
                .collect();
            let Ok(mut ks) = Kickstart::parse(&text, "p.ks") else {
                return Err(TestCaseError::fail("generated kickstart does not parse"));
            };
            let before = ks.items.len();
            prop_assert!(ks.set_repo_excludes(&names[0], &pkgs).is_ok());
            let back = Kickstart::parse(&ks.to_string(), "p.ks");
            prop_assert!(back.is_ok());
            let back = back.unwrap_or_default();
            prop_assert_eq!(back.items.len(), before);
            let want: Vec<String> = pkgs.iter().flat_map(|p| options::comma_split(p)).collect();
            let got = back.repos().find(|r| r.name == names[0]).map(|r| r.excludepkgs.clone());
            prop_assert_eq!(got, Some(want));
        }
    }
}
