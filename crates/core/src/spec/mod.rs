//! Build specs: one model for boot, dvd and live images, read from FBS INI and TOML.

mod model;

pub use model::*;
