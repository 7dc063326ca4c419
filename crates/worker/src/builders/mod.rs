//! The builders a worker can use, by the name a spec or the worker config chooses them with
//! (`builder = "native"`, …). Each adapter lives in its own module; [`default_builders`] is
//! the set a worker (and `fbs local`) starts with, and [`auto_choice`] what
//! `builder = "auto"` means on this host: the Fedora tool for the image type when it is
//! installed (found in `PATH`), else `native`.
//! [`noop`] builds nothing and is only for measuring the fleet (`bench/fleet.sh`,
//! `FBS_BENCH_NOOP=1`).

use std::collections::BTreeMap;
use std::sync::Arc;

use fbs_core::spec::ImageType;

use crate::builder::Builder;

pub mod kiwi;
pub mod livecd;
pub mod livemedia;
pub mod lorax;
pub mod native;
pub mod noop;

/// Every builder name a spec or worker config can choose, mapped to `b` (for builders that
/// stand in for all of them: the test script builder and the benchmark's no-op builder).
pub fn under_every_name(b: Arc<dyn Builder>) -> BTreeMap<&'static str, Arc<dyn Builder>> {
    [
        "native",
        "lorax",
        "pungi",
        "kiwi",
        "livemedia-creator",
        "livecd-creator",
    ]
    .into_iter()
    .map(|n| (n, b.clone()))
    .collect()
}
pub mod pungi;
pub mod tool;

#[cfg(test)]
mod tests;

/// The builders this version of fbs offers, by name: `native` (see [`native`]) and the
/// Fedora-tool adapters `lorax`, `pungi`, `kiwi`, `livemedia-creator`, `livecd-creator`.
pub fn default_builders() -> BTreeMap<&'static str, Arc<dyn Builder>> {
    let all: [Arc<dyn Builder>; 6] = [
        Arc::new(native::NativeBuilder::new(native::NativeOptions::default())),
        Arc::new(lorax::LoraxBuilder),
        Arc::new(pungi::PungiBuilder),
        Arc::new(kiwi::KiwiBuilder),
        Arc::new(livemedia::LivemediaBuilder),
        Arc::new(livecd::LivecdBuilder),
    ];
    all.into_iter().map(|b| (b.name(), b)).collect()
}

/// The Fedora tools for `image`, in order of preference.
pub fn fedora_tools(image: ImageType) -> &'static [&'static str] {
    match image {
        ImageType::Boot => &["lorax"],
        ImageType::Dvd => &["pungi"],
        ImageType::Live => &["livemedia-creator", "kiwi", "livecd-creator"],
    }
}

/// What `builder = "auto"` picks among `builders` for `image`: the first of
/// [`fedora_tools`] that is registered and installed, else `native`.
pub fn auto_choice(
    builders: &BTreeMap<&'static str, Arc<dyn Builder>>,
    image: ImageType,
) -> &'static str {
    fedora_tools(image)
        .iter()
        .copied()
        .find(|name| builders.get(name).is_some_and(|b| b.available()))
        .unwrap_or("native")
}
