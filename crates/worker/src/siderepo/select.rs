//! Which RPMs of a build go into a side repo: those of the image's architecture (for i686
//! also i586 and i386) and `noarch`; never source RPMs, `-debuginfo`/`-debugsource`
//! packages, or entries without a file on this Koji (external-repo and metadata-only RPMs).

use fbs_core::spec::Arch;

use crate::koji::RpmInfo;

/// The arches `listRPMs` is asked for: the image's RPM arches and `noarch`.
pub fn arches(arch: Arch) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = arch.rpm_arches().to_vec();
    v.push("noarch");
    v
}

/// True for debug packages.
pub fn is_debug(name: &str) -> bool {
    name.ends_with("-debuginfo")
        || name.ends_with("-debugsource")
        || name.contains("-debuginfo-common-")
}

/// True when `rpm` belongs in a side repo for `arch`.
pub fn keep(rpm: &RpmInfo, arch: Arch) -> bool {
    let arch_ok = rpm.arch == "noarch" || arch.rpm_arches().contains(&rpm.arch.as_str());
    arch_ok && !is_debug(&rpm.name) && rpm.external_repo_id.is_none() && !rpm.metadata_only
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpm(name: &str, arch: &str) -> RpmInfo {
        RpmInfo {
            id: 1,
            name: name.into(),
            version: "1".into(),
            release: "1".into(),
            epoch: None,
            arch: arch.into(),
            size: Some(1),
            payloadhash: Some("00".into()),
            build_id: Some(1),
            external_repo_id: None,
            metadata_only: false,
        }
    }

    #[test]
    fn keeps_the_arch_and_noarch_and_drops_debug_source_and_foreign() {
        let x = Arch::X86_64;
        assert!(keep(&rpm("kojipkg", "x86_64"), x));
        assert!(keep(&rpm("kojipkg-data", "noarch"), x));
        assert!(!keep(&rpm("kojipkg", "src"), x));
        assert!(!keep(&rpm("kojipkg", "aarch64"), x));
        assert!(!keep(&rpm("kojipkg", "i686"), x));
        assert!(!keep(&rpm("kojipkg-debuginfo", "x86_64"), x));
        assert!(!keep(&rpm("kojipkg-debugsource", "x86_64"), x));
        assert!(!keep(&rpm("kernel-debuginfo-common-x86_64", "x86_64"), x));
        let mut ext = rpm("ext", "x86_64");
        ext.external_repo_id = Some(3);
        assert!(!keep(&ext, x));
    }

    #[test]
    fn i686_images_take_every_32_bit_x86_subarch() {
        for a in ["i386", "i586", "i686", "noarch"] {
            assert!(keep(&rpm("glibc", a), Arch::I686), "{a}");
        }
        assert!(!keep(&rpm("glibc", "x86_64"), Arch::I686));
        assert_eq!(arches(Arch::I686), ["i686", "i586", "i386", "noarch"]);
        assert_eq!(arches(Arch::Aarch64), ["aarch64", "noarch"]);
    }
}
