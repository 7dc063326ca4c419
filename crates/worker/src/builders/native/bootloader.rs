//! The boot part of an ISO tree, laid out as lorax does: `images/pxeboot/{vmlinuz,initrd.img}`,
//! `isolinux/` (BIOS: `isolinux.bin`, the `.c32` modules, `isolinux.cfg` with a serial
//! console), and when GRUB for x86_64 EFI is installed `EFI/BOOT/{BOOTX64.EFI,grub.cfg}`
//! plus `images/efiboot.img`, the FAT image El Torito's UEFI entry points at.
//!
//! `BOOTX64.EFI` is made with `grub-mkimage` and an embedded early config that finds the
//! ISO by its volume id and loads `EFI/BOOT/grub.cfg` from it. `grub-mkstandalone` would do
//! the same but packs its modules in a memdisk tarball that records the temporary files'
//! times, so its output differs on every run; `grub-mkimage` output depends only on its
//! inputs. The FAT image gets a fixed serial number and `SOURCE_DATE_EPOCH` times.

use std::path::Path;

use super::iso::Boot;
use super::kernel::BootFiles;
use super::session::{Session, copy, io_err, mkdir, write};
use super::tools::{GrubEfi, ISOLINUX_MODULES, Isolinux};
use crate::builder::BuildError;

/// What the boot menu says and passes to the kernel.
#[derive(Debug, Clone)]
pub(crate) struct Menu {
    /// The menu title (one line).
    pub title: String,
    /// The kernel command line after `initrd=`.
    pub append: String,
    /// Add a "test this media" entry with `rd.live.check` (live images).
    pub media_check: bool,
}

/// The serial console arguments every native image boots with.
pub(crate) const CONSOLE: &str = "console=tty0 console=ttyS0,115200";

/// GRUB modules built into `BOOTX64.EFI`.
const GRUB_MODULES: [&str; 19] = [
    "normal",
    "configfile",
    "search",
    "search_label",
    "iso9660",
    "part_gpt",
    "part_msdos",
    "fat",
    "linux",
    "serial",
    "terminal",
    "echo",
    "test",
    "all_video",
    "efi_gop",
    "gzio",
    "boot",
    "sleep",
    "chain",
];

/// Put the kernel and initramfs into `tree/images/pxeboot/` and the boot loaders around
/// them; returns how the ISO boots.
pub(crate) async fn install(
    s: &Session<'_>,
    tree: &Path,
    files: &BootFiles,
    initrd: &Path,
    volid: &str,
    menu: &Menu,
) -> Result<Boot, BuildError> {
    let isolinux = Isolinux::find()?;
    let pxe = tree.join("images/pxeboot");
    mkdir(&pxe)?;
    copy(&files.kernel, &pxe.join("vmlinuz"))?;
    copy(initrd, &pxe.join("initrd.img"))?;

    let dir = tree.join("isolinux");
    mkdir(&dir)?;
    copy(&isolinux.bin, &dir.join("isolinux.bin"))?;
    for m in ISOLINUX_MODULES {
        copy(&isolinux.modules.join(m), &dir.join(m))?;
    }
    write(&dir.join("isolinux.cfg"), isolinux_cfg(menu))?;

    let efi = match GrubEfi::find() {
        Some(g) => {
            efi(s, tree, &g, volid, menu).await?;
            true
        }
        None => {
            s.note(&format!(
                "GRUB for x86_64 EFI is not installed ({}, grub-mkimage, mtools, dosfstools): the ISO boots with BIOS only",
                super::tools::GRUB_EFI_DIR
            ));
            false
        }
    };
    Ok(Boot {
        bios: Some(isolinux),
        efi,
    })
}

