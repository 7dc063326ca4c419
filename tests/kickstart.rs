//! Integration tests: kickstart.
