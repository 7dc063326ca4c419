//! The one process runner every external tool goes through.
