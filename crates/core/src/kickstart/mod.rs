//! Kickstarts: the parts fbs reads, and flattening of `%include`.
