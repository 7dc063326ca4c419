//! The builders a worker can use, by the name a spec or the worker config chooses them with
//! (`builder = "native"`, …). Each adapter lives in its own module; [`default_builders`] is
//! the set a worker (and `fbs local`) starts with. [`noop`] builds nothing and is only for
//! measuring the fleet (`bench/fleet.sh`, `FBS_BENCH_NOOP=1`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::builder::Builder;

pub mod native;
pub mod noop;

/// The builders this version of fbs offers, by name: `native` (see [`native`]).
pub fn default_builders() -> BTreeMap<&'static str, Arc<dyn Builder>> {
    let mut m: BTreeMap<&'static str, Arc<dyn Builder>> = BTreeMap::new();
    let native = native::NativeBuilder::new(native::NativeOptions::default());
    m.insert(native.name(), Arc::new(native));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_is_registered_under_its_name() {
        let b = default_builders();
        assert_eq!(b.get("native").map(|b| b.name()), Some("native"));
    }
}
