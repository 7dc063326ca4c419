//! The keys each image type reads, and the warnings about keys fbs ignores: the old
//! directory keys (read, never used) and keys it does not know.

use super::Reader;
use crate::ini::DEFAULT_SECTION;
use crate::spec::model::ImageType;

/// Keys read from `[DEFAULT]` only.
const DEFAULT_KEYS: [&str; 5] = ["type", "arch", "release", "staging", "email"];
/// Keys every image type reads from its section (inheriting `[DEFAULT]`).
const COMMON_KEYS: [&str; 5] = [
    "nvr",
    "bid",
    "builder",
    "source_date_epoch",
    "staging_layout",
];
/// The old tool's directory keys: read, never used (each job works in its own directory).
const PATH_KEYS: [&str; 6] = [
    "outdir", "workdir", "tmpdir", "destdir", "cachedir", "logfile",
];
const BOOT_KEYS: [&str; 6] = [
    "product",
    "version",
    "release",
    "updates",
    "updates-testing",
    "proxy",
];
const DVD_KEYS: [&str; 9] = [
    "name",
    "version",
    "flavor",
    "bugurl",
    "nosource",
    "sourceisos",
    "force",
    "stage",
    "config",
];
const LIVE_KEYS: [&str; 5] = ["label", "title", "product", "releasever", "config"];
/// The boot repositories: name, key prefix after `<release>`, and the flag that asks for it.
pub(super) const BOOT_REPOS: [(&str, &str); 3] = [
    ("fedora", ""),
    ("updates", "-updates"),
    ("updates-testing", "-updates-testing"),
];

impl Reader<'_> {
    /// One warning for the old path keys (read, never used) and one for unknown keys.
    pub(super) fn warn_keys(&mut self, ty: ImageType, release: &str) {
        let s = ty.as_str();
        let mut known: Vec<String> = COMMON_KEYS.iter().map(|k| (*k).to_owned()).collect();
        let own: &[&str] = match ty {
            ImageType::Boot => &BOOT_KEYS,
            ImageType::Dvd => &DVD_KEYS,
            ImageType::Live => &LIVE_KEYS,
        };
        known.extend(own.iter().map(|k| (*k).to_owned()));
        if ty == ImageType::Boot {
            let rel = release.to_lowercase();
            for (_, infix) in BOOT_REPOS {
                known.push(format!("{rel}{infix}_url"));
                known.push(format!("{rel}{infix}_mirror"));
            }
        }
        let items = self.ini.items(s).unwrap_or_default();
        let ignored = items
            .iter()
            .filter(|e| PATH_KEYS.contains(&e.key.as_str()) && !e.value.is_empty())
            .map(|e| format!("{} (line {})", e.key, e.line))
            .collect::<Vec<_>>();
        if !ignored.is_empty() {
            self.warnings.push(format!(
                "ignored keys: {}; fbs keeps each job's files in its own work directory",
                ignored.join(", ")
            ));
        }

        let defaults = self
            .ini
            .defaults()
            .entries()
            .iter()
            .map(|e| (DEFAULT_SECTION, e));
        let section = self
            .ini
            .section(s)
            .map(|sec| sec.entries())
            .unwrap_or_default();
        let unknown = defaults
            .filter(|(_, e)| !DEFAULT_KEYS.contains(&e.key.as_str()))
            .chain(section.iter().map(|e| (s, e)))
            .filter(|(_, e)| !known.contains(&e.key) && !PATH_KEYS.contains(&e.key.as_str()))
            .map(|(sect, e)| format!("[{sect}] {} (line {})", e.key, e.line))
            .collect::<Vec<_>>();
        if !unknown.is_empty() {
            self.warnings
                .push(format!("unknown keys, ignored: {}", unknown.join(", ")));
        }
    }
}