/// One line of menu text, safe in both configs.
fn one_line(t: &str) -> String {
    t.chars()
        .map(|c| {
            if c.is_control() || c == '\'' || c == '"' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `isolinux.cfg`: serial console first, a menu with a short timeout.
pub(crate) fn isolinux_cfg(menu: &Menu) -> String {
    let title = one_line(&menu.title);
    let k = "KERNEL /images/pxeboot/vmlinuz";
    let a = format!("APPEND initrd=/images/pxeboot/initrd.img {}", menu.append);
    let mut s = format!(
        "SERIAL 0 115200\nUI menu.c32\nPROMPT 0\nTIMEOUT 30\nMENU TITLE {title}\nDEFAULT linux\n\n\
         LABEL linux\n  MENU LABEL ^Start {title}\n  MENU DEFAULT\n  {k}\n  {a}\n"
    );
    if menu.media_check {
        s.push_str(&format!(
            "\nLABEL check\n  MENU LABEL Test this ^media & start {title}\n  {k}\n  {a} rd.live.check\n"
        ));
    }
    s
}

/// `EFI/BOOT/grub.cfg`.
pub(crate) fn grub_cfg(menu: &Menu) -> String {
    let title = one_line(&menu.title);
    let mut s = format!(
        "set default=0\nset timeout=3\nserial --unit=0 --speed=115200\n\
         terminal_input serial console\nterminal_output serial console\n\n\
         menuentry 'Start {title}' {{\n  linux /images/pxeboot/vmlinuz {}\n  initrd /images/pxeboot/initrd.img\n}}\n",
        menu.append
    );
    if menu.media_check {
        s.push_str(&format!(
            "menuentry 'Test this media & start {title}' {{\n  linux /images/pxeboot/vmlinuz {} rd.live.check\n  initrd /images/pxeboot/initrd.img\n}}\n",
            menu.append
        ));
    }
    s
}

/// `EFI/BOOT/` and `images/efiboot.img`.
async fn efi(
    s: &Session<'_>,
    tree: &Path,
    g: &GrubEfi,
    volid: &str,
    menu: &Menu,
) -> Result<(), BuildError> {
    let boot = tree.join("EFI/BOOT");
    mkdir(&boot)?;
    write(&boot.join("grub.cfg"), grub_cfg(menu))?;
    let early = s.work("grub-early.cfg");
    write(
        &early,
        format!(
            "search --no-floppy --set=root --label {volid}\nset prefix=($root)/EFI/BOOT\nconfigfile ($root)/EFI/BOOT/grub.cfg\n"
        ),
    )?;
    let efi_bin = boot.join("BOOTX64.EFI");
    let cmd = s
        .cmd(&g.mkimage.to_string_lossy())
        .args(["-O", "x86_64-efi", "-p", "/EFI/BOOT", "-d"])
        .arg(&g.modules)
        .arg("-c")
        .arg(&early)
        .arg("-o")
        .arg(&efi_bin)
        .args(GRUB_MODULES);
    s.run(&cmd).await?;
    if let Some(t) = s.sde {
        for f in [&efi_bin, &boot.join("grub.cfg")] {
            super::root::clamp_mtimes(f, t)?;
        }
    }

    let images = tree.join("images");
    mkdir(&images)?;
    let img = images.join("efiboot.img");
    let size = std::fs::metadata(&efi_bin)
        .map_err(io_err("stat", &efi_bin))?
        .len();
    let kib = (size / 1024) * 11 / 10 + 512;
    let mkfs = |invariant: bool| {
        let c = s
            .cmd("mkfs.vfat")
            .args(["-C", "-n", "EFIBOOT", "-i", "46425331"]);
        let c = if invariant { c.arg("--invariant") } else { c };
        c.arg(&img).arg(kib.to_string())
    };
    // `--invariant` (dosfstools 4.2 and later) also fixes the times mkfs.vfat writes.
    if let Err(e) = s.run(&mkfs(true)).await {
        if matches!(e, BuildError::Canceled) {
            return Err(e);
        }
        s.note("mkfs.vfat without --invariant (dosfstools before 4.2): efiboot.img may differ between builds");
        let _ = std::fs::remove_file(&img);
        s.run(&mkfs(false)).await?;
    }
    let target = |p: &str| format!("::{p}");
    s.run(
        &s.cmd("mmd")
            .arg("-i")
            .arg(&img)
            .args([target("/EFI"), target("/EFI/BOOT")]),
    )
    .await?;
    for (f, name) in [
        (&efi_bin, "BOOTX64.EFI"),
        (&boot.join("grub.cfg"), "grub.cfg"),
    ] {
        s.run(
            &s.cmd("mcopy")
                .args(["-m", "-i"])
                .arg(&img)
                .arg(f)
                .arg(target(&format!("/EFI/BOOT/{name}"))),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_have_a_serial_console_and_the_command_line() {
        let m = Menu {
            title: "Fedora \"Live\"\n".into(),
            append: format!("root=live:CDLABEL=F-40 rd.live.image {CONSOLE}"),
            media_check: true,
        };
        let c = isolinux_cfg(&m);
        assert!(c.starts_with("SERIAL 0 115200\n"), "{c}");
        assert!(c.contains("MENU TITLE Fedora  Live\n"), "{c}");
        assert!(c.contains(
            "APPEND initrd=/images/pxeboot/initrd.img root=live:CDLABEL=F-40 rd.live.image console=tty0 console=ttyS0,115200\n"
        ));
        assert!(c.contains("rd.live.check"));
        let g = grub_cfg(&m);
        assert!(g.contains("serial --unit=0 --speed=115200"), "{g}");
        assert!(
            g.contains("linux /images/pxeboot/vmlinuz root=live:CDLABEL=F-40"),
            "{g}"
        );
    }
}
