//! Finding the host tools and boot-loader files a native build needs, with install hints
//! for Debian/Ubuntu and Fedora/RHEL when one is missing.

use std::path::{Path, PathBuf};

use super::session::{PATH, Session};
use crate::builder::BuildError;

/// A program, found in the tools' `PATH`.
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    std::env::split_paths(PATH)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The program, or [`BuildError::ToolMissing`] saying which package has it.
pub(crate) fn require(program: &str) -> Result<PathBuf, BuildError> {
    find(program).ok_or_else(|| BuildError::ToolMissing {
        tool: program.to_owned(),
        hint: format!("install {}", package_of(program)),
    })
}

/// dnf 4, whose command line the native builder speaks: `dnf4` or `dnf-3` where dnf 5 took
/// over the `dnf` name (Fedora 41 and later), else `dnf`.
pub(crate) fn dnf4() -> Result<PathBuf, BuildError> {
    find_any(&["dnf4", "dnf-3"]).map_or_else(|| require("dnf"), Ok)
}

/// The first of `programs` that is installed (`grub-mkimage` or `grub2-mkimage`).
pub(crate) fn find_any(programs: &[&str]) -> Option<PathBuf> {
    programs.iter().find_map(|p| find(p))
}

fn package_of(program: &str) -> &'static str {
    match program {
        "dnf" => "dnf (Debian: apt-get install dnf; Fedora: dnf)",
        "rpm" | "rpm2cpio" => "rpm (Debian: apt-get install rpm rpm2cpio)",
        "createrepo_c" => "createrepo_c (Debian: apt-get install createrepo-c)",
        "mksquashfs" => "squashfs-tools",
        "xorriso" => "xorriso",
        "implantisomd5" => "isomd5sum",
        "cpio" => "cpio",
        "mkfs.vfat" => "dosfstools",
        "mmd" | "mcopy" => "mtools",
        _ => "it",
    }
}

/// The BIOS boot-loader files for an isolinux ISO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Isolinux {
    /// `isolinux.bin`.
    pub bin: PathBuf,
    /// `isohdpfx.bin`, the isohybrid MBR.
    pub mbr: PathBuf,
    /// The directory holding the BIOS `.c32` modules (`ldlinux.c32`, …).
    pub modules: PathBuf,
}

/// The `.c32` modules the generated `isolinux.cfg` needs.
pub(crate) const ISOLINUX_MODULES: [&str; 4] =
    ["ldlinux.c32", "libcom32.c32", "libutil.c32", "menu.c32"];

/// Where distributions put isolinux: Debian (`isolinux`, `syslinux-common`) and Fedora
/// (`syslinux`, `syslinux-nonlinux`).
const ISOLINUX_DIRS: [(&str, &str); 3] = [
    ("/usr/lib/ISOLINUX", "/usr/lib/syslinux/modules/bios"),
    ("/usr/share/syslinux", "/usr/share/syslinux"),
    ("/usr/lib/syslinux", "/usr/lib/syslinux"),
];

impl Isolinux {
    /// The installed isolinux, or a [`BuildError::ToolMissing`] naming the packages.
    pub fn find() -> Result<Isolinux, BuildError> {
        for (bin_dir, mod_dir) in ISOLINUX_DIRS {
            let bin = Path::new(bin_dir).join("isolinux.bin");
            let mbr = Path::new(bin_dir).join("isohdpfx.bin");
            let modules = PathBuf::from(mod_dir);
            if bin.is_file()
                && mbr.is_file()
                && ISOLINUX_MODULES.iter().all(|m| modules.join(m).is_file())
            {
                return Ok(Isolinux { bin, mbr, modules });
            }
        }
        Err(BuildError::ToolMissing {
            tool: "isolinux".into(),
            hint: "install isolinux and syslinux-common (Debian) or syslinux and syslinux-nonlinux (Fedora)".into(),
        })
    }
}

/// GRUB for UEFI: the `x86_64-efi` module directory and `grub-mkimage`, plus the FAT tools
/// for `efiboot.img`. `None` when any is missing (the ISO is then BIOS-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrubEfi {
    /// `/usr/lib/grub/x86_64-efi`.
    pub modules: PathBuf,
    /// `grub-mkimage` or `grub2-mkimage`.
    pub mkimage: PathBuf,
}

/// Where the x86_64 EFI modules are.
pub(crate) const GRUB_EFI_DIR: &str = "/usr/lib/grub/x86_64-efi";

impl GrubEfi {
    /// The installed GRUB EFI tooling, when complete.
    pub fn find() -> Option<GrubEfi> {
        let modules = PathBuf::from(GRUB_EFI_DIR);
        if !modules.join("linux.mod").is_file() {
            return None;
        }
        let mkimage = find_any(&["grub-mkimage", "grub2-mkimage"])?;
        for t in ["mkfs.vfat", "mmd", "mcopy"] {
            find(t)?;
        }
        Some(GrubEfi { modules, mkimage })
    }
}

/// How to ask each tool for its version, and which word of the first output line it is.
const VERSION_PROBES: [(&str, &[&str], usize); 5] = [
    ("dnf", &["--version"], 0),
    ("rpm", &["--version"], 2),
    ("mksquashfs", &["-version"], 2),
    ("xorriso", &["-version"], 1),
    ("createrepo_c", &["--version"], 1),
];

/// `native VERSION (dnf X, rpm Y, …)` for the tools installed on this host.
pub(crate) async fn versions(s: &Session<'_>) -> String {
    let mut found = Vec::new();
    for (tool, args, word) in VERSION_PROBES {
        let program = if tool == "dnf" {
            dnf4().ok()
        } else {
            find(tool)
        };
        let Some(program) = program else { continue };
        let mut cmd = s.cmd(&program.to_string_lossy()).args(args.iter().copied());
        if tool == "dnf" {
            // Without an install root, dnf would open the host's rpmdb to list itself.
            cmd = cmd.arg(format!(
                "--installroot={}",
                s.work("scratch-version").display()
            ));
        }
        let Ok(out) = s.stdout(cmd).await else {
            continue;
        };
        let first = out.lines().next().unwrap_or_default();
        if let Some(v) = first.split_whitespace().nth(word) {
            found.push(format!("{tool} {v}"));
        }
    }
    format!(
        "native {} ({})",
        env!("CARGO_PKG_VERSION"),
        found.join(", ")
    )
}

/// The `x.y` of a version string like `4.5.1`, as numbers.
pub(crate) fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_and_names_the_package_of_a_missing_tool() {
        assert!(find("sh").is_some());
        let e = require("fbs-no-such-tool").expect_err("missing");
        assert!(matches!(e, BuildError::ToolMissing { .. }), "{e}");
        let e = BuildError::ToolMissing {
            tool: "createrepo_c".into(),
            hint: format!("install {}", package_of("createrepo_c")),
        };
        assert!(e.to_string().contains("createrepo-c"), "{e}");
        assert_eq!(major_minor("4.5.1"), Some((4, 5)));
        assert_eq!(major_minor("x"), None);
    }
}
