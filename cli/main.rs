//! The `fbs` binary.
fn main() {}
