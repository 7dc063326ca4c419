//! Making the ISO: volume ids, `xorriso` (ISO 9660 level 3 with Rock Ridge and Joliet,
//! El Torito BIOS via isolinux with an isohybrid MBR, UEFI via `images/efiboot.img`), and
//! `implantisomd5`.
//!
//! **Reproducibility.** With `SOURCE_DATE_EPOCH` set, xorriso takes it for the volume's
//! creation and modification dates and the GRUB-style volume uuid; fbs also passes them
//! explicitly, and `-volume_date all_file_dates` gives every file the same timestamps, so
//! the image depends only on the tree's contents. libisofs writes directory records and file
//! data in name order, so the order files were created in does not matter.

use std::path::{Path, PathBuf};

use chrono::DateTime;

use super::session::Session;
use super::tools::{self, Isolinux};
use crate::builder::{BuildError, BuiltArtifact};

/// The media type of the ISOs the native builder makes (the IANA registration for ISO
/// 9660 images that may boot with UEFI, as `fbs` uses everywhere).
pub const ISO_MEDIA_TYPE: &str = "application/vnd.efi.iso";

/// The longest ISO 9660 volume id.
pub(crate) const MAX_VOLID: usize = 32;

/// A volume id from `text`: upper-cased, every character outside ISO 9660's d-characters
/// (`A-Z`, `0-9`, `_`) and the `-` lorax and Fedora use replaced by `-`, cut to 32
/// characters (`FBS` when nothing is left). Such an id needs no escaping in
/// `root=live:CDLABEL=`.
pub(crate) fn volume_id(text: &str) -> String {
    let mut v: String = text
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_VOLID)
        .collect();
    if v.trim_matches('-').is_empty() {
        v = "FBS".into();
    }
    v
}

/// A file name from `text`: letters, digits, `.`, `_`, `-` kept, anything else `-`.
pub(crate) fn file_stem(text: &str) -> String {
    let s: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches(['.', '-']).to_owned();
    if s.is_empty() { "image".into() } else { s }
}

/// How the ISO boots.
#[derive(Debug, Clone, Default)]
pub(crate) struct Boot {
    /// BIOS via `isolinux/isolinux.bin` in the tree.
    pub bios: Option<Isolinux>,
    /// UEFI via `images/efiboot.img` in the tree.
    pub efi: bool,
}

impl Boot {
    /// True when the ISO boots at all.
    pub fn bootable(&self) -> bool {
        self.bios.is_some() || self.efi
    }
}

/// `YYYYMMDDhhmmss00` for `t` (UTC), the form of xorriso's volume uuid.
pub(crate) fn uuid_date(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y%m%d%H%M%S00").to_string())
        .unwrap_or_else(|| "1970010100000000".into())
}

/// The last step of every image type: clamp `tree`'s times to `sde`, make the ISO `out` from
/// it, record the `iso` step (begun at `started`), and describe the result.
pub(crate) async fn finish(
    s: &mut Session<'_>,
    tree: &Path,
    out: PathBuf,
    volid: String,
    boot: &Boot,
    sde: i64,
    started: std::time::Instant,
) -> Result<BuiltArtifact, BuildError> {
    super::root::clamp_mtimes(tree, sde)?;
    make_iso(s, tree, &out, &volid, boot).await?;
    s.step_done("iso", started);
    Ok(BuiltArtifact {
        path: out,
        media_type: ISO_MEDIA_TYPE.into(),
        volume_id: Some(volid),
        bootable: Some(boot.bootable()),
    })
}

/// Make `out` from `tree` with volume id `volid`, then implant its MD5.
pub(crate) async fn make_iso(
    s: &Session<'_>,
    tree: &Path,
    out: &Path,
    volid: &str,
    boot: &Boot,
) -> Result<(), BuildError> {
    tools::require("xorriso")?;
    tools::require("implantisomd5")?;
    let mut cmd = s.cmd("xorriso");
    if let Some(t) = s.sde {
        let eq = format!("={t}");
        cmd = cmd
            .args(["-volume_date", "c", &eq])
            .args(["-volume_date", "m", &eq])
            .args(["-volume_date", "uuid", &uuid_date(t)])
            .args(["-volume_date", "all_file_dates", &eq]);
    }
    cmd = cmd.args(["-as", "mkisofs", "-o"]).arg(out).args([
        "-iso-level",
        "3",
        "-R",
        "-J",
        "-joliet-long",
        "-V",
        volid,
    ]);
    if let Some(b) = &boot.bios {
        cmd = cmd
            .args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
            .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"])
            .arg("-isohybrid-mbr")
            .arg(&b.mbr);
    }
    if boot.efi {
        cmd = cmd.args([
            "-eltorito-alt-boot",
            "-e",
            "images/efiboot.img",
            "-no-emul-boot",
        ]);
        if boot.bios.is_some() {
            cmd = cmd.arg("-isohybrid-gpt-basdat");
        }
    }
    s.run(&cmd.arg(tree)).await?;
    s.run(&s.cmd("implantisomd5").arg("--force").arg(out))
        .await?;
    Ok(())
}

/// Where an ISO named `name` goes in the job's output directory.
pub(crate) fn output_path(s: &Session<'_>, name: &str) -> PathBuf {
    s.ctx.dirs.output.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_ids_are_iso9660_safe_and_short() {
        assert_eq!(volume_id("Fedora Live 40"), "FEDORA-LIVE-40");
        assert_eq!(volume_id("fbs-test_1.0"), "FBS-TEST_1-0");
        assert_eq!(volume_id("   "), "FBS");
        let long = volume_id("A very long label that goes on and on and on");
        assert_eq!(long.len(), 32);
        assert_eq!(volume_id("Ünïcode"), "-N-CODE");
    }

    #[test]
    fn file_stems_and_dates() {
        assert_eq!(file_stem("My Live/../x"), "My-Live-..-x");
        assert_eq!(file_stem("..."), "image");
        assert_eq!(uuid_date(1_700_000_000), "2023111422132000");
    }
}
