//! The TOML spec as written: every field optional and spanned, so the reader can report each
//! missing or bad value with its line. Unknown keys are rejected here.

use std::fmt;

use ::toml::Spanned;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A spanned value.
pub(super) type S<T> = Spanned<T>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    #[serde(rename = "type")]
    pub image_type: Option<S<String>>,
    pub arch: Option<S<String>>,
    pub release: Option<S<Text>>,
    pub staging: Option<S<String>>,
    pub staging_layout: Option<S<String>>,
    pub email: Option<S<String>>,
    pub builder: Option<S<String>>,
    pub source_date_epoch: Option<S<i64>>,
    pub koji: Option<S<RawKoji>>,
    pub boot: Option<S<RawBoot>>,
    pub dvd: Option<S<RawDvd>>,
    pub live: Option<S<RawLive>>,
}

/// `[koji]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKoji {
    #[serde(default)]
    pub nvrs: Vec<S<String>>,
    #[serde(default)]
    pub build_ids: Vec<S<i64>>,
}

/// `[boot]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBoot {
    pub product: Option<S<String>>,
    pub version: Option<S<Text>>,
    pub release: Option<S<Text>>,
    pub updates: Option<S<bool>>,
    pub updates_testing: Option<S<bool>>,
    pub proxy: Option<S<String>>,
    pub repos: Option<S<Vec<S<RawRepo>>>>,
}

/// One entry of `[boot] repos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRepo {
    pub name: Option<S<String>>,
    pub url: Option<S<String>>,
    pub kind: Option<S<String>>,
}

/// `[dvd]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDvd {
    pub name: Option<S<String>>,
    pub version: Option<S<Text>>,
    pub flavor: Option<S<String>>,
    pub bugurl: Option<S<String>>,
    pub nosource: Option<S<bool>>,
    pub sourceisos: Option<S<bool>>,
    pub force: Option<S<bool>>,
    pub stage: Option<S<String>>,
    pub kickstart: Option<S<String>>,
}

/// `[live]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLive {
    pub label: Option<S<String>>,
    pub title: Option<S<String>>,
    pub product: Option<S<String>>,
    pub releasever: Option<S<Text>>,
    pub kickstart: Option<S<String>>,
}

/// A string that may be written as an integer (`release = 17`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(TextVisitor)
    }
}
